/** Small numeric helpers shared by the tests (independent of the library's own fitting code). */
import assert from "node:assert/strict";

/** max_i |a_i − b_i| (asserts equal lengths). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** max_i |a_i|. */
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Root mean square of a − b. */
export function rmsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s / a.length);
}

/** Least-squares slope of log y against log x. */
export function slope(x: number[], y: number[]): number {
  const lx = x.map(Math.log), ly = y.map(Math.log);
  const mx = lx.reduce((a, b) => a + b) / lx.length, my = ly.reduce((a, b) => a + b) / ly.length;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < lx.length; i++) {
    sxy += (lx[i] - mx) * (ly[i] - my);
    sxx += (lx[i] - mx) ** 2;
  }
  return sxy / sxx;
}

/** Normal CDF by Marsaglia's (2004) Taylor series: absolute error ~1e-16 for |x| < 8 (independent of src/). */
export function normalCdfRef(x: number): number {
  if (x < -8) return 0;
  if (x > 8) return 1;
  let s = x, t = x, i = 1;
  const x2 = x * x;
  for (let k = 0; k < 1000; k++) {
    i += 2;
    t *= x2 / i;
    const prev = s;
    s += t;
    if (s === prev) break;
  }
  return 0.5 + s * Math.exp(-0.5 * x2 - 0.91893853320467274178);
}
