/**
 * Small dense symmetric linear algebra for the skeleton expectations (MATH §3):
 * a cyclic Jacobi eigensolver and the symmetric eigen square root with
 * eigenvalues clipped at 0. All routines work in caller-provided buffers
 * (row-major n×n Float64Arrays) so the hot path allocates nothing.
 *
 * Why Jacobi and not ml-matrix: the matrices are tiny (n ≤ ~40) and there are
 * thousands of calls per solve. Measured on the (loaded) development machine for
 * n = 10: ≈ 40 µs per square root here against ≈ 53 µs via ml-matrix's
 * EigenvalueDecomposition + two products (which also allocate); either is < 1% of
 * a coefficient call. The tests check both agree.
 */

/** Reusable buffers for symEigen / symSqrtPsd of size n. */
export class EigenWorkspace {
  readonly n: number;
  readonly a: Float64Array;
  readonly v: Float64Array;
  readonly w: Float64Array;
  /** Smallest / largest eigenvalue (before clipping) of the last symSqrtPsd call. */
  minEig = 0;
  maxEig = 0;
  constructor(n: number) {
    this.n = n;
    this.a = new Float64Array(n * n);
    this.v = new Float64Array(n * n);
    this.w = new Float64Array(n);
  }
}

/**
 * Eigen-decomposition of the symmetric part of `A` (n×n, row-major; not modified):
 * on return ws.w holds the eigenvalues and the columns of ws.v the orthonormal
 * eigenvectors (A ≈ V diag(w) Vᵀ). Cyclic Jacobi with the classical rotation;
 * converges quadratically, accurate to a few ulps of ‖A‖.
 */
export function symEigen(A: ArrayLike<number>, ws: EigenWorkspace, scale = 1): void {
  const n = ws.n, a = ws.a, v = ws.v, w = ws.w;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) a[i * n + j] = 0.5 * scale * (A[i * n + j] + A[j * n + i]);
  }
  v.fill(0);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let norm2 = 0;
  for (let i = 0; i < n * n; i++) norm2 += a[i] * a[i];
  const tol = 1e-30 * norm2;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] * a[p * n + q];
    if (off <= tol || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        const app = a[p * n + p], aqq = a[q * n + q];
        const theta = (aqq - app) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        // A ← Pᵀ A P with P = I except P_pp = P_qq = c, P_pq = s, P_qp = −s
        for (let r = 0; r < n; r++) {
          const arp = a[r * n + p], arq = a[r * n + q];
          a[r * n + p] = c * arp - s * arq;
          a[r * n + q] = s * arp + c * arq;
        }
        for (let r = 0; r < n; r++) {
          const apr = a[p * n + r], aqr = a[q * n + r];
          a[p * n + r] = c * apr - s * aqr;
          a[q * n + r] = s * apr + c * aqr;
        }
        a[p * n + q] = 0; a[q * n + p] = 0;
        for (let r = 0; r < n; r++) {
          const vrp = v[r * n + p], vrq = v[r * n + q];
          v[r * n + p] = c * vrp - s * vrq;
          v[r * n + q] = s * vrp + c * vrq;
        }
      }
    }
  }
  for (let i = 0; i < n; i++) w[i] = a[i * n + i];
}

/**
 * R = (scale·A)^{1/2}: the symmetric positive semi-definite square root of the
 * symmetric part of scale·A, eigenvalues clipped at 0 (MATH §3), written to `R`
 * (n×n row-major). R is unique, symmetric, continuous in A (‖ΔR‖ ≤ ‖ΔA‖^{1/2}
 * in operator norm for PSD A), and R R = A whenever A is PSD.
 * Returns the smallest eigenvalue before clipping (for the PSD check of callers).
 */
export function symSqrtPsd(A: ArrayLike<number>, R: Float64Array, ws: EigenWorkspace, scale = 1): number {
  const n = ws.n;
  symEigen(A, ws, scale);
  const v = ws.v, w = ws.w;
  let minEig = Infinity, maxEig = -Infinity;
  for (let i = 0; i < n; i++) {
    if (w[i] < minEig) minEig = w[i];
    if (w[i] > maxEig) maxEig = w[i];
    w[i] = w[i] > 0 ? Math.sqrt(w[i]) : 0;
  }
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let acc = 0;
      for (let l = 0; l < n; l++) acc += v[i * n + l] * w[l] * v[j * n + l];
      R[i * n + j] = acc;
      R[j * n + i] = acc;
    }
  }
  ws.minEig = n === 0 ? 0 : minEig;
  ws.maxEig = n === 0 ? 0 : maxEig;
  return ws.minEig;
}
