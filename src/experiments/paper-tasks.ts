/**
 * Sweep tasks of the All Shapes paper reproduction (presets/all-shapes-paper.ts; the public
 * Julia code of arXiv 2603.18168, nonlinear_experiments_julia, MATH §7):
 *
 *  - "all-shapes-paper/standin": trains the largest network of the grid (the paper's stand-in
 *    for the limit) and returns its outputs f_k (every step) and h_L at the report steps;
 *  - "all-shapes-paper": trains one (L, M, D) network and returns, per report step, the sums
 *    of squared errors of its outputs and of h_L against (a) the stand-in of the same
 *    repetition (coupled embeddings: the first D rows of the stand-in's) and (b) the exact
 *    DMFT limit (its outputs, and its coordinate processes driven by the run's own
 *    embedding rows), plus the limit's own standard error on those coordinates.
 *
 * Embeddings are coupled across D as in the Julia code: repetition j draws W_E, W_U with
 * D_max rows (σ_in² = 1/d_in, σ_out² = d_out in MATH §7's units) from `embeddingSeed + j`, and
 * a run with D rows uses the first D. U, V come from the run seed. Sums of squares (not RMS)
 * are returned so that RMS over repetitions, and bootstrap resamples of the repetitions, are
 * recombined exactly later.
 */
import { readFileSync } from "node:fs";
import { ValidationError } from "../core/errors.ts";
import { StreamFamily } from "../core/rng.ts";
import { isPlainObject, knownKeys, nonNegativeInt, positiveInt, show } from "../core/validate.ts";
import type { Problem } from "../problem/problem.ts";
import { trainResNet } from "../resnet/solver.ts";
import type { RunSpec } from "./spec.ts";

/** The task signature of ./tasks.ts (declared here: tasks.ts registers these tasks, so importing it would be a cycle). */
type Task = (problem: Problem, ctx: { run: RunSpec; options: Record<string, unknown> }) => Record<string, unknown>;

/** The exact limit as the preset saves it (limit.json). */
export interface PaperLimit {
  /** K × d_out × N. */
  f: number[];
  /** Estimated error of each entry of f. */
  fError: number[];
  /** Mean c^h_{k,n}(1) over randomizations, K × N × d (d = d_in + d_out). */
  chLast: number[];
  /** The same per randomization (for the standard error of coordinates). */
  chLastRuns: number[][];
  K: number; N: number; dIn: number; dOut: number;
}

/** The stand-in of one repetition (standin rows). */
export interface PaperStandin {
  rep: number;
  /** K × d_out × N. */
  f: number[];
  /** h_L at each report step: N × D_max row-major. */
  h: number[][];
}

/** W_E (D_max × d_in), W_U (D_max × d_out) of repetition `rep`, truncated to the first D rows. */
export function coupledEmbeddings(embeddingSeed: number, rep: number, dMax: number, D: number, dIn: number, dOut: number, sigmaIn: number, sigmaOut: number): { WE: Float64Array; WU: Float64Array } {
  const fam = new StreamFamily(((embeddingSeed >>> 0) + rep) >>> 0);
  const WE = fam.get(0).fillNormal(new Float64Array(dMax * dIn), sigmaIn);
  const WU = fam.get(1).fillNormal(new Float64Array(dMax * dOut), sigmaOut);
  return { WE: WE.slice(0, D * dIn), WU: WU.slice(0, D * dOut) };
}

interface Common { dMax: number; embeddingSeed: number; reportSteps: number[] }

function common(o: Record<string, unknown>, problem: Problem): Common {
  const dMax = positiveInt("taskOptions.dMax", o.dMax);
  if (problem.model.D > dMax) throw new ValidationError("taskOptions.dMax", `is ${dMax} but the run has D = ${problem.model.D}`);
  const embeddingSeed = nonNegativeInt("taskOptions.embeddingSeed", o.embeddingSeed ?? 1);
  if (!Array.isArray(o.reportSteps) || o.reportSteps.length === 0) throw new ValidationError("taskOptions.reportSteps", `must be a non-empty array of steps (got ${show(o.reportSteps)})`);
  const reportSteps = o.reportSteps.map((k, i) => {
    const v = nonNegativeInt(`taskOptions.reportSteps[${i}]`, k);
    if (v >= problem.train.steps) throw new ValidationError(`taskOptions.reportSteps[${i}]`, `is step ${v} but train.steps = ${problem.train.steps}`);
    return v;
  });
  return { dMax, embeddingSeed, reportSteps };
}

