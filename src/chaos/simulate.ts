/**
 * The large-M simulator and its diagnostics over a ladder of widths (MATH §4):
 *
 *   const res = chaosDiagnostics(problem, { widths: [16, 64, 256], R: 16 });
 *   res.couplingRms, res.outputGapRms, res.tagCorrelation, res.w1, res.slopes
 *
 * or as an algorithm returning the shared result shape (f, loss of the
 * M = ∞ limit; the diagnostics in the extras):
 *
 *   const t = solve(problem, chaosSimulator({ widths: [16, 64, 256], R: 16 }));
 *   t.f, t.loss, t.extras.couplingRms, t.extras.slopes
 *
 * For each width M and run r = 0..R−1 (U, V from seed runSeed(seed, r); the
 * embeddings W_E, W_U and the data are the problem's, shared by every run and
 * by the limit), the finite ResNet is run with its twins (coupling.ts) for K
 * steps, and the diagnostics are accumulated. The M = ∞ limit is solved once
 * (it depends on neither M nor the U, V seed).
 *
 * Summary values are taken at the last step k = K−1 (weights after K−1
 * updates) and averaged over layers:
 *   couplingRms[M]   = √(mean over runs and layers of W_{K−1,ℓ})   (W: weight distance of coupling.ts)
 *   pRms, qRms       = √(mean over runs and layers of the p / q distances)
 *   outputGapRms[M]  = √(mean over runs of |f_{K−1} − f̄_{K−1}|²_RMS)
 *   tagCorrelation[M]= intraclass correlation of the tag functional (tagged.ts), mean over layers
 *   w1[M], ks[M]     = mean over runs, layers, data points of W1 / KS (laws.ts); w1Twins: same for the twins
 *   slopes           = fitted log-log slopes against M (stats/fit.ts fitPowerLaw; null if not fittable)
 */
import { ValidationError } from "../core/errors.ts";
import { dflt, isPlainObject, knownKeys, oneOf, positiveInt, seedValue, show } from "../core/validate.ts";
import { DivergenceError } from "../core/errors.ts";
import { f64, requireResources, type ResourceNeed, STEP_OVERHEAD } from "../core/resources.ts";
import { assertProblem } from "../problem/problem.ts";
import { finiteResNetNeed } from "../resnet/engine.ts";
import { FitError, fitPowerLaw } from "../stats/fit.ts";
import { type Algorithm, checkRequirement, type Requirement } from "../problem/algorithm.ts";
import { type Problem, withChanges } from "../problem/problem.ts";
import { makeTrajectory } from "../problem/trajectory.ts";
import { largeWidth, largeWidthMeanOdeOptions, type LargeWidthOptions, resolveLargeWidthOptions } from "../limits/large-width.ts";
import { checkMeanOdeOptions } from "../limits/mean-ode.ts";
import { runSeed } from "../core/rng.ts";
import { chaosWeights, coupledRun } from "./coupling.ts";
import { LimitLawReference, layerLawDistance } from "./laws.ts";
import { limitFields, type LimitFields } from "./limit.ts";
import { TAG_FUNCTIONALS, type TagFunctional, TaggedAccumulator, tagFunctional } from "./tagged.ts";
import { reportProgress } from "../core/progress.ts";

export const DIAGNOSTICS = ["coupling", "tagged", "laws"] as const;
export type Diagnostic = (typeof DIAGNOSTICS)[number];

export interface ChaosOptions {
  /** Independent runs per width (default 16; ≥ 2 with "tagged"). */
  R?: number;
  /** Ladder of widths M (default [16, 64, 256]). */
  widths?: number[];
  /** GD steps K (default problem.train.steps). */
  steps?: number;
  /** Diagnostics to compute (default all three). */
  diagnostics?: Diagnostic[];
  /** Base seed of the runs' U, V (default problem.seed); run r uses runSeed(seed, r). */
  seed?: number;
  /** Limit solver: "skeleton" (default) or "particles" (laws need the skeleton). */
  method?: "skeleton" | "particles";
  /** Expectation engine of the skeleton limit (default: closed form for linear σ, else qmc 2^14). */
  expectation?: LargeWidthOptions["expectation"];
  particles?: number;
  particleSeed?: number;
  /** Size of the limit-law reference sample per (k, ℓ, n) (default 16384). */
  lawSamples?: number;
  /** Tag functional of the headline tagCorrelation (default "displacement"; all are reported in detail). */
  tagFunctional?: TagFunctional;
}

