/**
 * `meanOde({...})`: the L → ∞ limit at fixed D (MATH §2–3) as an algorithm
 * for `solve`. Two independent methods:
 *   - "skeleton" (default): the exact skeleton reduction in coefficient
 *     coordinates with Gaussian expectations (src/skeleton/solve.ts);
 *   - "particles": P particles from μ_0 shared by all depths
 *     (src/particles/mean-ode.ts).
 * The problem's L and M are ignored; D, the embeddings (seeded or explicit
 * init.WE, init.WU) and the data are used. Embeddings must be frozen.
 *
 * Defaults are bound to the problem before the run (`bind`), and the
 * Trajectory records them: with sampled expectations the skeleton uses RK4 on
 * S = 3 steps without Richardson (discretisation ≈ 5e-8, 3.7× fewer
 * expectation calls than Heun S = 8 + Richardson; docs/meanode.md), with the
 * closed form (linear σ) Heun on S = 16 + Richardson; the particle method
 * Heun on S = 32 + Richardson.
 */
import { ValidationError } from "../core/errors.ts";
import { booleanValue, dflt, isPlainObject, knownKeys, oneOf, optionsObject, positiveInt, seedValue, show } from "../core/validate.ts";
import { DepthGrid, type Scheme, SCHEMES } from "../depth/grid.ts";
import { richardson, withRichardson } from "../depth/richardson.ts";
import type { Algorithm } from "../problem/algorithm.ts";
import { embeddingGram, initEmbeddings } from "../problem/embeddings.ts";
import type { Problem } from "../problem/problem.ts";
import { bindRecordSteps, recordSpec } from "../problem/record.ts";
import { makeTrajectory, type Trajectory } from "../problem/trajectory.ts";
import { bindParticleOptions, type ParticleExtras, particleRecordSpec, particleRun } from "../particles/mean-ode.ts";
import { bindFactorExpectation, type BoundFactorExpectation, budgetOption, FACTOR_EXPECTATION_KEYS, type FactorExpectationOptions, tolOption } from "../skeleton/factor-options.ts";
import { type SkeletonExtras, type SkeletonSolveOptions, skeletonTrajectory } from "../skeleton/solve.ts";

export interface MeanOdeOptions {
  method?: "skeleton" | "particles";
  /** Depth scheme (default: see the module comment). */
  scheme?: Scheme;
  /** Depth steps S of the (coarse) grid (default: see the module comment; 8 for a skeleton with Heun + Richardson chosen explicitly). */
  depthSteps?: number;
  /** Richardson extrapolation over grids S and 2S (default: true for heun/rk4/euler, false for staggered-euler). */
  richardson?: boolean;
  /** Gaussian expectations of the skeleton method (skeleton/factor-options.ts; default: the exact degree-3 rule for linear σ, else 8 × 4096 scrambled Sobol points). */
  expectation?: FactorExpectationOptions;
  /** Skeleton: refine points and depth steps until the largest error estimate of f is ≤ tol (default: none, one solve). */
  tol?: number;
  /** Skeleton: budget of the refinement (default {points: 2^18, depthSteps: 64}). */
  budget?: { randomizations?: number; points?: number; depthSteps?: number };
  /** Skeleton: estimate the depth error by step doubling (default true). */
  depthError?: boolean;
  /** Particle method: number of particles P (default 4096). */
  particles?: number;
  /** Particle method: seed of the particles (default problem.seed). */
  particleSeed?: number;
  /**
   * What to record: depth profiles "h", "b" (reconstructed in R^D on the node grid, at
   * recordSteps), the tangent Gram matrix "gram" (both methods) and the KL of the trained law "kl"
   * (MATH §8; skeleton method only) at every step.
   */
  record?: MeanOdeRecord[];
  recordSteps?: number[];
}

export type MeanOdeRecord = "h" | "b" | "gram" | "kl";

/** Bound options of the skeleton method: the skeleton solve's, with what to record always given. */
export type SkeletonMeanOdeBound = { method: "skeleton" } & SkeletonSolveOptions & { record: MeanOdeRecord[]; recordSteps: number[] };

/** Bound options of the particle method. */
export interface ParticleMeanOdeBound {
  method: "particles";
  scheme: Scheme;
  depthSteps: number;
  richardson: boolean;
  particles: number;
  particleSeed: number;
  record: ("h" | "b" | "gram")[];
  recordSteps: number[];
}

export type MeanOdeBound = SkeletonMeanOdeBound | ParticleMeanOdeBound;
export type MeanOdeExtras = SkeletonExtras | ParticleExtras;

const KEYS = ["method", "scheme", "depthSteps", "richardson", "expectation", "particles", "particleSeed", "record", "recordSteps", "tol", "budget", "depthError"];

