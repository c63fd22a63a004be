/**
 * Empirical law vs limit law (MATH §4): 1-d distances between the empirical
 * law of the M preactivations p_{ℓj,n} (j = 1..M) of a layer and the limit
 * law of p_{k,n} at the layer's nodes (hNode = ℓ−1, bNode = ℓ), represented
 * by a large i.i.d. sample from the particle sampler (src/skeleton/sampler.ts).
 *
 *   W1(μ, ν) = ∫ |F_μ(x) − F_ν(x)| dx          (exact for two empirical laws, by merging sorted samples)
 *   KS(μ, ν) = sup_x |F_μ(x) − F_ν(x)|
 *
 * Both are computed per data point n and averaged over n. With a reference
 * sample of size R_ref the distances carry a floor of order R_ref^{-1/2}; an
 * i.i.d. sample of size M from the limit law itself has E W1 ≈ c/√M, so the
 * empirical law of the M units is compared against the same quantity for
 * their twins (i.i.d. by construction), reported alongside.
 */
import { ValidationError } from "../core/errors.ts";
import type { Trajectory } from "../problem/trajectory.ts";
import { limitLawSamples } from "../skeleton/sampler.ts";

/** W1 between the empirical laws of two sorted samples (ascending). */
export function w1Sorted(a: ArrayLike<number>, na: number, b: ArrayLike<number>, nb: number): number {
  if (na <= 0 || nb <= 0) throw new ValidationError("samples", "must be non-empty");
  let i = 0, j = 0, Fa = 0, Fb = 0, w = 0;
  let x = Math.min(a[0], b[0]);
  const ia = 1 / na, ib = 1 / nb;
  while (i < na || j < nb) {
    const next = j >= nb || (i < na && a[i] <= b[j]) ? a[i] : b[j];
    w += Math.abs(Fa - Fb) * (next - x);
    x = next;
    while (i < na && a[i] === x) { Fa += ia; i++; }
    while (j < nb && b[j] === x) { Fb += ib; j++; }
  }
  return w;
}

/** W1 and KS of two sorted samples in one merge pass (the values of w1Sorted and ksSorted). */
export function w1KsSorted(a: ArrayLike<number>, na: number, b: ArrayLike<number>, nb: number): { w1: number; ks: number } {
  if (na <= 0 || nb <= 0) throw new ValidationError("samples", "must be non-empty");
  let i = 0, j = 0, w = 0, d = 0;
  let x = Math.min(a[0], b[0]);
  while (i < na || j < nb) {
    const next = j >= nb || (i < na && a[i] <= b[j]) ? a[i] : b[j];
    w += Math.abs(i / na - j / nb) * (next - x);
    x = next;
    while (i < na && a[i] === x) i++;
    while (j < nb && b[j] === x) j++;
    const g = Math.abs(i / na - j / nb);
    if (g > d) d = g;
  }
  return { w1: w, ks: d };
}

/** Two-sample Kolmogorov–Smirnov distance sup |F_a − F_b| of two sorted samples. */
export function ksSorted(a: ArrayLike<number>, na: number, b: ArrayLike<number>, nb: number): number {
  if (na <= 0 || nb <= 0) throw new ValidationError("samples", "must be non-empty");
  let i = 0, j = 0, d = 0;
  while (i < na || j < nb) {
    const x = j >= nb || (i < na && a[i] <= b[j]) ? a[i] : b[j];
    while (i < na && a[i] === x) i++;
    while (j < nb && b[j] === x) j++;
    d = Math.max(d, Math.abs(i / na - j / nb));
  }
  return d;
}

