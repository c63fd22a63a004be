/**
 * A complete factor-form solve (MATH §3): independent randomizations of the point set,
 * their mean, and an honest error estimate per f_k that combines
 *
 *   - the sampling error: the standard error of the mean over R independent
 *     randomizations (scrambled Sobol nets or i.i.d. draws), and
 *   - the depth error: step doubling on randomization 0 with the same points
 *     (common random numbers, so the difference is depth error only):
 *     err(S) ≈ |f_S − f_2S| · 2^p/(2^p − 1) for a scheme of order p,
 *
 * as √(sampling² + depth²). With `tol`, the solve is refined (more points per
 * randomization while the sampling error dominates, more depth steps while the depth
 * error does) until the largest estimate is below tol or the budget is spent; the
 * result says which.
 *
 * Everything is deterministic in the options: randomization ρ uses stream ρ of `seed`,
 * and the budget counts points and depth steps, not seconds.
 */
import { ValidationError } from "../core/errors.ts";
import type { Problem } from "../problem/problem.ts";
import { DepthGrid, SCHEME_ORDER, type Scheme } from "../depth/grid.ts";
import { type ControlVariate, embeddingFactor, type EmbeddingFactor, type FactorEstimator, type FactorModel, type FactorRunResult, runFactor } from "./factor.ts";
import { degree3Rule, type FactorPoints, gaussHermiteTensor, mcNormals, sobolNormals } from "./rules.ts";

export type FactorRule = "sobol" | "mc" | "gauss-hermite" | "degree3";

/** Fully resolved options of a factor solve (what runs, and what a result file records). */
export interface FactorSolveOptions {
  scheme: Scheme;
  depthSteps: number;
  rule: FactorRule;
  /** Points per randomization (sobol: a power of 2). Ignored by gauss-hermite / degree3. */
  points: number;
  /** Independent randomizations (sobol, mc); 1 for the deterministic rules. */
  randomizations: number;
  seed: number;
  /** Gauss–Hermite nodes per axis. */
  nodes: number;
  estimator: FactorEstimator;
  controlVariate: ControlVariate;
  /** Estimate the depth error by step doubling. */
  depthError: boolean;
  /** Target on the largest error estimate of f (null: one solve at the given sizes). */
  tol: number | null;
  /** Budget of the tolerance loop: at most this many randomizations (added first: earlier ones are reused) ... */
  maxRandomizations?: number;
  /** ... this many points per randomization (grown once the randomizations are at their maximum) ... */
  maxPoints: number;
  /** ... and this many depth steps. */
  maxDepthSteps: number;
}

export interface FactorErrorEstimate {
  /** Combined estimate per entry of f (K × d_out × N). */
  f: Float64Array;
  /** Sampling part (standard error over randomizations), per entry; zeros for deterministic rules. */
  sampling: Float64Array;
  /** Depth part (step doubling), per entry; zeros when not estimated. */
  depth: Float64Array;
  /** max over entries of the combined estimate. */
  max: number;
  maxSampling: number;
  maxDepth: number;
  /** Per step k: max over (o, n) of the combined estimate. */
  perStep: Float64Array;
  /** With tol: whether the largest estimate is ≤ tol. */
  tolReached: boolean | null;
  /** With tol: the refinements tried, in order. */
  refinements: { points: number; randomizations: number; depthSteps: number; max: number; maxSampling: number; maxDepth: number }[];
}

export interface FactorSolveResult {
  options: FactorSolveOptions;
  factor: EmbeddingFactor;
  grid: DepthGrid;
  f: Float64Array;
  loss: Float64Array;
  /** Mean a^h, a^b over the randomizations (K × nodes × N × r) ... */
  ah: Float64Array;
  ab: Float64Array;
  /** ... and the coefficient vectors c = C a (K × nodes × N × d). */
  ch: Float64Array;
  cb: Float64Array;
  error: FactorErrorEstimate;
  /** Field evaluations summed over every solve that ran (incl. depth doubling and refinements). */
  evaluations: number;
  /** Per randomization: c^h at s = 1 (K × N × d), for error estimates of quantities linear in it (e.g. DMFT coordinates). */
  chLastRuns: Float64Array[];
  /** Means over randomizations of the optional outputs. */
  gram?: Float64Array;
  gramError?: Float64Array;
  abo?: Float64Array;
  kl?: Float64Array;
  klError?: Float64Array;
  klProfile?: Float64Array;
  /** Samples (summed over randomizations) with det ∇T ≤ 0, per step. */
  klInvalid?: Int32Array;
  fTest?: Float64Array;
  fTestError?: Float64Array;
}

