/**
 * `limitdyn reproduce chen` (docs/presets/chen.md): the objects of Chen et al. (ICLR 2024)
 * for our model on two spirals (MATH §8):
 *
 *  (a) λ_min(K_k) of the tangent Gram matrix along training, finite ResNets at several depths
 *      and widths (same embeddings) next to the Mean ODE (their L → ∞ limit) and the DMFT;
 *  (b) the KL of the trained law KL_k along training, Mean ODE and DMFT;
 *  (c) the 0-1 test error of sign f on a fixed test set against the training-set size
 *      (≥ 6 sizes, ≥ 10 repetitions), OLS of log(mean error) on log n: exponent, 95% interval,
 *      p-value of a zero slope;
 *  (d) linear convergence: the realised rate 𝓛_{k+1}/𝓛_k next to the Gram bound
 *      1 − (2/N) λ_min(K_k) (𝓛_{k+1} ≤ 𝓛_k (1 − (2/N) λ_min(K_k)) + O(η²)) and the first-order
 *      prediction 1 − r_kᵀK_k r_k/(N² 𝓛_k).
 */
import { makeProblem, type Problem, withChanges } from "../../problem/problem.ts";
import { solve } from "../../problem/algorithm.ts";
import type { Trajectory } from "../../problem/trajectory.ts";
import { trainResNet } from "../../resnet/solver.ts";
import { meanOde } from "../../limits/mean-ode.ts";
import { dmft } from "../../limits/dmft.ts";
import { ols } from "../../stats/ols.ts";
import { knownKeys } from "../../core/validate.ts";
import { plotXY, type XYSeries } from "../plot.ts";
import type { Point, SweepSpec } from "../spec.ts";
import { type Ctx, figure, type Scale, sweep } from "./common.ts";

export interface ChenScale {
  /** (a), (b), (d): N two-spirals points, K GD steps at η_u = η_v = eta; finite shapes [L, M]; limit expectations. */
  gram: { N: number; turns: number; steps: number; eta: number; D: number; sigmaIn: number; shapes: [number, number][]; points: number; randomizations: number; seed: number };
  /** (c): training sizes × repetitions, the fixed test set (NTest points from testSeed), the trained finite model. */
  testError: { sizes: number[]; reps: number; NTest: number; testSeed: number; turns: number; noise: number; steps: number; eta: number; L: number; M: number; D: number; sigmaIn: number };
}

export const CHEN_SCALES: Readonly<Record<Scale, ChenScale>> = {
  small: {
    gram: { N: 8, turns: 1, steps: 30, eta: 0.3, D: 16, sigmaIn: 2, shapes: [[4, 16], [4, 256], [32, 16], [32, 256]], points: 1024, randomizations: 2, seed: 1 },
    testError: { sizes: [8, 11, 16, 23, 32, 45, 64], reps: 10, NTest: 2000, testSeed: 20240, turns: 1, noise: 0, steps: 100, eta: 2, L: 4, M: 32, D: 16, sigmaIn: 2 },
  },
  paper: {
    gram: { N: 16, turns: 1, steps: 60, eta: 0.3, D: 32, sigmaIn: 2, shapes: [[8, 64], [8, 1024], [64, 64], [64, 1024]], points: 4096, randomizations: 8, seed: 1 },
    testError: { sizes: [8, 16, 32, 64, 128, 256, 512], reps: 20, NTest: 10000, testSeed: 20240, turns: 1, noise: 0, steps: 200, eta: 2, L: 8, M: 64, D: 32, sigmaIn: 2 },
  },
};

export interface ConvergenceStats {
  name: string;
  /** Steps k = 0..K−2 compared. */
  steps: number;
  /** Steps with 𝓛_{k+1}/𝓛_k ≤ 1 − (2/N) λ_min(K_k). */
  withinBound: number;
  /** Geometric means over the steps of the realised rate, the Gram bound and the first-order prediction. */
  realisedRate: number;
  boundRate: number;
  firstOrderRate: number;
  /** max_k |realised − first-order prediction| (the O(η²) remainder). */
  maxFirstOrderGap: number;
}

export interface GramRun {
  name: string;
  L?: number;
  M?: number;
  lambdaMin: number[];
  loss: number[];
}

