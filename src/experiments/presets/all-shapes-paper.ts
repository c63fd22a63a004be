/**
 * `limitdyn reproduce all-shapes-paper` (docs/presets/all-shapes-paper.md): the nonlinear
 * experiment of *ResNets of All Shapes and Sizes* at the paper's own setting (public Julia code,
 * nonlinear_experiments_julia; units by MATH §7):
 *
 *   tanh, L = 50, M and D on the 20-point ladder {1, 2, 3, 4, 6, 9, 14, …, 1369, 2000},
 *   d_in = d_out = 5, N = 10 Gaussian data points (the same for every run), K = 15 GD steps at
 *   η = 1 in the Julia units (σ_in² = 1/d_in, σ_out² = d_out, η_u = η_v = η/d_in), 5 repetitions,
 *   embeddings redrawn per repetition and coupled across D (first D rows of one D_max-row draw).
 *
 * Errors (RMS over outputs × data points × repetitions; embedding space: over coordinates ×
 * data points × repetitions), at the Julia code's steps k = 15 and k = 10 (its k counts the
 * forward passes from 1: our recorded steps 14 and 9), against
 *   (a) the paper's stand-in: the largest network of the grid, same repetition and embeddings;
 *   (b) the exact DMFT limit of the factor-form engine (outputs; and its coordinate processes
 *       driven by each run's own embedding rows), with the limit's own error estimate.
 * Fits: the paper's laws with free constants, √((a·D/(ML))² + (b/√D)²) (outputs) and
 * √((a·√(D/(ML)))² + (b/√D)²) (embedding space), against the paper's a = 0.15, b = 0.9 and
 * a = 0.8, b = 2.5, with bootstrap intervals over repetitions; exponents along D (at the largest
 * M) and M (at the largest D); the exponent in P along the lower envelope (best shape per P)
 * against −1/6. Figures as the paper's, for both references.
 *
 * Phases (each resumable): limit.json (the DMFT solve), standin.jsonl (the largest network, per
 * repetition), grid.jsonl (every shape; its sweep file grid.sweep.json can be sharded:
 * `limitdyn sweep --config grid.sweep.json --shard i/n --out grid.i.jsonl`, then
 * `limitdyn merge --out grid.jsonl grid.*.jsonl` and rerun the preset to analyse).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { ValidationError } from "../../core/errors.ts";
import { isPlainObject, knownKeys, nonNegativeInt, positiveInt, show } from "../../core/validate.ts";
import { StreamFamily } from "../../core/rng.ts";
import { makeProblem, type Problem } from "../../problem/problem.ts";
import { limitEmbeddingGram } from "../../problem/embeddings.ts";
import { bindSkeletonMeanOde, checkMeanOdeOptions } from "../../limits/mean-ode.ts";
import { factorModelOf, solveFactor } from "../../skeleton/factor-solve.ts";
import { threadedRunner } from "../../skeleton/factor-parallel.ts";
import { fitPowerLaw } from "../../stats/fit.ts";
import type { ShapeStats } from "../errors.ts";
import { plotErrorVs } from "../plot.ts";
import type { ProgressMode } from "../progress.ts";
import type { SweepRow } from "../rows.ts";
import type { SweepSpec } from "../spec.ts";
import { runSweep } from "../sweep.ts";
import type { PaperLimit, PaperStandin } from "../paper-tasks.ts";

export const PAPER_LADDER = [1, 2, 3, 4, 6, 9, 14, 21, 31, 45, 66, 96, 141, 206, 301, 439, 642, 937, 1369, 2000];
/** The Julia code's report steps k = 15 and k = 10 (1-based forward passes): recorded steps 14 and 9. */
export const REPORT_STEPS = [14, 9];
/** The paper's constants of its two laws. */
export const PAPER_CONSTANTS = { outputs: { a: 0.15, b: 0.9 }, embedding: { a: 0.8, b: 2.5 } };