export interface ResolvedChaosOptions {
  R: number;
  widths: number[];
  steps: number;
  diagnostics: Diagnostic[];
  seed: number;
  limit: LargeWidthOptions;
  lawSamples: number;
  tagFunctional: TagFunctional;
}

const KEYS = ["R", "widths", "steps", "diagnostics", "seed", "method", "expectation", "particles", "particleSeed", "lawSamples", "tagFunctional"];

/** Validate chaos options (errors name `${field}.<key>`); rejects trained embeddings. */
export function resolveChaosOptions(problem: Problem, o: unknown, field = "solver"): ResolvedChaosOptions {
  assertProblem(problem);
  rejectTrainedEmbeddings(problem);
  const c = checkChaosOptions(o, field);
  const steps = c.steps ?? positiveInt(`${field}.steps`, problem.train.steps);
  const seed = c.seed ?? seedValue(`${field}.seed`, problem.seed);
  return { R: c.R, widths: c.widths, steps, diagnostics: c.diagnostics, seed, limit: c.limit, lawSamples: c.lawSamples, tagFunctional: c.tagFunctional };
}

/** Validate chaos options without the problem (steps, seed: undefined where not given). */
function checkChaosOptions(o: unknown, field: string): Omit<ResolvedChaosOptions, "steps" | "seed"> & { steps?: number; seed?: number } {
  const opts = o === undefined ? {} : o;
  if (!isPlainObject(opts)) throw new ValidationError(field, `must be an object of chaos options (got ${show(opts)})`);
  knownKeys(field, opts, KEYS);
  const diagnostics = dflt(opts.diagnostics, [...DIAGNOSTICS]);
  if (!Array.isArray(diagnostics) || diagnostics.length === 0) throw new ValidationError(`${field}.diagnostics`, `must be a non-empty array of ${DIAGNOSTICS.map((d) => JSON.stringify(d)).join(", ")} (got ${show(diagnostics)})`);
  diagnostics.forEach((d, i) => oneOf(`${field}.diagnostics[${i}]`, d, DIAGNOSTICS));
  if (new Set(diagnostics).size !== diagnostics.length) throw new ValidationError(`${field}.diagnostics`, "lists a diagnostic twice");
  const R = positiveInt(`${field}.R`, dflt(opts.R, 16));
  if (diagnostics.includes("tagged") && R < 2) throw new ValidationError(`${field}.R`, `must be at least 2 for the "tagged" diagnostic (a covariance across runs; got ${R})`);
  const widths = dflt(opts.widths, [16, 64, 256]);
  if (!Array.isArray(widths) || widths.length === 0) throw new ValidationError(`${field}.widths`, `must be a non-empty array of positive integers (got ${show(widths)})`);
  widths.forEach((M, i) => positiveInt(`${field}.widths[${i}]`, M));
  for (let i = 1; i < widths.length; i++) {
    if (!(widths[i] > widths[i - 1])) throw new ValidationError(`${field}.widths`, `must be strictly increasing (got ${widths[i - 1]} then ${widths[i]} at index ${i})`);
  }
  if (diagnostics.includes("tagged") && widths[0] < 2) throw new ValidationError(`${field}.widths[0]`, `must be at least 2 for the "tagged" diagnostic (two distinct units; got ${widths[0]})`);
  const steps = opts.steps === undefined ? undefined : positiveInt(`${field}.steps`, opts.steps);
  const seed = opts.seed === undefined ? undefined : seedValue(`${field}.seed`, opts.seed);
  const lawSamples = positiveInt(`${field}.lawSamples`, dflt(opts.lawSamples, 16384));
  const tagFn = oneOf(`${field}.tagFunctional`, dflt(opts.tagFunctional, "displacement"), TAG_FUNCTIONALS);
  const limitRaw: Record<string, unknown> = {};
  for (const k of ["method", "expectation", "particles", "particleSeed"]) if (opts[k] !== undefined) limitRaw[k] = opts[k];
  const limit = resolveLargeWidthOptions(limitRaw, field);
  checkMeanOdeOptions(largeWidthMeanOdeOptions(1, limit, field), field); // the limit solver's options, structurally (values with the problem)
  if (limit.method === "particles" && diagnostics.includes("laws")) {
    throw new ValidationError(`${field}.method`, `"particles" has no limit-law sampler; the "laws" diagnostic needs method "skeleton" (or drop "laws" from ${field}.diagnostics)`);
  }
  return { R, widths: [...widths] as number[], steps, diagnostics: [...diagnostics] as Diagnostic[], seed, limit, lawSamples, tagFunctional: tagFn };
}

