/**
 * The hot loops of the finite ResNet, on flat Float64Arrays. No allocation,
 * no closures in the inner loops; register-blocked (each loaded weight is
 * reused for several data points, with several independent accumulators).
 *
 * Layouts: U, V of one layer are M × D (row j = particle u_j / v_j,
 * contiguous over d); hidden states and adjoints are N × D (row n = data
 * point n); preactivations P, Sig = σ(P), dSig = σ′(P), Gq = σ′(P) ⊙ q are M × N.
 *
 * Reproducibility across thread counts: the units of a layer are cut into
 * FIXED blocks (`unitBlocks`, a function of M and D only). Each block
 * produces its own partial sum of the h / b increment, and the partials are
 * reduced in block order (`reduceBlocks`), so the bits never depend on which
 * thread ran which block.
 */
import type { Activation } from "../core/activations.ts";
import { activationRange } from "./activation.ts";

/** Units per block at most, and weights (units × D) per block at most (L2-sized). */
const BLOCK_UNITS = 64;
const BLOCK_ELEMS = 16384;

/** Number of unit blocks of a layer (the length of unitBlocks(M, D) minus one), without allocating. */
export function blockCount(M: number, D: number): number {
  const maxUnits = Math.max(1, Math.min(BLOCK_UNITS, Math.floor(BLOCK_ELEMS / D)));
  return Math.ceil(M / maxUnits);
}

/**
 * Block boundaries of the units 0..M-1 of a layer: blocks [b[i], b[i+1]).
 * Depends only on (M, D) — never on the number of threads.
 */
export function unitBlocks(M: number, D: number): Int32Array {
  const nb = blockCount(M, D);
  const jb = Math.ceil(M / nb);
  const out = new Int32Array(nb + 1);
  for (let i = 0; i <= nb; i++) out[i] = Math.min(M, i * jb);
  return out;
}

/**
 * out[oOff + j·N + n] = scale · Σ_d A[aOff + j·D + d] · B[bOff + n·D + d]
 * for j < J, n < N (rows of A against rows of B; 2 × 4 register block).
 */
export function rowDots(
  A: Float64Array, aOff: number, J: number, B: Float64Array, bOff: number, N: number, D: number,
  out: Float64Array, oOff: number, scale: number,
): void {
  let j = 0;
  for (; j + 1 < J; j += 2) {
    const a0 = aOff + j * D, a1 = a0 + D;
    const o0 = oOff + j * N, o1 = o0 + N;
    let n = 0;
    for (; n + 3 < N; n += 4) {
      const b0 = bOff + n * D, b1 = b0 + D, b2 = b1 + D, b3 = b2 + D;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      for (let d = 0; d < D; d++) {
        const x0 = A[a0 + d], x1 = A[a1 + d];
        const y0 = B[b0 + d], y1 = B[b1 + d], y2 = B[b2 + d], y3 = B[b3 + d];
        s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
        s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
      }
      out[o0 + n] = s00 * scale; out[o0 + n + 1] = s01 * scale; out[o0 + n + 2] = s02 * scale; out[o0 + n + 3] = s03 * scale;
      out[o1 + n] = s10 * scale; out[o1 + n + 1] = s11 * scale; out[o1 + n + 2] = s12 * scale; out[o1 + n + 3] = s13 * scale;
    }
    for (; n < N; n++) {
      const b0 = bOff + n * D;
      let s0 = 0, s1 = 0, t0 = 0, t1 = 0;
      let d = 0;
      for (; d + 1 < D; d += 2) {
        const y0 = B[b0 + d], y1 = B[b0 + d + 1];
        s0 += A[a0 + d] * y0; t0 += A[a0 + d + 1] * y1;
        s1 += A[a1 + d] * y0; t1 += A[a1 + d + 1] * y1;
      }
      if (d < D) { s0 += A[a0 + d] * B[b0 + d]; s1 += A[a1 + d] * B[b0 + d]; }
      out[o0 + n] = (s0 + t0) * scale; out[o1 + n] = (s1 + t1) * scale;
    }
  }
  for (; j < J; j++) {
    const a0 = aOff + j * D;
    const o0 = oOff + j * N;
    let n = 0;
    for (; n + 3 < N; n += 4) {
      const b0 = bOff + n * D, b1 = b0 + D, b2 = b1 + D, b3 = b2 + D;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let d = 0; d < D; d++) {
        const x = A[a0 + d];
        s0 += x * B[b0 + d]; s1 += x * B[b1 + d]; s2 += x * B[b2 + d]; s3 += x * B[b3 + d];
      }
      out[o0 + n] = s0 * scale; out[o0 + n + 1] = s1 * scale; out[o0 + n + 2] = s2 * scale; out[o0 + n + 3] = s3 * scale;
    }
    for (; n < N; n++) {
      const b0 = bOff + n * D;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let d = 0;
      for (; d + 3 < D; d += 4) {
        s0 += A[a0 + d] * B[b0 + d]; s1 += A[a0 + d + 1] * B[b0 + d + 1];
        s2 += A[a0 + d + 2] * B[b0 + d + 2]; s3 += A[a0 + d + 3] * B[b0 + d + 3];
      }
      for (; d < D; d++) s0 += A[a0 + d] * B[b0 + d];
      out[o0 + n] = ((s0 + s1) + (s2 + s3)) * scale;
    }
  }
}

