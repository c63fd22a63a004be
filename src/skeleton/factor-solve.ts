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
import { DivergenceError, LimitdynError, ValidationError } from "../core/errors.ts";
import { f64, requireResources, type ResourceNeed, STEP_OVERHEAD } from "../core/resources.ts";
import type { Problem } from "../problem/problem.ts";
import { DepthGrid, SCHEME_ORDER, type Scheme } from "../depth/grid.ts";
import { type ControlVariate, embeddingFactor, spanFactor, type EmbeddingFactor, type FactorEstimator, type FactorModel, type FactorRunResult, runFactor } from "./factor.ts";
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
  /**
   * The exact data-span reduction of the factor (factor.ts spanFactor: expectations in dimension
   * 2 dim span{R_inᵀ x_n, R_outᵀ e_o} instead of 2 rank E; default true). false keeps the full
   * factor: an independent cross-check in tests.
   */
  span?: boolean;
  /** Target on the largest error estimate of f (null: one solve at the given sizes). */
  tol: number | null;
  /** Budget of the tolerance loop: at most this many randomizations (added first: earlier ones are reused) ... */
  maxRandomizations?: number;
  /** ... this many points per randomization (grown once the randomizations are at their maximum) ... */
  maxPoints: number;
  /** ... and this many depth steps. */
  maxDepthSteps: number;
  /** Path of the solver's options in error messages (default "options"); not part of what runs. */
  field?: string;
  /** Randomizations run at the same time (threads; default 1): the resource estimate holds that many workspaces. */
  concurrency?: number;
}

export interface FactorErrorEstimate {
  /** Combined estimate per entry of f (K × d_out × N): √((samplingFactor · sampling)² + depth²). */
  f: Float64Array;
  /** Standard error of the mean over the randomizations, per entry; zeros for deterministic rules. */
  sampling: Float64Array;
  /**
   * t_{R−1}(0.975)/z_{0.975}: the standard error enters the combined estimate scaled by the Student
   * factor of its R − 1 degrees of freedom (1.21 at R = 8, 1.02 at R = 128; 1 when R < 2), so that
   * statements "error ≤ c × estimate" hold as often as they would with the exact standard error.
   */
  samplingFactor: number;
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
  /** With tol: why the refinement stopped before reaching it because of the resource limits (null: it did not). */
  limitedBy?: string | null;
}

export interface FactorExtras {
  gram?: boolean;
  kl?: boolean;
}

/** The point set of randomization ρ. */
export function factorPoints(o: FactorSolveOptions, r: number, rho: number): FactorPoints {
  switch (o.rule) {
    case "sobol": return sobolNormals(o.points, r, o.seed, rho, true);
    case "mc": return mcNormals(o.points, r, o.seed, rho);
    case "gauss-hermite": return gaussHermiteTensor(o.nodes, r);
    case "degree3": return degree3Rule(r);
  }
}

function deterministic(o: FactorSolveOptions): boolean {
  return o.rule === "gauss-hermite" || o.rule === "degree3";
}

/** Points per randomization of the rule (without building them). */
export function pointCount(o: FactorSolveOptions, r: number): number {
  switch (o.rule) {
    case "sobol": case "mc": return o.points;
    case "gauss-hermite": return o.nodes ** (2 * r);
    case "degree3": return 4 * r;
  }
}

/**
 * The resource estimate of a factor solve at its sizes (MATH §3 "Factor form"): per randomization
 * the particle states w (slots × 2r × points), with the ibp estimator or the KL the Jacobians J
 * (slots × (2r)² × points), the per-slot σ(p), σ′(p) (slots × N × points) and the coefficient
 * profiles (K × nodes × N × r); `concurrency` workspaces at a time; the R results kept for the mean
 * and the standard error; the depth-doubling run. Work ≈ K × points × (field evaluations × (N + N·B) × (4r + 10)
 * + slots × N × B × (4r + 10) × (2r with Jacobians)) per randomization.
 */