export interface ChenSummary {
  preset: "chen";
  scale: Scale;
  config: ChenScale;
  gram: { N: number; K: number; runs: GramRun[] };
  kl: { meanOde: number[]; dmft: number[]; warnings: string[] };
  convergence: ConvergenceStats[];
  testError: {
    sizes: number[];
    reps: number;
    NTest: number;
    /** Mean 0-1 test error per size (over repetitions), and its standard error. */
    mean: number[];
    se: number[];
    trainError: number[];
    /** OLS of log(mean error) on log n over the sizes with a non-zero mean error. */
    fit: { exponent: number; ci: [number, number]; level: number; pValue: number; r2: number; sizes: number; df: number } | { error: string };
  };
  runtimeSec: number;
  files: string[];
}

const fmt = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : String(x));
const sci = (x: number) => (Number.isFinite(x) ? x.toExponential(2) : String(x));
const geoMean = (xs: number[]) => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);

/** Realised loss ratios against the Gram bound and the first-order prediction (MATH §8). */
export function convergenceStats(name: string, t: Trajectory, p: Problem): ConvergenceStats & { realised: number[]; bound: number[]; firstOrder: number[] } {
  const { dOut, N, Y } = p.data;
  const dN = dOut * N;
  const realised: number[] = [], bound: number[] = [], firstOrder: number[] = [];
  for (let k = 0; k + 1 < t.K; k++) {
    let q = 0;
    for (let x = 0; x < dN; x++) {
      const rx = t.f.data[k * dN + x] - Y[x];
      for (let y = 0; y < dN; y++) q += rx * t.gram!.data[(k * dN + x) * dN + y] * (t.f.data[k * dN + y] - Y[y]);
    }
    realised.push(t.loss[k + 1] / t.loss[k]);
    bound.push(1 - (2 / N) * t.gramLambdaMin![k]);
    firstOrder.push(1 - q / (N * N * t.loss[k]));
  }
  return {
    name, steps: realised.length, withinBound: realised.filter((r, i) => r <= bound[i]).length,
    realisedRate: geoMean(realised), boundRate: geoMean(bound), firstOrderRate: geoMean(firstOrder),
    maxFirstOrderGap: Math.max(...realised.map((r, i) => Math.abs(r - firstOrder[i]))),
    realised, bound, firstOrder,
  };
}

function gramProblem(g: ChenScale["gram"]): Problem {
  return makeProblem({
    model: { L: 1, M: 1, D: g.D, activation: "tanh", sigmaIn: g.sigmaIn },
    data: { generator: "two-spirals", N: g.N, turns: g.turns, seed: g.seed },
    train: { steps: g.steps, etaU: g.eta, etaV: g.eta },
    seed: g.seed,
  });
}

/** (a), (b), (d): finite ResNets and the two limits on the same problem (same embeddings: same seed and D). */
async function gramPart(ctx: Ctx, g: ChenScale["gram"]): Promise<Pick<ChenSummary, "gram" | "kl" | "convergence">> {
  const p = gramProblem(g);
  const expectation = { points: g.points, randomizations: g.randomizations };
  ctx.log(`  (a, b, d) two spirals N = ${g.N}, K = ${g.steps}, η = ${g.eta}: finite ${g.shapes.map(([L, M]) => `${L}×${M}`).join(", ")}, Mean ODE and DMFT with record gram, kl`);
  const runs: { name: string; t: Trajectory; L?: number; M?: number }[] = g.shapes.map(([L, M]) => ({ name: `finite L=${L}, M=${M}`, L, M, t: trainResNet(withChanges(p, { model: { L, M } }), { record: ["gram"] }) }));
  const mean = solve(p, meanOde({ record: ["gram", "kl"], expectation }));
  const inf = solve(p, dmft({ record: ["gram", "kl"], expectation }));
  runs.push({ name: `Mean ODE (D = ${g.D})`, t: mean }, { name: "DMFT (D = ∞)", t: inf });
  const ks = Array.from({ length: g.steps }, (_, k) => k);
  await figure(ctx, "gram-lambda-min", (out) => plotXY(runs.map((r) => ({ name: r.name, x: ks, y: Array.from(r.t.gramLambdaMin!), kind: r.L === undefined ? "dashed" : "line" })), {
    out, logY: true, xTitle: "GD step k", yTitle: "λ_min(K_k)", title: `smallest eigenvalue of the tangent Gram matrix, two spirals (N = ${g.N}): finite ResNets and limits`,
  }));
  await figure(ctx, "kl", (out) => plotXY([{ name: `Mean ODE (D = ${g.D})`, x: ks, y: Array.from(mean.kl!) }, { name: "DMFT (D = ∞)", x: ks, y: Array.from(inf.kl!) }], {
    out, xTitle: "GD step k", yTitle: "KL_k = ∫ KL(ρ_k(s) ‖ μ_0) ds", title: "KL of the trained law along training",
  }));
  const conv = runs.map((r) => convergenceStats(r.name, r.t, p));
  const series: XYSeries[] = [];
  for (const c of [conv[conv.length - 2], conv[conv.length - 1], conv[conv.length - 3]]) {
    const x = ks.slice(0, -1);
    series.push({ name: `${c.name}: realised 𝓛_{k+1}/𝓛_k`, x, y: c.realised, kind: "line" });
    series.push({ name: `${c.name}: first order 1 − rᵀKr/(N²𝓛)`, x, y: c.firstOrder, kind: "points" });
    series.push({ name: `${c.name}: bound 1 − 2λ_min/N`, x, y: c.bound, kind: "dashed" });
  }
  await figure(ctx, "convergence", (out) => plotXY(series, { out, xTitle: "GD step k", yTitle: "loss ratio per step", title: "linear convergence: realised rate, first-order prediction and the Gram bound" }));
  const warnings = [...(mean.warnings ?? []).map((w) => `Mean ODE: ${w}`), ...(inf.warnings ?? []).map((w) => `DMFT: ${w}`)];
  return {
    gram: { N: g.N, K: g.steps, runs: runs.map((r) => ({ name: r.name, L: r.L, M: r.M, lambdaMin: Array.from(r.t.gramLambdaMin!), loss: Array.from(r.t.loss) })) },
    kl: { meanOde: Array.from(mean.kl!), dmft: Array.from(inf.kl!), warnings },
    convergence: conv.map(({ realised: _r, bound: _b, firstOrder: _f, ...c }) => c),
  };
}