/**
 * dst[dOff + r·D + d] = base + scale · Σ_{k<K} C[cOff + k·csK + r·csR] · W[wOff + k·D + d]
 * for r < R, d < D, where base = src[sOff + r·D + d] if `src` is given, else 0.
 * (Rows of W combined with coefficients C; 2 × 4 register block, d-quads
 * outermost so a column strip of W stays in L1 across the r pairs.)
 * dst may alias src (in-place update) but must not overlap C or W.
 */
export function combineRows(
  C: Float64Array, cOff: number, csK: number, csR: number, W: Float64Array, wOff: number, K: number, R: number, D: number,
  dst: Float64Array, dOff: number, src: Float64Array | null, sOff: number, scale: number,
): void {
  const hasSrc = src !== null;
  const S = hasSrc ? src : dst;
  let d = 0;
  for (; d + 3 < D; d += 4) {
    let r = 0;
    for (; r + 1 < R; r += 2) {
      const c0 = cOff + r * csR, c1 = c0 + csR;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
      for (let k = 0; k < K; k++) {
        const w = wOff + k * D + d;
        const w0 = W[w], w1 = W[w + 1], w2 = W[w + 2], w3 = W[w + 3];
        const x = C[c0 + k * csK], y = C[c1 + k * csK];
        a0 += x * w0; a1 += x * w1; a2 += x * w2; a3 += x * w3;
        b0 += y * w0; b1 += y * w1; b2 += y * w2; b3 += y * w3;
      }
      const o0 = dOff + r * D + d, o1 = o0 + D;
      const s0 = sOff + r * D + d, s1 = s0 + D;
      if (hasSrc) {
        dst[o0] = S[s0] + scale * a0; dst[o0 + 1] = S[s0 + 1] + scale * a1; dst[o0 + 2] = S[s0 + 2] + scale * a2; dst[o0 + 3] = S[s0 + 3] + scale * a3;
        dst[o1] = S[s1] + scale * b0; dst[o1 + 1] = S[s1 + 1] + scale * b1; dst[o1 + 2] = S[s1 + 2] + scale * b2; dst[o1 + 3] = S[s1 + 3] + scale * b3;
      } else {
        dst[o0] = scale * a0; dst[o0 + 1] = scale * a1; dst[o0 + 2] = scale * a2; dst[o0 + 3] = scale * a3;
        dst[o1] = scale * b0; dst[o1 + 1] = scale * b1; dst[o1 + 2] = scale * b2; dst[o1 + 3] = scale * b3;
      }
    }
    for (; r < R; r++) {
      const c0 = cOff + r * csR;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      for (let k = 0; k < K; k++) {
        const w = wOff + k * D + d;
        const x = C[c0 + k * csK];
        a0 += x * W[w]; a1 += x * W[w + 1]; a2 += x * W[w + 2]; a3 += x * W[w + 3];
      }
      const o0 = dOff + r * D + d, s0 = sOff + r * D + d;
      if (hasSrc) {
        dst[o0] = S[s0] + scale * a0; dst[o0 + 1] = S[s0 + 1] + scale * a1; dst[o0 + 2] = S[s0 + 2] + scale * a2; dst[o0 + 3] = S[s0 + 3] + scale * a3;
      } else {
        dst[o0] = scale * a0; dst[o0 + 1] = scale * a1; dst[o0 + 2] = scale * a2; dst[o0 + 3] = scale * a3;
      }
    }
  }
  for (; d < D; d++) {
    for (let r = 0; r < R; r++) {
      const c0 = cOff + r * csR;
      let a0 = 0;
      for (let k = 0; k < K; k++) a0 += C[c0 + k * csK] * W[wOff + k * D + d];
      const o0 = dOff + r * D + d;
      dst[o0] = hasSrc ? S[sOff + r * D + d] + scale * a0 : scale * a0;
    }
  }
}

