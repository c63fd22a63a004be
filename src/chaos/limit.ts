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
 * h_ℓ, adjoint b_ℓ); slot ℓ−1 is layer ℓ (hNode = ℓ−1, bNode = ℓ).
 * With the skeleton method, extras.skeletonParams holds the constants of the
 * skeleton maps, so `limitLawSamples(traj, {...})` needs no problem.
 */
import { ValidationError } from "../core/errors.ts";
import { isPlainObject, knownKeys, oneOf, show } from "../core/validate.ts";
import type { Algorithm } from "../problem/algorithm.ts";
import { embeddingsTrained, type Problem } from "../problem/problem.ts";
import type { Trajectory } from "../problem/trajectory.ts";
import { meanOde, type MeanOdeOptions } from "../limits/mean-ode.ts";
import type { ExpectationOptions } from "../skeleton/provider.ts";
import type { SkeletonParams } from "../skeleton/maps.ts";

export interface LargeWidthOptions {
  /** "skeleton" (default: exact reduction, Gaussian expectations) or "particles" (P particles shared by all layers). */
  method?: "skeleton" | "particles";
  /** Expectation engine of the skeleton method (default: closed form for linear σ, else scrambled Sobol 2^14). */
  expectation?: ExpectationOptions;
  /** Particle method: number of particles P (default 4096). */
  particles?: number;
  /** Particle method: seed of the particles (default problem.seed). */
  particleSeed?: number;
  /** Record the limit profiles h̄_ℓ, b̄_ℓ (ℓ = 0..L) in R^D (profiles.h, profiles.b: [K, L+1, N, D]). */
  record?: ("h" | "b")[];
}

const KEYS = ["method", "expectation", "particles", "particleSeed", "record"];

/** Validate largeWidth options (errors name `${field}.<key>`). */
export function resolveLargeWidthOptions(o: unknown, field = "options"): LargeWidthOptions {
  if (o === undefined) return { method: "skeleton" };
  if (!isPlainObject(o)) throw new ValidationError(field, `must be an object (got ${show(o)})`);
  knownKeys(field, o, KEYS);
  const method = oneOf(`${field}.method`, o.method ?? "skeleton", ["skeleton", "particles"] as const);
  return { ...(o as LargeWidthOptions), method };
}

export function rejectTrainedEmbeddings(problem: Problem): void {
  if (embeddingsTrained(problem)) {
    throw new ValidationError(problem.train.etaE !== 0 ? "train.etaE" : "train.etaO", `the large-M limit assumes frozen embeddings (MATH §1, §4); set train.etaE = train.etaO = 0 (got etaE = ${problem.train.etaE}, etaO = ${problem.train.etaO})`);
  }
}

/** Mean ODE options of the M = ∞ ResNet at depth L. */
export function largeWidthMeanOdeOptions(L: number, o: LargeWidthOptions): MeanOdeOptions {
  const m: MeanOdeOptions = { method: o.method ?? "skeleton", scheme: "staggered-euler", depthSteps: L, richardson: false };
  if (o.expectation !== undefined) m.expectation = o.expectation;
  if (o.particles !== undefined) m.particles = o.particles;
  if (o.particleSeed !== undefined) m.particleSeed = o.particleSeed;
  if (o.record !== undefined) m.record = o.record;
  return m;
}

/** The M = ∞ ResNet at the problem's L, for `solve(problem, largeWidth({...}))`. The problem's M is ignored. */
export function largeWidth(options?: LargeWidthOptions, field = "options"): Algorithm {
  const opts = resolveLargeWidthOptions(options, field);
  // validate the Mean ODE options now (depthSteps is a placeholder until the problem is known)
  meanOde(largeWidthMeanOdeOptions(1, opts), field);
  return {
    name: `largeWidth/${opts.method}`,
    options: { ...opts },
    run: (problem: Problem): Trajectory => {
      rejectTrainedEmbeddings(problem);
      const { L } = problem.model;
      const alg = meanOde(largeWidthMeanOdeOptions(L, opts), field);
      const t = alg.run(problem);
      const extras = (t.extras ?? {}) as Record<string, unknown>;
      extras.L = L;
      if (opts.method === "skeleton") {
        const { etaU, etaV } = problem.train;
        const { alpha, activation, sigmaU, sigmaV } = problem.model;
        extras.skeletonParams = { etaU, etaV, alpha, activation, sigmaU, sigmaV } satisfies SkeletonParams;
      }
      return { ...t, algorithm: `largeWidth/${opts.method}`, options: { ...t.options, largeWidth: { ...opts }, L }, extras };
    },
  };
}

/** Limit fields of the M = ∞ ResNet: h̄_{k,ℓ,n}, b̄_{k,ℓ,n} ∈ R^D on nodes ℓ = 0..L, and its outputs. */
export interface LimitFields {
  /** The largeWidth trajectory (with coefficient vectors for the skeleton method). */
  traj: Trajectory;
  K: number; L: number; N: number; D: number; dOut: number;
  /** h̄: K × (L+1) × N × D (row-major; [k][ℓ][n][d]). */
  h: Float64Array;
  /** b̄: K × (L+1) × N × D. */
  b: Float64Array;
  /** f̄: K × d_out × N. */
  f: Float64Array;
}

/**
 * Solve the M = ∞ ResNet of `problem` once (profiles recorded). The result does
 * not depend on M or on the seed of U, V — only on the embeddings, the data,
 * L, D, the schedule and the expectation options — so callers cache it.
 */
export function limitFields(problem: Problem, options?: Omit<LargeWidthOptions, "record">, field = "options"): LimitFields {
  const o = resolveLargeWidthOptions(options, field);
  if ((o as LargeWidthOptions).record !== undefined) throw new ValidationError(`${field}.record`, "is set by limitFields (h and b are always recorded)");
  const traj = largeWidth({ ...o, record: ["h", "b"] }, field).run(problem);
  const { L, D } = problem.model;
  const K = traj.K, N = traj.N;
  const pr = traj.profiles!;
  return { traj, K, L, N, D, dOut: traj.dOut, h: pr.h!.data, b: pr.b!.data, f: traj.f.data };
}