/** (c): the test-error ladder as a sweep (one row per training set; resumable), then the OLS fit of log error on log n. */
async function testErrorPart(ctx: Ctx, c: ChenScale["testError"]): Promise<ChenSummary["testError"]> {
  const list: Point[] = [];
  for (const N of c.sizes) for (let r = 0; r < c.reps; r++) list.push({ "data.N": N, "data.seed": r + 1 });
  const spec: SweepSpec = {
    problem: {
      model: { L: c.L, M: c.M, D: c.D, activation: "tanh", sigmaIn: c.sigmaIn },
      data: { generator: "two-spirals", N: c.sizes[0], turns: c.turns, noise: c.noise, seed: 1, NTest: c.NTest, testSeed: c.testSeed },
      train: { steps: c.steps, etaU: c.eta, etaV: c.eta },
      seed: 1,
    },
    list, repetitions: 1, task: "finite-test-error",
  };
  const rows = await sweep(ctx, `test-error.${ctx.scale}.jsonl`, spec);
  const by = new Map<number, { test: number[]; train: number[] }>();
  for (const row of rows) {
    const v = row.values as { N?: number; testError?: number; trainError?: number } | undefined;
    if (!v || typeof v.testError !== "number" || typeof v.N !== "number") continue;
    if (!by.has(v.N)) by.set(v.N, { test: [], train: [] });
    by.get(v.N)!.test.push(v.testError);
    by.get(v.N)!.train.push(v.trainError ?? NaN);
  }
  const sizes = c.sizes.filter((n) => by.has(n));
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const mean = sizes.map((n) => avg(by.get(n)!.test));
  const se = sizes.map((n, i) => {
    const xs = by.get(n)!.test;
    return xs.length > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - mean[i]) ** 2, 0) / (xs.length - 1) / xs.length) : NaN;
  });
  const trainError = sizes.map((n) => avg(by.get(n)!.train));
  const pos = sizes.map((n, i) => [n, mean[i]]).filter(([, e]) => e > 0);
  let fit: ChenSummary["testError"]["fit"];
  try {
    const f = ols(pos.map(([n]) => Math.log(n)), pos.map(([, e]) => Math.log(e)));
    fit = { exponent: f.slope, ci: f.ci, level: f.level, pValue: f.pValue, r2: f.r2, sizes: f.n, df: f.df };
  } catch (e) {
    fit = { error: (e as Error).message };
  }
  const series: XYSeries[] = [
    { name: "test error, each training set", x: rows.map((r) => (r.values as { N: number }).N), y: rows.map((r) => (r.values as { testError: number }).testError), kind: "points" },
    { name: `mean over ${c.reps} training sets`, x: sizes, y: mean, kind: "line" },
  ];
  if (!("error" in fit)) {
    const f = fit, a = Math.exp(avg(pos.map(([n, e]) => Math.log(e) - f.exponent * Math.log(n))));
    series.push({ name: `OLS fit n^${f.exponent.toFixed(2)}`, x: sizes, y: sizes.map((n) => a * n ** f.exponent), kind: "dashed" });
  }
  await figure(ctx, "test-error", (out) => plotXY(series, {
    out, logX: true, logY: true, xTitle: "training-set size n", yTitle: `0-1 test error of sign f (${c.NTest} test points)`,
    title: `two spirals (${c.turns} turn${c.turns === 1 ? "" : "s"}): test error of the trained finite ResNet (L = ${c.L}, M = ${c.M}, D = ${c.D}, K = ${c.steps})`,
  }));
  return { sizes, reps: c.reps, NTest: c.NTest, mean, se, trainError, fit };
}

