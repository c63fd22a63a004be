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
import { isPlainObject, show } from "../core/validate.ts";
import type { Problem } from "../problem/problem.ts";
import { backwardCoefficients, forwardCoefficients } from "../skeleton/coefficients.ts";
import { expectationEngine, type EngineOptions, type ExpectationEngine } from "../skeleton/expectation.ts";
import type { SkeletonParams } from "../skeleton/maps.ts";
import type { CoefficientProvider } from "./skeleton-core.ts";

export type ExpectationOptions = Partial<EngineOptions>;

/** Default engine: closed form for linear σ, else scrambled Sobol with 2^14 points (8 scramblings × 2048). */
export const DEFAULT_QMC: EngineOptions = { kind: "qmc", samples: 16384, randomizations: 8, seed: 1 };

export function resolveExpectationOptions(activation: Activation, opts?: unknown, field = "solver.expectation"): EngineOptions {
  if (opts !== undefined && !isPlainObject(opts)) throw new ValidationError(field, `must be an object such as {"kind": "qmc", "samples": 16384} (got ${show(opts)})`);
  const o = (opts ?? {}) as Record<string, unknown>;
  if (o.kind === undefined) {
    if (activation.kind === 1 && Object.keys(o).length === 0) return { kind: "closed-form" };
    return { ...DEFAULT_QMC, ...(o as Partial<EngineOptions>) } as EngineOptions;
  }
  return o as unknown as EngineOptions;
}

export class SkeletonCoefficientProvider implements CoefficientProvider {
  readonly engine: ExpectationEngine;
  readonly params: SkeletonParams;
  readonly N: number;
  constructor(params: SkeletonParams, N: number, engine: ExpectationEngine) {
    this.params = params;
    this.N = N;
    this.engine = engine;
  }
  forward(k: number, GH: Float64Array, GB: Float64Array, out: Float64Array): void {
    forwardCoefficients(k, this.N, GH, GB, this.params, this.engine, { C: out });
  }
  backward(k: number, GH: Float64Array, GB: Float64Array, out: Float64Array): void {
    backwardCoefficients(k, this.N, GH, GB, this.params, this.engine, { C: out });
  }
}

/** The coefficient provider of a problem with the given expectation options (validated). */
export function makeCoefficientProvider(problem: Problem, opts?: unknown): SkeletonCoefficientProvider {
  const { activation, alpha, sigmaU, sigmaV } = problem.model;
  const engine = expectationEngine(resolveExpectationOptions(activation, opts));
  return new SkeletonCoefficientProvider({ etaU: problem.train.etaU, etaV: problem.train.etaV, alpha, activation, sigmaU, sigmaV }, problem.data.N, engine);
}