/**
 * dst[dOff + i] = src[sOff + i] + c · (Σ_{b<nb} parts[b·stride + i]) for i ∈ [i0, i1),
 * the partials summed in block order (bits independent of how [0, stride) is split).
 */
export function reduceBlocks(
  dst: Float64Array, dOff: number, src: Float64Array, sOff: number, parts: Float64Array, nb: number, stride: number,
  i0: number, i1: number, c: number,
): void {
  for (let i = i0; i < i1; i++) {
    let s = parts[i];
    for (let b = 1; b < nb; b++) s += parts[b * stride + i];
    dst[dOff + i] = src[sOff + i] + c * s;
  }
}

/** Shared state of one layer pass: every array a block task reads or writes. */
export interface LayerArrays {
  U: Float64Array; V: Float64Array; H: Float64Array; B: Float64Array;
  P: Float64Array; Sig: Float64Array; dSig: Float64Array; Gq: Float64Array;
  /** Block partials: nb × N × D. */
  parts: Float64Array;
}

/**
 * Forward, block `bi` of layer l (0-based): P, σ(P), σ′(P) of the block's
 * units, and its partial Σ_j σ(p_j) v_j. With a single block the partial goes
 * straight into h_{l+1} = h_l + c·Σ (the same bits as reduceBlocks).
 */
export function forwardBlock(
  a: LayerArrays, act: Activation, l: number, blocks: Int32Array, bi: number, M: number, D: number, N: number, c: number,
): void {
  const j0 = blocks[bi], J = blocks[bi + 1] - j0;
  const ND = N * D;
  const wOff = (l * M + j0) * D;
  const pOff = (l * M + j0) * N;
  rowDots(a.U, wOff, J, a.H, l * ND, N, D, a.P, pOff, 1 / D);
  activationRange(act, a.P, a.Sig, a.dSig, pOff, pOff + J * N);
  if (N === 1) {
    // one data point: Σ_j σ(p_j) v_j as axpys over contiguous rows (same order over j per coordinate, same bits)
    const one = blocks.length === 2;
    const acc = one ? a.H : a.parts, aOff = one ? (l + 1) * D : bi * D;
    axpyRows(a.Sig, pOff, J, a.V, wOff, D, acc, aOff);
    if (one) for (let d = 0; d < D; d++) a.H[aOff + d] = a.H[l * D + d] + c * a.H[aOff + d];
    return;
  }
  if (blocks.length === 2) combineRows(a.Sig, pOff, N, 1, a.V, wOff, J, N, D, a.H, (l + 1) * ND, a.H, l * ND, c);
  else combineRows(a.Sig, pOff, N, 1, a.V, wOff, J, N, D, a.parts, bi * ND, null, 0, 1);
}

/**
 * Backward fused with the update, block `bi` of layer l (reads b_{l+1}, h_l):
 *   Gq = σ′(p) ⊙ Vᵀb/D ;  V_j −= rv Σ_n σ(p_jn) b_n ;  partial Σ_j Gq_j u_j (U before
 *   its update) ;  U_j −= ru Σ_n G_jn h_n.
 * With a single block the partial goes straight into b_l = b_{l+1} + c·Σ.
 */
