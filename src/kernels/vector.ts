/** Unit-local vector kernels (particle Mean ODE, chaos twins, skeleton). */

/**
 * Σ_{d<D} a[ao+d]·b[bo+d], unrolled by 4 with the fixed summation order
 * ((s0 + s1) + (s2 + s3)): the unit-local dot product of the particle Mean ODE
 * and of the chaos twins (small enough for V8 to inline).
 */
export function dot(a: Float64Array, ao: number, b: Float64Array, bo: number, D: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, d = 0;
  for (; d + 3 < D; d += 4) {
    s0 += a[ao + d] * b[bo + d];
    s1 += a[ao + d + 1] * b[bo + d + 1];
    s2 += a[ao + d + 2] * b[bo + d + 2];
    s3 += a[ao + d + 3] * b[bo + d + 3];
  }
  for (; d < D; d++) s0 += a[ao + d] * b[bo + d];
  return (s0 + s1) + (s2 + s3);
}

/** y[yo + d] += w · x[xo + d] for d < D (unrolled by 4). */
export function axpy(w: number, x: Float64Array, xo: number, y: Float64Array, yo: number, D: number): void {
  let d = 0;
  for (; d + 3 < D; d += 4) {
    y[yo + d] += w * x[xo + d];
    y[yo + d + 1] += w * x[xo + d + 1];
    y[yo + d + 2] += w * x[xo + d + 2];
    y[yo + d + 3] += w * x[xo + d + 3];
  }
  for (; d < D; d++) y[yo + d] += w * x[xo + d];
}
