/**
 * 1-d distances between empirical laws (MATH §4): exact W1 and KS of two
 * sorted samples by merging, and against a large sorted reference by binary
 * search. Used by the chaos diagnostics and the presets alike.
 *
 *   W1(μ, ν) = ∫ |F_μ(x) − F_ν(x)| dx,     KS(μ, ν) = sup_x |F_μ(x) − F_ν(x)|
 */
import { ValidationError } from "../core/errors.ts";

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

/** Exact W1 between the empirical laws of two unsorted samples (sorted copies, then w1Sorted). */
export function w1(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const x = Float64Array.from(a).sort(), y = Float64Array.from(b).sort();
  return w1Sorted(x, x.length, y, y.length);
}