export function backwardBlock(
  a: LayerArrays, l: number, blocks: Int32Array, bi: number, M: number, D: number, N: number, c: number, ru: number, rv: number,
): void {
  const j0 = blocks[bi], J = blocks[bi + 1] - j0;
  const ND = N * D;
  const wOff = (l * M + j0) * D;
  const pOff = (l * M + j0) * N;
  const gOff = j0 * N;
  const { U, V, H, B, Sig, dSig, Gq } = a;
  rowDots(V, wOff, J, B, (l + 1) * ND, N, D, Gq, gOff, 1 / D);
  for (let i = 0; i < J * N; i++) Gq[gOff + i] *= dSig[pOff + i];
  if (N === 1) return backwardRest1(a, l, blocks, bi, wOff, pOff, gOff, J, D, c, ru, rv);
  if (rv !== 0) combineRows(Sig, pOff, 1, N, B, (l + 1) * ND, N, J, D, V, wOff, V, wOff, -rv);
  if (blocks.length === 2) combineRows(Gq, gOff, N, 1, U, wOff, J, N, D, B, l * ND, B, (l + 1) * ND, c);
  else combineRows(Gq, gOff, N, 1, U, wOff, J, N, D, a.parts, bi * ND, null, 0, 1);
  if (ru !== 0) combineRows(Gq, gOff, 1, N, H, l * ND, N, J, D, U, wOff, U, wOff, -ru);
}

/**
 * acc[aOff + d] = Σ_{k<K} C[cOff + k] · W[wOff + k·D + d] for d < D, k in
 * order (acc zeroed first): the rows of W streamed contiguously (the N = 1
 * case of combineRows, with the same per-coordinate summation order).
 */
export function axpyRows(C: Float64Array, cOff: number, K: number, W: Float64Array, wOff: number, D: number, acc: Float64Array, aOff: number): void {
  acc.fill(0, aOff, aOff + D);
  for (let k = 0; k < K; k++) {
    const x = C[cOff + k];
    const w = wOff + k * D;
    let d = 0;
    for (; d + 3 < D; d += 4) {
      acc[aOff + d] += x * W[w + d]; acc[aOff + d + 1] += x * W[w + d + 1];
      acc[aOff + d + 2] += x * W[w + d + 2]; acc[aOff + d + 3] += x * W[w + d + 3];
    }
    for (; d < D; d++) acc[aOff + d] += x * W[w + d];
  }
}

/** W[wOff + d] = W[wOff + d] + s · (0 + x · y[yOff + d]) — combineRows with K = 1 (same bits, incl. signed zeros). */
function rank1Row(W: Float64Array, wOff: number, x: number, y: Float64Array, yOff: number, D: number, s: number): void {
  for (let d = 0; d < D; d++) W[wOff + d] = W[wOff + d] + s * (0 + x * y[yOff + d]);
}

/**
 * backwardBlock for one data point, after Gq: V_j −= rv σ(p_j) b ; partial
 * Σ_j G_j u_j (U before its update) ; U_j −= ru G_j h — unit by unit (each
 * unit's rows stay in L1), the same bits as the general path.
 */
function backwardRest1(
  a: LayerArrays, l: number, blocks: Int32Array, bi: number, wOff: number, pOff: number, gOff: number, J: number, D: number,
  c: number, ru: number, rv: number,
): void {
  const { U, V, H, B, Sig, Gq } = a;
  const bOff = (l + 1) * D, hOff = l * D;
  const one = blocks.length === 2;
  const acc = one ? B : a.parts, aOff = one ? l * D : bi * D;
  acc.fill(0, aOff, aOff + D);
  for (let j = 0; j < J; j++) {
    const w = wOff + j * D, g = Gq[gOff + j];
    if (rv !== 0) rank1Row(V, w, Sig[pOff + j], B, bOff, D, -rv);
    let d = 0;
    for (; d + 3 < D; d += 4) {
      acc[aOff + d] += g * U[w + d]; acc[aOff + d + 1] += g * U[w + d + 1];
      acc[aOff + d + 2] += g * U[w + d + 2]; acc[aOff + d + 3] += g * U[w + d + 3];
    }
    for (; d < D; d++) acc[aOff + d] += g * U[w + d];
    if (ru !== 0) rank1Row(U, w, g, H, hOff, D, -ru);
  }
  if (one) for (let d = 0; d < D; d++) B[aOff + d] = B[bOff + d] + c * B[aOff + d];
}