export interface FactorExtras {
  gram?: boolean;
  kl?: boolean;
}

/** The point set of randomization ρ. */
export function factorPoints(o: FactorSolveOptions, r: number, rho: number): FactorPoints {
  switch (o.rule) {
    case "sobol": return sobolNormals(o.points, r, o.seed, rho);
    case "mc": return mcNormals(o.points, r, o.seed, rho);
    case "gauss-hermite": return gaussHermiteTensor(o.nodes, r);
    case "degree3": return degree3Rule(r);
  }
}

function deterministic(o: FactorSolveOptions): boolean {
  return o.rule === "gauss-hermite" || o.rule === "degree3";
}

/** Run randomization ρ of a factor solve (pure: same inputs, same bits). Used by workers too. */
export function runRandomization(model: FactorModel, factor: EmbeddingFactor, o: FactorSolveOptions, rho: number, depthSteps: number, extras: FactorExtras, onStep?: () => void): FactorRunResult {
  const pts = factorPoints(o, factor.r, rho);
  return runFactor(model, factor, {
    grid: new DepthGrid(o.scheme, depthSteps),
    points: pts.points, count: pts.count, weights: pts.weights,
    estimator: o.estimator, controlVariate: o.controlVariate,
    gram: extras.gram, kl: extras.kl, onStep,
  });
}

/** Something that runs the randomizations start..start+count−1 (in order or in parallel; results in order). */
export type RandomizationRunner = (model: FactorModel, factor: EmbeddingFactor, o: FactorSolveOptions, depthSteps: number, start: number, count: number, extras: FactorExtras) => FactorRunResult[];

export const serialRunner: RandomizationRunner = (model, factor, o, S, start, count, extras) =>
  Array.from({ length: count }, (_, i) => runRandomization(model, factor, o, start + i, S, extras));

function meanAndSe(runs: FactorRunResult[], pick: (r: FactorRunResult) => Float64Array | undefined): { mean: Float64Array; se: Float64Array } {
  const first = pick(runs[0])!;
  const R = runs.length;
  const mean = new Float64Array(first.length), se = new Float64Array(first.length);
  for (const run of runs) {
    const x = pick(run)!;
    for (let i = 0; i < x.length; i++) mean[i] += x[i] / R;
  }
  if (R > 1) {
    for (let i = 0; i < first.length; i++) {
      let v = 0;
      for (const run of runs) { const d = pick(run)![i] - mean[i]; v += d * d; }
      se[i] = Math.sqrt(v / ((R - 1) * R));
    }
  }
  return { mean, se };
}

/**
 * Solve the factor-form skeleton Mean ODE for the embedding Gram matrix E (finite D from
 * W_E, W_U; the DMFT limit with E = diag(σ_in² I, σ_out² I)).
 */
