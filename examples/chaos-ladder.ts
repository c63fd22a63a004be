/**
 * Propagation of chaos over a ladder of widths (MATH §4; docs/chaos.md).
 *
 *   npx tsx examples/chaos-ladder.ts [R] [widths, comma-separated] [L]
 *
 * For each width M: R independent finite ResNets (U, V seeds vary; embeddings and data
 * fixed), each coupled to the M = ∞ ResNet at the same L through twins. Prints, at the
 * last step: the coupling distance (RMS), the output gap, the tagged-pair correlation of
 * unit displacements, and W1 between the layer's empirical law of preactivations and the
 * limit law (with the same W1 for the twins, i.e. for i.i.d. samples of the limit law);
 * then the fitted log-log slopes against M (theory: −1/2, −1/2, −1, −1/2).
 */
import { makeProblem } from "../src/problem/problem.ts";
import { chaosDiagnostics } from "../src/chaos/index.ts";

const R = Number(process.argv[2] ?? 64);
const widths = (process.argv[3] ?? "16,64,256,1024").split(",").map(Number);
const L = Number(process.argv[4] ?? 2);

const problem = makeProblem({
  model: { L, M: 8, D: 8, activation: "tanh" },
  data: { generator: "teacher", dIn: 2, dOut: 1, N: 4, seed: 1 },
  train: { steps: 3, etaU: 1, etaV: 1 },
  seed: 1,
});

const res = chaosDiagnostics(problem, { widths, R, expectation: { kind: "qmc", samples: 4096 }, lawSamples: 16384 });

const e = (x: number | null) => (x === null ? "—" : x.toExponential(3)).padStart(11);
console.log(`L = ${L}, D = 8, N = 4, K = 3 steps (values at k = 2), R = ${R} runs per width, tanh`);
console.log(`M = ∞ limit: ${res.limit.algorithm}, loss ${res.limit.loss.map((l) => l.toFixed(4)).join(" → ")} (${res.timings.limitMs.toFixed(0)} ms)\n`);
console.log("      M   couplingRms  outputGapRms      pRms         qRms    tagCorrelation   M·tagCorr     W1        W1 twins");
res.widths.forEach((M, i) => {
  const t = res.tagCorrelation[i];
  console.log(`${String(M).padStart(7)} ${e(res.couplingRms[i])}  ${e(res.outputGapRms[i])} ${e(res.pRms[i])} ${e(res.qRms[i])}  ${e(t)}  ${(t === null ? "—" : (t * M).toFixed(2)).padStart(10)} ${e(res.w1[i])} ${e(res.w1Twins[i])}`);
});
const s = res.slopes;
const f = (x: number | null) => (x === null ? "—" : x.toFixed(3));
console.log(`\nslopes vs M: coupling ${f(s.coupling)} (−1/2), output gap ${f(s.outputGap)} (−1/2), p ${f(s.p)}, q ${f(s.q)}, tagged correlation ${f(s.tagCorrelation)} (−1), W1 ${f(s.w1)}`);
console.log(`time ${(res.timings.totalMs / 1000).toFixed(1)} s (limit ${res.timings.limitMs.toFixed(0)} ms, reference sample ${res.timings.referenceMs.toFixed(0)} ms, widths ${res.detail.map((d) => `${d.M}: ${d.ms.toFixed(0)} ms`).join(", ")})`);