/** Number of entries of the sorted b[0..n) that are ≤ x (upper bound). */
function countLE(b: ArrayLike<number>, n: number, x: number): number {
  let lo = 0, hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (b[mid] <= x) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/** Number of entries of the sorted b[0..n) that are < x (lower bound). */
function countLT(b: ArrayLike<number>, n: number, x: number): number {
  let lo = 0, hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (b[mid] < x) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/** Prefix sums S[i] = Σ_{j<i} b[j] (length n+1) of a sorted reference, for w1ToReference. */
export function prefixSums(b: ArrayLike<number>, n: number, out: Float64Array<ArrayBufferLike> = new Float64Array(n + 1)): Float64Array<ArrayBufferLike> {
  out[0] = 0;
  for (let i = 0; i < n; i++) out[i + 1] = out[i] + b[i];
  return out;
}

/**
 * W1 and KS between a small sorted sample a (na) and a large sorted reference b (nb, with
 * prefix sums S), in O(na log nb) — the same values as w1Sorted / ksSorted up to round-off.
 * With G(x) = ∫_{−∞}^x F_b = (c(x)·x − S[c(x)])/nb, c(x) = #{b ≤ x}, the integral of
 * |F_a − F_b| over an interval where F_a ≡ c splits at the point where F_b crosses c.
 */
export function distancesToReference(a: ArrayLike<number>, na: number, b: ArrayLike<number>, nb: number, S: ArrayLike<number>): { w1: number; ks: number } {
  if (na <= 0 || nb <= 0) throw new ValidationError("samples", "must be non-empty");
  const G = (x: number) => {
    const c = countLE(b, nb, x);
    return (c * x - S[c]) / nb;
  };
  let i = 0;
  let x0 = a[0];
  // (−∞, a_0): F_a = 0
  let w = G(x0);
  let ks = countLT(b, nb, x0) / nb;
  while (i < na) {
    // all ties at x0
    while (i < na && a[i] === x0) i++;
    const cLE = countLE(b, nb, x0);
    if (i >= na) {
      // [x0, ∞): F_a = 1
      w += (S[nb] - S[cLE] - (nb - cLE) * x0) / nb;
      ks = Math.max(ks, 1 - cLE / nb);
      break;
    }
    const x1 = a[i];
    const c = i / na;
    // F_b crosses c at xc = b[j−1], j = ⌈c·nb⌉ (integer arithmetic)
    const j = Math.floor((i * nb + na - 1) / na);
    let xc = j <= 0 ? x0 : b[j - 1];
    if (xc < x0) xc = x0;
    if (xc > x1) xc = x1;
    const g0 = G(x0), gc = G(xc), g1 = G(x1);
    w += c * (xc - x0) - (gc - g0) + (g1 - gc) - c * (x1 - xc);
    ks = Math.max(ks, Math.abs(c - cLE / nb), Math.abs(c - countLT(b, nb, x1) / nb));
    x0 = x1;
  }
  return { w1: w, ks };
}

/** Sorted reference samples of the limit law of p_{k,n} per (step k, layer ℓ, data point n). */
export class LimitLawReference {
  readonly K: number; readonly L: number; readonly N: number; readonly size: number;
  /** K × L × N × size, each run of `size` sorted ascending. */
  readonly sorted: Float64Array;
  /** Prefix sums of each sorted run: K × L × N × (size + 1). */
  readonly prefix: Float64Array;

  /** From a largeWidth (skeleton) trajectory: layer ℓ (1-based) reads hNode = ℓ−1, bNode = ℓ. */
  constructor(traj: Trajectory, L: number, K: number, size: number, seed: number) {
    this.K = K; this.L = L; this.N = traj.N; this.size = size;
    const N = traj.N;
    this.sorted = new Float64Array(K * L * N * size);
    this.prefix = new Float64Array(K * L * N * (size + 1));
    const col = new Float64Array(size);
    for (let k = 0; k < K; k++)
      for (let l = 0; l < L; l++) {
        const s = limitLawSamples(traj, { step: k, hNode: l, bNode: l + 1, samples: size, seed: (seed + 7919 * (k * L + l)) >>> 0, what: ["p"] });
        const p = s.p!.data;
        for (let n = 0; n < N; n++) {
          for (let t = 0; t < size; t++) col[t] = p[t * N + n];
          col.sort();
          this.sorted.set(col, ((k * L + l) * N + n) * size);
          prefixSums(col, size, this.prefix.subarray(((k * L + l) * N + n) * (size + 1), ((k * L + l) * N + n + 1) * (size + 1)));
        }
      }
  }

  /** Offset of the sorted sample of (k, ℓ (0-based layer index l), n). */
  offset(k: number, l: number, n: number): number {
    return ((k * this.L + l) * this.N + n) * this.size;
  }
}

/**
 * W1 and KS (averaged over n) between the empirical law of p[l·M·N + j·N + n] (j < M)
 * and the reference of (k, l); `scratch` has length ≥ M.
 */
export function layerLawDistance(ref: LimitLawReference, k: number, l: number, P: Float64Array, M: number, scratch: Float64Array): { w1: number; ks: number } {
  const N = ref.N;
  let w = 0, s = 0;
  const col = scratch.subarray(0, M);
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < M; j++) col[j] = P[(l * M + j) * N + n];
    col.sort();
    const o = ref.offset(k, l, n);
    const r = ref.sorted.subarray(o, o + ref.size);
    const po = ((k * ref.L + l) * N + n) * (ref.size + 1);
    // binary searches cost ≈ 6 log2(size) per unit, a merge ≈ M + size in total: take the cheaper
    if (6 * M * Math.log2(ref.size) < M + ref.size) {
      const d = distancesToReference(col, M, r, ref.size, ref.prefix.subarray(po, po + ref.size + 1));
      w += d.w1;
      s += d.ks;
    } else {
      const d = w1KsSorted(col, M, r, ref.size);
      w += d.w1;
      s += d.ks;
    }
  }
  return { w1: w / N, ks: s / N };
}