/** Train the run's network with the coupled embeddings of its repetition; h_L at the report steps (N × D each). */
function trainCoupled(problem: Problem, rep: number, c: Common) {
  const { D } = problem.model;
  const { dIn, dOut } = problem.data;
  const { WE, WU } = coupledEmbeddings(c.embeddingSeed, rep, c.dMax, D, dIn, dOut, problem.model.sigmaIn, problem.model.sigmaOut);
  const t = trainResNet({ ...problem, init: { ...problem.init, WE, WU } }, { record: ["h"], recordSteps: c.reportSteps });
  const h = t.profiles!.h!;
  const [, nodes, N] = h.shape;
  const hL = c.reportSteps.map((_, i) => h.data.slice(((i * nodes + nodes - 1) * N) * D, ((i * nodes + nodes - 1) * N + N) * D));
  return { t, WE, WU, hL };
}

export const paperStandinTask: Task = (problem, ctx) => {
  knownKeys("taskOptions", ctx.options, ["dMax", "embeddingSeed", "reportSteps"]);
  const c = common(ctx.options, problem);
  if (problem.model.D !== c.dMax) throw new ValidationError("taskOptions.dMax", `the stand-in must have D = dMax = ${c.dMax} (got D = ${problem.model.D})`);
  const { t, hL } = trainCoupled(problem, ctx.run.rep, c);
  return { f: Array.from(t.f.data), h: hL.map((a) => Array.from(a)), loss: Array.from(t.loss) };
};

const cache = new Map<string, unknown>();
function loadJson<T>(path: string): T {
  let v = cache.get(path) as T | undefined;
  if (v === undefined) {
    try {
      v = JSON.parse(readFileSync(path, "utf8")) as T;
    } catch (e) {
      throw new ValidationError("taskOptions", `cannot read ${path}: ${(e as Error).message}`);
    }
    cache.set(path, v);
  }
  return v;
}

export const paperGridTask: Task = (problem, ctx) => {
  const o = ctx.options;
  knownKeys("taskOptions", o, ["dMax", "embeddingSeed", "reportSteps", "limitFile", "standinFile"]);
  const c = common(o, problem);
  if (typeof o.limitFile !== "string" || typeof o.standinFile !== "string") throw new ValidationError("taskOptions.limitFile", "and taskOptions.standinFile must be paths (the preset writes them)");
  const limit = loadJson<PaperLimit>(o.limitFile);
  const standins = loadJson<PaperStandin[]>(o.standinFile);
  if (!isPlainObject(limit) || !Array.isArray(limit.f)) throw new ValidationError("taskOptions.limitFile", `${o.limitFile} is not a limit file of the preset`);
  const rep = ctx.run.rep;
  const standin = standins.find((s) => s.rep === rep);
  if (!standin) throw new ValidationError("taskOptions.standinFile", `has no stand-in for repetition ${rep}`);
  const { D } = problem.model;
  const { dIn, dOut, N } = problem.data;
  const d = dIn + dOut, per = dOut * N;
  const { t, WE, WU, hL } = trainCoupled(problem, rep, c);
  const out: Record<string, number[]> = { yStandin: [], hStandin: [], yExact: [], hExact: [], hLimitSe: [] };
  const R = limit.chLastRuns.length;
  c.reportSteps.forEach((k, i) => {
    let sy = 0, sye = 0;
    for (let j = 0; j < per; j++) {
      const v = t.f.data[k * per + j];
      sy += (v - standin.f[k * per + j]) ** 2;
      sye += (v - limit.f[k * per + j]) ** 2;
    }
    // h_L vs the stand-in's first D coordinates, and vs the DMFT coordinates of the run's rows
    let sh = 0, she = 0, sse = 0;
    const hs = standin.h[i], h = hL[i];
    for (let n = 0; n < N; n++) {
      const co = (k * N + n) * d;
      for (let dd = 0; dd < D; dd++) {
        let lim = 0;
        for (let a = 0; a < dIn; a++) lim += WE[dd * dIn + a] * limit.chLast[co + a];
        for (let a = 0; a < dOut; a++) lim += WU[dd * dOut + a] * limit.chLast[co + dIn + a];
        const v = h[n * D + dd];
        sh += (v - hs[n * c.dMax + dd]) ** 2;
        she += (v - lim) ** 2;
        if (R > 1) {
          // standard error of the limit coordinate over the randomizations
          let m = 0, m2 = 0;
          for (const run of limit.chLastRuns) {
            let x = 0;
            for (let a = 0; a < dIn; a++) x += WE[dd * dIn + a] * run[co + a];
            for (let a = 0; a < dOut; a++) x += WU[dd * dOut + a] * run[co + dIn + a];
            m += x; m2 += x * x;
          }
          m /= R;
          sse += Math.max(0, m2 / R - m * m) * R / ((R - 1) * R);
        }
      }
    }
    out.yStandin.push(sy); out.yExact.push(sye); out.hStandin.push(sh); out.hExact.push(she); out.hLimitSe.push(sse);
  });
  return { ...out, nY: per, nH: D * N, loss: Array.from(t.loss) };
};
