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

/**
 * Inverse standard normal CDF Φ⁻¹(p), p ∈ (0,1): Wichura's algorithm AS 241 (PPND16, Applied
 * Statistics 37, 1988): rational approximations of degree 7/7 in three ranges, relative error
 * ≈ 1e-16, no refinement step. (It replaced Acklam's approximation plus a Halley step on erfc,
 * which cost an erfc and an exp per point: 7% of a factor solve).
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return -Infinity;
    if (p === 1) return Infinity;
    return NaN;
  }
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * (((((((2509.0809287301226727 * r + 33430.575583588128105) * r + 67265.770927008700853) * r + 45921.953931549871457) * r
      + 13731.693765509461125) * r + 1971.5909503065514427) * r + 133.14166789178437745) * r + 3.387132872796366608))
      / (((((((5226.495278852854561 * r + 28729.085735721942674) * r + 39307.89580009271061) * r + 21213.794301586595867) * r
        + 5394.1960214247511077) * r + 687.1870074920579083) * r + 42.313330701600911252) * r + 1);
  }
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let x: number;
  if (r <= 5) {
    r -= 1.6;
    x = (((((((7.7454501427834140764e-4 * r + 0.0227238449892691845833) * r + 0.24178072517745061177) * r + 1.27045825245236838258) * r
      + 3.64784832476320460504) * r + 5.7694972214606914055) * r + 4.6303378461565452959) * r + 1.42343711074968357734)
      / (((((((1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r + 0.0151986665636164571966) * r + 0.14810397642748007459) * r
        + 0.68976733498510000455) * r + 1.6763848301838038494) * r + 2.05319162663775882187) * r + 1);
  } else {
    r -= 5;
    x = (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r + 0.0012426609473880784386) * r + 0.026532189526576123093) * r
      + 0.29656057182850489123) * r + 1.7848265399172913358) * r + 5.4637849111641143699) * r + 6.6579046435011037772)
      / (((((((2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r + 1.8463183175100546818e-5) * r + 7.868691311456132591e-4) * r
        + 0.0148753612908506148525) * r + 0.13692988092273580531) * r + 0.59983220655588793769) * r + 1);
  }
  return q < 0 ? -x : x;
}
