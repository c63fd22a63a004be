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
import { createRequire } from "node:module";
import type * as MlMatrix from "ml-matrix";
import type { Problem } from "./problem.ts";
import { DivergenceError, ValidationError } from "../core/errors.ts";

/**
 * A run whose loss grows by more than this factor over its first value stays finite but explodes:
 * the Trajectory carries a warning (docs/robustness.md). Non-finite values are DivergenceErrors.
 */
export const EXPLOSION_FACTOR = 1e12;

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
  /** Outputs on the problem's test points (data.XTest), [K, d_out, N_test] (MATH §8). */
  fTest?: F64;
  /** Test loss (1/N_test) Σ ½|f − y|² per step, when data.YTest is given. */
  lossTest?: Float64Array;
  /** Tangent Gram matrix K_k, [K, d_out·N, d_out·N] (index o·N + n; MATH §8), with record "gram". */
  gram?: F64;
  /** Smallest eigenvalue of K_k per step, with record "gram". */
  gramLambdaMin?: Float64Array;
  /** KL_k = ∫ KL(ρ_k(s) ‖ μ_0) ds per step (MATH §8), with record "kl". */
  kl?: Float64Array;
  /** KL(ρ_k(s) ‖ μ_0) on the depth slots, [K, slots], with record "kl". */
  klProfile?: F64;
  /** Warnings about the result (e.g. an invalid KL sample, an exploding loss); empty when none. */
  warnings?: string[];
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
  /** Diagnostics of MATH §8, flat row-major (shaped by makeTrajectory). */
  fTest?: Float64Array;
  gram?: Float64Array;
  kl?: Float64Array;
  klProfile?: Float64Array;
  klSlots?: number;
  warnings?: string[];
}

/** The one constructor of a Trajectory: shapes and seed from the problem, f as a [K, d_out, N] view, loss from f when not given. */
export function makeTrajectory<Extras extends object, Options extends object>(problem: Problem, parts: TrajectoryParts<Extras, Options>): Trajectory<Extras, Options> {
  const { dOut, N, Y } = problem.data;
  const per = dOut * N;
  const K = parts.f.length / per;
  if (!Number.isInteger(K)) throw new ValidationError("f", `has length ${parts.f.length}, not a multiple of d_out × N = ${per}`);
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
  const d = problem.data;
  if (parts.fTest && d.NTest) {
    t.fTest = view(parts.fTest, [K, dOut, d.NTest]);
    if (d.YTest) {
      const lt = new Float64Array(K);
      for (let k = 0; k < K; k++) lt[k] = lossOf(parts.fTest, d.YTest, dOut, d.NTest, k * dOut * d.NTest);
      t.lossTest = lt;
    }
  }
  if (parts.gram) {
    const dN = per;
    const i = badIndex(parts.gram);
    if (i >= 0) throw new DivergenceError(Math.floor(i / (dN * dN)), "tangent Gram matrix", `entry ${i % (dN * dN)} is ${parts.gram[i]}`);
    t.gram = view(parts.gram, [K, dN, dN]);
    t.gramLambdaMin = gramLambdaMin(parts.gram, K, dN);
  }
  if (parts.kl) t.kl = parts.kl;
  if (parts.klProfile) t.klProfile = view(parts.klProfile, [K, parts.klSlots ?? parts.klProfile.length / K]);
  checkFiniteResult(t, per);
  const warnings = [...(parts.warnings ?? [])];
  const explosion = explosionWarning(t.loss);
  if (explosion) warnings.push(explosion);
  if (warnings.length > 0) t.warnings = warnings;
  return t;
}