export function factorSolveNeed(model: FactorModel, r: number, o: FactorSolveOptions, extras: FactorExtras = {}): ResourceNeed {
  const field = o.field ?? "options";
  const run = (S: number, n = pointCount(o, r)) => {
    const grid = new DepthGrid(o.scheme, S, field);
    const { slots, nodes } = grid;
    const { K, N, dOut } = model;
    const NT = model.XTest ? model.NTest ?? 0 : 0, nF = N + NT, Q = 2 * r;
    const jac = o.estimator === "ibp" || extras.kl === true;
    const B = extras.gram ? dOut : 1, dN = dOut * N;
    const workspace = Q * n * 2 + n + slots * Q * n + (jac ? slots * Q * Q * n : 0) + slots * N * n * (2 + (jac ? 1 : 0) + (o.controlVariate === "none" ? 0 : 1))
      + slots * Q * Q + N * B * n + (jac ? 2 * N * Q * n : 0) + (extras.gram ? dN * n + dN * dN + N * N : 0) + 8 * n + nodes * (nF + N * B) * r * 3;
    const result = 2 * K * nodes * N * r + K * dOut * (N + NT) + K + (extras.gram ? K * nodes * N * dOut * r + K * dN * dN : 0) + (extras.kl ? K * (slots + 2) : 0);
    const stages = grid.scheme === "rk4" ? 4 * S : grid.scheme === "heun" ? 2 * S : S;
    const perStep = n * (stages * (nF + N * B) * (4 * r + 10) * 2 + slots * N * B * (4 * r + 10) * (jac ? Q : 1) + (extras.gram ? slots * dN * (dN + Q) : 0) + (extras.kl ? slots * Q * Q * Q : 0));
    return { workspace, result, work: K * (perStep + STEP_OVERHEAD), largest: Math.max(slots * Q * n, jac ? slots * Q * Q * n : 0, K * nodes * N * r, extras.gram ? K * dN * dN : 0), slots };
  };
  const R = o.rule === "sobol" || o.rule === "mc" ? o.randomizations : 1;
  const main = run(o.depthSteps);
  const c = Math.max(1, Math.min(o.concurrency ?? 1, R));
  // the depth-doubling runs: 2S on depthErrorPoints points (and S on them too when that is fewer than the solve's)
  const sub = depthErrorPoints(o);
  const fine = o.depthError ? run(2 * o.depthSteps, sub) : null;
  const coarse = o.depthError && sub < pointCount(o, r) ? run(o.depthSteps, sub) : null;
  const bytes = f64(c * main.workspace + (c > 1 ? 2 : 1) * R * main.result + 3 * main.result + (fine ? fine.workspace + 2 * fine.result : 0));
  const work = R * main.work + (fine ? fine.work : 0) + (coarse ? coarse.work : 0);
  const drivers: [string, number][] = [["train.steps", model.K], ["data.N", model.N], [`${field}.depthSteps`, o.depthSteps]];
  if (o.rule === "sobol" || o.rule === "mc") drivers.push([`${field}.expectation.points`, o.points], [`${field}.expectation.randomizations`, R]);
  if (o.rule === "gauss-hermite") drivers.push([`${field}.expectation.nodes`, o.nodes]);
  if (model.NTest) drivers.push(["data.XTest (test points)", model.NTest]);
  return {
    what: "the skeleton solve (factor form)", drivers, bytes, work, largest: main.largest,
    detail: `per randomization: particle states slots × 2r × points with ${main.slots} slots and 2r = ${2 * r}${o.estimator === "ibp" || extras.kl ? ", Jacobians slots × (2r)² × points" : ""}${extras.gram ? ", the tangent Gram matrices" : ""}; ${R} randomization(s), ${c} at a time`,
  };
}

/**
 * The randomizations are one solve: its divergence is at the earliest step at which any of them
 * leaves double precision (the runner stops at the first failing one, in its order). The others
 * are rerun up to the step found, so that a solve of that many steps is finite.
 */
