/**
 * One whole-process run of the finite ResNet for `npm run bench`:
 *   node dist/bench/ours.js L M D N K [threads]
 * Same problem as bench/peer_resnet.py (teacher data with d_in = 10, d_out = 2,
 * tanh, α = 1, η_u = η_v = 1, frozen embeddings); prints one JSON line.
 */
import { makeProblem } from "../src/problem/problem.ts";
import { trainResNet } from "../src/resnet/solver.ts";

const t0 = performance.now();
const [L, M, D, N, K] = process.argv.slice(2, 7).map(Number);
const thr = process.argv[7];
const threads = thr === undefined || thr === "auto" ? "auto" : Number(thr);
const problem = makeProblem({
  model: { L, M, D, activation: "tanh" },
  data: { generator: "teacher", dIn: 10, dOut: 2, N, seed: 1 },
  train: { steps: K, etaU: 1, etaV: 1 },
  seed: 1,
});
const opts: Record<string, unknown> = { threads };
const traj = trainResNet(problem, opts);
const t1 = performance.now();
console.log(JSON.stringify({ loss0: traj.loss[0], lossK: traj.loss[K - 1], initS: traj.timings.initMs / 1e3, trainS: traj.timings.trainMs / 1e3, inProcessS: (t1 - t0) / 1e3 }));
