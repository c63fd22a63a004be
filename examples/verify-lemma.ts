/**
 * Checking two small lemmas about a finite ResNet at initialisation with the
 * property-based checkers of src/verify (guide: docs/verifying-a-lemma.md).
 *
 *   npx tsx examples/verify-lemma.ts
 *
 * Lemma 1 (Lipschitz). For activations with σ(0) = 0 and |σ′| ≤ s₁, the
 * forward map x ↦ f(x) of MATH §1 is Lipschitz with constant
 *   Lip ≤ (|W_U|_F / D) · Π_ℓ (1 + α s₁ |U_ℓ|_F |V_ℓ|_F / (L M D)) · |W_E|_F,
 * since each residual block h ↦ h + (α/(LM)) V_ℓ σ(U_ℓᵀ h / D) has Jacobian
 * I + (α/(LM)) V_ℓ diag(σ′) U_ℓᵀ / D.
 *
 * Lemma 2 (sub-gaussian). Given h_0 = W_E x, the first-layer preactivations
 * p_j = u_jᵀ h_0 / D with u_j ~ N(0, σ_u² D I) are i.i.d. N(0, σ_u² |h_0|² / D),
 * so their ψ₂ norm is σ_u |h_0| / √D · √(8/3).
 */
import { makeProblem, initWeights, forward, type Problem, type ResNetWeights } from "../src/index.ts";
import { checkLipschitz, checkSubGaussian, vectorPairArb } from "../src/verify/index.ts";

const dIn = 3;
const problem = makeProblem({
  model: { L: 4, M: 8, D: 16, activation: "tanh", alpha: 1 },
  data: { X: [[0], [0], [0]], Y: [[0], [0]] }, // placeholder: the map below feeds its own x
  train: { steps: 1, etaU: 0, etaV: 0 },
  seed: 7,
});
const weights = initWeights(problem);

/** x ↦ f(x) at fixed weights: the problem with a one-point data set {x}. */
function outputMap(p: Problem, w: ResNetWeights): (x: number[]) => number[] {
  return (x) => {
    const data = { ...p.data, N: 1, X: Float64Array.from(x), Y: new Float64Array(p.data.dOut) };
    const { f } = forward({ ...p, data }, w);
    return Array.from({ length: p.data.dOut }, (_, o) => f.get(o, 0));
  };
}

/** The bound of Lemma 1, from the same weights. */
function lipschitzBound(p: Problem, w: ResNetWeights): number {
  const { L, M, D, alpha, activation } = p.model;
  const fro = (a: Float64Array, off = 0, len = a.length) => Math.sqrt(a.subarray(off, off + len).reduce((s, v) => s + v * v, 0));
  let prod = 1;
  for (let l = 0; l < L; l++) prod *= 1 + (alpha * activation.sup.df * fro(w.U, l * M * D, M * D) * fro(w.V, l * M * D, M * D)) / (L * M * D);
  return (fro(w.WU) / D) * prod * fro(w.WE);
}

const f = outputMap(problem, weights);
const bound = lipschitzBound(problem, weights);
// pairs on the 0.25-grid in [−2, 2]³, half of them nearby pairs y = x + 2^−e·d (shrink to readable values)
const pairs = vectorPairArb(dIn);

const lemma1 = checkLipschitz({ f, pairs, bound, numRuns: 300 });
console.log(`Lemma 1: Lip(x ↦ f(x)) ≤ ${bound.toFixed(4)}`);
console.log(`  ok = ${lemma1.ok}; worst ratio seen ${lemma1.worstRatio.toFixed(4)} (ratio/bound = ${lemma1.worstRatioOverBound.toExponential(2)}: a valid but loose Frobenius-norm bound) over ${lemma1.evaluations} pairs, seed ${lemma1.seed}`);

// a planted error: claim 80 % of the worst ratio seen — the checker must find a pair and shrink it
const planted = checkLipschitz({ f, pairs, bound: 0.8 * lemma1.worstRatio, numRuns: 300 });
console.log(`  planted bound ${(0.8 * lemma1.worstRatio).toFixed(4)}: ok = ${planted.ok}` +
  (planted.counterexample ? `; shrunk counterexample x = ${JSON.stringify(planted.counterexample.x)}, y = ${JSON.stringify(planted.counterexample.y)}, ratio ${planted.counterexample.ratio.toFixed(4)} after ${planted.numShrinks} shrinks` : ""));

// Lemma 2 on a wide first layer
const wide = makeProblem({
  model: { L: 1, M: 20000, D: 8, activation: "tanh", sigmaU: 1 },
  data: { X: [[1], [-0.5], [2]], Y: [[0], [0]] },
  train: { steps: 1, etaU: 0, etaV: 0 },
  seed: 3,
});
const fw = forward(wide);
const D = wide.model.D, M = wide.model.M;
let h0sq = 0;
for (let d = 0; d < D; d++) h0sq += fw.h.get(0, 0, d) ** 2;
const psi2 = wide.model.sigmaU * Math.sqrt(h0sq / D) * Math.sqrt(8 / 3);
const p = Float64Array.from({ length: M }, (_, j) => fw.p.get(0, j, 0));
const lemma2 = checkSubGaussian({ samples: p, proxy: psi2 });
console.log(`Lemma 2: ψ₂(p) = σ_u|h_0|/√D·√(8/3) = ${psi2.toFixed(4)}`);
console.log(`  ok = ${lemma2.ok}; empirical ψ₂ ${lemma2.psi2.toFixed(4)}, ${(100 * (1 - lemma2.falseFailureProbability)).toFixed(1)} % bounds [${lemma2.lower.toFixed(4)}, ${lemma2.upper.toFixed(4)}] (lower end distribution-free), n = ${lemma2.n}`);
const tooSmall = checkSubGaussian({ samples: p, proxy: 0.8 * psi2 });
console.log(`  claimed ψ₂ ≤ ${(0.8 * psi2).toFixed(4)} (20 % too small): ok = ${tooSmall.ok}`);

// The library's bounds (src/verify/bounds.ts, docs/verifying-a-lemma.md "Bounds"): operator-norm
// discrete Grönwall, a priori and on the segment between the two inputs of each pair.
import { resnetForwardBound } from "../src/verify/index.ts";
const lib = resnetForwardBound(problem, weights);
const libCheck = checkLipschitz({ f, pairs, bound: lib.output, numRuns: 300 });
const segCheck = checkLipschitz({ f, pairs, bound: (x, y) => resnetForwardBound(problem, weights, { x, y }).output, numRuns: 300 });
console.log(`resnetForwardBound: Lip ≤ ${lib.output.toFixed(4)} (Frobenius version above: ${bound.toFixed(4)}); ok = ${libCheck.ok}, ratio/bound = ${libCheck.worstRatioOverBound.toFixed(3)}; per-pair segment bound: ok = ${segCheck.ok}, ratio/bound = ${segCheck.worstRatioOverBound.toFixed(3)}`);
