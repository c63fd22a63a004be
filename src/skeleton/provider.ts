/**
 * Adapter: the skeleton maps + Gaussian expectation engines of src/skeleton/
 * as the CoefficientProvider the skeleton Mean ODE core calls at every depth
 * stage. One engine instance (hence one fixed set of standard normals per
 * dimension — common random numbers) serves every stage, step and grid of a
 * solve, so the expectations are smooth in s and Richardson extrapolation
 * over two grids sees the same samples.
 */
import type { Activation } from "../core/activations.ts";
import { ValidationError } from "../core/errors.ts";
import { isPlainObject, oneOf, show } from "../core/validate.ts";
import type { Problem } from "../problem/problem.ts";
import { backwardCoefficients, forwardCoefficients, type CovarianceFactors } from "./coefficients.ts";
import { expectationEngine, type EngineOptions, type ExpectationEngine } from "./expectation.ts";
import { checkThreads, type ThreadsOption } from "./parallel.ts";
import type { SkeletonParams } from "./maps.ts";
import type { CoefficientProvider, GramFactors } from "./core.ts";

/**
 * Engine options plus `factor`: how G is mapped from standard normals —
 * "eigen" (symmetric eigen square root of each covariance block, clipped at 0;
 * MATH §3), "embedding" (the exact low-rank factor E^{1/2}c of coefficient
 * coordinates: dimension 2(d_in + d_out) instead of up to 2(k+1)N), or "auto"
 * (default: the embedding factor unless its dimension exceeds twice the eigen root's);
 * and `threads`: 1, 2 or "auto" (default) — qmc only: each coefficient call's
 * randomizations are split between the calling thread and one worker thread,
 * bit-identical to 1 thread ("auto": 2 when S·dimG ≥ 2^15; mc and
 * Gauss–Hermite always run on 1 thread; skeleton/parallel.ts).
 */
export type ExpectationOptions = Partial<EngineOptions> & { factor?: "auto" | "eigen" | "embedding"; threads?: ThreadsOption };
type Resolved = EngineOptions & { factor: "auto" | "eigen" | "embedding"; threads: ThreadsOption };

/**
 * Default engine: closed form for linear σ, else scrambled Sobol with 2^12 points
 * (8 scramblings × 512) mapped through the embedding factor where it is of lower
 * dimension. Measured (tanh, D = 8, d_in = 2, d_out = 1, N = 2, K = 5; docs/meanode.md):
 * max error on f_k ≈ 5e-5 with Heun S = 4 + Richardson in ≈ 1 s (the default RK4 S = 3
 * needs about half the expectation calls); the eigen square root at the same cost gives
 * ≈ 2–4e-4.
 */
export const DEFAULT_QMC: EngineOptions = { kind: "qmc", samples: 4096, randomizations: 8, seed: 1 };

export function resolveExpectationOptions(activation: Activation, opts?: unknown, field = "solver.expectation"): Resolved {
  if (opts !== undefined && !isPlainObject(opts)) throw new ValidationError(field, `must be an object such as {"kind": "qmc", "samples": 16384} (got ${show(opts)})`);
  const { factor: f0, threads: t0, ...o } = (opts ?? {}) as Record<string, unknown>;
  const factor = oneOf(`${field}.factor`, f0 ?? "auto", ["auto", "eigen", "embedding"] as const);
  const threads = checkThreads(`${field}.threads`, t0 === undefined ? "auto" : t0);
  if (o.kind === undefined) {
    if (activation.kind === 1 && Object.keys(o).length === 0) return { kind: "closed-form", factor, threads };
    return { ...DEFAULT_QMC, ...(o as Partial<EngineOptions>), factor, threads } as Resolved;
  }
  return { ...(o as unknown as EngineOptions), factor, threads };
}

export class SkeletonCoefficientProvider implements CoefficientProvider {
  readonly engine: ExpectationEngine;
  readonly params: SkeletonParams;
  readonly N: number;
  readonly factor: "auto" | "eigen" | "embedding";
  readonly threads: ThreadsOption;
  constructor(params: SkeletonParams, N: number, engine: ExpectationEngine, factor: "auto" | "eigen" | "embedding" = "auto", threads: ThreadsOption = "auto") {
    this.threads = checkThreads("threads", threads);
    this.params = params;
    this.N = N;
    this.engine = engine;
    this.factor = factor;
  }
  private factors(dimH: number, dimB: number, f: GramFactors): CovarianceFactors | undefined {
    // auto: the embedding factor unless it has more than twice the dimension of the eigen root.
    // It is preferred even at somewhat higher dimension: it does not rotate with s the way the
    // eigenvectors do, and measured QMC errors are 3–5× lower at equal samples (docs/meanode.md).
    // (Gauss–Hermite tensor grids grow exponentially with the dimension: there auto takes the lower one.)
    const autoEmbedding = this.engine.kind === "gauss-hermite" ? 2 * f.r < dimH + dimB : f.r <= dimH + dimB;
    const use = this.factor === "embedding" || (this.factor === "auto" && autoEmbedding);
    return use ? { U: f.FH, ru: f.r, V: f.FB, rv: f.r } : undefined;
  }
  forward(k: number, GH: Float64Array, GB: Float64Array, out: Float64Array, f: GramFactors): void {
    const N = this.N;
    forwardCoefficients(k, N, GH, GB, this.params, this.engine, { C: out }, this.factors((k + 1) * N, k * N, f), this.threads);
  }
  backward(k: number, GH: Float64Array, GB: Float64Array, out: Float64Array, f: GramFactors): void {
    const N = this.N;
    backwardCoefficients(k, N, GH, GB, this.params, this.engine, { C: out }, this.factors((k + 1) * N, (k + 1) * N, f), this.threads);
  }
}

/** The coefficient provider of a problem with the given expectation options (validated). */
export function makeCoefficientProvider(problem: Problem, opts?: unknown): SkeletonCoefficientProvider {
  const { activation, alpha, sigmaU, sigmaV } = problem.model;
  const { factor, threads, ...engineOptions } = resolveExpectationOptions(activation, opts);
  const engine = expectationEngine(engineOptions);
  return new SkeletonCoefficientProvider({ etaU: problem.train.etaU, etaV: problem.train.etaV, alpha, activation, sigmaU, sigmaV }, problem.data.N, engine, factor, threads);
}
