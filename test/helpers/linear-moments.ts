/**
 * An independent second algorithm for the Mean ODE with LINEAR σ at finite D
 * (used only by tests): the particle law enters the dynamics only through its
 * second moments Σ = E[z zᵀ], z = (u, v) ∈ R^{2D}, which evolve in closed form:
 *
 *   ∂_s h_n = α E[v uᵀ] h_n / D,          ∂_s b_n = −α E[u vᵀ] b_n / D,
 *   z ← T z,  T = [[I, −(η_u/α) P], [−(η_v/α) Pᵀ, I]],  P = (1/(N D)) Σ_n h_n b_nᵀ,
 *
 * with h_n at hNode(slot), b_n at bNode(slot), Σ ← T Σ Tᵀ per slot. It
 * integrates in R^D (not in coefficient coordinates, no skeleton maps, no
 * Gaussian integration by parts) with the same depth integrator, so for a
 * given scheme and grid it must agree with the skeleton solver to round-off.
 */
import { LuDecomposition, Matrix } from "ml-matrix";
import { DepthGrid, integrate } from "../../src/depth/integrators.ts";

export interface LinearMomentInput {
  X: Float64Array; Y: Float64Array; dIn: number; dOut: number; N: number; K: number; D: number;
  WE: Float64Array; WU: Float64Array; alpha: number; sigmaU: number; sigmaV: number; etaU: number; etaV: number;
  grid: DepthGrid;
}

/**
 * Also returns, per step k (before the k-th update) and slot, KL(N(0, Σ_k) ‖ N(0, Σ_0)) =
 * ½(tr(Σ_0⁻¹Σ_k) − 2D − log det(Σ_0⁻¹Σ_k)) of the particle law in R^{2D} (log det by
 * ml-matrix's LU), the closed form of MATH §8 for a linear activation.
 */
export function linearMomentMeanOde(inp: LinearMomentInput): { f: Float64Array; loss: Float64Array; kl: Float64Array } {
  const { X, Y, dIn, dOut, N, K, D, WE, WU, alpha, sigmaU, sigmaV, etaU, etaV, grid } = inp;
  const D2 = 2 * D;
  // second moments per slot: 2D × 2D, initially diag(σ_u² D, σ_v² D)
  const Sig: Float64Array[] = [];
  for (let s = 0; s < grid.slots; s++) {
    const m = new Float64Array(D2 * D2);
    for (let d = 0; d < D; d++) { m[d * D2 + d] = sigmaU * sigmaU * D; m[(D + d) * D2 + D + d] = sigmaV * sigmaV * D; }
    Sig.push(m);
  }
  const nodes = grid.nodes, n = N * D;
  const H = new Float64Array(nodes * n), B = new Float64Array(nodes * n);
  const f = new Float64Array(K * dOut * N), loss = new Float64Array(K);
  const y0 = new Float64Array(n);
  const kl = new Float64Array(K * grid.slots);
  for (let k = 0; k < K; k++) {
    for (let slot = 0; slot < grid.slots; slot++) {
      const S = Sig[slot];
      const A = new Matrix(D2, D2);
      let tr = 0;
      for (let i = 0; i < D2; i++) {
        const s0 = (i < D ? sigmaU * sigmaU : sigmaV * sigmaV) * D;
        for (let j = 0; j < D2; j++) A.set(i, j, S[i * D2 + j] / s0);
        tr += S[i * D2 + i] / s0;
      }
      const lu = new LuDecomposition(A);
      let logDet = 0;
      const U = lu.upperTriangularMatrix;
      for (let i = 0; i < D2; i++) logDet += Math.log(Math.abs(U.get(i, i)));
      kl[k * grid.slots + slot] = 0.5 * (tr - D2 - logDet);
    }
    for (let m = 0; m < N; m++) for (let d = 0; d < D; d++) {
      let s = 0;
      for (let i = 0; i < dIn; i++) s += WE[d * dIn + i] * X[i * N + m];
      y0[m * D + d] = s;
    }
    // forward: ∂h = (α/D) Σ_vu h, Σ_vu[d][e] = Sig[D+d][e]
    integrate(grid, 1, n, y0, (y, slot, dy) => {
      const S = Sig[slot];
      for (let m = 0; m < N; m++) for (let d = 0; d < D; d++) {
        let s = 0;
        for (let e = 0; e < D; e++) s += S[(D + d) * D2 + e] * y[m * D + e];
        dy[m * D + d] = (alpha / D) * s;
      }
    }, H);
    let l = 0;
    const bL = new Float64Array(n);
    for (let m = 0; m < N; m++) {
      const r = new Float64Array(dOut);
      for (let o = 0; o < dOut; o++) {
        let s = 0;
        for (let d = 0; d < D; d++) s += WU[d * dOut + o] * H[(nodes - 1) * n + m * D + d];
        f[k * dOut * N + o * N + m] = s / D;
        r[o] = s / D - Y[o * N + m];
        l += r[o] * r[o];
      }
      for (let d = 0; d < D; d++) { let s = 0; for (let o = 0; o < dOut; o++) s += WU[d * dOut + o] * r[o]; bL[m * D + d] = s; }
    }
    loss[k] = (0.5 * l) / N;
    // backward: ∂b = −(α/D) Σ_uv b, Σ_uv[d][e] = Sig[d][D+e]
    integrate(grid, -1, n, bL, (y, slot, dy) => {
      const S = Sig[slot];
      for (let m = 0; m < N; m++) for (let d = 0; d < D; d++) {
        let s = 0;
        for (let e = 0; e < D; e++) s += S[d * D2 + D + e] * y[m * D + e];
        dy[m * D + d] = -(alpha / D) * s;
      }
    }, B);
    // update the moments at every slot
    for (let slot = 0; slot < grid.slots; slot++) {
      const hN = grid.hNode(slot), bN = grid.bNode(slot);
      const P = new Float64Array(D * D);
      for (let m = 0; m < N; m++) for (let d = 0; d < D; d++) for (let e = 0; e < D; e++)
        P[d * D + e] += (H[hN * n + m * D + d] * B[bN * n + m * D + e]) / (N * D);
      const T = new Float64Array(D2 * D2);
      for (let i = 0; i < D2; i++) T[i * D2 + i] = 1;
      for (let d = 0; d < D; d++) for (let e = 0; e < D; e++) {
        T[d * D2 + D + e] = -(etaU / alpha) * P[d * D + e];
        T[(D + d) * D2 + e] = -(etaV / alpha) * P[e * D + d];
      }
      const S = Sig[slot], TS = new Float64Array(D2 * D2), out = new Float64Array(D2 * D2);
      for (let i = 0; i < D2; i++) for (let j = 0; j < D2; j++) { let s = 0; for (let t = 0; t < D2; t++) s += T[i * D2 + t] * S[t * D2 + j]; TS[i * D2 + j] = s; }
      for (let i = 0; i < D2; i++) for (let j = 0; j < D2; j++) { let s = 0; for (let t = 0; t < D2; t++) s += TS[i * D2 + t] * T[j * D2 + t]; out[i * D2 + j] = s; }
      Sig[slot] = out;
    }
  }
  return { f, loss, kl };
}