/** Per-width detail: arrays [K][L] (nested) and [K]. */
export interface ChaosWidthDetail {
  M: number;
  /** Mean over runs of the weight distance W_{k,ℓ} (coupling.ts). */
  couplingByStepLayer?: number[][];
  /** Mean over runs of the p / q distances. */
  pDistByStepLayer?: number[][];
  qDistByStepLayer?: number[][];
  /** √(mean over runs of the squared RMS output gap), per step. */
  outputGapByStep?: number[];
  /** Intraclass correlation per tag functional, [K][L], and averaged over layers [K]. */
  /** (null where the statistic is undefined: fewer than two runs, or zero variance across runs.) */
  tag?: Record<TagFunctional, { intraclass: (number | null)[][]; intraclassByStep: (number | null)[]; pairs: (number | null)[][]; pairsByStep: (number | null)[]; covariance: (number | null)[][] }>;
  /** Mean over runs (and data points) of W1 / KS: finite units vs limit law, twins vs limit law. */
  w1ByStepLayer?: number[][];
  ksByStepLayer?: number[][];
  w1TwinsByStepLayer?: number[][];
  ksTwinsByStepLayer?: number[][];
  ms: number;
}

/** The diagnostics of a chaos run (see the module comment). */
export interface ChaosDiagnostics {
  widths: number[];
  R: number;
  K: number;
  L: number;
  D: number;
  /** Values at the last step, indexed like widths (null where not computed). */
  couplingRms: (number | null)[];
  pRms: (number | null)[];
  qRms: (number | null)[];
  outputGapRms: (number | null)[];
  tagCorrelation: (number | null)[];
  w1: (number | null)[];
  ks: (number | null)[];
  w1Twins: (number | null)[];
  slopes: { coupling: number | null; outputGap: number | null; tagCorrelation: number | null; w1: number | null; p: number | null; q: number | null };
  detail: ChaosWidthDetail[];
}

export interface ChaosResult extends ChaosDiagnostics {
  /** The M = ∞ outputs f̄ (K × d_out × N nested) and loss. */
  limit: { algorithm: string; f: number[][][]; loss: number[]; ms: number };
  options: ResolvedChaosOptions;
  timings: { totalMs: number; limitMs: number; referenceMs: number };
}

/** Extras of the chaosSimulator trajectory: the diagnostics and the limit solver (its f̄, loss̄ are the trajectory's f, loss). */
export interface ChaosExtras extends ChaosDiagnostics {
  limit: { algorithm: string; ms: number };
}

/** The frozen-embedding check of the large-M limit (the requirement of every limit solver). */
export function rejectTrainedEmbeddings(problem: Problem): void {
  checkRequirement(problem, "frozenEmbeddings", "the large-M limit");
}