function earliestDivergence(model: FactorModel, factor: EmbeddingFactor, o: FactorSolveOptions, start: number, end: number, extras: FactorExtras, first: DivergenceError): DivergenceError {
  let best = first;
  // randomizations before `start` completed every step: only the new ones can fail earlier
  for (let rho = start; rho < end && best.step > 0; rho++) {
    try {
      runRandomization({ ...model, K: best.step }, factor, o, rho, o.depthSteps, extras);
    } catch (e) {
      if (!(e instanceof DivergenceError)) throw e;
      if (e.step < best.step) best = e;
    }
  }
  return best;
}

/** Whether a need is within the limits (no error). */
function fits(need: ResourceNeed): boolean {
  try {
    requireResources(need);
    return true;
  } catch (e) {
    if (e instanceof ValidationError) return false;
    throw e;
  }
}

/** Run randomization ρ of a factor solve (pure: same inputs, same bits). Used by workers too. */
export function runRandomization(model: FactorModel, factor: EmbeddingFactor, o: FactorSolveOptions, rho: number, depthSteps: number, extras: FactorExtras, onStep?: () => void): FactorRunResult {
  const pts = factorPoints(o, factor.r, rho);
  return runFactor(model, factor, {
    grid: new DepthGrid(o.scheme, depthSteps),
    points: pts.points, count: pts.count, weights: pts.weights, columns: pts.columns,
    estimator: o.estimator, controlVariate: o.controlVariate,
    gram: extras.gram, kl: extras.kl, onStep,
  });
}

/**
 * Points of the depth-doubling runs: all of randomization 0's up to DEPTH_ERROR_POINTS, beyond that
 * its first quarter, at least DEPTH_ERROR_POINTS (all of them for a deterministic rule). The two runs
 * (S and 2S) share their points, so their difference carries little sampling noise. The depth error
 * of a sampled solve does depend on its points — measured on the All Shapes setting at S = 4: 2.1e-4,
 * 8.8e-5, 5.9e-5 at 4096, 16384, 65536 points (against S = 16 on the same points), falling towards
 * the limit's — so the estimate on a quarter of the points errs on the large side there (1.04e-4 for
 * the 65536-point solve's 5.9e-5), at a quarter of the cost of one 2S solve at full size.
 */
export const DEPTH_ERROR_POINTS = 4096;

export function depthErrorPoints(o: FactorSolveOptions): number {
  if (!(o.rule === "sobol" || o.rule === "mc") || o.points <= DEPTH_ERROR_POINTS) return o.points;
  return Math.max(DEPTH_ERROR_POINTS, Math.floor(o.points / 4));
}

/**
 * The depth-doubling runs of a solve (randomization 0 on `S` depth steps, no extras, on `points`
 * points; when that is fewer than the solve's points, also on S/2 depth steps: `coarse`; otherwise
 * randomization 0 of the solve itself is the coarse run), run by a RandomizationRunner next to the
 * randomizations: they fill `result` (and `coarse`), or `error` with the library error (a
 * DivergenceError) a run threw.
 */
export interface FineRun {
  S: number;
  points: number;
  result?: FactorRunResult;
  coarse?: FactorRunResult;
  error?: unknown;
}

/**
 * Something that runs the randomizations start..start+count−1 (in order or in parallel; results in
 * order) and, when given, the depth-doubling run (on two threads: alongside the randomizations).
 */
export type RandomizationRunner = (model: FactorModel, factor: EmbeddingFactor, o: FactorSolveOptions, depthSteps: number, start: number, count: number, extras: FactorExtras, fine?: FineRun) => FactorRunResult[];

/** Run the depth-doubling run into `fine` (a library error is kept, not thrown). */
export function runFine(model: FactorModel, factor: EmbeddingFactor, o: FactorSolveOptions, fine: FineRun, onStep?: () => void): void {
  try {
    const sub = fine.points < o.points ? { ...o, points: fine.points } : o;
    if (sub !== o) fine.coarse = runRandomization(model, factor, sub, 0, fine.S / 2, {}, onStep);
    fine.result = runRandomization(model, factor, sub, 0, fine.S, {}, onStep);
  } catch (e) {
    if (!(e instanceof LimitdynError)) throw e;
    fine.error = e;
  }
}

