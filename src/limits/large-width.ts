/**
 * The M → ∞ ResNet at the problem's depth L (MATH §4): the staggered-Euler
 * Mean ODE with depthSteps = L and no Richardson extrapolation (MATH §2: it
 * is exactly the mean-field ResNet h_ℓ = h_{ℓ−1} + (α/L) E_z[v σ(uᵀh_{ℓ−1}/D)]
 * with the finite model's per-layer particle dynamics). This module only
 * configures `meanOde`; it does not fork it.
 *
 *   solve(problem, largeWidth())                         // skeleton, default expectations
 *   solve(problem, largeWidth({ method: "particles", particles: 65536 }))
 *
 * The trajectory's depth grid has nodes ℓ = 0..L (node ℓ = layer ℓ's output
 * h_ℓ, adjoint b_ℓ); slot ℓ−1 is layer ℓ (hNode = ℓ−1, bNode = ℓ). Its bound
 * options show the fixed scheme: { scheme: "staggered-euler", depthSteps: L,
 * richardson: false, ... }. With the skeleton method, extras.skeletonParams
 * holds the constants of the skeleton maps, so `limitLawSamples(traj, {...})`
 * needs no problem.
 */
import { ValidationError } from "../core/errors.ts";
import { isPlainObject, knownKeys, oneOf, show } from "../core/validate.ts";
import type { Algorithm } from "../problem/algorithm.ts";
import type { Problem } from "../problem/problem.ts";
import type { Trajectory } from "../problem/trajectory.ts";
import type { ParticleExtras } from "../particles/mean-ode.ts";
import type { FactorExpectationOptions } from "../skeleton/factor-options.ts";
import type { SkeletonExtras } from "../skeleton/solve.ts";
import {
  bindMeanOde, checkMeanOdeOptions, type MeanOdeBound, type MeanOdeOptions, type ParticleMeanOdeBound, runMeanOde, type SkeletonMeanOdeBound,
} from "./mean-ode.ts";

export interface LargeWidthOptions {
  /** "skeleton" (default: exact reduction, Gaussian expectations) or "particles" (P particles shared by all layers). */
  method?: "skeleton" | "particles";
  /** Expectation engine of the skeleton method (default: closed form for linear σ, else scrambled Sobol). */
  expectation?: FactorExpectationOptions;
  /** Skeleton: refine the points until the largest error estimate of f is ≤ tol (the depth grid is the object: S = L). */
  tol?: number;
  /** Skeleton: budget of the refinement (points per randomization; depthSteps is fixed to L). */
  budget?: { randomizations?: number; points?: number; depthSteps?: number };
  /** Fixed: false (S = L is the object, not a discretisation). */
  depthError?: false;
  /** Particle method: number of particles P (default 4096). */
  particles?: number;
  /** Particle method: seed of the particles (default problem.seed). */
  particleSeed?: number;
  /** Record the limit profiles h̄_ℓ, b̄_ℓ (ℓ = 0..L) in R^D (profiles.h, profiles.b: [steps, L+1, N, D]). */
  record?: ("h" | "b" | "gram" | "kl")[];
  recordSteps?: number[];
  /** Fixed by the object (accepted so that bound options round-trip): "staggered-euler". */
  scheme?: "staggered-euler";
  /** Fixed: the problem's L. */
  depthSteps?: number;
  /** Fixed: false. */
  richardson?: false;
}

const KEYS = ["method", "expectation", "particles", "particleSeed", "record", "recordSteps", "scheme", "depthSteps", "richardson", "tol", "budget", "depthError"];

export type LargeWidthExtras<E extends SkeletonExtras | ParticleExtras = SkeletonExtras | ParticleExtras> = E & { L: number };

