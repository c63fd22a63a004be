/**
 * The skeleton Mean ODE in coefficient coordinates (MATH §3, "Cost
 * independent of D"): every h_{k,n}(s), b_{k,n}(s) lies in the span of the
 * columns of W = [W_E W_U] (D × r, r = d_in + d_out),
 *
 *   h_{k,n}(s) = W c^h_{k,n}(s),   b_{k,n}(s) = W c^b_{k,n}(s),
 *
 * and the closed linear system of MATH §3 holds for the coefficient vectors:
 *
 *   ∂_s c^h_{k,n} = Σ_{j<k} Σ_m C^H_{(k,n),(j,m)}(s) c^b_{j,m}(s),   c^h_{k,n}(0) = (x_n, 0)
 *   ∂_s c^b_{k,n} = Σ_{j≤k} Σ_m C^B_{(k,n),(j,m)}(s) c^h_{j,m}(s),   c^b_{k,n}(1) = (0, f_{k,n} − y_n)
 *   f_{k,n} = E_{out,·} c^h_{k,n}(1)
 *
 * with every Gram matrix a quadratic form through the embedding Gram matrix
 * E = Wᵀ W / D (r × r): Γ^H_{aa'} = c^h_a · E c^h_{a'}, Γ^B likewise.
 * The solver only sees E: finite D (E from W_E, W_U) and the DMFT limit
 * (E = diag(σ_in² I, σ_out² I), MATH §5) are the same code.
 *
 * The coefficients C^H, C^B at each stage come from a CoefficientProvider
 * (skeleton maps + a Gaussian expectation engine, src/skeleton/).
 */
import { DivergenceError, ValidationError } from "../core/errors.ts";
import { DepthGrid, IntegratorWorkspace } from "../depth/grid.ts";
import { integrate } from "../depth/integrate.ts";
import { EigenWorkspace, symSqrtPsd } from "./linalg.ts";
import { reportProgress } from "../core/progress.ts";

/** Coefficients of the linear depth system at one depth stage (MATH §3). */
export interface CoefficientProvider {
  /**
   * C^H (N × kN, row n, column j·N + m) of step k ≥ 1 from Γ^H ((k+1)N square,
   * index j·N + m, j ≤ k) and Γ^B (kN square, j < k). `factors` holds exact
   * square-root factors of the two Grams in coefficient coordinates
   * (row a = E^{1/2} c_a, r columns): Γ = F Fᵀ.
   */
  forward(k: number, GH: Float64Array, GB: Float64Array, out: Float64Array, factors: GramFactors): void;
  /** C^B (N × (k+1)N) of step k ≥ 1 from Γ^H and Γ^B (both (k+1)N square, j ≤ k). */
  backward(k: number, GH: Float64Array, GB: Float64Array, out: Float64Array, factors: GramFactors): void;
}

/** Square-root factors of Γ^H (FH: dimH × r) and Γ^B (FB: dimB × r), row-major. */
export interface GramFactors {
  FH: Float64Array;
  FB: Float64Array;
  r: number;
}

export interface SkeletonCoreInput {
  /** d_in × N inputs and d_out × N targets (row-major). */
  X: Float64Array; Y: Float64Array; dIn: number; dOut: number; N: number;
  /** Number of recorded GD steps K. */
  K: number;
  /** Embedding Gram matrix E (r × r, r = d_in + d_out). */
  E: Float64Array;
  grid: DepthGrid;
  provider: CoefficientProvider;
}

export interface SkeletonCoreResult {
  /** f[k][o][n], K × d_out × N. */
  f: Float64Array;
  loss: Float64Array;
  /** Coefficient vectors c^h, c^b: K × nodes × N × r (node-major per step). */
  ch: Float64Array;
  cb: Float64Array;
  r: number;
  nodes: number;
  /** Number of coefficient evaluations (forward + backward stages). */
  evaluations: number;
}