export function solveFactor(model: FactorModel, E: Float64Array, options: FactorSolveOptions, extras: FactorExtras = {}, runner: RandomizationRunner = serialRunner): FactorSolveResult {
  const d = model.dIn + model.dOut;
  const factor = embeddingFactor(E, d);
  let o = { ...options };
  if (deterministic(o)) o.randomizations = 1;
  const refinements: FactorErrorEstimate["refinements"] = [];
  let evaluations = 0;
  let runs: FactorRunResult[] = [];
  let fine = null as { key: string; f: Float64Array } | null;
  for (;;) {
    // randomizations not run yet at these sizes (a refinement that only adds randomizations reuses the others)
    if (runs.length < o.randomizations) {
      const more = runner(model, factor, o, o.depthSteps, runs.length, o.randomizations - runs.length, extras);
      for (const r of more) evaluations += r.evaluations;
      runs = runs.concat(more);
    }
    const fStat = meanAndSe(runs, (r) => r.f);
    const depth = new Float64Array(fStat.mean.length);
    if (o.depthError) {
      const key = `${o.points}|${o.depthSteps}`;
      if (fine?.key !== key) {
        const run = runRandomization(model, factor, o, 0, 2 * o.depthSteps, {});
        evaluations += run.evaluations;
        fine = { key, f: run.f };
      }
      const p = SCHEME_ORDER[o.scheme];
      const c = 2 ** p / (2 ** p - 1);
      for (let i = 0; i < depth.length; i++) depth[i] = c * Math.abs(runs[0].f[i] - fine.f[i]);
    }
    const err = combine(fStat.se, depth, model);
    refinements.push({ points: o.points, randomizations: o.randomizations, depthSteps: o.depthSteps, max: err.max, maxSampling: err.maxSampling, maxDepth: err.maxDepth });
    const done = o.tol === null || err.max <= o.tol;
    const next = done ? null : refine(o, err);
    if (done || next === null) {
      err.tolReached = o.tol === null ? null : err.max <= o.tol;
      err.refinements = refinements;
      return assemble(model, factor, o, runs, fStat.mean, err, evaluations);
    }
    // new depth steps or points: every randomization is solved again
    if (next.depthSteps !== o.depthSteps || next.points !== o.points) runs = [];
    o = next;
  }
}

function combine(se: Float64Array, depth: Float64Array, model: FactorModel): FactorErrorEstimate {
  const f = new Float64Array(se.length);
  let max = 0, maxS = 0, maxD = 0;
  const per = model.dOut * model.N;
  const perStep = new Float64Array(model.K);
  for (let i = 0; i < f.length; i++) {
    f[i] = Math.hypot(se[i], depth[i]);
    max = Math.max(max, f[i]); maxS = Math.max(maxS, se[i]); maxD = Math.max(maxD, depth[i]);
    const k = (i / per) | 0;
    perStep[k] = Math.max(perStep[k], f[i]);
  }
  return { f, sampling: se, depth, max, maxSampling: maxS, maxDepth: maxD, perStep, tolReached: null, refinements: [] };
}

/**
 * Next sizes of the tolerance loop, or null when the budget is spent. Depth steps double while
 * the depth error exceeds tol/2. While the sampling error exceeds tol/√2, randomizations are
 * added (the earlier ones are reused; the standard error falls like 1/√R exactly) by the factor
 * the error asks for, ×1.2, up to the budget's maxRandomizations; beyond it the points per
 * randomization grow by the remaining factor (power of 2 for Sobol, ×2 … ×16) and every
 * randomization is solved again.
 */
function refine(o: FactorSolveOptions, err: FactorErrorEstimate): FactorSolveOptions | null {
  const tol = o.tol!;
  const next = { ...o };
  let changed = false;
  if (o.depthError && err.maxDepth > tol / 2 && o.depthSteps * 2 <= o.maxDepthSteps) {
    next.depthSteps = o.depthSteps * 2;
    changed = true;
  }
  const samplingTarget = tol / Math.SQRT2;
  if (!deterministic(o) && err.maxSampling > samplingTarget) {
    const want = ((err.maxSampling / samplingTarget) ** 2) * 1.2;
    const maxR = Math.max(o.randomizations, o.maxRandomizations ?? DEFAULT_MAX_RANDOMIZATIONS);
    const R = Math.min(maxR, Math.max(o.randomizations + 2, Math.ceil(o.randomizations * want)));
    if (R > o.randomizations) { next.randomizations = R; changed = true; }
    const rest = (o.randomizations * want) / R;
    if (rest > 1.05 && R === maxR) {
      let pts = Math.ceil(o.points * Math.min(16, Math.max(2, rest)));
      if (o.rule === "sobol") pts = 2 ** Math.ceil(Math.log2(pts));
      pts = Math.min(pts, o.maxPoints);
      if (o.rule === "sobol" && !Number.isInteger(Math.log2(pts))) pts = 2 ** Math.floor(Math.log2(pts));
      if (pts > o.points) { next.points = pts; changed = true; }
    }
  }
  return changed ? next : null;
}

