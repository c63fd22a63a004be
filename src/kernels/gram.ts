/**
 * Gram matrices as quadratic forms through the embedding Gram matrix E
 * (MATH §3 "Cost independent of D"): for coefficient vectors c_a ∈ R^r,
 * Γ_{ab} = c_a · E c'_b = Σ_i c_{a,i} Σ_j E_ij c'_{b,j} (sums in this order).
 * Used by the Gram profiles of the DMFT, the limit-law sampler and the
 * skeleton Mean ODE's Gram blocks.
 */

/** out[oo + i] = Σ_j E[i·r + j] y[yo + j], i < r (E r × r row-major). */
export function applyE(E: ArrayLike<number>, r: number, y: ArrayLike<number>, yo: number, out: Float64Array, oo: number): void {
  for (let i = 0; i < r; i++) {
    let s = 0;
    for (let j = 0; j < r; j++) s += E[i * r + j] * y[yo + j];
    out[oo + i] = s;
  }
}

/** Σ_{i<r} x[xo + i] y[yo + i], summed in order. */
export function dotR(x: ArrayLike<number>, xo: number, y: ArrayLike<number>, yo: number, r: number): number {
  let s = 0;
  for (let i = 0; i < r; i++) s += x[xo + i] * y[yo + i];
  return s;
}

/**
 * out[oOff + a·nb + b] = X_a · E Y_b for a < na, b < nb, with row a of X at
 * offset xAt(a) and row b of Y at yAt(b). `symmetric` (X = Y): only b ≥ a is
 * computed and mirrored. `scratch` holds nb × r values of E Y_b.
 */
export function gramForms(
  E: ArrayLike<number>, r: number,
  X: ArrayLike<number>, xAt: (a: number) => number, na: number,
  Y: ArrayLike<number>, yAt: (b: number) => number, nb: number,
  out: Float64Array, oOff = 0, symmetric = false, scratch = new Float64Array(nb * r),
): Float64Array {
  for (let b = 0; b < nb; b++) applyE(E, r, Y, yAt(b), scratch, b * r);
  for (let a = 0; a < na; a++) {
    const xa = xAt(a);
    for (let b = symmetric ? a : 0; b < nb; b++) {
      const v = dotR(X, xa, scratch, b * r, r);
      out[oOff + a * nb + b] = v;
      if (symmetric) out[oOff + b * nb + a] = v;
    }
  }
  return out;
}