/** The given options, validated without the problem. */
export interface Given {
  method: "skeleton" | "particles";
  scheme?: Scheme;
  depthSteps?: number;
  richardson?: boolean;
  expectation?: unknown;
  tol?: number | null;
  budget?: unknown;
  depthError?: boolean;
  particles?: number;
  particleSeed?: number;
  record: MeanOdeRecord[];
  recordSteps?: number[];
}

/** Validate meanOde options without the problem (errors name `${field}.<key>`). */
export function checkMeanOdeOptions(o: unknown, field: string): Given {
  const opts = o === undefined ? {} : o;
  if (!isPlainObject(opts)) throw new ValidationError(field, `must be an object (got ${show(opts)})`);
  knownKeys(field, opts, KEYS);
  const method = oneOf(`${field}.method`, dflt(opts.method, "skeleton"), ["skeleton", "particles"] as const);
  const scheme = opts.scheme === undefined ? undefined : oneOf(`${field}.scheme`, opts.scheme, SCHEMES);
  if (opts.richardson !== undefined) booleanValue(`${field}.richardson`, opts.richardson);
  if (opts.richardson === true && scheme === "staggered-euler") throw new ValidationError(`${field}.richardson`, `is not supported with scheme "staggered-euler" (it is the exact M = ∞ ResNet at L = depthSteps; extrapolating it changes the object)`);
  const spec = method === "skeleton" ? recordSpec(field, opts, ["h", "b", "gram", "kl"] as const, ["h", "b"]) : particleRecordSpec(field, opts);
  const g: Given = { method, record: spec.record };
  if (scheme !== undefined) g.scheme = scheme;
  if (opts.richardson !== undefined) g.richardson = opts.richardson as boolean;
  if (opts.depthSteps !== undefined) g.depthSteps = positiveInt(`${field}.depthSteps`, opts.depthSteps);
  if (spec.recordSteps) g.recordSteps = spec.recordSteps;
  if (method === "skeleton") {
    if (opts.particles !== undefined || opts.particleSeed !== undefined) throw new ValidationError(`${field}.${opts.particles !== undefined ? "particles" : "particleSeed"}`, `only applies to method "particles" (method is "skeleton")`);
    // the structure now (an object of known keys); the values are bound with the problem (they depend on σ and the sizes)
    if (opts.expectation !== undefined) g.expectation = optionsObject(`${field}.expectation`, opts.expectation, FACTOR_EXPECTATION_KEYS);
    const tol = tolOption(field, opts.tol);
    if (tol !== null) g.tol = tol;
    if (opts.budget !== undefined) { budgetOption(field, opts.budget, 1); g.budget = opts.budget; }
    if (opts.depthError !== undefined) g.depthError = booleanValue(`${field}.depthError`, opts.depthError);
  } else {
    for (const k of ["expectation", "tol", "budget", "depthError"]) {
      if (opts[k] !== undefined) throw new ValidationError(`${field}.${k}`, `only applies to method "skeleton" (method is "particles")`);
    }
    g.particles = positiveInt(`${field}.particles`, dflt(opts.particles, 4096));
    if (opts.particleSeed !== undefined) g.particleSeed = seedValue(`${field}.particleSeed`, opts.particleSeed);
  }
  return g;
}

/** Scheme, depth steps and Richardson of the particle method (Heun on S = 32 + Richardson by default). */
function bindDepth(g: Given): { scheme: Scheme; depthSteps: number; richardson: boolean } {
  const scheme = g.scheme ?? "heun";
  const richardson = g.richardson ?? scheme !== "staggered-euler";
  return { scheme, depthSteps: g.depthSteps ?? 32, richardson };
}

/**
 * Bind checked options of the skeleton method to a problem: RK4 without Richardson (the factor
 * form estimates its depth error by step doubling), S = 3 with sampled expectations (depth error
 * ≈ 1e-7, far below the sampling error; docs/skeleton.md), S = 8 with a deterministic rule.
 */
export function bindSkeletonMeanOde(problem: Problem, g: Given, field: string): SkeletonMeanOdeBound {
  const recordSteps = bindRecordSteps(field, g.record.filter((r) => r === "h" || r === "b"), g.recordSteps, problem.train.steps);
  const { dIn, dOut, N } = problem.data;
  // the solve runs in the data span (factor.ts spanFactor), of dimension ≤ min(d, N + N_test + d_out)
  const spanBound = Math.min(dIn + dOut, N + (problem.data.NTest ?? 0) + dOut);
  const expectation = bindFactorExpectation(problem.model.activation, g.expectation, spanBound, N, `${field}.expectation`);
  const sampled = expectation.rule === "sobol" || expectation.rule === "mc";
  const scheme = g.scheme ?? "rk4";
  const depthSteps = g.depthSteps ?? (scheme === "rk4" ? (sampled ? 3 : 8) : scheme === "heun" ? 16 : 64);
  const richardson = g.richardson ?? false;
  return {
    method: "skeleton", scheme, depthSteps, richardson, expectation,
    tol: g.tol ?? null, budget: budgetOption(field, g.budget, depthSteps), depthError: g.depthError ?? true,
    record: g.record, recordSteps,
  };
}