export interface PaperPresetOptions {
  /** Output folder (default out/all-shapes-paper). */
  out?: string;
  /** Largest M and D (the ladder truncated; default 2000 = the paper's full grid). */
  maxWidth?: number;
  /** Repetitions (default 5). */
  reps?: number;
  /** L (default 50). */
  L?: number;
  /** Sweep workers (default: the available cores). */
  workers?: number;
  progress?: ProgressMode;
  /** Bootstrap resamples of the repetitions (default 1000). */
  B?: number;
  /** Accuracy target of the exact limit (default 1e-3; null: one solve at `limitExpectation`'s sizes). */
  limitTol?: number | null;
  /** Expectation options of the limit solve (default: the engine's). */
  limitExpectation?: Record<string, unknown>;
  /** Only compute the limit and the stand-in and write grid.sweep.json (for sharded runs). */
  prepareOnly?: boolean;
  /** Override the ladder (tests). */
  ladder?: readonly number[];
  log?: ((line: string) => void) | null;
}

export interface LawFit {
  a: number; b: number;
  ci: { a: [number, number]; b: [number, number] };
  paper: { a: number; b: number };
  relRms: number;
}

export interface ExponentFit { exponent: number; ci: [number, number]; theory: number; fixed: string; values: number[] }

export interface ReferenceFits {
  law: LawFit;
  alongD: ExponentFit;
  alongM: ExponentFit;
  /** Lower envelope in P (best shape per P), at the Julia code's k = 10. */
  envelopeP: ExponentFit;
}

export interface PaperSummary {
  preset: "all-shapes-paper";
  setting: Record<string, unknown>;
  ladder: number[];
  reps: number;
  standin: { M: number; D: number };
  limit: { solveSec: number; maxError: number; rmsError: number; tolReached: boolean | null; points: number; randomizations: number; depthSteps: number; estimator: string };
  /** Fits at k = 15 (Julia indexing), per space and reference. */
  fits: Record<"outputs" | "embedding", Record<"standin" | "exact", ReferenceFits>>;
  /** Per shape: RMS errors at k = 15 and k = 10, both spaces, both references, and the limit's own RMS error estimate. */
  table: { M: number; D: number; k15: Record<string, number>; k10: Record<string, number> }[];
  /** Wall time and peak memory of this invocation (a resumed one reuses the cached limit and rows). */
  runtimeSec: number;
  peakRssMB: number;
  /** Whether this invocation reused a cached limit or earlier rows (then runtimeSec is not the whole computation). */
  resumed: boolean;
  /** Compute seconds of the finite runs (stand-in + grid rows, summed over workers) and of the limit solve. */
  runsSec: number;
  files: string[];
}

/** The problem of the paper's setting (data: 5 × 10 Gaussian X, Y from seed 1). */
export function paperProblem(L: number, M: number, D: number): Problem {
  const fam = new StreamFamily(1);
  const X = fam.get(0).fillNormal(new Float64Array(50)), Y = fam.get(1).fillNormal(new Float64Array(50));
  const rows = (a: Float64Array) => Array.from({ length: 5 }, (_, i) => Array.from(a.subarray(i * 10, i * 10 + 10)));
  return makeProblem({
    model: { L, M, D, activation: "tanh", sigmaIn: Math.sqrt(1 / 5), sigmaOut: Math.sqrt(5) },
    data: { X: rows(X), Y: rows(Y) },
    train: { steps: 15, etaU: 1 / 5, etaV: 1 / 5 },
    seed: 1,
  });
}

const rmsOf = (sum: number, count: number) => Math.sqrt(sum / count);