function nested(a: Float64Array, K: number, L: number): number[][] {
  return Array.from({ length: K }, (_, k) => Array.from(a.subarray(k * L, (k + 1) * L)));
}

/** Like nested, NaN (an undefined statistic: fewer than two runs, zero variance) as null — never a silent NaN / null for a number. */
function nestedOrNull(a: Float64Array, K: number, L: number): (number | null)[][] {
  return Array.from({ length: K }, (_, k) => Array.from(a.subarray(k * L, (k + 1) * L), (x) => (Number.isNaN(x) ? null : x)));
}

/** A diagnostic value that must be finite (a DivergenceError naming it and the width otherwise). */
function finiteDiagnostic(name: string, M: number, K: number, v: number): number {
  if (!Number.isFinite(v)) throw new DivergenceError(K - 1, `${name} (chaos diagnostics, M = ${M})`, `${name} = ${v}`);
  return v;
}

/**
 * Resource estimate of a chaos run: per width (widths run one after the other) the finite model and
 * its twins (≈ 10·L·M·D weights, 6·L·M·N preactivations), the tag accumulators (3 functionals ×
 * 3.5·K·L·M), the limit-law reference (2·K·L·N·lawSamples) and the limit profiles (2·K·(L+1)·N·D);
 * work R × Σ_M K × (2 × 12·L·M·N·D + …) plus the reference samples.
 */
export function chaosNeed(problem: Problem, o: ResolvedChaosOptions, field = "solver"): ResourceNeed {
  const { L, D } = problem.model;
  const { N } = problem.data;
  const K = o.steps;
  const twins = o.diagnostics.includes("coupling"), tagged = o.diagnostics.includes("tagged"), laws = o.diagnostics.includes("laws");
  let perWidth = 0, work = 0;
  for (const M of o.widths) {
    const pM = { ...problem, model: { ...problem.model, M } };
    const eng = finiteResNetNeed(pM, { steps: 1 }).bytes / 8;
    perWidth = Math.max(perWidth, eng + 8 * L * M * D + (twins ? 5 * L * M * N : L * M * N) + (tagged ? 3 * 3.5 * K * L * M : 0) + 2 * M + 4 * K * L);
    work += o.R * (K * ((twins ? 2 : 1) * 12 * L * M * N * D + (tagged ? 3 * L * M * N * D : 0) + (laws ? (twins ? 2 : 1) * L * N * M * (Math.log2(M + 1) + 1) * 2 : 0) + STEP_OVERHEAD) + 40 * L * M * D);
  }
  const ref = laws ? 2 * K * L * N * o.lawSamples + 2 * o.lawSamples * N : 0;
  const limit = 2 * K * (L + 1) * N * D;
  work += laws ? K * L * o.lawSamples * (N * (K * 4 * (problem.data.dIn + problem.data.dOut) + Math.log2(o.lawSamples + 1))) : 0;
  return {
    what: "the chaos simulator",
    drivers: [[`${field}.R`, o.R], [`${field}.widths (largest)`, Math.max(...o.widths)], [`${field}.steps`, K], ["model.L", L], ["model.D", D], ["data.N", N], ...(laws ? [[`${field}.lawSamples`, o.lawSamples] as [string, number]] : [])],
    bytes: f64(perWidth + ref + limit), work, largest: Math.max(laws ? K * L * N * o.lawSamples : 0, L * Math.max(...o.widths) * Math.max(D, N)),
    detail: `per width: the finite model${twins ? " and its twins" : ""}${tagged ? ", the tag accumulators" : ""}${laws ? "; the limit-law reference" : ""}`,
  };
}

function slopeOf(widths: number[], ys: (number | null)[]): number | null {
  const xs: number[] = [], vs: number[] = [];
  ys.forEach((y, i) => { if (y !== null && y > 0 && Number.isFinite(y)) { xs.push(widths[i]); vs.push(y); } });
  if (xs.length < 2) return null;
  try {
    return fitPowerLaw(xs, vs).exponent;
  } catch (e) {
    if (e instanceof FitError) return null;
    throw e;
  }
}

