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

/**
 * Observed order of a discretisation: errors error(S) over a ladder of step
 * counts S, and the least-squares slope of log error against log(1/S). Every
 * error must stay above `floor` (a ladder reaching round-off, or a reference
 * no finer than the ladder, would fake the order).
 */
export function convergenceOrder(steps: number[], error: (S: number) => number, floor = 1e-13): { order: number; errors: number[] } {
  const errors = steps.map(error);
  errors.forEach((e, i) => assert.ok(Number.isFinite(e) && e > floor, `error ${e} at S = ${steps[i]} is at round-off (or not finite): the ladder is too fine or the reference too coarse`));
  return { order: slope(steps.map((S) => 1 / S), errors), errors };
}

/** convergenceOrder, asserting |order − expected| ≤ tol; returns the errors. */
export function assertOrder(what: string, steps: number[], error: (S: number) => number, expected: number, tol = 0.3, floor?: number): number[] {
  const { order, errors } = convergenceOrder(steps, error, floor);
  if (process.env.SHOW_ORDERS) console.log(what, order.toFixed(3), errors.map((e) => e.toExponential(2)).join(", "));
  assert.ok(Math.abs(order - expected) <= tol, `${what}: fitted order ${order.toFixed(3)}, expected ${expected} ± ${tol} (errors ${errors.map((e) => e.toExponential(2)).join(", ")})`);
  return errors;
}