export async function allShapesPaper(opts: PaperPresetOptions = {}): Promise<PaperSummary> {
  const t0 = performance.now();
  const log = opts.log === null ? () => {} : (opts.log ?? ((l: string) => console.log(l)));
  const out = resolve(opts.out ?? join("out", "all-shapes-paper"));
  mkdirSync(out, { recursive: true });
  const raw: unknown = opts;
  if (!isPlainObject(raw)) throw new ValidationError("options", `must be an object (got ${show(raw)})`);
  knownKeys("options", raw, ["out", "maxWidth", "reps", "L", "workers", "progress", "B", "limitTol", "limitExpectation", "prepareOnly", "ladder", "log"]);
  const maxWidth = opts.maxWidth === undefined ? 2000 : positiveInt("options.maxWidth", opts.maxWidth);
  for (const [k, v] of [["reps", opts.reps], ["L", opts.L], ["B", opts.B]] as const) if (v !== undefined) positiveInt(`options.${k}`, v);
  if (opts.workers !== undefined) nonNegativeInt("options.workers", opts.workers);
  if (opts.ladder !== undefined && (!Array.isArray(opts.ladder) || opts.ladder.some((w) => !Number.isInteger(w) || w < 1))) throw new ValidationError("options.ladder", `must be an array of positive integers (got ${show(opts.ladder)})`);
  const ladder = (opts.ladder ?? PAPER_LADDER).filter((w) => w <= maxWidth);
  if (ladder.length < 3) throw new ValidationError("--max-width", `leaves ${ladder.length} widths of the ladder (need ≥ 3)`);
  const reps = opts.reps ?? 5, L = opts.L ?? 50, B = opts.B ?? 1000;
  const workers = opts.workers ?? availableParallelism();
  const Mmax = ladder[ladder.length - 1], Dmax = Mmax;
  const files: string[] = [];
  log(`limitdyn reproduce all-shapes-paper: L = ${L}, M, D ∈ {${ladder.join(", ")}}, ${reps} repetitions → ${out}`);

  // ---- phase 1: the exact DMFT limit (factor form), once
  const limitFile = join(out, "limit.json");
  const base = paperProblem(L, 1, 1);
  let limit: PaperLimit & { info: PaperSummary["limit"] };
  const limitCached = existsSync(limitFile);
  if (limitCached) {
    limit = JSON.parse(readFileSync(limitFile, "utf8"));
    log(`  limit: ${limitFile} (cached; max error estimate ${limit.info.maxError.toExponential(2)})`);
  } else {
    const ts = performance.now();
    const tol = opts.limitTol === undefined ? 1e-3 : opts.limitTol;
    const bound = bindSkeletonMeanOde(base, checkMeanOdeOptions({ ...(tol === null ? {} : { tol }), budget: { points: 1 << 18 }, expectation: opts.limitExpectation }, "limit"), "limit");
    const e = bound.expectation;
    const E = limitEmbeddingGram(5, 5, base.model.sigmaIn, base.model.sigmaOut);
    const res = solveFactor(factorModelOf(base), E, {
      scheme: bound.scheme, depthSteps: bound.depthSteps, rule: e.rule, points: e.points ?? 0, randomizations: e.randomizations ?? 1, seed: e.seed ?? 1, nodes: e.nodes ?? 0,
      estimator: e.estimator, controlVariate: e.controlVariate, depthError: true, tol: bound.tol, maxRandomizations: bound.budget.randomizations, maxPoints: bound.budget.points, maxDepthSteps: bound.budget.depthSteps,
    }, {}, threadedRunner("auto"));
    const solveSec = (performance.now() - ts) / 1000;
    let s2 = 0;
    for (const v of res.error.f) s2 += v * v;
    limit = {
      f: Array.from(res.f), fError: Array.from(res.error.f), chLast: Array.from(lastNode(res.ch, 15, res.grid.nodes, 10, 10)), chLastRuns: res.chLastRuns.map((c) => Array.from(c)),
      K: 15, N: 10, dIn: 5, dOut: 5,
      info: {
        solveSec, maxError: res.error.max, rmsError: Math.sqrt(s2 / res.error.f.length), tolReached: res.error.tolReached,
        points: res.options.points, randomizations: res.options.randomizations, depthSteps: res.options.depthSteps, estimator: `${res.options.estimator}${res.options.estimator === "direct" ? ` + ${res.options.controlVariate} CV` : ""}`,
      },
    };
    writeFileSync(limitFile, JSON.stringify(limit) + "\n");
    log(`  limit: DMFT by the factor form in ${solveSec.toFixed(1)} s, error estimate max ${res.error.max.toExponential(2)} (RMS ${limit.info.rmsError.toExponential(2)}), ${res.options.points} points × ${res.options.randomizations}, S = ${res.options.depthSteps}`);
  }
  files.push(limitFile);

  // ---- phase 2: the stand-in (the largest network) per repetition
  const problemJson = (M: number, D: number) => {
    const p = paperProblem(L, M, D);
    return { model: { L, M, D, activation: "tanh", sigmaIn: p.model.sigmaIn, sigmaOut: p.model.sigmaOut }, data: { X: nested(p.data.X, 5, 10), Y: nested(p.data.Y, 5, 10) }, train: { steps: 15, etaU: 0.2, etaV: 0.2 }, seed: 1 };
  };
  const common = { dMax: Dmax, embeddingSeed: 1, reportSteps: REPORT_STEPS };
  const standinSpec: SweepSpec = { problem: problemJson(Mmax, Dmax), list: [{ "model.M": Mmax, "model.D": Dmax }], repetitions: reps, task: "all-shapes-paper/standin", taskOptions: common };
  const standinRows = await runSweep(standinSpec, { out: join(out, "standin.jsonl"), workers: Math.min(workers, reps), progress: opts.progress ?? "none" });
  files.push(join(out, "standin.jsonl"));
  const standins: PaperStandin[] = standinRows.rows.filter((r) => r.values).map((r) => ({ rep: r.rep, f: r.values!.f as number[], h: r.values!.h as number[][] }));
  if (standins.length < reps) throw new ValidationError("standin", `${reps - standins.length} stand-in runs failed (see ${join(out, "standin.jsonl")})`);
  const standinFile = join(out, "standin.json");
  writeFileSync(standinFile, JSON.stringify(standins) + "\n");
  files.push(standinFile);
  log(`  stand-in: M = D = ${Mmax}, ${reps} repetitions (${(standinRows.rows.reduce((a, r) => a + (r.meta?.ms ?? 0), 0) / 1000).toFixed(0)} s of runs)`);

  // ---- phase 3: the grid
  const list = ladder.flatMap((M) => ladder.map((D) => ({ "model.M": M, "model.D": D })));
  // largest shapes first: the sweep's workers then finish together
  list.sort((a, b) => b["model.M"] * b["model.D"] - a["model.M"] * a["model.D"]);
  const gridSpec: SweepSpec = { problem: problemJson(1, 1), list, repetitions: reps, task: "all-shapes-paper", taskOptions: { ...common, limitFile, standinFile } };
  const gridSpecFile = join(out, "grid.sweep.json");
  writeFileSync(gridSpecFile, JSON.stringify(gridSpec, null, 1) + "\n");
  files.push(gridSpecFile);
  if (opts.prepareOnly) {
    log(`  prepared: ${gridSpecFile} (${list.length} shapes × ${reps}); run shards with limitdyn sweep --config ${gridSpecFile} --shard i/n --out ${join(out, "grid.i.jsonl")}, merge into ${join(out, "grid.jsonl")}, then rerun this preset`);
    return emptySummary(out, files, t0);
  }
  log(`  grid: ${list.length} shapes × ${reps} repetitions (sweep file ${gridSpecFile})`);
  const grid = await runSweep(gridSpec, { out: join(out, "grid.jsonl"), workers, progress: opts.progress ?? "none" });
  files.push(join(out, "grid.jsonl"));
  if (grid.failed) log(`  warning: ${grid.failed} grid runs failed (see "error" in grid.jsonl)`);

  // ---- analysis
  const analysis = analyse(grid.rows, ladder, reps, L, Mmax, Dmax, B);
  const limErrY = rmsFromArray(limit.fError, REPORT_STEPS[0], 50);
  for (const row of analysis.table) row.k15.limitY = limErrY;
  for (const row of analysis.table) row.k10.limitY = rmsFromArray(limit.fError, REPORT_STEPS[1], 50);
  await figures(out, files, analysis, ladder, L, Mmax, Dmax);
  const summary: PaperSummary = {
    preset: "all-shapes-paper",
    setting: { L, activation: "tanh", dIn: 5, dOut: 5, N: 10, K: 15, eta: 1, etaU: 0.2, etaV: 0.2, sigmaIn2: 0.2, sigmaOut2: 5, reportSteps: { "k=15": REPORT_STEPS[0], "k=10": REPORT_STEPS[1] } },
    ladder, reps, standin: { M: Mmax, D: Dmax }, limit: limit.info, fits: analysis.fits, table: analysis.table,
    runtimeSec: (performance.now() - t0) / 1000, peakRssMB: process.resourceUsage().maxRSS / 1024,
    resumed: limitCached || standinRows.skipped > 0 || grid.skipped > 0,
    runsSec: [...standinRows.rows, ...grid.rows].reduce((a, r) => a + (r.meta?.ms ?? 0), 0) / 1000,
    files,
  };
  const fitFile = join(out, "fit.json");
  files.push(fitFile);
  writeFileSync(fitFile, JSON.stringify(summary, null, 2) + "\n");
  for (const l of formatPaperSummary(summary)) log(l);
  return summary;
}