export const serialRunner: RandomizationRunner = (model, factor, o, S, start, count, extras, fine) => {
  const runs = Array.from({ length: count }, (_, i) => runRandomization(model, factor, o, start + i, S, extras));
  if (fine) runFine(model, factor, o, fine);
  return runs;
};

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
  const factor = options.span === false ? embeddingFactor(E, d) : spanFactor(embeddingFactor(E, d), model);
  let o = { ...options };
  if (deterministic(o)) o.randomizations = 1;
  requireResources(factorSolveNeed(model, factor.r, o, extras));
  const refinements: FactorErrorEstimate["refinements"] = [];
  let evaluations = 0;
  let limitedBy: string | null = null;
  let runs: FactorRunResult[] = [];
  let fine = null as { key: string; f: Float64Array; coarse: Float64Array } | null;
  for (;;) {
    // the depth-doubling runs at these sizes, if not done yet: they run next to the randomizations
    // (on depthErrorPoints points: a refinement that grows the points but not that count reuses them)
    const sub = depthErrorPoints(o);
    const key = `${sub}|${o.depthSteps}`;
    const fineRun: FineRun | undefined = o.depthError && fine?.key !== key ? { S: 2 * o.depthSteps, points: sub } : undefined;
    // randomizations not run yet at these sizes (a refinement that only adds randomizations reuses the others)
    if (runs.length < o.randomizations || fineRun) {
      let more: FactorRunResult[];
      try {
        more = runner(model, factor, o, o.depthSteps, runs.length, o.randomizations - runs.length, extras, fineRun);
      } catch (e) {
        if (e instanceof DivergenceError) throw earliestDivergence(model, factor, o, runs.length, o.randomizations, extras, e);
        throw e;
      }
      for (const r of more) evaluations += r.evaluations;
      runs = runs.concat(more);
    }
    const fStat = meanAndSe(runs, (r) => r.f);
    const depth = new Float64Array(fStat.mean.length);
    if (o.depthError) {
      if (fineRun) {
        const e = fineRun.error;
        // the depth-error estimate (step doubling) can leave double precision before the solve itself does
        if (e instanceof DivergenceError) throw new DivergenceError(e.step, `${e.quantity} in the depth-error run${sub < o.points ? "s" : ""} on ${sub < o.points ? `${o.depthSteps} and ` : ""}${2 * o.depthSteps} depth steps (set depthError: false to skip ${sub < o.points ? "them" : "it"})`, e.detail);
        if (e !== undefined) throw e;
        evaluations += fineRun.result!.evaluations + (fineRun.coarse?.evaluations ?? 0);
        // coarse: its own run on the first `sub` points on S depth steps, or randomization 0 itself (the same points as the fine run)
        fine = { key, f: fineRun.result!.f, coarse: fineRun.coarse?.f ?? runs[0].f };
      }
      const coarseF = fine!.coarse;
      const p = SCHEME_ORDER[o.scheme];
      const c = 2 ** p / (2 ** p - 1);
      for (let i = 0; i < depth.length; i++) depth[i] = c * Math.abs(coarseF[i] - fine!.f[i]);
    }
    const err = combine(fStat.se, depth, model, runs.length);
    refinements.push({ points: o.points, randomizations: o.randomizations, depthSteps: o.depthSteps, max: err.max, maxSampling: err.maxSampling, maxDepth: err.maxDepth });
    const done = o.tol === null || err.max <= o.tol;
    let next = done ? null : refine(o, err, refinements);
    if (next !== null && !fits(factorSolveNeed(model, factor.r, next, extras))) {
      limitedBy = `the next refinement (${next.points} points and ${next.randomizations} randomizations at ${next.depthSteps} depth steps) would exceed the resource limits (memory or work; see docs/robustness.md)`;
      next = null;
    }
    if (done || next === null) {
      err.tolReached = o.tol === null ? null : err.max <= o.tol;
      err.refinements = refinements;
      const out = assemble(model, factor, o, runs, fStat.mean, err, evaluations);
      out.limitedBy = limitedBy;
      return out;
    }
    // new depth steps or points: every randomization is solved again
    if (next.depthSteps !== o.depthSteps || next.points !== o.points) runs = [];
    o = next;
  }
}

