/**
 * The coordinate-trajectory picture of "ResNets of All Shapes and Sizes"
 * (MATH §5): a few coordinates d of h_k(s) of a finite ResNet against the
 * coupled DMFT coordinates h_{k,n}(s) = eᵀc^{hE} + oᵀc^{hU} computed from the
 * same embedding rows (e, o) = ((W_E)_{d,:}, (W_U)_{d,:}); plus the limit law
 * of the preactivations p_k(s) from the particle sampler against the finite
 * model's units. Writes data (JSON) and the plots (SVG + Vega-Lite specs) to
 * out/dmft-coordinates/.
 *
 * Run: npx tsx examples/dmft-coordinates.ts
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { makeProblem, solve, trainResNet, initEmbeddings } from "../src/index.ts";
import { dmft, dmftCoordinates, rowsFromEmbeddings } from "../src/limits/dmft.ts";
import { limitLawSamples } from "../src/skeleton/sampler.ts";
import { plotCoordinates, plotHistograms } from "../src/experiments/plot.ts";

const out = "out/dmft-coordinates";
mkdirSync(out, { recursive: true });
const L = 32, M = 512, D = 256, K = 4;
const problem = makeProblem({
  model: { L, M, D, activation: "tanh" },
  data: { generator: "teacher", dIn: 3, dOut: 1, N: 2, seed: 4, nonlinearity: "tanh" },
  train: { steps: K, etaU: 1, etaV: 1 },
  seed: 7,
});
const k = K - 1, n = 0, rowsShown = [0, 1, 2, 3];

const finite = trainResNet(problem, { record: ["h", "p"], recordSteps: [k] });
const limit = solve(problem, dmft({}));
const { WE, WU } = initEmbeddings(problem);
const coords = dmftCoordinates(limit, rowsFromEmbeddings(WE, WU, D)); // [D, K, nodes, N]
const nodes = coords.h.shape[2];
const series = rowsShown.flatMap((d) => [
  { name: `d = ${d} (finite)`, kind: "finite" as const, s: Array.from(finite.profiles!.s), values: Array.from({ length: L + 1 }, (_, l) => finite.profiles!.h!.get(0, l, n, d)) },
  { name: `d = ${d} (DMFT)`, kind: "limit" as const, s: Array.from(coords.s), values: Array.from({ length: nodes }, (_, i) => coords.h.get(d, k, i, n)) },
]);
// embedding-space error at s = 1: RMS over all D coordinates and data points
let s2 = 0;
for (let d = 0; d < D; d++) for (let m = 0; m < 2; m++) s2 += (finite.profiles!.h!.get(0, L, m, d) - coords.h.get(d, k, nodes - 1, m)) ** 2;
console.log(`L = ${L}, M = ${M}, D = ${D}, step k = ${k}: RMS over coordinates of h_L − h_DMFT(1) = ${Math.sqrt(s2 / (2 * D)).toFixed(4)}`);

// preactivations of layer ℓ = L/2 at step k: finite units vs the limit law (particle sampler)
const ell = L / 2;
const pFinite = Array.from({ length: M }, (_, j) => finite.profiles!.p!.get(0, ell - 1, j, n));
const node = Math.round(((ell - 1) / L) * (nodes - 1)); // the unit of layer ℓ sees h at s = (ℓ−1)/L
const law = limitLawSamples(limit, { step: k, node, samples: 20000, seed: 1, what: ["p"] });
const pLimit = Array.from({ length: 20000 }, (_, i) => law.p!.get(i, n));

const traj = await plotCoordinates(series, { title: `h_k(s) coordinates, finite (L=${L}, M=${M}, D=${D}) vs DMFT, k = ${k}`, yTitle: "h_{k,n}(s)_d", out: `${out}/coordinates` });
const hist = await plotHistograms([{ name: "finite units", values: pFinite }, { name: "DMFT limit law", values: pLimit }], { title: `preactivations p_k(s), layer ${ell}, k = ${k}`, out: `${out}/preactivations` });
writeFileSync(`${out}/data.json`, JSON.stringify({ series, pFinite, pLimitSample: pLimit.slice(0, 2000) }));
console.log(`wrote ${out}/coordinates.svg (${traj.svg.length} bytes), ${out}/preactivations.svg (${hist.svg.length} bytes), ${out}/data.json`);