function emptySummary(out: string, files: string[], t0: number): PaperSummary {
  return { preset: "all-shapes-paper", setting: { prepared: out }, ladder: [], reps: 0, standin: { M: 0, D: 0 }, limit: { solveSec: 0, maxError: NaN, rmsError: NaN, tolReached: null, points: 0, randomizations: 0, depthSteps: 0, estimator: "" }, fits: {} as PaperSummary["fits"], table: [], runtimeSec: (performance.now() - t0) / 1000, peakRssMB: process.resourceUsage().maxRSS / 1024, resumed: false, runsSec: 0, files };
}

function nested(a: Float64Array, r: number, c: number): number[][] {
  return Array.from({ length: r }, (_, i) => Array.from(a.subarray(i * c, (i + 1) * c)));
}

/** c^h at s = 1: K × N × d from K × nodes × N × d. */
function lastNode(ch: Float64Array, K: number, nodes: number, N: number, d: number): Float64Array {
  const out = new Float64Array(K * N * d);
  for (let k = 0; k < K; k++) out.set(ch.subarray(((k * nodes + nodes - 1) * N) * d, ((k * nodes + nodes - 1) * N + N) * d), k * N * d);
  return out;
}

function rmsFromArray(a: number[], k: number, per: number): number {
  let s = 0;
  for (let i = k * per; i < (k + 1) * per; i++) s += a[i] * a[i];
  return Math.sqrt(s / per);
}