/** Run the chaos diagnostics (see the module comment). `limit` may be passed to reuse a cached solve. */
export function chaosDiagnostics(problem: Problem, options?: ChaosOptions, field = "solver", cached?: LimitFields): ChaosResult {
  return simulate(problem, resolveChaosOptions(problem, options, field), field, cached).result;
}

/** @deprecated since 0.2: the function of the `chaos` namespace is `chaosDiagnostics` (the algorithm is `chaosSimulator`); this alias goes in the next version. */
export const chaos = chaosDiagnostics;

/** The problem with the chaos run's number of steps. */
function atSteps(problem: Problem, steps: number): Problem {
  return steps === problem.train.steps ? problem : withChanges(problem, { train: { steps } });
}

function simulate(problem: Problem, o: ResolvedChaosOptions, field: string, cached?: LimitFields): { result: ChaosResult; limit: LimitFields } {
  const t0 = performance.now();
  requireResources(chaosNeed(problem, o, field));
  const pK = atSteps(problem, o.steps);
  let limit: LimitFields;
  try {
    limit = cached ?? limitFields(pK, o.limit, field);
  } catch (e) {
    if (e instanceof DivergenceError) throw new DivergenceError(e.step, `${e.quantity} (the M = ∞ limit of the chaos simulator)`, e.detail);
    throw e;
  }
  if (limit.K < o.steps) throw new ValidationError(`${field}.steps`, `is ${o.steps} but the cached limit has ${limit.K} steps`);
  const tLimit = performance.now();
  const { L, D, N } = limit;
  const K = o.steps;
  const wantC = o.diagnostics.includes("coupling"), wantT = o.diagnostics.includes("tagged"), wantL = o.diagnostics.includes("laws");
  const ref = wantL ? new LimitLawReference(limit.traj, L, K, o.lawSamples, (o.seed ^ 0x2545f491) >>> 0) : null;
  const tRef = performance.now();
  const KL = K * L;
  const res: ChaosResult = {
    widths: o.widths, R: o.R, K, L, D,
    couplingRms: [], pRms: [], qRms: [], outputGapRms: [], tagCorrelation: [], w1: [], ks: [], w1Twins: [],
    slopes: { coupling: null, outputGap: null, tagCorrelation: null, w1: null, p: null, q: null },
    detail: [],
    limit: {
      algorithm: limit.traj.algorithm,
      f: Array.from({ length: limit.K }, (_, k) => Array.from({ length: limit.dOut }, (_, oo) => Array.from(limit.f.subarray((k * limit.dOut + oo) * N, (k * limit.dOut + oo + 1) * N)))),
      loss: Array.from(limit.traj.loss), ms: tLimit - t0,
    },
    options: o,
    timings: { totalMs: 0, limitMs: tLimit - t0, referenceMs: tRef - tLimit },
  };
  for (const [wi, M] of o.widths.entries()) {
    const tw = performance.now();
    const wd = new Float64Array(KL), pd = new Float64Array(KL), qd = new Float64Array(KL), og = new Float64Array(K);
    const w1 = new Float64Array(KL), ks = new Float64Array(KL), w1t = new Float64Array(KL), kst = new Float64Array(KL);
    const accs = wantT ? TAG_FUNCTIONALS.map(() => new TaggedAccumulator(K, L, M)) : [];
    const phi = new Float64Array(M), scratch = new Float64Array(M);
    for (let r = 0; r < o.R; r++) {
      const w = chaosWeights(pK, M, runSeed(o.seed, r));
      const run = coupledRun(pK, limit, w, {
        steps: K,
        twins: wantC,
        onStep: (sys) => {
          const k = sys.k;
          reportProgress(((wi * o.R + r) * K + k + 1), o.widths.length * o.R * K, "coupled runs (GD steps over widths × runs)");
          for (let l = 0; l < L; l++) {
            if (wantT) TAG_FUNCTIONALS.forEach((f, i) => {
              tagFunctional(f, l, M, D, N, sys.P, sys.Uk, sys.Vk, sys.U0, sys.V0, phi);
              accs[i].add(k, l, phi);
            });
            if (ref) {
              const a = layerLawDistance(ref, k, l, sys.P, M, scratch);
              w1[k * L + l] += a.w1 / o.R; ks[k * L + l] += a.ks / o.R;
              if (wantC) {
                const b = layerLawDistance(ref, k, l, sys.Pbar, M, scratch);
                w1t[k * L + l] += b.w1 / o.R; kst[k * L + l] += b.ks / o.R;
              }
            }
          }
        },
      });
      if (wantC) {
        for (let i = 0; i < KL; i++) { wd[i] += run.weightDist[i] / o.R; pd[i] += run.pDist[i] / o.R; qd[i] += run.qDist[i] / o.R; }
        for (let k = 0; k < K; k++) og[k] += run.outputGap[k] ** 2 / o.R;
      }
    }
    const det: ChaosWidthDetail = { M, ms: 0 };
    const lastMean = (a: Float64Array) => { let s = 0; for (let l = 0; l < L; l++) s += a[(K - 1) * L + l]; return s / L; };
    if (wantC) {
      for (const [name, a] of [["weight distance", wd], ["p distance", pd], ["q distance", qd], ["output gap", og]] as const) {
        const i = a.findIndex((x) => !Number.isFinite(x));
        if (i >= 0) throw new DivergenceError(a === og ? i : Math.floor(i / L), `${name} of the twins, mean over runs (chaos diagnostics, M = ${M})`, `${name} = ${a[i]}: the sum over runs overflows double precision`);
      }
      det.couplingByStepLayer = nested(wd, K, L);
      det.pDistByStepLayer = nested(pd, K, L);
      det.qDistByStepLayer = nested(qd, K, L);
      det.outputGapByStep = Array.from(og, Math.sqrt);
      res.couplingRms.push(finiteDiagnostic("couplingRms", M, K, Math.sqrt(lastMean(wd))));
      res.pRms.push(finiteDiagnostic("pRms", M, K, Math.sqrt(lastMean(pd))));
      res.qRms.push(finiteDiagnostic("qRms", M, K, Math.sqrt(lastMean(qd))));
      res.outputGapRms.push(finiteDiagnostic("outputGapRms", M, K, Math.sqrt(og[K - 1])));
    } else {
      res.couplingRms.push(null); res.pRms.push(null); res.qRms.push(null); res.outputGapRms.push(null);
    }
    if (wantT) {
      const tag = {} as NonNullable<ChaosWidthDetail["tag"]>;
      TAG_FUNCTIONALS.forEach((f, i) => {
        const e = accs[i].estimate();
        for (const a of [e.intraclass, e.pairs, e.covariance, e.intraclassByStep, e.pairsByStep]) {
          const j = a.findIndex((x) => x === Infinity || x === -Infinity);
          if (j >= 0) throw new DivergenceError(a.length === K ? j : Math.floor(j / L), `tag functional "${f}" statistics (chaos diagnostics, M = ${M})`, `a (co)variance over runs is ${a[j]}`);
        }
        const orNull = (a: Float64Array) => Array.from(a, (x) => (Number.isNaN(x) ? null : x));
        tag[f] = {
          intraclass: nestedOrNull(e.intraclass, K, L), intraclassByStep: orNull(e.intraclassByStep),
          pairs: nestedOrNull(e.pairs, K, L), pairsByStep: orNull(e.pairsByStep), covariance: nestedOrNull(e.covariance, K, L),
        };
      });
      det.tag = tag;
      const v = tag[o.tagFunctional].intraclassByStep[K - 1];
      res.tagCorrelation.push(v !== null && Number.isFinite(v) ? v : null);
    } else res.tagCorrelation.push(null);
    if (ref) {
      for (const [name, a] of [["W1", w1], ["KS", ks], ["W1 of the twins", w1t], ["KS of the twins", kst]] as const) {
        const i = a.findIndex((x) => !Number.isFinite(x));
        if (i >= 0) throw new DivergenceError(Math.floor(i / L), `${name} to the limit law (chaos diagnostics, layer ${(i % L) + 1}, M = ${M})`, `${name} = ${a[i]}`);
      }
      det.w1ByStepLayer = nested(w1, K, L);
      det.ksByStepLayer = nested(ks, K, L);
      res.w1.push(lastMean(w1));
      res.ks.push(lastMean(ks));
      if (wantC) {
        det.w1TwinsByStepLayer = nested(w1t, K, L);
        det.ksTwinsByStepLayer = nested(kst, K, L);
        res.w1Twins.push(lastMean(w1t));
      } else res.w1Twins.push(null);
    } else { res.w1.push(null); res.ks.push(null); res.w1Twins.push(null); }
    det.ms = performance.now() - tw;
    res.detail.push(det);
  }
  res.slopes = {
    coupling: slopeOf(o.widths, res.couplingRms),
    outputGap: slopeOf(o.widths, res.outputGapRms),
    tagCorrelation: slopeOf(o.widths, res.tagCorrelation),
    w1: slopeOf(o.widths, res.w1),
    p: slopeOf(o.widths, res.pRms),
    q: slopeOf(o.widths, res.qRms),
  };
  res.timings.totalMs = performance.now() - t0;
  return { result: res, limit };
}