/** The warning of a loss that grows by more than EXPLOSION_FACTOR over loss[0] (null when it does not). */
export function explosionWarning(loss: ArrayLike<number>): string | null {
  const l0 = loss[0];
  if (!(l0 > 0)) return null;
  for (let k = 1; k < loss.length; k++) {
    if (loss[k] > EXPLOSION_FACTOR * l0) {
      return `the loss explodes: it grew by a factor ${(loss[k] / l0).toExponential(1)} from step 0 (${l0.toExponential(3)}) to step ${k} (${loss[k].toExponential(3)}) while staying finite; the learning rates are probably too large for this problem (docs/robustness.md)`;
    }
  }
  return null;
}

/** First non-finite entry of a typed array, or −1. */
function badIndex(a: ArrayLike<number>): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return i;
  return -1;
}

/**
 * No non-finite number leaves a solver: every array of the trajectory (f, loss, profiles, test
 * outputs, Gram matrices, KL, and every number in the extras) is checked; the first non-finite
 * one is a DivergenceError naming its step and the quantity (the solvers check their state as
 * they go, so this only catches what they could not see).
 */
function checkFiniteResult(t: Trajectory, per: number): void {
  const K = t.K;
  const steps: [string, ArrayLike<number> | undefined, number][] = [
    ["loss", t.loss, 1], ["output f", t.f.data as Float64Array, per], ["test outputs fTest", t.fTest?.data as Float64Array | undefined, t.fTest ? t.fTest.size / K : 1],
    ["test loss", t.lossTest, 1], ["tangent Gram matrix", t.gram?.data as Float64Array | undefined, t.gram ? t.gram.size / K : 1],
    ["smallest Gram eigenvalue", t.gramLambdaMin, 1], ["KL of the trained law", t.kl, 1], ["KL profile", t.klProfile?.data as Float64Array | undefined, t.klProfile ? t.klProfile.size / K : 1],
  ];
  for (const [name, a, stride] of steps) {
    if (!a) continue;
    const i = badIndex(a);
    if (i >= 0) throw new DivergenceError(Math.floor(i / stride), name, `entry ${i % stride} is ${a[i]}`);
  }
  const pr = t.profiles;
  if (pr) {
    for (const key of ["h", "b", "p"] as const) {
      const a = pr[key];
      if (!a) continue;
      const data = a.data as Float64Array, stride = data.length / Math.max(1, pr.steps.length);
      const i = badIndex(data);
      if (i >= 0) throw new DivergenceError(pr.steps[Math.floor(i / stride)] ?? K - 1, `recorded profile ${key}`, `entry ${i % stride} is ${data[i]}`);
    }
  }
  const bad = firstNonFiniteIn(t.extras, "extras");
  if (bad) throw new DivergenceError(K - 1, bad.path, `${bad.value} in the result`);
}

/** An activation object (its `sup` may be Infinity by definition): serialized by name. */
function isActivation(v: unknown): v is { name: string } {
  const o = v as Record<string, unknown>;
  return typeof v === "object" && v !== null && typeof o.f === "function" && typeof o.df === "function" && typeof o.name === "string";
}

/** The path of the first non-finite number in a nested value (typed arrays, ndarrays, arrays, objects), or null. */
export function firstNonFiniteIn(v: unknown, path: string, seen = new Set<object>()): { path: string; value: number } | null {
  if (typeof v === "number") return Number.isFinite(v) ? null : { path, value: v };
  if (typeof v !== "object" || v === null || isActivation(v) || seen.has(v)) return null;
  seen.add(v);
  if (ArrayBuffer.isView(v)) {
    if (!(v instanceof Float64Array || v instanceof Float32Array)) return null;
    const i = badIndex(v);
    return i >= 0 ? { path: `${path}[${i}]`, value: v[i] } : null;
  }
  if (isNdArray(v)) return firstNonFiniteIn(v.data, path, seen);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) { const r = firstNonFiniteIn(v[i], `${path}[${i}]`, seen); if (r) return r; }
    return null;
  }
  for (const [k, x] of Object.entries(v)) { const r = firstNonFiniteIn(x, `${path}.${k}`, seen); if (r) return r; }
  return null;
}

