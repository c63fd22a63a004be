/**
 * The hot loops of the finite ResNet, on flat Float64Arrays, one layer at a
 * time, over a block of units j ∈ [j0, j1) (so worker threads can split a
 * layer by column blocks of U, V). No allocation, no closures.
 *
 * Layouts: U, V of one layer are M × D (row j = particle u_j / v_j,
 * contiguous over d); hidden states and adjoints are N × D (row n = data
 * point n); preactivations P, S = σ(P), dS = σ′(P), Q, G are M × N.
 */
import type { Activation } from "./activations.ts";
import { applyActivation } from "./activations.ts";

/**
 * Forward half of one layer for units [j0, j1):
 *   P[j,n] = U_j · hIn_n / D ;  S = σ(P), dS = σ′(P) ;  hOut_n += c Σ_j S[j,n] V_j.
 * `hOut` must already hold hIn (or a partial sum) on entry.
 */
export function layerForward(
  U: Float64Array, V: Float64Array, uOff: number,
  hIn: Float64Array, hInOff: number, hOut: Float64Array, hOutOff: number,
  P: Float64Array, S: Float64Array, dS: Float64Array, pOff: number,
  act: Activation, c: number, D: number, N: number, j0: number, j1: number,
): void {
  const invD = 1 / D;
  for (let j = j0; j < j1; j++) {
    const ub = uOff + j * D;
    const pb = pOff + j * N;
    for (let n = 0; n < N; n++) {
      const hb = hInOff + n * D;
      let a0 = 0, a1 = 0;
      let d = 0;
      for (; d + 1 < D; d += 2) {
        a0 += U[ub + d] * hIn[hb + d];
        a1 += U[ub + d + 1] * hIn[hb + d + 1];
      }
      if (d < D) a0 += U[ub + d] * hIn[hb + d];
      P[pb + n] = (a0 + a1) * invD;
    }
  }
  activationRange(act, P, S, dS, pOff + j0 * N, pOff + j1 * N);
  for (let j = j0; j < j1; j++) {
    const vb = uOff + j * D;
    const pb = pOff + j * N;
    for (let n = 0; n < N; n++) {
      const cs = c * S[pb + n];
      const ob = hOutOff + n * D;
      for (let d = 0; d < D; d++) hOut[ob + d] += cs * V[vb + d];
    }
  }
}

/** σ, σ′ on P[i0..i1) into S, dS. */
export function activationRange(act: Activation, P: Float64Array, S: Float64Array, dS: Float64Array, i0: number, i1: number): void {
  if (i0 === 0 && i1 === P.length) {
    applyActivation(act, P, S, dS, i1);
    return;
  }
  applyActivation(act, P.subarray(i0, i1), S.subarray(i0, i1), dS.subarray(i0, i1), i1 - i0);
}

/**
 * Backward, first half, for units [j0, j1): Q[j,n] = V_j · b_n / D ;
 * G = dS ⊙ Q ;  then V_j ← V_j − rv Σ_n S[j,n] b_n  (rv = η_v/(αN)).
 */
export function layerBackwardV(
  V: Float64Array, vOff: number, b: Float64Array, bOff: number,
  S: Float64Array, dS: Float64Array, pOff: number, G: Float64Array, gOff: number,
  rv: number, D: number, N: number, j0: number, j1: number,
): void {
  const invD = 1 / D;
  for (let j = j0; j < j1; j++) {
    const vb = vOff + j * D;
    const pb = pOff + j * N;
    const gb = gOff + j * N;
    for (let n = 0; n < N; n++) {
      const bb = bOff + n * D;
      let a0 = 0, a1 = 0;
      let d = 0;
      for (; d + 1 < D; d += 2) {
        a0 += V[vb + d] * b[bb + d];
        a1 += V[vb + d + 1] * b[bb + d + 1];
      }
      if (d < D) a0 += V[vb + d] * b[bb + d];
      G[gb + n] = dS[pb + n] * (a0 + a1) * invD;
    }
    if (rv !== 0) {
      for (let n = 0; n < N; n++) {
        const w = rv * S[pb + n];
        const bb = bOff + n * D;
        for (let d = 0; d < D; d++) V[vb + d] -= w * b[bb + d];
      }
    }
  }
}

/**
 * Backward, second half, for units [j0, j1):
 *   bOut_n += c Σ_j G[j,n] U_j   (U before its update) ;
 *   U_j ← U_j − ru Σ_n G[j,n] hIn_n   (ru = η_u/(αN)).
 * `bOut` must already hold b_ℓ (or a partial sum) on entry.
 */
export function layerBackwardU(
  U: Float64Array, uOff: number, hIn: Float64Array, hInOff: number,
  bOut: Float64Array, bOutOff: number, G: Float64Array, pOff: number,
  c: number, ru: number, D: number, N: number, j0: number, j1: number,
): void {
  for (let j = j0; j < j1; j++) {
    const ub = uOff + j * D;
    const pb = pOff + j * N;
    for (let n = 0; n < N; n++) {
      const w = c * G[pb + n];
      const ob = bOutOff + n * D;
      for (let d = 0; d < D; d++) bOut[ob + d] += w * U[ub + d];
    }
    if (ru !== 0) {
      for (let n = 0; n < N; n++) {
        const w = ru * G[pb + n];
        const hb = hInOff + n * D;
        for (let d = 0; d < D; d++) U[ub + d] -= w * hIn[hb + d];
      }
    }
  }
}