type Space = "outputs" | "embedding";
type Ref = "standin" | "exact";
const KEYS: Record<Space, Record<Ref, "yStandin" | "yExact" | "hStandin" | "hExact">> = {
  outputs: { standin: "yStandin", exact: "yExact" }, embedding: { standin: "hStandin", exact: "hExact" },
};

interface Analysis {
  fits: PaperSummary["fits"];
  table: PaperSummary["table"];
  /** Per space × reference × step index: shape tables with bootstrap intervals. */
  tables: Record<string, ShapeStats[]>;
  laws: Record<string, (s: { L: number; M: number; D: number }) => number>;
}

/** Sums of squares per (shape, rep) → RMS per shape; bootstrap over repetitions (one resample for all shapes). */
function analyse(rows: SweepRow[], ladder: number[], reps: number, L: number, Mmax: number, Dmax: number, B: number): Analysis {
  const byShape = new Map<string, SweepRow[]>();
  for (const r of rows) {
    if (!r.values) continue;
    const k = `${r.shape.M}|${r.shape.D}`;
    if (!byShape.has(k)) byShape.set(k, []);
    byShape.get(k)!.push(r);
  }
  const shapes = ladder.flatMap((M) => ladder.map((D) => ({ M, D }))).filter((s) => byShape.has(`${s.M}|${s.D}`));
  const rmsFor = (s: { M: number; D: number }, key: string, step: number, pick: (rep: number) => number): number => {
    const rs = byShape.get(`${s.M}|${s.D}`)!;
    let sum = 0, cnt = 0;
    for (let j = 0; j < reps; j++) {
      const r = rs.find((x) => x.rep === pick(j));
      if (!r) continue;
      const v = r.values!;
      sum += (v[key] as number[])[step];
      cnt += (key.startsWith("y") ? v.nY : v.nH) as number;
    }
    return cnt ? rmsOf(sum, cnt) : NaN;
  };
  const u = new StreamFamily(20260601).get(0);
  const resamples = Array.from({ length: B }, () => Array.from({ length: reps }, () => Math.floor(((u.nextInt32() >>> 0) / 2 ** 32) * reps)));
  const identity = (j: number) => j;
  const fits = {} as PaperSummary["fits"];
  const tables: Record<string, ShapeStats[]> = {};
  const laws: Analysis["laws"] = {};
  for (const space of ["outputs", "embedding"] as Space[]) {
    fits[space] = {} as Record<Ref, ReferenceFits>;
    const g1 = space === "outputs" ? (s: { M: number; D: number }) => s.D / (s.M * L) : (s: { M: number; D: number }) => Math.sqrt(s.D / (s.M * L));
    for (const ref of ["standin", "exact"] as Ref[]) {
      const key = KEYS[space][ref];
      // the stand-in itself is left out of fits against it (its error is 0 by definition)
      const use = shapes.filter((s) => ref === "exact" || !(s.M === Mmax && s.D === Dmax));
      const point = (pick: (j: number) => number, step: number) => use.map((s) => ({ ...s, err: rmsFor(s, key, step, pick) }));
      const fitAll = (pts: { M: number; D: number; err: number }[], ptsP: { M: number; D: number; err: number }[]) => {
        const law = fitLaw(pts, g1);
        const alongD = powerAlong(pts.filter((p) => p.M === largestBelow(ladder, Mmax, ref, "M")), "D");
        const alongM = powerAlong(pts.filter((p) => p.D === largestBelow(ladder, Dmax, ref, "D")), "M");
        const env = envelope(ptsP.map((p) => ({ P: L * p.M * p.D, err: p.err })));
        return { law, alongD, alongM, env };
      };
      const main = fitAll(point(identity, 0), point(identity, 1));
      const boots = resamples.map((rs) => fitAll(point((j) => rs[j], 0), point((j) => rs[j], 1)));
      const q = (xs: number[]): [number, number] => {
        const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
        return v.length ? [v[Math.floor(0.025 * (v.length - 1))], v[Math.ceil(0.975 * (v.length - 1))]] : [NaN, NaN];
      };
      const thD = space === "outputs" ? -0.5 : -0.5, thM = space === "outputs" ? -1 : -0.5;
      fits[space][ref] = {
        law: { a: main.law.a, b: main.law.b, ci: { a: q(boots.map((b2) => b2.law.a)), b: q(boots.map((b2) => b2.law.b)) }, paper: PAPER_CONSTANTS[space], relRms: main.law.relRms },
        alongD: { exponent: main.alongD, ci: q(boots.map((b2) => b2.alongD)), theory: thD, fixed: `M = ${largestBelow(ladder, Mmax, ref, "M")}`, values: ladder },
        alongM: { exponent: main.alongM, ci: q(boots.map((b2) => b2.alongM)), theory: thM, fixed: `D = ${largestBelow(ladder, Dmax, ref, "D")}`, values: ladder },
        envelopeP: { exponent: main.env, ci: q(boots.map((b2) => b2.env)), theory: -1 / 6, fixed: "best shape per P, k = 10", values: [] },
      };
      laws[`${space}.${ref}`] = (s) => Math.hypot(main.law.a * g1(s), main.law.b / Math.sqrt(s.D));
      for (const [si, step] of [[0, "k15"], [1, "k10"]] as const) {
        tables[`${space}.${ref}.${step}`] = use.map((s) => {
          const rms = rmsFor(s, key, si, identity);
          const ci = q(resamples.map((rs) => rmsFor(s, key, si, (j) => rs[j])));
          return { key: { M: s.M, D: s.D }, L, M: s.M, D: s.D, n: reps, rms, mean: rms, values: [], missing: 0, ci };
        });
      }
    }
  }
  const table = shapes.map((s) => {
    const row = { M: s.M, D: s.D, k15: {} as Record<string, number>, k10: {} as Record<string, number> };
    for (const [si, step] of [[0, "k15"], [1, "k10"]] as const) {
      for (const space of ["outputs", "embedding"] as Space[]) for (const ref of ["standin", "exact"] as Ref[]) row[step][`${space}.${ref}`] = rmsFor(s, KEYS[space][ref], si, identity);
      row[step].limitH = rmsFor(s, "hLimitSe", si, identity);
    }
    return row;
  });
  return { fits, table, tables, laws };
}

