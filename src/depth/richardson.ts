/**
 * Richardson extrapolation over two depth grids (MATH §2 "Depth schemes"): a
 * solve on S and 2S steps with a scheme of order p gives
 * f_fine + (f_fine − f_coarse)/(2^p − 1), with the error of order p+1 and the
 * size of the correction as an error estimate. `withRichardson` wraps any
 * solve parametrised by its number of depth steps.
 */

/** Richardson extrapolation of a quantity computed on grids S and 2S by a scheme of order p. */
export function richardson(coarse: Float64Array, fine: Float64Array, order: number, out = new Float64Array(fine.length)): Float64Array {
  const c = 1 / (2 ** order - 1);
  for (let i = 0; i < fine.length; i++) out[i] = fine[i] + (fine[i] - coarse[i]) * c;
  return out;
}

/** max_i |a_i − b_i|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export interface RichardsonRun<R> {
  /** The solve on the fine grid (2S with extrapolation, else S). */
  fine: R;
  /** The solve on S steps (with extrapolation), else null. */
  coarse: R | null;
  /** Extrapolated outputs (the fine ones without extrapolation). */
  f: Float64Array;
  /** max |f − f_fine| (null without extrapolation). */
  correction: number | null;
}

/**
 * `solve(S, fine)` on S steps, or (enabled) on S and 2S steps with the outputs
 * extrapolated at `order`; `fine` tells the solve which grid it is on (e.g. to
 * record profiles on the fine one only). The fine grid is solved first.
 */
export function withRichardson<R>(S: number, order: number, enabled: boolean, solve: (S: number, fine: boolean) => R, outputs: (r: R) => Float64Array): RichardsonRun<R> {
  if (!enabled) {
    const fine = solve(S, true);
    return { fine, coarse: null, f: outputs(fine), correction: null };
  }
  const fine = solve(2 * S, true);
  const coarse = solve(S, false);
  const f = richardson(outputs(coarse), outputs(fine), order);
  return { fine, coarse, f, correction: maxAbsDiff(f, outputs(fine)) };
}
