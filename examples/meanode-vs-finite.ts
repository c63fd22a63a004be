/**
 * A finite ResNet and its L → ∞ limit (the Mean ODE, MATH §2–3) on the same
 * problem — same data, same embeddings W_E, W_U — with both loss curves and
 * the output error. The skeleton solver costs the same whatever D; a
 * particle run is shown as an independent second computation.
 *
 * Run: npx tsx examples/meanode-vs-finite.ts
 */
import { makeProblem, solve, finiteResNet, meanOde, outputRms } from "../src/index.ts";

const problem = makeProblem({
  model: { L: 64, M: 256, D: 64, activation: "tanh" },
  data: { generator: "teacher", dIn: 3, dOut: 1, N: 2, seed: 5, nonlinearity: "tanh" },
  train: { steps: 5, etaU: 1, etaV: 1 },
  seed: 3,
});
const finite = solve(problem, finiteResNet());
const skeleton = solve(problem, meanOde());
const particles = solve(problem, meanOde({ method: "particles", particles: 8192, depthSteps: 16 }));

console.log(" k    finite (L=64, M=256)   Mean ODE (skeleton)   Mean ODE (8192 particles)");
for (let k = 0; k < problem.train.steps; k++) {
  console.log(`${String(k).padStart(2)}    ${finite.loss[k].toFixed(6).padStart(12)}        ${skeleton.loss[k].toFixed(6).padStart(12)}        ${particles.loss[k].toFixed(6).padStart(12)}`);
}
console.log(`\noutput RMS error, finite vs Mean ODE: ${outputRms(finite, skeleton).toExponential(3)}  (theory O(1/L + √(D/(LM))), with √(D/(LM)) = ${Math.sqrt(64 / (64 * 256)).toExponential(2)} an upper bound on outputs, MATH §5)`);
console.log(`output RMS difference, particles vs skeleton: ${outputRms(particles, skeleton).toExponential(3)}  (particle error ≈ 0.5/√P = ${(0.5 / Math.sqrt(8192)).toExponential(2)})`);
console.log(`times: finite ${finite.timings.totalMs.toFixed(0)} ms, skeleton ${skeleton.timings.totalMs.toFixed(0)} ms, particles ${particles.timings.totalMs.toFixed(0)} ms`);