/** The largest ladder value below the stand-in's (for fits against the stand-in) or the largest one (exact). */
function largestBelow(ladder: number[], max: number, ref: Ref, _axis: "M" | "D"): number {
  return ref === "exact" ? max : ladder[ladder.length - 2];
}

/** err² = A·g1² + B·g2² (g2 = 1/√D) by least squares on err² with relative weights 1/err⁴, A, B ≥ 0. */
function fitLaw(pts: { M: number; D: number; err: number }[], g1: (s: { M: number; D: number }) => number): { a: number; b: number; relRms: number } {
  const ok = pts.filter((p) => Number.isFinite(p.err) && p.err > 0);
  let s11 = 0, s12 = 0, s22 = 0, r1 = 0, r2 = 0;
  for (const p of ok) {
    const w = 1 / p.err ** 4, x1 = g1(p) ** 2, x2 = 1 / p.D, y = p.err ** 2;
    s11 += w * x1 * x1; s12 += w * x1 * x2; s22 += w * x2 * x2; r1 += w * x1 * y; r2 += w * x2 * y;
  }
  const det = s11 * s22 - s12 * s12;
  let A = (s22 * r1 - s12 * r2) / det, Bc = (s11 * r2 - s12 * r1) / det;
  if (!(A >= 0)) { A = 0; Bc = Math.max(0, r2 / s22); }
  if (!(Bc >= 0)) { Bc = 0; A = Math.max(0, r1 / s11); }
  const a = Math.sqrt(A), b = Math.sqrt(Bc);
  let rel = 0;
  for (const p of ok) rel += (Math.hypot(a * g1(p), b / Math.sqrt(p.D)) / p.err - 1) ** 2;
  return { a, b, relRms: Math.sqrt(rel / Math.max(1, ok.length)) };
}

