/**
 * Sanity check (run once, not a test): the numpy peer bench/peer_resnet.py
 * implements the same algorithm as the engine. Both train the same small
 * problem from the same explicit weights (passed through a JSON file); the
 * losses and final weights must agree to rounding.
 *
 *   npx tsx bench/check-peer.ts
 */
import { spawnSync } from "node:child_process";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { toNested } from "../src/core/arrays.ts";
import { makeProblem } from "../src/problem/problem.ts";
import { trainResNet } from "../src/resnet/solver.ts";
import { initWeights, weightsToJSON, type ResNetWeights } from "../src/resnet/weights.ts";

const here = dirname(fileURLToPath(import.meta.url));
const [L, M, D, N, K] = [6, 70, 9, 5, 4];
const train = { steps: K, etaU: 0.8, etaV: 1.1, etaE: 0.2, etaO: 0.3 };
const problem = makeProblem({ model: { L, M, D, activation: "tanh", alpha: 1.3 }, data: { generator: "teacher", dIn: 3, dOut: 2, N, seed: 5 }, train, seed: 11 });
const w0 = initWeights(problem);
const file = join(mkdtempSync(join(tmpdir(), "limitdyn-peer-")), "problem.json");
writeFileSync(file, JSON.stringify({
  ...weightsToJSON(w0), X: toNested(problem.data.X, [3, N]), Y: toNested(problem.data.Y, [2, N]), K, alpha: 1.3, ...train,
}));
const env = { ...process.env };
delete env.OPENBLAS_CORETYPE; delete env.OPENBLAS_L2_SIZE;
const r = spawnSync("python3", [join(here, "peer_resnet.py"), "--check", file], { encoding: "utf8", env });
if (r.status !== 0) throw new Error(r.stderr);
const peer = JSON.parse(r.stdout) as { loss: number[]; U: unknown; V: unknown; WE: unknown; WU: unknown };
const traj = trainResNet(problem, { weights: w0, returnWeights: true, threads: 2 });
const ours = weightsToJSON(traj.extras!.weights as ResNetWeights);
const flat = (x: unknown): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x as number]);
let worst = 0;
const rel = (a: number[], b: number[]) => {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) { num = Math.max(num, Math.abs(a[i] - b[i])); den = Math.max(den, Math.abs(b[i])); }
  return num / den;
};
for (const [name, a, b] of [["loss", Array.from(traj.loss), peer.loss], ["U", flat(ours.U), flat(peer.U)], ["V", flat(ours.V), flat(peer.V)], ["WE", flat(ours.WE), flat(peer.WE)], ["WU", flat(ours.WU), flat(peer.WU)]] as const) {
  const e = rel(a as number[], b as number[]);
  worst = Math.max(worst, e);
  console.log(`${name.padEnd(5)} max rel diff ${e.toExponential(2)}`);
}
console.log(worst < 1e-12 ? "peer agrees with the engine" : "PEER DISAGREES");
if (worst >= 1e-12) process.exitCode = 1;
