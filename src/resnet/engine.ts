/**
 * The finite ResNet with two-layer-perceptron blocks (MATH §1): forward pass,
 * backward pass with the rescaled adjoint b_ℓ = D ∂ℓ_n/∂h_ℓ, and full-batch
 * GD in mean-field units. The engine owns a workspace allocated once; a GD
 * step allocates nothing.
 *
 *   h_0 = W_E x ;  p_ℓ = U_ℓᵀ h_{ℓ-1}/D ;  h_ℓ = h_{ℓ-1} + (α/(LM)) V_ℓ σ(p_ℓ) ;  f = W_Uᵀ h_L / D
 *   b_L = W_U (f − y) ;  q_ℓ = V_ℓᵀ b_ℓ/D ;  b_{ℓ-1} = b_ℓ + (α/(LM)) U_ℓ (σ′(p_ℓ) ⊙ q_ℓ)
 *   u_{ℓj} −= (η_u/α)(1/N) Σ_n h_{ℓ-1,n} σ′(p_{ℓj,n}) q_{ℓj,n} ;  v_{ℓj} −= (η_v/α)(1/N) Σ_n σ(p_{ℓj,n}) b_{ℓ,n}
 */
import { DivergenceError } from "../core/errors.ts";
import { layerBackwardU, layerBackwardV, layerForward } from "../core/kernels.ts";
import type { Problem } from "../problem/problem.ts";
import { lossOf } from "../problem/trajectory.ts";
import { type ResNetWeights, validateWeights } from "./weights.ts";

export class ResNetEngine {
  readonly problem: Problem;
  readonly w: ResNetWeights;
  readonly L: number; readonly M: number; readonly D: number; readonly N: number; readonly dIn: number; readonly dOut: number;
  /** h_ℓ for ℓ = 0..L: (L+1) × N × D. */
  readonly H: Float64Array;
  /** b_ℓ for ℓ = 0..L: (L+1) × N × D (valid after backward). */
  readonly B: Float64Array;
  /** Preactivations, σ(p), σ′(p): L × M × N. */
  readonly P: Float64Array; readonly S: Float64Array; readonly dS: Float64Array;
  /** σ′(p) ⊙ q for the current layer: M × N. */
  readonly G: Float64Array;
  /** Outputs f (d_out × N) and residuals f − y. */
  readonly F: Float64Array; readonly R: Float64Array;

  constructor(problem: Problem, weights: ResNetWeights) {
    validateWeights(weights, problem);
    this.problem = problem;
    this.w = weights;
    const { L, M, D } = problem.model;
    const { N, dIn, dOut } = problem.data;
    this.L = L; this.M = M; this.D = D; this.N = N; this.dIn = dIn; this.dOut = dOut;
    this.H = new Float64Array((L + 1) * N * D);
    this.B = new Float64Array((L + 1) * N * D);
    this.P = new Float64Array(L * M * N);
    this.S = new Float64Array(L * M * N);
    this.dS = new Float64Array(L * M * N);
    this.G = new Float64Array(M * N);
    this.F = new Float64Array(dOut * N);
    this.R = new Float64Array(dOut * N);
  }

  /** Forward pass at the current weights; returns the loss. Fills H, P, S, dS, F, R. */
  forward(): number {
    const { L, M, D, N, dIn, dOut, H, P, S, dS, F, R, w } = this;
    const { X, Y } = this.problem.data;
    const { alpha, activation } = this.problem.model;
    const c = alpha / (L * M);
    // h_0 = W_E x
    for (let n = 0; n < N; n++)
      for (let d = 0; d < D; d++) {
        let s = 0;
        for (let i = 0; i < dIn; i++) s += w.WE[d * dIn + i] * X[i * N + n];
        H[n * D + d] = s;
      }
    const ND = N * D, MD = M * D, MN = M * N;
    for (let l = 0; l < L; l++) {
      H.copyWithin((l + 1) * ND, l * ND, (l + 1) * ND);
      layerForward(w.U, w.V, l * MD, H, l * ND, H, (l + 1) * ND, P, S, dS, l * MN, activation, c, D, N, 0, M);
    }
    // f = W_Uᵀ h_L / D
    const hL = L * ND;
    for (let o = 0; o < dOut; o++)
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let d = 0; d < D; d++) s += w.WU[d * dOut + o] * H[hL + n * D + d];
        F[o * N + n] = s / D;
        R[o * N + n] = F[o * N + n] - Y[o * N + n];
      }
    return lossOf(F, Y, dOut, N);
  }

  /**
   * Backward pass fused with the GD update (requires a preceding forward()).
   * All gradients are taken at the current weights: each weight is updated
   * only after its last use in the pass. Rates are in mean-field units.
   */
  backwardAndUpdate(etaU = this.problem.train.etaU, etaV = this.problem.train.etaV, etaE = this.problem.train.etaE, etaO = this.problem.train.etaO): void {
    const { L, M, D, N, dIn, dOut, H, B, S, dS, G, R, w } = this;
    const { X } = this.problem.data;
    const { alpha } = this.problem.model;
    const c = alpha / (L * M);
    const ND = N * D, MD = M * D, MN = M * N;
    // b_L = W_U (f − y)
    const bL = L * ND;
    for (let n = 0; n < N; n++)
      for (let d = 0; d < D; d++) {
        let s = 0;
        for (let o = 0; o < dOut; o++) s += w.WU[d * dOut + o] * R[o * N + n];
        B[bL + n * D + d] = s;
      }
    // W_U ← W_U − (η_O/α)(1/N) Σ_n h_{L,n} (f_n − y_n)ᵀ  (after its use in b_L)
    if (etaO !== 0) {
      const r = etaO / (alpha * N);
      for (let d = 0; d < D; d++)
        for (let o = 0; o < dOut; o++) {
          let s = 0;
          for (let n = 0; n < N; n++) s += H[bL + n * D + d] * R[o * N + n];
          w.WU[d * dOut + o] -= r * s;
        }
    }
    const ru = etaU / (alpha * N), rv = etaV / (alpha * N);
    for (let l = L - 1; l >= 0; l--) {
      // layer ℓ = l+1 reads b_ℓ at slot l+1, writes b_{ℓ-1} at slot l
      layerBackwardV(w.V, l * MD, B, (l + 1) * ND, S, dS, l * MN, G, 0, rv, D, N, 0, M);
      B.copyWithin(l * ND, (l + 1) * ND, (l + 2) * ND);
      layerBackwardU(w.U, l * MD, H, l * ND, B, l * ND, G, 0, c, ru, D, N, 0, M);
    }
    // W_E ← W_E − (η_E/α)(1/N) Σ_n b_{0,n} x_nᵀ
    if (etaE !== 0) {
      const r = etaE / (alpha * N);
      for (let d = 0; d < D; d++)
        for (let i = 0; i < dIn; i++) {
          let s = 0;
          for (let n = 0; n < N; n++) s += B[n * D + d] * X[i * N + n];
          w.WE[d * dIn + i] -= r * s;
        }
    }
  }
}

/** Throw a DivergenceError if any entry of `a` is not finite. */
export function assertFinite(step: number, quantity: string, a: Float64Array, n = a.length, off = 0): void {
  for (let i = off; i < off + n; i++) if (!Number.isFinite(a[i])) throw new DivergenceError(step, quantity, `entry ${i - off}`);
}
