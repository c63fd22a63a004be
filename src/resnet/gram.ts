/**
 * The tangent Gram matrix of the finite ResNet (MATH §8) and its test-point
 * forward pass. Both run after `ResNetEngine.forward()` and before the update,
 * on the calling thread, reading the engine's arrays (H, Sig, dSig of every
 * layer, the current weights); the training step itself is not touched.
 *
 * Per-output adjoints: b^(o)_L = W_U e_o for every data point, and the
 * backward recursion of §1 with the weights fixed,
 *   q^(o)_ℓ = V_ℓᵀ b^(o)_ℓ / D,   b^(o)_{ℓ−1} = b^(o)_ℓ + (α/(LM)) U_ℓ (σ′(p_ℓ) ⊙ q^(o)_ℓ).
 * With the endpoint convention of the finite model (h at the left of layer ℓ,
 * b at its right), index x = o·N + n:
 *   K[x, y] = (1/(LM)) Σ_ℓ [ η_u (Σ_j g^(o)_{ℓj,n} g^(o')_{ℓj,m}) · h_{ℓ−1,n}ᵀh_{ℓ−1,m}/D
 *                          + η_v (Σ_j σ(p_{ℓj,n}) σ(p_{ℓj,m})) · b^(o)_{ℓ,n}ᵀ b^(o')_{ℓ,m}/D ]
 *           + (η_E/α) x_nᵀx_m · b^(o)_{0,n}ᵀ b^(o')_{0,m}/D + (η_O/α) δ_{oo'} h_{L,n}ᵀh_{L,m}/D,
 * with g^(o) = σ′(p) ⊙ q^(o). This is (LMD/α²) Σ_{U,V} η_θ J_θJ_θᵀ + (D/α) Σ_{W_E,W_U} η_θ J_θJ_θᵀ,
 * J the Jacobian of the outputs — each parameter with the preconditioner of its GD step (MATH §1) —
 * so that f_{k+1} − f_k = −(1/N) K_k (f_k − y) + O(η²).
 */
import { combineRows, rowDots } from "../kernels/resnet.ts";
import type { Problem } from "../problem/problem.ts";
import type { ResNetEngine } from "./engine.ts";

/** Workspace of the finite tangent Gram matrix (allocated once per run). */
export class FiniteGram {
  private readonly eng: ResNetEngine;
  readonly dN: number;
  /** b^(o)_ℓ of the current layer: d_out × N × D (row x = o·N + n). */
  private readonly Bo: Float64Array;
  /** g^(o) = σ′(p) ⊙ q^(o) of the current layer: d_out × M × N. */
  private readonly Go: Float64Array;
  /** Transposes: g as dN × M rows, σ(p) as N × M rows. */
  private readonly Gt: Float64Array;
  private readonly St: Float64Array;
  private readonly gg: Float64Array; private readonly ss: Float64Array;
  private readonly hh: Float64Array; private readonly bb: Float64Array;
  private readonly xx: Float64Array | null;

  constructor(eng: ResNetEngine) {
    this.eng = eng;
    const { M, N, D, dOut } = eng;
    const dN = dOut * N;
    this.dN = dN;
    this.Bo = new Float64Array(dN * D);
    this.Go = new Float64Array(dOut * M * N);
    this.Gt = new Float64Array(dN * M);
    this.St = new Float64Array(N * M);
    this.gg = new Float64Array(dN * dN);
    this.ss = new Float64Array(N * N);
    this.hh = new Float64Array(N * N);
    this.bb = new Float64Array(dN * dN);
    const { X } = eng.problem.data;
    const dIn = eng.dIn;
    if (eng.problem.train.etaE !== 0) {
      this.xx = new Float64Array(N * N);
      for (let n = 0; n < N; n++)
        for (let m = 0; m < N; m++) {
          let s = 0;
          for (let i = 0; i < dIn; i++) s += X[i * N + n] * X[i * N + m];
          this.xx[n * N + m] = s;
        }
    } else this.xx = null;
  }