function powerAlong(pts: { M: number; D: number; err: number }[], axis: "M" | "D"): number {
  const ok = pts.filter((p) => Number.isFinite(p.err) && p.err > 0);
  if (ok.length < 3) return NaN;
  return fitPowerLaw(ok.map((p) => p[axis]), ok.map((p) => p.err)).exponent;
}

/** Power-law exponent of the lower envelope: points whose error is below that of every point of smaller P. */
function envelope(pts: { P: number; err: number }[]): number {
  const ok = pts.filter((p) => Number.isFinite(p.err) && p.err > 0).sort((a, b) => a.P - b.P);
  const env: { P: number; err: number }[] = [];
  let best = Infinity;
  for (const p of ok) if (p.err < best) { env.push(p); best = p.err; }
  if (env.length < 3) return NaN;
  return fitPowerLaw(env.map((p) => p.P), env.map((p) => p.err)).exponent;
}

async function figures(out: string, files: string[], a: Analysis, ladder: number[], L: number, Mmax: number, Dmax: number): Promise<void> {
  const n = ladder.length;
  const pickIdx = (offsets: number[]) => offsets.map((o) => ladder[n - 1 - o]).filter((v) => v !== undefined);
  // the Julia code's panels: outputs vs D at M = Ms[end-5, end-9, end-11, end-13], vs M at D = Ds[end, end-3, end-6, end-8];
  // embedding vs D at M = Ms[end-2, end-5, end-9, end-13], vs M as outputs
  const panels: Record<Space, { vsD: number[]; vsM: number[] }> = {
    outputs: { vsD: pickIdx([5, 9, 11, 13]), vsM: pickIdx([0, 3, 6, 8]) },
    embedding: { vsD: pickIdx([2, 5, 9, 13]), vsM: pickIdx([0, 3, 6, 8]) },
  };
  const refTitle: Record<Ref, string> = { standin: `vs the largest net (M = D = ${Mmax}, the paper's stand-in)`, exact: "vs the exact DMFT limit" };
  for (const space of ["outputs", "embedding"] as Space[]) {
    const yTitle = space === "outputs" ? "RMS error on outputs" : "RMS error on h_L";
    for (const ref of ["standin", "exact"] as Ref[]) {
      const t15 = a.tables[`${space}.${ref}.k15`], t10 = a.tables[`${space}.${ref}.k10`];
      const law = a.laws[`${space}.${ref}`];
      const fit = a.fits[space][ref].law;
      const lawLabel = space === "outputs" ? `√((${fit.a.toFixed(3)}·D/(ML))² + (${fit.b.toFixed(2)}/√D)²)` : `√((${fit.a.toFixed(2)}·√(D/(ML)))² + (${fit.b.toFixed(2)}/√D)²)`;
      const vsD = t15.filter((g) => panels[space].vsD.includes(g.M) && !(ref === "standin" && g.D === Dmax));
      const vsM = t15.filter((g) => panels[space].vsM.includes(g.D) && !(ref === "standin" && g.M === Mmax));
      const name = (x: string) => join(out, `${space === "outputs" ? "erry" : "errh"}_vs_${x}.${ref}`);
      await plotErrorVs(vsD, { x: "D", series: ["M"], fit: law, out: name("D"), yTitle, title: `${yTitle} at k = 15 ${refTitle[ref]}; lines: fitted ${lawLabel}` });
      await plotErrorVs(vsM, { x: "M", series: ["D"], fit: law, out: name("M"), yTitle, title: `${yTitle} at k = 15 ${refTitle[ref]}; lines: fitted ${lawLabel}` });
      // P plots at k = 10 with the Julia code's guides (outputs: P = 2LMD in its code; here P = LMD)
      const guides = space === "outputs"
        ? [{ label: "0.7·(2P)^(−1/5) (the Julia code's guide)", predict: (x: number) => 0.7 * (2 * x) ** (-1 / 5) }, { label: "P^(−1/6) (theory, best shape)", predict: (x: number) => 0.4 * x ** (-1 / 6) }]
        : [{ label: "2·P^(−1/6) (the Julia code's guide)", predict: (x: number) => 2 * x ** (-1 / 6) }];
      await plotErrorVs(t10, { x: "P", series: [], out: name("P"), yTitle, guides, title: `${yTitle} at k = 10 ${refTitle[ref]}, every shape (L = ${L})` });
      for (const x of ["D", "M", "P"]) files.push(`${name(x)}.svg`, `${name(x)}.vl.json`);
    }
  }
}

