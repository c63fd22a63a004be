/**
 * `limitdyn reproduce trajectories` (docs/presets/trajectories.md):
 * coordinates h_k(s) finite vs DMFT, preactivation histograms vs the limit
 * law, embedding-space exponents.
 */
import { makeProblem, type Problem } from "../../problem/problem.ts";
import { solve } from "../../problem/algorithm.ts";
import { initEmbeddings } from "../../problem/embeddings.ts";
import { trainResNet } from "../../resnet/solver.ts";
import { dmft, dmftCoordinates, rowsFromEmbeddings } from "../../limits/dmft.ts";
import { w1 } from "../../stats/distances.ts";
import { type CoordinateSeries, histogram, plotCoordinates, plotHistograms } from "../plot.ts";
import { axisFits, type Ctx, figure, ladders, otherSpace, plotLadders, PRESET_PROBLEM, type PresetSummary, summaryOf } from "./common.ts";

/** Figures: coordinates of h_k(s) for a few rows d, finite vs coupled DMFT; preactivation histograms finite vs a large-M finite model (limit law). */
async function trajectoryFigures(ctx: Ctx, cfg: { L: number; M: number; D: number; Mlaw: number; rows: number }): Promise<Record<string, unknown>> {
  const p: Problem = makeProblem({ ...structuredClone(PRESET_PROBLEM), model: { ...PRESET_PROBLEM.model, L: cfg.L, M: cfg.M, D: cfg.D } } as never);
  const K = p.train.steps;
  const fin = trainResNet(p, { record: ["h", "p"], threads: 1 });
  const lim = solve(p, dmft({}));
  const { WE, WU } = initEmbeddings(p);
  const coords = dmftCoordinates(lim, rowsFromEmbeddings(WE, WU, cfg.D));
  const [, , nodes, N] = coords.h.shape;
  const prof = fin.profiles!;
  const sFin = prof.s;
  const coordErr: number[] = [];
  for (const k of [0, K - 1]) {
    const series: CoordinateSeries[] = [];
    let s2 = 0, cnt = 0;
    for (let d = 0; d < cfg.rows; d++) {
      series.push({ name: `d=${d} finite`, kind: "finite", s: sFin, values: Array.from(sFin, (_, l) => prof.h!.get(k, l, 0, d)) });
      series.push({ name: `d=${d} DMFT`, kind: "limit", s: coords.s, values: Array.from({ length: nodes }, (_, i) => coords.h.get(d, k, i, 0)) });
    }
    // RMS over all coordinates d, data points n and finite depths s = ℓ/L of h − h^DMFT (DMFT grid nodes at ℓ/L when the grids nest)
    for (let l = 0; l <= cfg.L; l++) {
      const node = Math.round((sFin[l] * (nodes - 1)));
      if (Math.abs(coords.s[node] - sFin[l]) > 1e-9) continue;
      for (let n = 0; n < N; n++) for (let d = 0; d < cfg.D; d++) { s2 += (prof.h!.get(k, l, n, d) - coords.h.get(d, k, node, n)) ** 2; cnt++; }
    }
    coordErr.push(Math.sqrt(s2 / cnt));
    await figure(ctx, k === 0 ? "coordinates-k0" : "coordinates", (out) => plotCoordinates(series, { out, title: `h_k(s), coordinates d = 0..${cfg.rows - 1}, data point 0, GD step k = ${k}: finite (L = ${cfg.L}, M = ${cfg.M}, D = ${cfg.D}) vs DMFT`, yTitle: "h_k(s)_d" }));
  }
  // preactivations p_ℓ at s ≈ 1/2 and the last step, data point 0: finite M vs a large-M finite model (same L, same embeddings, other U, V)
  const big = trainResNet({ ...p, model: { ...p.model, M: cfg.Mlaw }, seed: p.seed + 1000, init: { WE, WU } }, { record: ["p"], recordSteps: [K - 1], threads: 1 });
  const layer = Math.floor(cfg.L / 2);
  const pre = (t: typeof fin, M: number, r: number) => Array.from({ length: M }, (_, j) => t.profiles!.p!.get(r, layer, j, 0));
  const pFin = pre(fin, cfg.M, K - 1), pLaw = pre(big, cfg.Mlaw, 0);
  const lo = Math.min(...pLaw), hi = Math.max(...pLaw);
  const bins = 30;
  const edges = Array.from({ length: 61 }, (_, b) => lo + ((hi - lo) * b) / 60);
  const dens = histogram(pLaw, edges);
  await figure(ctx, "preactivations", (out) => plotHistograms([{ name: `finite M = ${cfg.M}`, values: pFin }], {
    bins, range: [lo, hi], out, xTitle: `preactivation p at layer ℓ = ${layer + 1} (s = ${((layer + 1) / cfg.L).toFixed(2)}), step k = ${K - 1}`,
    densities: [{ name: `limit law (finite M = ${cfg.Mlaw})`, x: edges.slice(0, -1).map((e, b) => (e + edges[b + 1]) / 2), pdf: dens }],
    title: "preactivations: finite width vs the limit law",
  }));
  return { coordinateErrorK0: coordErr[0], coordinateErrorLast: coordErr[1], preactivationW1: w1(pFin, pLaw), figure: { ...cfg, layer: layer + 1 } };
}

export async function trajectories(ctx: Ctx): Promise<PresetSummary> {
  const t0 = performance.now();
  const fig = ctx.scale === "small" ? { L: 16, M: 512, D: 32, Mlaw: 32768, rows: 4 } : { L: 64, M: 2048, D: 128, Mlaw: 131072, rows: 4 };
  const extra = await trajectoryFigures(ctx, fig);
  const { meanRows, dmftRows } = await ladders(ctx, "dmft", false);
  const axes = axisFits(ctx, meanRows, dmftRows, "dmft", "errEmbed");
  const other = otherSpace(ctx, meanRows, dmftRows, "dmft", "errLast");
  await plotLadders(ctx, [
    [axes.L, meanRows, "emb-vs-L", `embedding space: h_L vs Mean ODE h(1), M = ${ctx.ld.L.M}`],
    [axes.M, meanRows, "emb-vs-M", `embedding space: h_L vs Mean ODE h(1), L = ${ctx.ld.M.L}`],
    [axes.D, dmftRows, "emb-vs-D", `embedding space: h_L vs DMFT coordinates, L = ${ctx.ld.D.L}, M = ${ctx.ld.D.M}`],
  ]);
  return summaryOf(ctx, "errEmbed", axes, other, {}, t0, extra);
}