/** Bind checked options to a problem. */
export function bindMeanOde(problem: Problem, g: Given, field: string): MeanOdeBound {
  if (g.method === "skeleton") return bindSkeletonMeanOde(problem, g, field);
  const record = g.record as ("h" | "b" | "gram")[];
  const recordSteps = bindRecordSteps(field, record.filter((r) => r !== "gram"), g.recordSteps, problem.train.steps);
  const depth = bindDepth(g);
  const p = bindParticleOptions(problem, { scheme: depth.scheme, depthSteps: depth.depthSteps, particles: g.particles, particleSeed: g.particleSeed }, field);
  return { method: "particles", ...depth, particles: p.particles, particleSeed: p.particleSeed as number, record, recordSteps };
}

/** Run the Mean ODE with bound options; the trajectory is named `algorithm`. */
export function runMeanOde(problem: Problem, o: SkeletonMeanOdeBound, algorithm: string, field?: string): Trajectory<SkeletonExtras, SkeletonMeanOdeBound>;
export function runMeanOde(problem: Problem, o: ParticleMeanOdeBound, algorithm: string, field?: string): Trajectory<ParticleExtras, ParticleMeanOdeBound>;
export function runMeanOde(problem: Problem, o: MeanOdeBound, algorithm: string, field?: string): Trajectory<MeanOdeExtras, MeanOdeBound>;
export function runMeanOde(problem: Problem, o: MeanOdeBound, algorithm: string, field = "options"): Trajectory<MeanOdeExtras, MeanOdeBound> {
  const t0 = performance.now();
  if (o.method === "skeleton") {
    const { WE, WU } = initEmbeddings(problem);
    const { D } = problem.model;
    const { dIn, dOut } = problem.data;
    return skeletonTrajectory(problem, embeddingGram(WE, WU, D, dIn, dOut), o, algorithm, { WE, WU, D }, t0, undefined, field);
  }
  const { scheme, particles, particleSeed, record, recordSteps } = o;
  const run = withRichardson(o.depthSteps, new DepthGrid(scheme, o.depthSteps, field).order, o.richardson, (S, fine) =>
    particleRun(problem, { scheme, depthSteps: S, particles, particleSeed, record: fine ? record : [], recordSteps: fine ? recordSteps : [] }, field), (r) => r.f);
  const extras: ParticleExtras = { ...run.fine.extras };
  if (run.correction !== null) extras.richardsonCorrection = run.correction;
  // test outputs extrapolated like f (a test input equal to a training input gives its output); the Gram matrix from the fine grid
  const fTest = run.coarse && run.fine.fTest ? richardson(run.coarse.fTest!, run.fine.fTest, new DepthGrid(scheme, o.depthSteps).order) : run.fine.fTest;
  return makeTrajectory(problem, {
    algorithm, options: o, f: run.f, loss: run.coarse ? undefined : run.fine.loss, profiles: run.fine.profiles, gram: run.fine.gram, fTest,
    timings: run.coarse ? { totalMs: performance.now() - t0 } : run.fine.timings, extras,
  });
}

/** The Mean ODE algorithm for `solve(problem, meanOde({...}))` (typed by the method when it is a literal). */
export function meanOde(options?: MeanOdeOptions & { method?: "skeleton" }, field?: string): Algorithm<SkeletonMeanOdeBound, SkeletonExtras>;
export function meanOde(options: MeanOdeOptions & { method: "particles" }, field?: string): Algorithm<ParticleMeanOdeBound, ParticleExtras>;
export function meanOde(options?: MeanOdeOptions, field?: string): Algorithm<MeanOdeBound, MeanOdeExtras>;
export function meanOde(options?: MeanOdeOptions, field = "options"): Algorithm<MeanOdeBound, MeanOdeExtras> {
  const g = checkMeanOdeOptions(options, field);
  const algorithm = `meanOde/${g.method}`;
  return {
    name: algorithm,
    requires: g.method === "skeleton" ? ["frozenEmbeddings", "secondDerivative"] : ["frozenEmbeddings"],
    bind: (problem) => bindMeanOde(problem, g, field),
    run: (problem, o) => runMeanOde(problem, o, algorithm, field),
  };
}