// ml-matrix takes tens of ms to load: loaded on the first Gram matrix, not with the package entry.
let mlMatrix: typeof MlMatrix | undefined;
const ml = (): typeof MlMatrix => (mlMatrix ??= createRequire(import.meta.url)("ml-matrix") as typeof MlMatrix);

/** Smallest eigenvalue of each of K symmetric dN × dN matrices (ml-matrix's symmetric eigensolver). */
export function gramLambdaMin(gram: Float64Array, K: number, dN: number): Float64Array {
  const { EigenvalueDecomposition, Matrix } = ml();
  const out = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    // scaled to entries ≤ 1 (the eigensolver squares entries: huge but finite Gram matrices would overflow inside it)
    let m = 0;
    for (let i = k * dN * dN; i < (k + 1) * dN * dN; i++) m = Math.max(m, Math.abs(gram[i]));
    if (m === 0) { out[k] = 0; continue; }
    const rows: number[][] = [];
    for (let x = 0; x < dN; x++) {
      const row: number[] = [];
      for (let y = 0; y < dN; y++) row.push(0.5 * (gram[(k * dN + x) * dN + y] / m + gram[(k * dN + y) * dN + x] / m));
      rows.push(row);
    }
    let ev: number[];
    try {
      ev = new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true }).realEigenvalues;
    } catch (e) {
      throw new DivergenceError(k, "smallest eigenvalue of the tangent Gram matrix", `the eigensolver failed: ${(e as Error).message}`);
    }
    out[k] = Math.min(...ev) * m;
  }
  return out;
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
  if (!t || typeof t !== "object" || !isNdArray(t.f) || !(t.loss instanceof Float64Array)) throw new ValidationError("trajectory", "must be a Trajectory returned by solve()");
  for (const [name, a] of [["f", t.f.data], ["loss", t.loss]] as const) {
    const bad = firstNonFiniteIn(a, name);
    if (bad) throw new ValidationError(bad.path, `is ${bad.value}, which JSON cannot represent (a result holds finite numbers only)`);
  }
  const out: Record<string, unknown> = {
    algorithm: t.algorithm,
    options: jsonable(t.options, "options"),
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
  if (t.extras) out.extras = jsonable(t.extras, "extras");
  for (const key of ["fTest", "lossTest", "gram", "gramLambdaMin", "kl", "klProfile", "warnings"] as const) {
    if (t[key] !== undefined) out[key] = jsonable(t[key], key);
  }
  return out;
}

/**
 * Deep copy with typed arrays → arrays, ndarrays → nested arrays and activations → their name
 * (for JSON output). A non-finite number has no JSON form: it is a ValidationError naming its
 * path, never a silent `null` (solvers never return one: makeTrajectory checks).
 */
export function jsonable(v: unknown, path = "result"): unknown {
  const bad = firstNonFiniteIn(v, path);
  if (bad) throw new ValidationError(bad.path, `is ${bad.value}, which JSON cannot represent (a result holds finite numbers only)`);
  return copyJson(v);
}

function copyJson(v: unknown): unknown {
  if (v instanceof Float64Array || v instanceof Float32Array || v instanceof Int32Array) return Array.from(v);
  if (isNdArray(v)) return toNested(toFlat(v), v.shape);
  if (isActivation(v)) return v.name;
  if (Array.isArray(v)) return v.map(copyJson);
  if (typeof v === "object" && v !== null) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = copyJson(x);
    return o;
  }
  return v;
}

/** RMS difference of the outputs of two trajectories over all k, outputs and data points (or at one step). */
export function outputRms(a: Trajectory, b: Trajectory, step?: number): number {
  if (a.K !== b.K || a.dOut !== b.dOut || a.N !== b.N) {
    throw new ValidationError("trajectories", `differ in shape: K×d_out×N = ${a.K}×${a.dOut}×${a.N} vs ${b.K}×${b.dOut}×${b.N}`);
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
