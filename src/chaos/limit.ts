/**
 * The limit fields the chaos simulator couples to (MATH §4): the M → ∞ ResNet
 * at the problem's depth L (limits/large-width.ts) solved once with its
 * profiles h̄, b̄ recorded at every step.
 */
import { ValidationError } from "../core/errors.ts";
import { solve } from "../problem/algorithm.ts";
import type { Problem } from "../problem/problem.ts";
import type { Trajectory } from "../problem/trajectory.ts";
import type { MeanOdeBound } from "../limits/mean-ode.ts";
import { largeWidth, type LargeWidthExtras, type LargeWidthOptions, resolveLargeWidthOptions } from "../limits/large-width.ts";

/** Limit fields of the M = ∞ ResNet: h̄_{k,ℓ,n}, b̄_{k,ℓ,n} ∈ R^D on nodes ℓ = 0..L, and its outputs. */
export interface LimitFields {
  /** The largeWidth trajectory (with coefficient vectors for the skeleton method). */
  traj: Trajectory<LargeWidthExtras, MeanOdeBound>;
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
export function limitFields(problem: Problem, options?: Omit<LargeWidthOptions, "record" | "recordSteps">, field = "options"): LimitFields {
  const o = resolveLargeWidthOptions(options, field);
  for (const k of ["record", "recordSteps"] as const) if (o[k] !== undefined) throw new ValidationError(`${field}.${k}`, "is set by limitFields (h and b are always recorded)");
  const traj = solve(problem, largeWidth({ ...o, record: ["h", "b"] }, field));
  const { L, D } = problem.model;
  const K = traj.K, N = traj.N;
  const pr = traj.profiles!;
  return { traj, K, L, N, D, dOut: traj.dOut, h: pr.h!.data, b: pr.b!.data, f: traj.f.data };
}
