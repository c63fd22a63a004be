/**
 * Quasi-Monte Carlo points: the Sobol sequence (Joe–Kuo direction numbers, up
 * to SOBOL_MAX_DIM = 126 dimensions) with Matoušek's random linear matrix
 * scrambling plus a random digital shift (an Owen-type randomization that keeps
 * the (t,m,s)-net property and makes each point uniform on [0,1)^d), and an
 * accurate inverse normal CDF to turn them into standard normals.
 */
import { erfc } from "../core/activations.ts";

export { erfc };
import { ValidationError } from "../core/errors.ts";
import type { Stream } from "../core/rng.ts";
import { SOBOL_M, SOBOL_MAX_DIM, SOBOL_POLY } from "./sobol-data.ts";

export { SOBOL_MAX_DIM };

const BITS = 32;
const TWO_M32 = 2.3283064365386963e-10;

/** Direction numbers V_1..V_32 of dimension d (0-based), scaled by 2^32, as uint32. */
export function sobolDirections(d: number): Uint32Array {
  if (!Number.isInteger(d) || d < 0 || d >= SOBOL_MAX_DIM) {
    throw new ValidationError("qmc.dimension", `must be < ${SOBOL_MAX_DIM} (the Sobol table size; got ${d + 1}); use the mc engine in higher dimension`);
  }
  const V = new Uint32Array(BITS + 1);
  if (d === 0) {
    for (let i = 1; i <= BITS; i++) V[i] = (1 << (BITS - i)) >>> 0;
  } else {
    const m = SOBOL_M[d - 1];
    const s = m.length;
    const a = (SOBOL_POLY[d] - (1 << s) - 1) >>> 1;
    for (let i = 1; i <= BITS; i++) {
      if (i <= s) V[i] = (m[i - 1] << (BITS - i)) >>> 0;
      else {
        let v = (V[i - s] ^ (V[i - s] >>> s)) >>> 0;
        for (let k = 1; k < s; k++) if ((a >>> (s - 1 - k)) & 1) v = (v ^ V[i - k]) >>> 0;
        V[i] = v;
      }
    }
  }
  return V.subarray(1);
}

function parity32(x: number): number {
  x ^= x >>> 16;
  x ^= x >>> 8;
  x ^= x >>> 4;
  x ^= x >>> 2;
  x ^= x >>> 1;
  return x & 1;
}

/**
 * n Sobol points in `dim` dimensions as 32-bit integers (point i, coordinate d
 * at out[i*dim + d]), in Gray-code order (for n a power of 2 the point set equals
 * the first n points in natural order). With `rng`, each coordinate is
 * randomized by a random lower-triangular binary matrix with unit diagonal
 * (linear scrambling, applied to the direction numbers) and a random digital shift.
 */
export function sobolIntegers(n: number, dim: number, rng: Stream | null, out = new Uint32Array(n * dim)): Uint32Array {
  for (let d = 0; d < dim; d++) {
    const V = sobolDirections(d);
    const W = new Uint32Array(BITS);
    let shift = 0;
    if (rng) {
      // row r (output digit r+1, bit 31−r) of the scrambling matrix: random bits at the
      // more significant positions, 1 on the diagonal, 0 below.
      const rows = new Uint32Array(BITS);
      for (let r = 0; r < BITS; r++) {
        const diag = (1 << (31 - r)) >>> 0;
        const above = r === 0 ? 0 : (((rng.nextInt32() >>> 0) & ~((diag << 1) - 1 >>> 0)) >>> 0);
        rows[r] = (above | diag) >>> 0;
      }
      for (let i = 0; i < BITS; i++) {
        let y = 0;
        for (let r = 0; r < BITS; r++) if (parity32((rows[r] & V[i]) >>> 0)) y |= 1 << (31 - r);
        W[i] = y >>> 0;
      }
      shift = rng.nextInt32() >>> 0;
    } else W.set(V);
    let x = 0;
    for (let i = 0; i < n; i++) {
      out[i * dim + d] = (x ^ shift) >>> 0;
      // Gray code: flip the direction number of the lowest zero bit of i
      let c = 0, j = i;
      while (j & 1) { j >>>= 1; c++; }
      if (c < BITS) x = (x ^ W[c]) >>> 0;
    }
  }
  return out;
}

/** Uniform points in (0,1): (x + 1/2)/2^32, so never 0 or 1. */
export function sobolUniforms(n: number, dim: number, rng: Stream | null): Float64Array {
  const ints = sobolIntegers(n, dim, rng);
  const u = new Float64Array(n * dim);
  for (let i = 0; i < u.length; i++) u[i] = (ints[i] + 0.5) * TWO_M32;
  return u;
}

/** Standard normal CDF Φ(x) = erfc(−x/√2)/2, accurate in both tails. */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x * Math.SQRT1_2);
}

const A1 = -3.969683028665376e1, A2 = 2.209460984245205e2, A3 = -2.759285104469687e2, A4 = 1.38357751867269e2, A5 = -3.066479806614716e1, A6 = 2.506628277459239;
const B1 = -5.447609879822406e1, B2 = 1.615858368580409e2, B3 = -1.556989798598866e2, B4 = 6.680131188771972e1, B5 = -1.328068155288572e1;
const C1 = -7.784894002430293e-3, C2 = -3.223964580411365e-1, C3 = -2.400758277161838, C4 = -2.549732539343734, C5 = 4.374664141464968, C6 = 2.938163982698783;
const D1 = 7.784695709041462e-3, D2 = 3.224671290700398e-1, D3 = 2.445134137142996, D4 = 3.754408661907416;
const SQRT_2PI = 2.5066282746310002;

/**
 * Inverse standard normal CDF Φ⁻¹(p), p ∈ (0,1): Acklam's rational approximation
 * (relative error < 1.2e-9) refined by one Halley step on Φ(x) − p with the
 * accurate erfc above (result accurate to ~1e-14 relative).
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return -Infinity;
    if (p === 1) return Infinity;
    return NaN;
  }
  let x: number;
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((C1 * q + C2) * q + C3) * q + C4) * q + C5) * q + C6) / ((((D1 * q + D2) * q + D3) * q + D4) * q + 1);
  } else if (p <= 1 - 0.02425) {
    const q = p - 0.5, r = q * q;
    x = ((((((A1 * r + A2) * r + A3) * r + A4) * r + A5) * r + A6) * q) / (((((B1 * r + B2) * r + B3) * r + B4) * r + B5) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((C1 * q + C2) * q + C3) * q + C4) * q + C5) * q + C6) / ((((D1 * q + D2) * q + D3) * q + D4) * q + 1);
  }
  // Halley step; use the upper tail form for x > 0 so that 1 − p is not formed by cancellation.
  const e = x <= 0 ? normalCdf(x) - p : (1 - p) - normalCdf(-x); // = Φ(x) − p either way
  const u = e * SQRT_2PI * Math.exp(0.5 * x * x);
  return x - u / (1 + 0.5 * x * u);
}
