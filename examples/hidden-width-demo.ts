/**
 * Main job (for now): a self-contained demonstration of the Hidden Width
 * claim (MATH §2: output error O(1/L + √(D/(LM))) after a fixed number of
 * GD steps, whatever M).
 *
 * Fixed D, fixed embeddings W_E, W_U and data; depth L fixed, width M on a
 * ladder. The reference is the widest run (same L, so the O(1/L) depth bias
 * cancels and only the width term √(D/(LM)) remains). We print the RMS
 * (over seeds, outputs, data points) of f_K − f_K^ref and the fitted
 * log-log slope against L·M, expected ≈ −1/2.
 *
 * Run: npm start   (or: npx tsx examples/hidden-width-demo.ts)
 */
import { makeProblem, teacherData, trainResNet, initEmbeddings, withChanges } from "../src/index.ts";

const L = 8, D = 16, K = 4, seeds = 16;
const widths = [4, 16, 64, 256];
const Mref = 16384;
const data = teacherData({ dIn: 3, dOut: 1, N: 4, seed: 7, nonlinearity: "tanh" });
const base = makeProblem({
  model: { L, M: Mref, D, activation: "tanh" },
  data: { X: toRows(data.X, data.dIn, data.N), Y: toRows(data.Y, data.dOut, data.N) },
  train: { steps: K, etaU: 0.5, etaV: 0.5 },
  seed: 1,
});
// Fix the embeddings once: every run below shares W_E, W_U (only U, V are redrawn).
const emb = initEmbeddings(base);
const withEmb = (M: number, seed: number) => {
  const p = withChanges(base, { model: { M }, seed });
  return { ...p, init: { WE: emb.WE, WU: emb.WU } };
};

function toRows(a: Float64Array, r: number, c: number): number[][] {
  return Array.from({ length: r }, (_, i) => Array.from(a.subarray(i * c, (i + 1) * c)));
}

const t0 = performance.now();
const ref = trainResNet(withEmb(Mref, 1000));
const fRef = ref.f.data.subarray((K - 1) * data.dOut * data.N, K * data.dOut * data.N);
console.log(`Hidden Width demo: L = ${L}, D = ${D}, K = ${K} GD steps (tanh), N = ${data.N}; reference M = ${Mref}`);
console.log(`final loss of the reference: ${ref.loss[K - 1].toFixed(5)} (initial ${ref.loss[0].toFixed(5)})`);
console.log("\n   M     L·M    RMS |f_K − f_K^ref|   × √(LM)");
const xs: number[] = [], ys: number[] = [];
for (const M of widths) {
  let s2 = 0, cnt = 0;
  for (let r = 0; r < seeds; r++) {
    const t = trainResNet(withEmb(M, 1 + r));
    const f = t.f.data.subarray((K - 1) * data.dOut * data.N, K * data.dOut * data.N);
    for (let i = 0; i < f.length; i++) { s2 += (f[i] - fRef[i]) ** 2; cnt++; }
  }
  const rms = Math.sqrt(s2 / cnt);
  xs.push(Math.log(L * M)); ys.push(Math.log(rms));
  console.log(`${String(M).padStart(5)} ${String(L * M).padStart(7)}    ${rms.toExponential(3).padStart(12)}      ${(rms * Math.sqrt(L * M)).toFixed(3)}`);
}
const mx = xs.reduce((a, b) => a + b) / xs.length, my = ys.reduce((a, b) => a + b) / ys.length;
let sxy = 0, sxx = 0;
for (let i = 0; i < xs.length; i++) { sxy += (xs[i] - mx) * (ys[i] - my); sxx += (xs[i] - mx) ** 2; }
console.log(`\nfitted log-log slope in L·M: ${(sxy / sxx).toFixed(3)}   (theory: −0.5)`);
console.log(`time: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