/** Bound options of a chaos run: the given ones with every default filled in (those of the limit solver included). */
export type ChaosBound = Required<Omit<ChaosOptions, "expectation" | "particles" | "particleSeed">> & Pick<ChaosOptions, "expectation" | "particles" | "particleSeed">;

/**
 * The large-M simulator as an algorithm: `solve(problem, chaosSimulator({...}))`
 * returns the M = ∞ limit's f̄, loss̄ (over `steps` GD steps) with the
 * diagnostics over the ladder of widths in the extras.
 */
export function chaosSimulator(options?: ChaosOptions, field = "solver"): Algorithm<ChaosBound, ChaosExtras> {
  const given = checkChaosOptions(options, field);
  const requires: Requirement[] = given.limit.method === "particles" ? ["frozenEmbeddings"] : ["frozenEmbeddings", "secondDerivative"];
  return {
    name: "chaos",
    requires,
    bind: (problem) => {
      const o = resolveChaosOptions(problem, options, field);
      const lim = largeWidth(o.limit, field).bind(atSteps(problem, o.steps));
      const { limit: _l, ...rest } = o;
      const bound: ChaosBound = { ...rest, method: lim.method };
      if (lim.method === "skeleton") bound.expectation = lim.expectation;
      else { bound.particles = lim.particles; bound.particleSeed = lim.particleSeed; }
      return bound;
    },
    run: (problem, bound) => {
      const o = resolveChaosOptions(problem, bound, field);
      const { result, limit } = simulate(problem, o, field);
      const { limit: lim, options: _o, timings, ...diagnostics } = result;
      const per = limit.dOut * limit.N;
      // the limit's outputs on the test points (MATH §8), when the problem has them
      const ft = limit.traj.fTest;
      const fTest = ft ? Float64Array.from(ft.data.subarray(0, o.steps * limit.dOut * ft.shape[2])) : undefined;
      return makeTrajectory(atSteps(problem, o.steps), {
        algorithm: "chaos", options: bound, f: limit.f.slice(0, o.steps * per), loss: limit.traj.loss.slice(0, o.steps), fTest,
        timings, extras: { ...diagnostics, limit: { algorithm: lim.algorithm, ms: lim.ms } },
      });
    },
  };
}

/** Plain-JSON form of a chaos result (options without functions). */
export function chaosToJSON(r: ChaosResult): Record<string, unknown> {
  const lim = { ...r.options.limit } as Record<string, unknown>;
  return { ...r, options: { ...r.options, limit: lim } };
}