/** Default budget of randomizations of the tolerance loop. */
export const DEFAULT_MAX_RANDOMIZATIONS = 128;

function assemble(model: FactorModel, factor: EmbeddingFactor, o: FactorSolveOptions, runs: FactorRunResult[], f: Float64Array, error: FactorErrorEstimate, evaluations: number): FactorSolveResult {
  const { K, dOut, N, Y } = model;
  const loss = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    let s = 0;
    for (let i = 0; i < dOut * N; i++) { const res = f[k * dOut * N + i] - Y[i]; s += res * res; }
    loss[k] = (0.5 * s) / N;
  }
  const ah = meanAndSe(runs, (r) => r.ah).mean, ab = meanAndSe(runs, (r) => r.ab).mean;
  const grid = new DepthGrid(o.scheme, o.depthSteps);
  const { r } = factor, nodes = grid.nodes;
  const chLastRuns = runs.map((run) => {
    const last = new Float64Array(K * N * r);
    for (let k = 0; k < K; k++) last.set(run.ah.subarray(((k * nodes + nodes - 1) * N) * r, ((k * nodes + nodes - 1) * N + N) * r), k * N * r);
    return toCoefficients(last, factor);
  });
  const out: FactorSolveResult = {
    options: o, factor, grid, f, loss, ah, ab, ch: toCoefficients(ah, factor), cb: toCoefficients(ab, factor), error, evaluations, chLastRuns,
  };
  if (runs[0].gram) { const g = meanAndSe(runs, (r) => r.gram); out.gram = g.mean; out.gramError = g.se; out.abo = meanAndSe(runs, (r) => r.abo).mean; }
  if (runs[0].kl) {
    const g = meanAndSe(runs, (r) => r.kl);
    out.kl = g.mean; out.klError = g.se;
    out.klProfile = meanAndSe(runs, (r) => r.klProfile).mean;
    const inv = new Int32Array(K);
    for (const r of runs) for (let k = 0; k < K; k++) inv[k] += r.klInvalid![k];
    out.klInvalid = inv;
  }
  if (runs[0].fTest) { const g = meanAndSe(runs, (r) => r.fTest); out.fTest = g.mean; out.fTestError = g.se; }
  return out;
}

/** c = C a for every stored r-vector (… × r → … × d). */
export function toCoefficients(a: Float64Array, factor: EmbeddingFactor): Float64Array {
  const { r, d, C } = factor;
  const count = a.length / r;
  const c = new Float64Array(count * d);
  for (let v = 0; v < count; v++)
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let j = 0; j < r; j++) s += C[i * r + j] * a[v * r + j];
      c[v * d + i] = s;
    }
  return c;
}

/** Validate resolved options (internal callers build them from user options). */
export function checkFactorOptions(o: FactorSolveOptions, field = "options"): void {
  if (o.rule === "sobol" && !Number.isInteger(Math.log2(o.points))) throw new ValidationError(`${field}.expectation.points`, `must be a power of 2 for Sobol points (got ${o.points})`);
  if (o.tol !== null && !(o.tol > 0)) throw new ValidationError(`${field}.tol`, `must be a positive number (got ${o.tol})`);
}

/** The factor-form model constants of a (validated) problem. */
export function factorModelOf(problem: Problem): FactorModel {
  const { model, data, train } = problem;
  const m: FactorModel = {
    dIn: data.dIn, dOut: data.dOut, N: data.N, X: data.X, Y: data.Y, K: train.steps,
    alpha: model.alpha, etaU: train.etaU, etaV: train.etaV, sigmaU: model.sigmaU, sigmaV: model.sigmaV,
    activation: model.activation,
  };
  const t = data as { XTest?: Float64Array; NTest?: number };
  if (t.XTest && t.NTest) { m.XTest = t.XTest; m.NTest = t.NTest; }
  return m;
}
