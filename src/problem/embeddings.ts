/**
 * The embeddings of a problem (MATH §1, §3, §5): W_E, W_U drawn from the
 * seed (or explicit init), their Gram matrix E = [W_E W_U]ᵀ[W_E W_U]/D and its
 * D → ∞ limit. Shared by the finite model and every limit solver.
 */
import { StreamFamily } from "../core/rng.ts";
import { f64, requireResources } from "../core/resources.ts";
import { assertProblem, type Problem } from "./problem.ts";

/**
 * The embeddings W_E (D × d_in), W_U (D × d_out) of a problem: explicit
 * `init.WE` / `init.WU` where given, else drawn from streams 0 and 1 of the
 * seed — the same draws as initWeights, so limit solvers and finite models of
 * one problem share their embeddings.
 */
export function initEmbeddings(problem: Problem): { WE: Float64Array; WU: Float64Array } {
  assertProblem(problem);
  const { D, sigmaIn, sigmaOut } = problem.model;
  const { dIn, dOut } = problem.data;
  requireResources({
    what: "the embeddings W_E, W_U", drivers: [["model.D", D], ["data.dIn + data.dOut", dIn + dOut]],
    bytes: f64(D * (dIn + dOut)), work: 20 * D * (dIn + dOut) + D * (dIn + dOut) ** 2, largest: D * Math.max(dIn, dOut),
  });
  const fam = new StreamFamily(problem.seed);
  const WE = problem.init.WE ? Float64Array.from(problem.init.WE) : fam.get(0).fillNormal(new Float64Array(D * dIn), sigmaIn);
  const WU = problem.init.WU ? Float64Array.from(problem.init.WU) : fam.get(1).fillNormal(new Float64Array(D * dOut), sigmaOut);
  return { WE, WU };
}

/** Embedding Gram matrix E = [W_E W_U]ᵀ [W_E W_U] / D (r × r). */
export function embeddingGram(WE: Float64Array, WU: Float64Array, D: number, dIn: number, dOut: number): Float64Array {
  const r = dIn + dOut;
  const E = new Float64Array(r * r);
  const col = (t: number, d: number) => (t < dIn ? WE[d * dIn + t] : WU[d * dOut + (t - dIn)]);
  for (let a = 0; a < r; a++)
    for (let b = a; b < r; b++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += col(a, d) * col(b, d);
      E[a * r + b] = E[b * r + a] = s / D;
    }
  return E;
}

/** The D → ∞ limit of E: diag(σ_in² I_{d_in}, σ_out² I_{d_out}) (MATH §5). */
export function limitEmbeddingGram(dIn: number, dOut: number, sigmaIn: number, sigmaOut: number): Float64Array {
  const r = dIn + dOut;
  const E = new Float64Array(r * r);
  for (let a = 0; a < r; a++) E[a * r + a] = a < dIn ? sigmaIn * sigmaIn : sigmaOut * sigmaOut;
  return E;
}