/** t_{R−1}(0.975)/z_{0.975} (1 for R < 2): the Student factor of a standard error from R randomizations. */
export function samplingFactor(R: number): number {
  return R < 2 ? 1 : studentT975(R - 1) / Z975;
}
const Z975 = 1.959963984540054;

/**
 * The 0.975 quantile of Student's t with ν degrees of freedom: exact for ν = 1, 2 (tan(0.475π),
 * 0.95·√(2/0.0975)); for ν ≥ 3 the Cornish–Fisher expansion in 1/ν to the fourth order (Abramowitz
 * & Stegun 26.7.5), within 0.15% at ν = 3 and closer beyond (the tests compare it with the exact
 * quantile of stats/). Kept here because the skeleton layer does not import stats/.
 */
export function studentT975(nu: number): number {
  if (nu === 1) return Math.tan(0.475 * Math.PI);
  if (nu === 2) return 0.95 * Math.sqrt(2 / (1 - 0.95 * 0.95));
  const z = Z975, z2 = z * z;
  const g1 = (z2 + 1) * z / 4;
  const g2 = ((5 * z2 + 16) * z2 + 3) * z / 96;
  const g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384;
  const g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160;
  return z + g1 / nu + g2 / nu ** 2 + g3 / nu ** 3 + g4 / nu ** 4;
}

function combine(se: Float64Array, depth: Float64Array, model: FactorModel, R: number): FactorErrorEstimate {
  const f = new Float64Array(se.length);
  let max = 0, maxS = 0, maxD = 0;
  const per = model.dOut * model.N;
  const perStep = new Float64Array(model.K);
  const c = samplingFactor(R);
  for (let i = 0; i < f.length; i++) {
    f[i] = Math.hypot(c * se[i], depth[i]);
    max = Math.max(max, f[i]); maxS = Math.max(maxS, se[i]); maxD = Math.max(maxD, depth[i]);
    const k = (i / per) | 0;
    perStep[k] = Math.max(perStep[k], f[i]);
  }
  return { f, sampling: se, samplingFactor: c, depth, max, maxSampling: maxS, maxDepth: maxD, perStep, tolReached: null, refinements: [] };
}

/**
 * Next sizes of the tolerance loop, or null when the budget is spent.
 *
 * Depth: while the depth error exceeds tol/2, S grows by the factor it asks for at the scheme's
 * order, (err/(tol/2))^(1/p) × 1.1 (at least S + 1). Sampling: while the sampling error (the
 * standard error × samplingFactor) exceeds its share — tol/√2 while the depth is refined, else
 * √(tol² − depth²) — the variance must shrink by v = (err/target)² × 1.2: for v < 2 by ⌈R·v⌉
 * randomizations (cheaper than the smallest growth of the points, ×2), otherwise either by more points per
 * randomization (the standard error of one randomized net falls like m^(−β), β = 1/2 for plain
 * Monte Carlo and up to ≈ 3/4 for smooth integrands here) or by more randomizations (1/√R
 * exactly; the earlier ones are reused). β is measured from the history of the solve (the last
 * two point counts at the same depth); before there is a measurement, and while β > 1/2, points
 * grow by v^(1/(2β)) (β = 1/2 at first: a safe over-estimate, ×2 … ×16, a power of 2 for Sobol);
 * once β ≤ 1/2, or at the points budget, randomizations are added instead (up to the budget).
 * When the points grow (so every randomization is solved again) and the depth error is below tol/8,
 * the depth steps shrink to the fewest predicted to give tol/4 (never to a count measured above tol/2).
 */
