/**
 * The expectation options of the skeleton solvers, bound once per solve:
 * engine options (validated and completed by the engine itself: default
 * samples and seed, qmc samples rounded to randomizations × 2^m, antithetic
 * mc samples rounded up to even), plus how G is mapped (`factor`) and the
 * threads of the sampled coefficient calls.
 */
import type { Activation } from "../core/activations.ts";
import { ValidationError } from "../core/errors.ts";
import { isPlainObject, oneOf, show } from "../core/validate.ts";
import { expectationEngine, type EngineOptions, type ExpectationEngine } from "./expectation.ts";
import { checkThreads, type ThreadsOption } from "./parallel.ts";

export type Factor = "auto" | "eigen" | "embedding";

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
export type ExpectationOptions = Partial<EngineOptions> & { factor?: Factor; threads?: ThreadsOption };

/** Complete expectation options: every engine option of the kind, factor and threads. */
export type BoundExpectation = EngineOptions & { factor: Factor; threads: ThreadsOption };

/**
 * Default engine: closed form for linear σ, else scrambled Sobol with 2^12 points
 * (8 scramblings × 512) mapped through the embedding factor where it is of lower
 * dimension. Measured (tanh, D = 8, d_in = 2, d_out = 1, N = 2, K = 5; docs/meanode.md):
 * max error on f_k ≈ 5e-5 with Heun S = 4 + Richardson in ≈ 1 s (the default RK4 S = 3
 * needs about half the expectation calls); the eigen square root at the same cost gives
 * ≈ 2–4e-4.
 */
export const DEFAULT_QMC: EngineOptions = { kind: "qmc", samples: 4096, randomizations: 8, seed: 1 };

/** The options that reproduce an engine exactly (those of its kind, as it resolved them). */
export function engineOptionsOf(e: ExpectationEngine): EngineOptions {
  switch (e.kind) {
    case "closed-form": return { kind: e.kind };
    case "mc": return { kind: e.kind, samples: e.samples, seed: e.seed, antithetic: e.antithetic };
    case "qmc": return { kind: e.kind, samples: e.samples, seed: e.seed, randomizations: e.randomizations };
    default: return { kind: e.kind, nodes: e.nodes, maxPoints: e.maxPoints };
  }
}

/**
 * Bind expectation options for an activation (errors name `${field}.factor` /
 * `${field}.threads`, and `engine.<key>` for the engine options): without a
 * kind, closed form for linear σ given no other engine option, else the
 * default qmc engine with the given options on top.
 */
export function bindExpectation(activation: Activation, opts: unknown, field: string): BoundExpectation {
  if (opts !== undefined && !isPlainObject(opts)) throw new ValidationError(field, `must be an object such as {"kind": "qmc", "samples": 16384} (got ${show(opts)})`);
  const { factor: f0, threads: t0, ...o } = (opts ?? {}) as Record<string, unknown>;
  const factor = oneOf(`${field}.factor`, f0 ?? "auto", ["auto", "eigen", "embedding"] as const);
  const threads = checkThreads(`${field}.threads`, t0 === undefined ? "auto" : t0);
  const engine = o.kind !== undefined ? o : activation.kind === 1 && Object.keys(o).length === 0 ? { kind: "closed-form" } : { ...DEFAULT_QMC, ...o };
  return { ...engineOptionsOf(expectationEngine(engine as unknown as EngineOptions)), factor, threads };
}
