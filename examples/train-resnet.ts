/**
 * Train a finite ResNet (MATH §1) and print its loss curve.
 * Run: npx tsx examples/train-resnet.ts
 */
import { makeProblem, solve, finiteResNet } from "../src/index.ts";

const problem = makeProblem({
  model: { L: 16, M: 32, D: 32, activation: "tanh", alpha: 1 },
  data: { generator: "teacher", dIn: 4, dOut: 2, N: 8, seed: 3, nonlinearity: "tanh" },
  train: { steps: 40, etaU: 1, etaV: 1 },
  seed: 42,
});
const traj = solve(problem, finiteResNet({ record: ["h"], recordSteps: [0, 39] }));

console.log(" step    loss");
for (let k = 0; k < traj.K; k += 5) console.log(`${String(k).padStart(5)}   ${traj.loss[k].toFixed(6)}`);
console.log(`final  ${traj.loss[traj.K - 1].toFixed(6)}   (${traj.timings.totalMs.toFixed(1)} ms)`);
// depth profile of the first hidden coordinate of data point 0 at the last step: h[k](s) with s = ℓ/L
const h = traj.profiles!.h!;
const last = h.shape[0] - 1;
console.log("h_ℓ[0] of data point 0 at the last step, ℓ = 0..L:");
console.log(Array.from({ length: h.shape[1] }, (_, l) => h.get(last, l, 0, 0).toFixed(3)).join(" "));