function refine(o: FactorSolveOptions, err: FactorErrorEstimate, history: FactorErrorEstimate["refinements"]): FactorSolveOptions | null {
  const tol = o.tol!;
  const next = { ...o };
  let changed = false;
  const p = SCHEME_ORDER[o.scheme];
  if (o.depthError && err.maxDepth > tol / 2 && o.depthSteps < o.maxDepthSteps) {
    const S = Math.max(o.depthSteps + 1, Math.ceil(o.depthSteps * (err.maxDepth / (tol / 2)) ** (1 / p) * 1.1));
    next.depthSteps = Math.min(S, o.maxDepthSteps);
    changed = true;
  }
  // the sampling share: tol/√2 while the depth part is being refined, else what the depth part leaves
  const refiningDepth = o.depthError && err.maxDepth > tol / 2;
  const target = refiningDepth ? tol / Math.SQRT2 : Math.sqrt(tol * tol - err.maxDepth * err.maxDepth);
  const sampled = err.samplingFactor * err.maxSampling;
  if (!deterministic(o) && sampled > target) {
    const v = ((sampled / target) ** 2) * 1.2;
    const beta = observedRate(history, o);
    const maxR = Math.max(o.randomizations, o.maxRandomizations ?? DEFAULT_MAX_RANDOMIZATIONS);
    let pts = o.points;
    // a variance cut v < 2 costs v in added randomizations (the earlier ones reused) and at least 2 in points
    const fewMore = v < 2 && Math.ceil(o.randomizations * v) <= maxR;
    if (!fewMore && (beta === null || beta > 0.5) && o.points < o.maxPoints) {
      // per-randomization standard error ∝ m^(−β): v in variance needs m × v^(1/(2β))
      pts = Math.ceil(o.points * Math.min(16, Math.max(2, v ** (1 / (2 * (beta ?? 0.5))))));
      if (o.rule === "sobol") pts = 2 ** Math.ceil(Math.log2(pts));
      pts = Math.min(pts, o.maxPoints);
      if (o.rule === "sobol" && !Number.isInteger(Math.log2(pts))) pts = 2 ** Math.floor(Math.log2(pts));
    }
    if (pts > o.points) {
      next.points = pts;
      changed = true;
      // every randomization is solved again at the new points: if the depth error is far below its
      // share (< tol/8), fewer depth steps do — the fewest the scheme's order predicts for tol/4,
      // never below a count whose measured depth error exceeded tol/2
      if (o.depthError && next.depthSteps === o.depthSteps && err.maxDepth < tol / 8 && o.depthSteps > 1) {
        const floor = Math.max(1, ...history.filter((h) => h.maxDepth > tol / 2).map((h) => h.depthSteps + 1));
        const S = Math.max(floor, Math.ceil(o.depthSteps * (Math.max(err.maxDepth, 1e-300) / (tol / 4)) ** (1 / p) * 1.1));
        if (S < o.depthSteps) next.depthSteps = S;
      }
    } else {
      const R = Math.min(maxR, Math.max(o.randomizations + 2, Math.ceil(o.randomizations * v)));
      if (R > o.randomizations) { next.randomizations = R; changed = true; }
    }
  }
  return changed ? next : null;
}

/**
 * β in (per-randomization standard error) ∝ points^(−β), from the last two entries of the history
 * at the current depth steps with different point counts (null without such a pair).
 */
function observedRate(history: FactorErrorEstimate["refinements"], o: FactorSolveOptions): number | null {
  const same = history.filter((h) => h.depthSteps === o.depthSteps && h.maxSampling > 0);
  for (let i = same.length - 1; i > 0; i--) {
    const a = same[i - 1], b = same[i];
    if (b.points === a.points) continue;
    // per-randomization error: se · √R
    const ea = a.maxSampling * Math.sqrt(a.randomizations), eb = b.maxSampling * Math.sqrt(b.randomizations);
    return Math.log(ea / eb) / Math.log(b.points / a.points);
  }
  return null;
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
