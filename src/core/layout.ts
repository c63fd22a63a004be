/**
 * Offsets in the flat row-major layouts of the engine (one definition each):
 *
 *   weights U, V           L × M × D          unit (ℓ, j) of layer ℓ: row unitRow(M, D, ℓ, j)
 *   preactivations P, Q    L × M × N          (ℓ, j, n): unitPoint(M, N, ℓ, j, n)
 *   profiles h, b          K × nodes × N × D  (k, node, n): profileRow(nodes, N, D, k, node, n)
 *   coefficient vectors    K × nodes × N × r  (k, node, n): profileRow(nodes, N, r, k, node, n)
 */

/** Offset of row (i, j) of an array [·, n1, n2] (the start of its n2 entries). */
export function row3(n1: number, n2: number, i: number, j: number): number {
  return (i * n1 + j) * n2;
}

/** Offset of (i, j, k) in an array [·, n1, n2]. */
export function at3(n1: number, n2: number, i: number, j: number, k: number): number {
  return (i * n1 + j) * n2 + k;
}

/** Offset of row (i, j, k) of an array [·, n1, n2, n3] (the start of its n3 entries). */
export function row4(n1: number, n2: number, n3: number, i: number, j: number, k: number): number {
  return ((i * n1 + j) * n2 + k) * n3;
}

/** Unit (l, j) of a layer-major weight array L × M × D. */
export const unitRow = (M: number, D: number, l: number, j: number): number => row3(M, D, l, j);
/** (l, j, n) of a layer-major per-unit, per-data-point array L × M × N. */
export const unitPoint = (M: number, N: number, l: number, j: number, n: number): number => at3(M, N, l, j, n);
/** Row (k, node, n) of a profile or coefficient array K × nodes × N × width. */
export const profileRow = (nodes: number, N: number, width: number, k: number, node: number, n: number): number => row4(nodes, N, width, k, node, n);
