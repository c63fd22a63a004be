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

/**
 * out[oo + i] = Σ_{a<m} c[co + a] · x[xo + a·stride + i] for i < n: a linear combination of m rows
 * of a row-major block, four rows per pass over i (no zero fill, ⌈m/4⌉ passes instead of m + 1);
 * with `add`, out += the combination.
 */
export function lincomb(c: ArrayLike<number>, co: number, m: number, x: Float64Array, xo: number, stride: number, out: Float64Array, oo: number, n: number, add = false): void {
  let a = 0;
  let first = !add;
  for (; a < m; a += 4) {
    const left = m - a, base = xo + a * stride;
    if (left >= 4) {
      const c0 = c[co + a], c1 = c[co + a + 1], c2 = c[co + a + 2], c3 = c[co + a + 3];
      const o1 = base + stride, o2 = o1 + stride, o3 = o2 + stride;
      if (first) for (let i = 0; i < n; i++) out[oo + i] = c0 * x[base + i] + c1 * x[o1 + i] + c2 * x[o2 + i] + c3 * x[o3 + i];
      else for (let i = 0; i < n; i++) out[oo + i] += c0 * x[base + i] + c1 * x[o1 + i] + c2 * x[o2 + i] + c3 * x[o3 + i];
    } else if (left === 3) {
      const c0 = c[co + a], c1 = c[co + a + 1], c2 = c[co + a + 2];
      const o1 = base + stride, o2 = o1 + stride;
      if (first) for (let i = 0; i < n; i++) out[oo + i] = c0 * x[base + i] + c1 * x[o1 + i] + c2 * x[o2 + i];
      else for (let i = 0; i < n; i++) out[oo + i] += c0 * x[base + i] + c1 * x[o1 + i] + c2 * x[o2 + i];
    } else if (left === 2) {
      const c0 = c[co + a], c1 = c[co + a + 1], o1 = base + stride;
      if (first) for (let i = 0; i < n; i++) out[oo + i] = c0 * x[base + i] + c1 * x[o1 + i];
      else for (let i = 0; i < n; i++) out[oo + i] += c0 * x[base + i] + c1 * x[o1 + i];
    } else {
      const c0 = c[co + a];
      if (first) for (let i = 0; i < n; i++) out[oo + i] = c0 * x[base + i];
      else for (let i = 0; i < n; i++) out[oo + i] += c0 * x[base + i];
    }
    first = false;
  }
  if (first && m === 0) out.fill(0, oo, oo + n);
}

/**
 * out[outo + b] = Σ_{i<n} v[vo + i] · x[xo + b·stride + i] for b < m: m dot products of one vector
 * with m rows, four rows per pass (three in the last pass when m ≡ 3 mod 4; each dot summed in
 * index order, so the grouping changes no bit).
 */
export function multiDot(v: Float64Array, vo: number, x: Float64Array, xo: number, stride: number, m: number, n: number, out: Float64Array | number[], outo: number): void {
  let b = 0;
  for (; b + 3 < m; b += 4) {
    const o0 = xo + b * stride, o1 = o0 + stride, o2 = o1 + stride, o3 = o2 + stride;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let i = 0; i < n; i++) {
      const vi = v[vo + i];
      s0 += vi * x[o0 + i]; s1 += vi * x[o1 + i]; s2 += vi * x[o2 + i]; s3 += vi * x[o3 + i];
    }
    out[outo + b] = s0; out[outo + b + 1] = s1; out[outo + b + 2] = s2; out[outo + b + 3] = s3;
  }
  if (m - b === 3) {
    const o0 = xo + b * stride, o1 = o0 + stride, o2 = o1 + stride;
    let s0 = 0, s1 = 0, s2 = 0;
    for (let i = 0; i < n; i++) { const vi = v[vo + i]; s0 += vi * x[o0 + i]; s1 += vi * x[o1 + i]; s2 += vi * x[o2 + i]; }
    out[outo + b] = s0; out[outo + b + 1] = s1; out[outo + b + 2] = s2;
    return;
  }
  if (m - b >= 2) {
    const o0 = xo + b * stride, o1 = o0 + stride;
    let s0 = 0, s1 = 0;
    for (let i = 0; i < n; i++) { const vi = v[vo + i]; s0 += vi * x[o0 + i]; s1 += vi * x[o1 + i]; }
    out[outo + b] = s0; out[outo + b + 1] = s1;
    b += 2;
  }
  if (b < m) {
    const o0 = xo + b * stride;
    let s0 = 0;
    for (let i = 0; i < n; i++) s0 += v[vo + i] * x[o0 + i];
    out[outo + b] = s0;
  }
}