const f3 = (x: number) => (Number.isFinite(x) ? x.toPrecision(3) : String(x));

export function formatPaperSummary(s: PaperSummary): string[] {
  const lines = ["", `all-shapes-paper: L = ${s.setting.L}, M, D ∈ {${s.ladder.join(", ")}}, ${s.reps} repetitions; stand-in M = D = ${s.standin.M}`];
  lines.push(`exact limit: DMFT (factor form, ${s.limit.estimator}, ${s.limit.points} points × ${s.limit.randomizations}, S = ${s.limit.depthSteps}) in ${s.limit.solveSec.toFixed(0)} s; its error estimate on outputs: max ${f3(s.limit.maxError)}, RMS ${f3(s.limit.rmsError)}`);
  lines.push("", "fits at k = 15 (95% bootstrap intervals over repetitions), against the stand-in and against the exact limit:");
  const ref = (label: string, text: string) => `      ${label.padEnd(12)}${text}`;
  for (const space of ["outputs", "embedding"] as const) {
    const st = s.fits[space].standin, ex = s.fits[space].exact;
    const law = (f: ReferenceFits) => `a = ${f3(f.law.a)} [${f3(f.law.ci.a[0])}, ${f3(f.law.ci.a[1])}], b = ${f3(f.law.b)} [${f3(f.law.ci.b[0])}, ${f3(f.law.ci.b[1])}]`;
    lines.push(`  ${space} law (paper a = ${st.law.paper.a}, b = ${st.law.paper.b}):`, ref("stand-in", law(st)), ref("exact", law(ex)));
    for (const [name, g] of [["along D", (f: ReferenceFits) => f.alongD], ["along M", (f: ReferenceFits) => f.alongM], ["P envelope", (f: ReferenceFits) => f.envelopeP]] as const) {
      const e = (f: ReferenceFits) => `${f3(g(f).exponent)} [${f3(g(f).ci[0])}, ${f3(g(f).ci[1])}] (${g(f).fixed})`;
      lines.push(`    exponent ${name} (theory ${f3(g(st).theory)}):`, ref("stand-in", e(st)), ref("exact", e(ex)));
    }
  }
  lines.push("", `runtime ${s.runtimeSec.toFixed(0)} s${s.resumed ? " (this invocation, which reused the cached limit or earlier rows)" : ""}, peak memory ${s.peakRssMB.toFixed(0)} MB; finite runs ${s.runsSec.toFixed(0)} s of compute summed over workers, limit solve ${s.limit.solveSec.toFixed(0)} s`);
  return lines;
}
