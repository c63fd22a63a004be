/** The activation kernel: σ and σ′ over a range, one switch per call (MATH §1). */
import { type Activation, activationFailure } from "../core/activations.ts";

/**
 * σ, σ′ on P[i0..i1) into S, dS (by activation kind; no allocation). A user activation that
 * returns a non-finite value at a finite argument is a ValidationError naming it and the argument
 * (core/activations activationFailure); at a non-finite argument the caller reports the diverging state.
 */
export function activationRange(act: Activation, P: Float64Array, S: Float64Array, dS: Float64Array, i0: number, i1: number): void {
  switch (act.kind) {
    case 0:
      for (let i = i0; i < i1; i++) {
        const t = Math.tanh(P[i]);
        S[i] = t;
        dS[i] = 1 - t * t;
      }
      return;
    case 1:
      for (let i = i0; i < i1; i++) {
        S[i] = P[i];
        dS[i] = 1;
      }
      return;
    case 3:
      for (let i = i0; i < i1; i++) {
        S[i] = Math.sin(P[i]);
        dS[i] = Math.cos(P[i]);
      }
      return;
    default: {
      const f = act.f, df = act.df;
      for (let i = i0; i < i1; i++) {
        const x = P[i], a = f(x), b = df(x);
        S[i] = a;
        dS[i] = b;
        if (!(Number.isFinite(a) && Number.isFinite(b)) && Number.isFinite(x)) throw activationFailure(act, x, a, b);
      }
    }
  }
}
