/** Problem builders shared by the tests. */
import { makeProblem, type Problem, type ProblemInput } from "../../src/problem/problem.ts";
import { initEmbeddings } from "../../src/problem/embeddings.ts";
import type { ParticleSet } from "../../src/particles/mean-ode.ts";

/** A problem with explicit, fixed embeddings: changing its seed then only redraws U, V of finite models. */
export function fixedEmbeddings(input: ProblemInput): Problem {
  const p = makeProblem(input);
  const { WE, WU } = initEmbeddings(p);
  return { ...p, init: { WE, WU } };
}

/** The problem at depth L with every layer starting from the same P units (init.U[l][d][j] = u^j_d). */
export function sameUnits(p: Problem, units: ParticleSet, L: number): Problem {
  const { D } = p.model;
  const P = units.U.length / D;
  const layer = (A: Float64Array) => { // P × D (particle-major) → D × P (problem-file layout of one layer)
    const out = new Float64Array(D * P);
    for (let j = 0; j < P; j++) for (let d = 0; d < D; d++) out[d * P + j] = A[j * D + d];
    return out;
  };
  const U1 = layer(units.U), V1 = layer(units.V);
  const U = new Float64Array(L * D * P), V = new Float64Array(L * D * P);
  for (let l = 0; l < L; l++) { U.set(U1, l * D * P); V.set(V1, l * D * P); }
  const { WE, WU } = initEmbeddings(p);
  return makeProblem({
    model: { ...p.model, activation: p.model.activation.name, L, M: P },
    data: { X: nested(p.data.X, p.data.dIn, p.data.N), Y: nested(p.data.Y, p.data.dOut, p.data.N) },
    train: p.train, seed: p.seed,
    init: { WE: nested(WE, D, p.data.dIn), WU: nested(WU, D, p.data.dOut), U, V },
  });
}
export const nested = (a: Float64Array, rows: number, cols: number) => Array.from({ length: rows }, (_, i) => Array.from(a.subarray(i * cols, (i + 1) * cols)));
