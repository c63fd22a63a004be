/**
 * The shared result shape of every solver (ARCHITECTURE.md): for steps
 * k = 0..K−1 (recorded before the k-th update), f[k] (d_out × N) and
 * loss[k], optional depth profiles on the solver's grid, and metadata: the
 * algorithm, the options it was bound to (exactly what ran), the seed,
 * timings, and typed extras per solver. Every solver builds it with
 * makeTrajectory.
 */
import type { F64 } from "../core/arrays.ts";
import { isNdArray, toFlat, toNested, view } from "../core/arrays.ts";
import type { Problem } from "./problem.ts";

export interface DepthProfiles {
  /** Steps k at which profiles were recorded. */
  steps: number[];
  /** Depth grid s_i (finite models: s = ℓ/L, ℓ = 0..L). */
  s: Float64Array;
  /** h[r](s_i) for data point n: shape [steps, S+1, N, D]. */
  h?: F64;
  /** b[r](s_i) (rescaled adjoint): shape [steps, S+1, N, D]. */
  b?: F64;
  /** Preactivations of the finite model p_{ℓ,j,n}: shape [steps, L, M, N]. */
  p?: F64;
}

export interface Trajectory<Extras extends object = object, Options extends object = object> {
  /** Algorithm name, e.g. "finiteResNet", "meanOde/skeleton". */
  algorithm: string;
  /**
   * The options the algorithm was bound to (every default filled in for this
   * problem): exactly what ran. Passing them back to the same algorithm
   * constructor reruns the solve bit for bit.
   */
  options: Options;
  seed: number;
  K: number;
  dOut: number;
  N: number;
  /** f[k][o][n]: shape [K, d_out, N]. */
  f: F64;
  /** loss[k] = (1/N) Σ_n ½|f_n − y_n|². */
  loss: Float64Array;
  profiles?: DepthProfiles;
  /** Wall-clock timings in milliseconds. */
  timings: { totalMs: number; [phase: string]: number };
  /** Solver-specific extras (typed per solver: final weights, coefficient vectors, error estimates, diagnostics). */
  extras: Extras;
}

/** What a solver hands to makeTrajectory: its outputs and metadata (loss is computed from f when omitted). */
export interface TrajectoryParts<Extras extends object, Options extends object> {
  algorithm: string;
  options: Options;
  /** f[k][o][n], K × d_out × N row-major. */
  f: Float64Array;
  loss?: Float64Array;
  profiles?: DepthProfiles;
  timings: { totalMs: number; [phase: string]: number };
  extras: Extras;
}

/** The one constructor of a Trajectory: shapes and seed from the problem, f as a [K, d_out, N] view, loss from f when not given. */
export function makeTrajectory<Extras extends object, Options extends object>(problem: Problem, parts: TrajectoryParts<Extras, Options>): Trajectory<Extras, Options> {
  const { dOut, N, Y } = problem.data;
  const per = dOut * N;
  const K = parts.f.length / per;
  if (!Number.isInteger(K)) throw new RangeError(`f has length ${parts.f.length}, not a multiple of d_out × N = ${per}`);
  let loss = parts.loss;
  if (!loss) {
    loss = new Float64Array(K);
    for (let k = 0; k < K; k++) loss[k] = lossOf(parts.f, Y, dOut, N, k * per);
  }
  const t: Trajectory<Extras, Options> = {
    algorithm: parts.algorithm, options: parts.options, seed: problem.seed, K, dOut, N,
    f: view(parts.f, [K, dOut, N]), loss, timings: parts.timings, extras: parts.extras,
  };
  if (parts.profiles) t.profiles = parts.profiles;
  return t;
}

/** Loss from outputs and targets (both d_out × N row-major). */
export function lossOf(F: Float64Array, Y: Float64Array, dOut: number, N: number, fOff = 0): number {
  let s = 0;
  for (let i = 0; i < dOut * N; i++) {
    const r = F[fOff + i] - Y[i];
    s += r * r;
  }
  return (0.5 * s) / N;
}

/** Plain-JSON form of a trajectory (nested arrays), for result files. */
export function trajectoryToJSON(t: Trajectory): Record<string, unknown> {
  const out: Record<string, unknown> = {
    algorithm: t.algorithm,
    options: jsonable(t.options),
    seed: t.seed,
    K: t.K,
    dOut: t.dOut,
    N: t.N,
    f: toNested(t.f.data, t.f.shape),
    loss: Array.from(t.loss),
    timings: t.timings,
  };
  if (t.profiles) {
    const p: Record<string, unknown> = { steps: t.profiles.steps, s: Array.from(t.profiles.s) };
    for (const key of ["h", "b", "p"] as const) {
      const a = t.profiles[key];
      if (a) p[key] = toNested(a.data, a.shape);
    }
    out.profiles = p;
  }
  if (t.extras) out.extras = jsonable(t.extras);
  return out;
}

/** Deep copy with typed arrays → arrays and ndarrays → nested arrays (for JSON output). */
export function jsonable(v: unknown): unknown {
  if (v instanceof Float64Array || v instanceof Float32Array || v instanceof Int32Array) return Array.from(v);
  if (isNdArray(v)) return toNested(toFlat(v), v.shape);
  if (Array.isArray(v)) return v.map(jsonable);
  if (typeof v === "object" && v !== null) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = jsonable(x);
    return o;
  }
  if (typeof v === "number" && !Number.isFinite(v)) return null;
  return v;
}

/** RMS difference of the outputs of two trajectories over all k, outputs and data points (or at one step). */
export function outputRms(a: Trajectory, b: Trajectory, step?: number): number {
  if (a.K !== b.K || a.dOut !== b.dOut || a.N !== b.N) {
    throw new RangeError(`trajectories differ in shape: K×d_out×N = ${a.K}×${a.dOut}×${a.N} vs ${b.K}×${b.dOut}×${b.N}`);
  }
  const per = a.dOut * a.N;
  const k0 = step === undefined ? 0 : step;
  const k1 = step === undefined ? a.K : step + 1;
  let s = 0;
  for (let i = k0 * per; i < k1 * per; i++) {
    const d = a.f.data[i] - b.f.data[i];
    s += d * d;
  }
  return Math.sqrt(s / ((k1 - k0) * per));
}
