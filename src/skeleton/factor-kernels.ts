/**
 * Fused per-sample kernels of the factor-form fields (factor.ts) for r ≤ 4 and equal weights:
 * one pass over the samples instead of three (linear combination, pointwise map, dot products),
 * with no sample-length temporaries in between. Each computes exactly the expressions of the
 * unfused path (kernels/vector.ts lincomb, the pointwise loop, multiDot), in the same order, so
 * the results are the same bits (test/skeleton-factor.test.ts compares the two paths).
 *
 * Layout (factor.ts): row a of a block is x[o + a·n … o + a·n + n).
 */
import { fastTanh } from "../core/fastmath.ts";

/**
 * Forward field of one coefficient vector c (r ≤ 4), tanh: p_i = Σ_a c_a wu_a[i], s_i = tanh p_i
 * (stored at s[so + i]), acc_b = Σ_i s_i wv_b[i] (b < r). Returns false when some p_i is not
 * finite (the caller reports the divergence).
 */
export function tanhForward(c: Float64Array, co: number, r: number, w: Float64Array, uo: number, vo: number, n: number, s: Float64Array, so: number, acc: Float64Array): boolean {
  let bad = 0;
  const u0 = uo, u1 = uo + n, u2 = uo + 2 * n, u3 = uo + 3 * n;
  const v0 = vo, v1 = vo + n, v2 = vo + 2 * n, v3 = vo + 3 * n;
  switch (r) {
    case 4: {
      const c0 = c[co], c1 = c[co + 1], c2 = c[co + 2], c3 = c[co + 3];
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      for (let i = 0; i < n; i++) {
        const p = c0 * w[u0 + i] + c1 * w[u1 + i] + c2 * w[u2 + i] + c3 * w[u3 + i];
        if (p - p !== 0) bad++;
        const t = fastTanh(p);
        s[so + i] = t;
        a0 += t * w[v0 + i]; a1 += t * w[v1 + i]; a2 += t * w[v2 + i]; a3 += t * w[v3 + i];
      }
      acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
      break;
    }
    case 3: {
      const c0 = c[co], c1 = c[co + 1], c2 = c[co + 2];
      let a0 = 0, a1 = 0, a2 = 0;
      for (let i = 0; i < n; i++) {
        const p = c0 * w[u0 + i] + c1 * w[u1 + i] + c2 * w[u2 + i];
        if (p - p !== 0) bad++;
        const t = fastTanh(p);
        s[so + i] = t;
        a0 += t * w[v0 + i]; a1 += t * w[v1 + i]; a2 += t * w[v2 + i];
      }
      acc[0] = a0; acc[1] = a1; acc[2] = a2;
      break;
    }
    case 2: {
      const c0 = c[co], c1 = c[co + 1];
      let a0 = 0, a1 = 0;
      for (let i = 0; i < n; i++) {
        const p = c0 * w[u0 + i] + c1 * w[u1 + i];
        if (p - p !== 0) bad++;
        const t = fastTanh(p);
        s[so + i] = t;
        a0 += t * w[v0 + i]; a1 += t * w[v1 + i];
      }
      acc[0] = a0; acc[1] = a1;
      break;
    }
    case 1: {
      const c0 = c[co];
      let a0 = 0;
      for (let i = 0; i < n; i++) {
        const p = c0 * w[u0 + i];
        if (p - p !== 0) bad++;
        const t = fastTanh(p);
        s[so + i] = t;
        a0 += t * w[v0 + i];
      }
      acc[0] = a0;
      break;
    }
    default: throw new RangeError(`tanhForward: r = ${r} > 4`);
  }
  return bad === 0;
}

/**
 * Backward field of one adjoint vector c (r ≤ 4), any σ: q_i = Σ_a c_a wv_a[i],
 * g_i = σ'(p_i) q_i (σ'(p) at d[do_ + i]), acc_b = Σ_i g_i wu_b[i] (b < r).
 */
export function adjointBackward(c: Float64Array, co: number, r: number, w: Float64Array, vo: number, uo: number, d: Float64Array, do_: number, n: number, acc: Float64Array): void {
  const u0 = uo, u1 = uo + n, u2 = uo + 2 * n, u3 = uo + 3 * n;
  const v0 = vo, v1 = vo + n, v2 = vo + 2 * n, v3 = vo + 3 * n;
  switch (r) {
    case 4: {
      const c0 = c[co], c1 = c[co + 1], c2 = c[co + 2], c3 = c[co + 3];
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      for (let i = 0; i < n; i++) {
        const g = d[do_ + i] * (c0 * w[v0 + i] + c1 * w[v1 + i] + c2 * w[v2 + i] + c3 * w[v3 + i]);
        a0 += g * w[u0 + i]; a1 += g * w[u1 + i]; a2 += g * w[u2 + i]; a3 += g * w[u3 + i];
      }
      acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
      return;
    }
    case 3: {
      const c0 = c[co], c1 = c[co + 1], c2 = c[co + 2];
      let a0 = 0, a1 = 0, a2 = 0;
      for (let i = 0; i < n; i++) {
        const g = d[do_ + i] * (c0 * w[v0 + i] + c1 * w[v1 + i] + c2 * w[v2 + i]);
        a0 += g * w[u0 + i]; a1 += g * w[u1 + i]; a2 += g * w[u2 + i];
      }
      acc[0] = a0; acc[1] = a1; acc[2] = a2;
      return;
    }
    case 2: {
      const c0 = c[co], c1 = c[co + 1];
      let a0 = 0, a1 = 0;
      for (let i = 0; i < n; i++) {
        const g = d[do_ + i] * (c0 * w[v0 + i] + c1 * w[v1 + i]);
        a0 += g * w[u0 + i]; a1 += g * w[u1 + i];
      }
      acc[0] = a0; acc[1] = a1;
      return;
    }
    case 1: {
      const c0 = c[co];
      let a0 = 0;
      for (let i = 0; i < n; i++) {
        const g = d[do_ + i] * (c0 * w[v0 + i]);
        a0 += g * w[u0 + i];
      }
      acc[0] = a0;
      return;
    }
    default: throw new RangeError(`adjointBackward: r = ${r} > 4`);
  }
}
