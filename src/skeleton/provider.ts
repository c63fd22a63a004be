/**
 * Adapter: the skeleton maps + Gaussian expectation engines of src/skeleton/
 * as the CoefficientProvider the skeleton Mean ODE core calls at every depth
 * stage. One engine instance (hence one fixed set of standard normals per
 * dimension — common random numbers) serves every stage, step and grid of a
 * solve, so the expectations are smooth in s and Richardson extrapolation
 * over two grids sees the same samples.
 */
import type { Problem } from "../problem/problem.ts";
import { backwardCoefficients, forwardCoefficients, type CovarianceFactors } from "./coefficients.ts";
import { expectationEngine, type ExpectationEngine } from "./expectation.ts";
import type { BoundExpectation } from "./options.ts";
import { checkThreads, type ThreadsOption } from "./parallel.ts";
import type { SkeletonParams } from "./maps.ts";
import type { CoefficientProvider, GramFactors } from "./core.ts";

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

/** The coefficient provider of a problem with bound expectation options (skeleton/options.ts). */
export function makeCoefficientProvider(problem: Problem, opts: BoundExpectation): SkeletonCoefficientProvider {
  const { activation, alpha, sigmaU, sigmaV } = problem.model;
  const { factor, threads, ...engineOptions } = opts;
  const engine = expectationEngine(engineOptions);
  return new SkeletonCoefficientProvider({ etaU: problem.train.etaU, etaV: problem.train.etaV, alpha, activation, sigmaU, sigmaV }, problem.data.N, engine, factor, threads);
}