export async function chenPreset(ctx: Ctx): Promise<ChenSummary> {
  const t0 = performance.now();
  const base = CHEN_SCALES[ctx.scale];
  if (ctx.chen?.gram) knownKeys("chen.gram", ctx.chen.gram, Object.keys(base.gram));
  if (ctx.chen?.testError) knownKeys("chen.testError", ctx.chen.testError, Object.keys(base.testError));
  const config: ChenScale = { gram: { ...base.gram, ...(ctx.chen?.gram ?? {}) }, testError: { ...base.testError, ...(ctx.chen?.testError ?? {}) } };
  const g = await gramPart(ctx, config.gram);
  const testError = await testErrorPart(ctx, config.testError);
  return { preset: "chen", scale: ctx.scale, config, ...g, testError, runtimeSec: (performance.now() - t0) / 1000, files: ctx.files };
}

/** The printed summary of the chen preset. */
export function formatChenSummary(s: ChenSummary): string[] {
  const lines = [`chen (--scale ${s.scale}): tangent Gram matrix, KL of the trained law, test error on two spirals (MATH §8)`, ""];
  const K = s.gram.K;
  lines.push(`(a) λ_min(K_k), N = ${s.gram.N}, k = 0, ${Math.floor(K / 2)}, ${K - 1}:`);
  for (const r of s.gram.runs) lines.push(`  ${r.name.padEnd(24)} ${[0, Math.floor(K / 2), K - 1].map((k) => sci(r.lambdaMin[k]).padStart(9)).join("  ")}   loss ${sci(r.loss[0])} → ${sci(r.loss[K - 1])}`);
  lines.push("", `(b) KL_k at k = ${Math.floor(K / 2)}, ${K - 1}: Mean ODE ${fmt(s.kl.meanOde[Math.floor(K / 2)])}, ${fmt(s.kl.meanOde[K - 1])}; DMFT ${fmt(s.kl.dmft[Math.floor(K / 2)])}, ${fmt(s.kl.dmft[K - 1])}`);
  for (const w of s.kl.warnings) lines.push(`  warning: ${w}`);
  const te = s.testError;
  lines.push("", `(c) 0-1 test error (${te.NTest} test points, ${te.reps} training sets per size):`);
  lines.push(`  n          ${te.sizes.map((n) => String(n).padStart(7)).join(" ")}`);
  lines.push(`  test error ${te.mean.map((e) => fmt(e, 4).padStart(7)).join(" ")}`);
  lines.push(`  ± SE       ${te.se.map((e) => fmt(e, 4).padStart(7)).join(" ")}`);
  lines.push(`  train err  ${te.trainError.map((e) => fmt(e, 4).padStart(7)).join(" ")}`);
  if ("error" in te.fit) lines.push(`  OLS fit failed: ${te.fit.error}`);
  else lines.push(`  OLS log error ~ log n: exponent ${fmt(te.fit.exponent)}, ${Math.round(te.fit.level * 100)}% interval [${fmt(te.fit.ci[0])}, ${fmt(te.fit.ci[1])}], p-value (slope 0) ${sci(te.fit.pValue)}, R² ${fmt(te.fit.r2)} (${te.fit.sizes} sizes)`);
  lines.push("", "(d) loss ratio per step (geometric means over steps): realised vs first-order prediction vs Gram bound 1 − 2λ_min/N");
  for (const c of s.convergence) lines.push(`  ${c.name.padEnd(24)} realised ${fmt(c.realisedRate, 4)}  first order ${fmt(c.firstOrderRate, 4)}  bound 1 − ${sci(1 - c.boundRate)}  (≤ bound at ${c.withinBound}/${c.steps} steps; max |realised − first order| ${sci(c.maxFirstOrderGap)})`);
  lines.push("", `runtime ${s.runtimeSec.toFixed(1)} s; files in the output folder: ${s.files.length}`);
  return lines;
}