/** Solve K GD steps of the skeleton Mean ODE in coefficient coordinates. */
export function solveSkeletonCore(inp: SkeletonCoreInput): SkeletonCoreResult {
  const { X, Y, dIn, dOut, N, K, E, grid, provider } = inp;
  const r = dIn + dOut;
  if (E.length !== r * r) throw new ValidationError("E", `has length ${E.length} but (d_in + d_out)² = ${r * r} was expected`);
  const nodes = grid.nodes;
  const per = nodes * N * r; // one step's profile
  const ch = new Float64Array(K * per);
  const cb = new Float64Array(K * per);
  const Ech = new Float64Array(K * per); // E c^h, for Gram entries c·Ec
  const Ecb = new Float64Array(K * per);
  // E^{1/2} c (square-root factors of the Grams: Γ_{aa'} = (E^{1/2}c_a)·(E^{1/2}c_{a'}))
  const Eh = symmetricSqrt(E, r);
  const Hch = new Float64Array(K * per);
  const Hcb = new Float64Array(K * per);
  const f = new Float64Array(K * dOut * N);
  const loss = new Float64Array(K);
  const n = N * r;
  const ws = new IntegratorWorkspace(n);
  const Ey = new Float64Array(n);
  const maxDim = K * N;
  const GH = new Float64Array(maxDim * maxDim);
  const GB = new Float64Array(maxDim * maxDim);
  const C = new Float64Array(N * maxDim);
  const y0 = new Float64Array(n);
  const Hy = new Float64Array(n);
  const FH = new Float64Array(maxDim * r), FB = new Float64Array(maxDim * r);
  const factors: GramFactors = { FH, FB, r };
  /** Factor rows over (j, m), j < jMax, from stored E^{1/2}c (own step from Hy). */
  const factorRows = (F: Float64Array, dim: number, Hc: Float64Array, node: number, own: number) => {
    for (let a = 0; a < dim; a++) {
      const ja = (a / N) | 0, ma = a - ja * N;
      if (ja === own) for (let t = 0; t < r; t++) F[a * r + t] = Hy[ma * r + t];
      else {
        const o = ja * per + node * N * r + ma * r;
        for (let t = 0; t < r; t++) F[a * r + t] = Hc[o + t];
      }
    }
  };
  const applyM = (Mx: Float64Array, src: Float64Array, so: number, dst: Float64Array, dOff: number) => {
    for (let a = 0; a < r; a++) {
      let s2 = 0;
      for (let b = 0; b < r; b++) s2 += Mx[a * r + b] * src[so + b];
      dst[dOff + a] = s2;
    }
  };
  let evaluations = 0;

  const applyE = (src: Float64Array, so: number, dst: Float64Array, dOff: number) => {
    for (let a = 0; a < r; a++) {
      let s = 0;
      for (let b = 0; b < r; b++) s += E[a * r + b] * src[so + b];
      dst[dOff + a] = s;
    }
  };
  const dot = (x: Float64Array, xo: number, y: Float64Array, yo: number) => {
    let s = 0;
    for (let t = 0; t < r; t++) s += x[xo + t] * y[yo + t];
    return s;
  };
  /**
   * Gram matrix over indices (j, m), j < jMax, at `node` from stored profiles
   * (c, Ec), with step `own` (if ≥ 0) taken from the own state y / Ey instead.
   */
  const gram = (G: Float64Array, dim: number, c: Float64Array, Ec: Float64Array, node: number, own: number, y: Float64Array | null) => {
    for (let a = 0; a < dim; a++) {
      const ja = (a / N) | 0, ma = a - ja * N;
      const aOwn = ja === own;
      const ca = aOwn ? y! : c, oa = aOwn ? ma * r : ja * per + node * N * r + ma * r;
      for (let b = a; b < dim; b++) {
        const jb = (b / N) | 0, mb = b - jb * N;
        const bOwn = jb === own;
        const Eb = bOwn ? Ey : Ec, ob = bOwn ? mb * r : jb * per + node * N * r + mb * r;
        const v = dot(ca, oa, Eb, ob);
        G[a * dim + b] = v;
        G[b * dim + a] = v;
      }
    }
  };

  for (let k = 0; k < K; k++) {
    const base = k * per;
    // ---- forward solve of c^h_k
    for (let m = 0; m < N; m++) {
      for (let i = 0; i < dIn; i++) y0[m * r + i] = X[i * N + m];
      for (let o = 0; o < dOut; o++) y0[m * r + dIn + o] = 0;
    }
    const hOut = ch.subarray(base, base + per);
    if (k === 0) {
      for (let node = 0; node < nodes; node++) hOut.set(y0, node * n);
    } else {
      const dimH = (k + 1) * N, dimB = k * N;
      integrate(grid, 1, n, y0, (y, slot, dy) => {
        const hNode = grid.hNode(slot), bNode = grid.bNode(slot);
        for (let m = 0; m < N; m++) { applyE(y, m * r, Ey, m * r); applyM(Eh, y, m * r, Hy, m * r); }
        gram(GH, dimH, ch, Ech, hNode, k, y);
        gram(GB, dimB, cb, Ecb, bNode, -1, null);
        factorRows(FH, dimH, Hch, hNode, k);
        factorRows(FB, dimB, Hcb, bNode, -1);
        provider.forward(k, GH.subarray(0, dimH * dimH), GB.subarray(0, dimB * dimB), C, factors);
        evaluations++;
        dy.fill(0);
        for (let nn = 0; nn < N; nn++)
          for (let a = 0; a < dimB; a++) {
            const w = C[nn * dimB + a];
            if (w === 0) continue;
            const ja = (a / N) | 0, ma = a - ja * N;
            const o = ja * per + bNode * N * r + ma * r;
            for (let t = 0; t < r; t++) dy[nn * r + t] += w * cb[o + t];
          }
      }, hOut, ws);
    }
    for (let node = 0; node < nodes; node++)
      for (let m = 0; m < N; m++) {
        applyE(ch, base + node * n + m * r, Ech, base + node * n + m * r);
        applyM(Eh, ch, base + node * n + m * r, Hch, base + node * n + m * r);
      }
    // ---- outputs f_{k,n} = E_{out,·} c^h_{k,n}(1) and the loss
    const last = base + (nodes - 1) * n;
    let l = 0;
    for (let m = 0; m < N; m++)
      for (let o = 0; o < dOut; o++) {
        const v = Ech[last + m * r + dIn + o];
        f[k * dOut * N + o * N + m] = v;
        const res = v - Y[o * N + m];
        l += res * res;
        y0[m * r + dIn + o] = res; // c^b_{k,m}(1) = (0, f − y)
      }
    for (let m = 0; m < N; m++) for (let i = 0; i < dIn; i++) y0[m * r + i] = 0;
    loss[k] = (0.5 * l) / N;
    if (!Number.isFinite(loss[k])) throw new DivergenceError(k, "loss", `loss = ${loss[k]}`);
    // ---- backward solve of c^b_k
    const bOut = cb.subarray(base, base + per);
    if (k === 0) {
      for (let node = 0; node < nodes; node++) bOut.set(y0, node * n);
    } else {
      const dim = (k + 1) * N;
      integrate(grid, -1, n, y0, (y, slot, dy) => {
        const hNode = grid.hNode(slot), bNode = grid.bNode(slot);
        for (let m = 0; m < N; m++) { applyE(y, m * r, Ey, m * r); applyM(Eh, y, m * r, Hy, m * r); }
        gram(GH, dim, ch, Ech, hNode, -1, null);
        gram(GB, dim, cb, Ecb, bNode, k, y);
        factorRows(FH, dim, Hch, hNode, -1);
        factorRows(FB, dim, Hcb, bNode, k);
        provider.backward(k, GH.subarray(0, dim * dim), GB.subarray(0, dim * dim), C, factors);
        evaluations++;
        dy.fill(0);
        for (let nn = 0; nn < N; nn++)
          for (let a = 0; a < dim; a++) {
            const w = C[nn * dim + a];
            if (w === 0) continue;
            const ja = (a / N) | 0, ma = a - ja * N;
            const o = ja * per + hNode * N * r + ma * r;
            for (let t = 0; t < r; t++) dy[nn * r + t] += w * ch[o + t];
          }
      }, bOut, ws);
    }
    for (let node = 0; node < nodes; node++)
      for (let m = 0; m < N; m++) {
        applyE(cb, base + node * n + m * r, Ecb, base + node * n + m * r);
        applyM(Eh, cb, base + node * n + m * r, Hcb, base + node * n + m * r);
      }
    for (let i = 0; i < per; i++) {
      if (!Number.isFinite(cb[base + i]) || !Number.isFinite(ch[base + i])) throw new DivergenceError(k, "depth profiles h, b", `non-finite coefficient`);
    }
    reportProgress(k + 1, K, "GD steps (skeleton: Mean ODE, DMFT, large-M limit)");
  }
  return { f, loss, ch, cb, r, nodes, evaluations };
}

/** Symmetric square root of the PSD r × r matrix E (eigenvalues clipped at 0). */
function symmetricSqrt(E: Float64Array, r: number): Float64Array {
  const out = new Float64Array(r * r);
  symSqrtPsd(E, out, new EigenWorkspace(r), 1);
  return out;
}
