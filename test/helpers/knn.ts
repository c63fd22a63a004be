/**
 * Nonparametric KL estimation for the tests (independent of src/): exact k-nearest-neighbour
 * distances with a k-d tree, and the Kozachenko–Leonenko entropy estimator.
 */
export class KdTree {
  private readonly pts: Float64Array; private readonly d: number; private readonly idx: Int32Array;
  private readonly lo: Int32Array; private readonly hi: Int32Array; private readonly axis: Int32Array; private readonly split: Float64Array;
  private readonly left: Int32Array; private readonly right: Int32Array; private nodes = 0;
  constructor(pts: Float64Array, n: number, d: number, leaf = 8) {
    this.pts = pts; this.d = d; this.idx = Int32Array.from({ length: n }, (_, i) => i);
    const cap = 2 * Math.ceil(n / leaf) * 2 + 4;
    this.lo = new Int32Array(cap); this.hi = new Int32Array(cap); this.axis = new Int32Array(cap); this.split = new Float64Array(cap);
    this.left = new Int32Array(cap).fill(-1); this.right = new Int32Array(cap).fill(-1);
    this.build(0, n, 0, leaf);
  }
  private build(a: number, b: number, depth: number, leaf: number): number {
    const id = this.nodes++;
    this.lo[id] = a; this.hi[id] = b;
    if (b - a <= leaf) return id;
    const { pts, d, idx } = this;
    // axis of largest spread
    let best = 0, spread = -1;
    for (let c = 0; c < d; c++) {
      let mn = Infinity, mx = -Infinity;
      for (let i = a; i < b; i++) { const v = pts[idx[i] * d + c]; if (v < mn) mn = v; if (v > mx) mx = v; }
      if (mx - mn > spread) { spread = mx - mn; best = c; }
    }
    const sub = Array.from(idx.subarray(a, b)).sort((x, y) => pts[x * d + best] - pts[y * d + best]);
    idx.set(sub, a);
    const m = (a + b) >> 1;
    this.axis[id] = best; this.split[id] = pts[idx[m] * d + best];
    this.left[id] = this.build(a, m, depth + 1, leaf);
    this.right[id] = this.build(m, b, depth + 1, leaf);
    return id;
  }
  /** Squared distance from q (d entries at qo of Q) to its k-th nearest point, skipping point index `skip`. */
  kth2(Q: Float64Array, qo: number, k: number, skip: number, best: Float64Array): number {
    best.fill(Infinity, 0, k);
    this.search(0, Q, qo, k, skip, best);
    return best[k - 1];
  }
  private search(id: number, Q: Float64Array, qo: number, k: number, skip: number, best: Float64Array): void {
    const { pts, d, idx } = this;
    if (this.left[id] < 0) {
      for (let i = this.lo[id]; i < this.hi[id]; i++) {
        const j = idx[i];
        if (j === skip) continue;
        let s = 0;
        for (let c = 0; c < d; c++) { const t = Q[qo + c] - pts[j * d + c]; s += t * t; }
        if (s < best[k - 1]) { let p = k - 1; while (p > 0 && best[p - 1] > s) { best[p] = best[p - 1]; p--; } best[p] = s; }
      }
      return;
    }
    const diff = Q[qo + this.axis[id]] - this.split[id];
    const [near, far] = diff < 0 ? [this.left[id], this.right[id]] : [this.right[id], this.left[id]];
    this.search(near, Q, qo, k, skip, best);
    if (diff * diff < best[k - 1]) this.search(far, Q, qo, k, skip, best);
  }
}
/** log of the k-th NN distance of every point of X (n × d) within X itself. */
export function logKthSelf(X: Float64Array, n: number, d: number, k: number): Float64Array {
  const t = new KdTree(X, n, d); const best = new Float64Array(k); const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = 0.5 * Math.log(t.kth2(X, i * d, k, i, best));
  return out;
}

/**
 * KL(P ‖ N(0, I_d)) from samples z_i = T(ξ_i) of P with the standard normal ξ_i they were
 * drawn from: KL = −H(P) − E_P[log q] with H(P) by the Kozachenko–Leonenko k-NN estimator
 * Ĥ = ψ(n) − ψ(k) + log V_d + (d/n) Σ log ρ_k(i). The same estimator on the ξ_i (whose KL is 0)
 * is subtracted: the constants cancel and so does most of the k-NN bias and noise, since the
 * two samples are coupled point by point.
 */
export function knnKlToNormal(z: Float64Array, xi: Float64Array, n: number, d: number, k = 4): number {
  const lz = logKthSelf(z, n, d, k), lx = logKthSelf(xi, n, d, k);
  let s = 0, q = 0;
  for (let i = 0; i < n; i++) {
    s += lz[i] - lx[i];
    for (let c = 0; c < d; c++) q += z[i * d + c] ** 2 - xi[i * d + c] ** 2;
  }
  return -(d / n) * s + q / (2 * n);
}