  /** K_k at the engine's current forward pass into out[off .. off + dN²) (requires a preceding forward()). */
  compute(out: Float64Array, off: number): void {
    const { eng, dN, Bo, Go, Gt, St, gg, ss, hh, bb } = this;
    const { L, M, N, D, dOut, H, Sig, dSig, U, V, w } = eng;
    const { alpha } = eng.problem.model;
    const { etaU, etaV, etaE, etaO } = eng.problem.train;
    const c = alpha / (L * M);
    const ND = N * D, MN = M * N;
    out.fill(0, off, off + dN * dN);
    // b^(o)_L = W_U e_o
    for (let o = 0; o < dOut; o++)
      for (let n = 0; n < N; n++)
        for (let d = 0; d < D; d++) Bo[(o * N + n) * D + d] = w.WU[d * dOut + o];
    const su = etaU / (L * M), sv = etaV / (L * M);
    for (let l = L - 1; l >= 0; l--) {
      // layer ℓ = l+1: h_{ℓ−1} at slot l, b^(o)_ℓ = Bo (before the recursion step)
      const wOff = l * M * D, pOff = l * MN;
      if (etaV !== 0) {
        for (let j = 0; j < M; j++) for (let n = 0; n < N; n++) St[n * M + j] = Sig[pOff + j * N + n];
        rowDots(St, 0, N, St, 0, N, M, ss, 0, 1);
        rowDots(Bo, 0, dN, Bo, 0, dN, D, bb, 0, 1 / D);
        for (let x = 0; x < dN; x++) {
          const nx = x % N;
          for (let y = 0; y < dN; y++) out[off + x * dN + y] += sv * ss[nx * N + (y % N)] * bb[x * dN + y];
        }
      }
      for (let o = 0; o < dOut; o++) {
        rowDots(V, wOff, M, Bo, o * ND, N, D, Go, o * MN, 1 / D);
        for (let i = 0; i < MN; i++) Go[o * MN + i] *= dSig[pOff + i];
      }
      if (etaU !== 0) {
        for (let o = 0; o < dOut; o++)
          for (let j = 0; j < M; j++) for (let n = 0; n < N; n++) Gt[(o * N + n) * M + j] = Go[o * MN + j * N + n];
        rowDots(Gt, 0, dN, Gt, 0, dN, M, gg, 0, 1);
        rowDots(H, l * ND, N, H, l * ND, N, D, hh, 0, 1 / D);
        for (let x = 0; x < dN; x++) {
          const nx = x % N;
          for (let y = 0; y < dN; y++) out[off + x * dN + y] += su * gg[x * dN + y] * hh[nx * N + (y % N)];
        }
      }
      // b^(o)_{ℓ−1} = b^(o)_ℓ + c Σ_j g^(o)_j u_j
      for (let o = 0; o < dOut; o++) combineRows(Go, o * MN, N, 1, U, wOff, M, N, D, Bo, o * ND, Bo, o * ND, c);
    }
    if (etaE !== 0) {
      const xx = this.xx!, s = etaE / alpha;
      rowDots(Bo, 0, dN, Bo, 0, dN, D, bb, 0, 1 / D);
      for (let x = 0; x < dN; x++)
        for (let y = 0; y < dN; y++) out[off + x * dN + y] += s * xx[(x % N) * N + (y % N)] * bb[x * dN + y];
    }
    if (etaO !== 0) {
      const s = etaO / alpha;
      rowDots(H, L * ND, N, H, L * ND, N, D, hh, 0, 1 / D);
      for (let o = 0; o < dOut; o++)
        for (let n = 0; n < N; n++)
          for (let m = 0; m < N; m++) out[off + (o * N + n) * dN + o * N + m] += s * hh[n * N + m];
    }
    // exact symmetry (the two triangles are sums of the same products in another order)
    for (let x = 0; x < dN; x++)
      for (let y = x + 1; y < dN; y++) {
        const a = 0.5 * (out[off + x * dN + y] + out[off + y * dN + x]);
        out[off + x * dN + y] = a; out[off + y * dN + x] = a;
      }
  }
}

/** The problem whose data are the test points (inputs XTest, targets YTest or 0), for a forward-only engine. */
export function testProblem(problem: Problem): Problem | null {
  const d = problem.data;
  if (!d.XTest || !d.NTest) return null;
  const Y = d.YTest ?? new Float64Array(d.dOut * d.NTest);
  return { ...problem, data: { dIn: d.dIn, dOut: d.dOut, N: d.NTest, X: d.XTest, Y } };
}