/** Validate largeWidth options (errors name `${field}.<key>`). */
export function resolveLargeWidthOptions(o: unknown, field = "options"): LargeWidthOptions {
  if (o === undefined) return { method: "skeleton" };
  if (!isPlainObject(o)) throw new ValidationError(field, `must be an object (got ${show(o)})`);
  knownKeys(field, o, KEYS);
  const method = oneOf(`${field}.method`, o.method === undefined ? "skeleton" : o.method, ["skeleton", "particles"] as const);
  if (o.scheme !== undefined && o.scheme !== "staggered-euler") throw new ValidationError(`${field}.scheme`, `must be "staggered-euler" (the M = ∞ ResNet at depth L is the staggered-Euler Mean ODE with S = L; got ${show(o.scheme)})`);
  if (o.depthError !== undefined && o.depthError !== false) throw new ValidationError(`${field}.depthError`, `must be false (S = L is the M = ∞ ResNet itself, not a discretisation; got ${show(o.depthError)})`);
  if (o.richardson !== undefined && o.richardson !== false) throw new ValidationError(`${field}.richardson`, `must be false (the M = ∞ ResNet at depth L is not extrapolated; got ${show(o.richardson)})`);
  return { ...(o as LargeWidthOptions), method };
}

/** Mean ODE options of the M = ∞ ResNet at depth L. */
export function largeWidthMeanOdeOptions(L: number, o: LargeWidthOptions, field = "options"): MeanOdeOptions {
  const m: MeanOdeOptions = { method: o.method ?? "skeleton", scheme: "staggered-euler", depthSteps: L, richardson: false };
  for (const k of ["expectation", "particles", "particleSeed", "record", "recordSteps", "tol"] as const) if (o[k] !== undefined) (m as Record<string, unknown>)[k] = o[k];
  if ((o.method ?? "skeleton") === "skeleton") {
    m.depthError = false;
    m.budget = o.budget === undefined ? { depthSteps: L } : isPlainObject(o.budget) ? { ...o.budget, depthSteps: L } : o.budget;
  } else if (o.budget !== undefined || o.depthError !== undefined) {
    throw new ValidationError(o.budget !== undefined ? `${field}.budget` : `${field}.depthError`, `only applies to method "skeleton" (method is "particles")`);
  }
  return m;
}

/** The M = ∞ ResNet at the problem's L, for `solve(problem, largeWidth({...}))`. The problem's M is ignored. */
export function largeWidth(options?: LargeWidthOptions & { method?: "skeleton" }, field?: string): Algorithm<SkeletonMeanOdeBound, LargeWidthExtras<SkeletonExtras>>;
export function largeWidth(options: LargeWidthOptions & { method: "particles" }, field?: string): Algorithm<ParticleMeanOdeBound, LargeWidthExtras<ParticleExtras>>;
export function largeWidth(options?: LargeWidthOptions, field?: string): Algorithm<MeanOdeBound, LargeWidthExtras>;
export function largeWidth(options?: LargeWidthOptions, field = "options"): Algorithm<MeanOdeBound, LargeWidthExtras> {
  const opts = resolveLargeWidthOptions(options, field);
  // the Mean ODE options are validated now (depthSteps is a placeholder until the problem is known)
  checkMeanOdeOptions(largeWidthMeanOdeOptions(1, opts, field), field);
  const algorithm = `largeWidth/${opts.method}`;
  return {
    name: algorithm,
    requires: opts.method === "skeleton" ? ["frozenEmbeddings", "secondDerivative"] : ["frozenEmbeddings"],
    bind: (problem: Problem) => {
      const { L } = problem.model;
      if (opts.depthSteps !== undefined && opts.depthSteps !== L) throw new ValidationError(`${field}.depthSteps`, `must be the problem's L = ${L} (got ${show(opts.depthSteps)})`);
      return bindMeanOde(problem, checkMeanOdeOptions(largeWidthMeanOdeOptions(L, opts, field), field), field);
    },
    run: (problem: Problem, o: MeanOdeBound): Trajectory<LargeWidthExtras, MeanOdeBound> => {
      const t = runMeanOde(problem, o, algorithm, field);
      return { ...t, extras: { ...t.extras, L: problem.model.L } };
    },
  };
}
