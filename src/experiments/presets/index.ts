/**
 * Reproduction presets (`limitdyn reproduce <name>`): sweeps against the
 * limits, power-law fits along each shape axis with bootstrap intervals, the
 * coefficient fits of MATH §6 and the figures. One page per preset in
 * docs/presets/.
 *
 * How each axis is isolated (measured constants on the preset problem —
 * tanh, D = 8, N = 3, K = 3, η_u = η_v = 1: finite vs Mean ODE output error
 * ≈ a/L + b/√(LM) with a ≈ 0.067, b ≈ 0.3–0.45; finite-D Mean ODE vs DMFT ≈ 0.4/√D):
 *
 *  - L (theory −1): finite vs the skeleton Mean ODE of the SAME embeddings
 *    (taskOptions.embeddingSeed), M ≫ L so that b/√(LM) ≪ a/L
 *    (fluctuation/bias = (b/a)√(L/M) ≤ 0.3 on the ladder).
 *  - M (theory −1/2): same limit, L large and M small (bias/fluctuation =
 *    (a/b)√(M/L) ≤ 0.1), so the width term dominates.
 *  - D (theory −1/2): finite vs the DMFT at large L·M (both other terms ≤ 1/5
 *    of c/√D), embeddings random per run.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { makeProblem, type Problem } from "../../problem/problem.ts";
import { solve } from "../../problem/algorithm.ts";
import { trainResNet } from "../../resnet/solver.ts";
import { initEmbeddings } from "../../problem/embeddings.ts";
import { dmft, dmftCoordinates, rowsFromEmbeddings } from "../../limits/dmft.ts";
import { ValidationError } from "../../core/errors.ts";
import { w1 } from "../../stats/distances.ts";
import { aggregateRows, type ShapeStats } from "../errors.ts";
import {
  ALL_SHAPES_TERMS, HIDDEN_WIDTH_TERMS, fitPowerLawWithIntervals, fitRatesWithIntervals, type RateFitOptions, type ShapeAxis,
} from "../../stats/fit.ts";
import { plotCoordinates, plotErrorVs, plotHistograms, histogram, type CoordinateSeries } from "../plot.ts";
import type { ProgressMode } from "../progress.ts";
import type { SweepRow } from "../rows.ts";
import type { Point, SweepSpec } from "../spec.ts";
import { runSweep } from "../sweep.ts";

export type Scale = "small" | "paper";
export const PRESET_NAMES = ["hidden-width", "all-shapes", "trajectories"] as const;
export type PresetName = (typeof PRESET_NAMES)[number];
type Axis = "L" | "M" | "D";

/** The theory's exponents (MATH §2, §5): O(1/L + √(D/(LM)) + 1/√D). */
export const THEORY: Readonly<Record<Axis, number>> = { L: -1, M: -0.5, D: -0.5 };

export interface PresetOptions {
  scale?: Scale;
  /** Output folder (default out/<name>). */
  out?: string;
  /** Sweep workers (default: available cores). */
  workers?: number;
  progress?: ProgressMode;
  /** Bootstrap resamples (default 1000). */
  B?: number;
  /** Lines of the printed summary (default console.log; null = silent). */
  log?: ((line: string) => void) | null;
  /** Override the ladders (tests: tiny grids). */
  ladders?: Partial<Ladders>;
}

export interface AxisFit {
  axis: Axis;
  theory: number;
  exponent: number;
  ci: [number, number];
  C: number;
  r2: number;
  /** Limit solver and measured value. */
  limit: "meanode" | "dmft";
  value: "errLast" | "errEmbed";
  /** The ladder: values of the axis and the fixed other axes. */
  values: number[];
  fixed: Record<string, number>;
  repetitions: number;
  /** Per-shape RMS over repetitions along the ladder. */
  rms: number[];
}

export interface CoefficientFit {
  terms: string[];
  combine: "sum" | "l2";
  coef: Record<string, number>;
  intervals: Record<string, [number, number]>;
  r2: number;
  relRms: number;
  shapes: number;
}

export interface PresetSummary {
  preset: PresetName;
  scale: Scale;
  level: number;
  theory: Record<Axis, number>;
  /** Exponents of separate power-law fits along each axis (value: see `value`). */
  exponents: Record<Axis, number>;
  /** Bootstrap percentile intervals (over repetitions) of the exponents. */
  ci: Record<Axis, [number, number]>;
  value: "errLast" | "errEmbed";
  axes: Record<Axis, AxisFit>;
  /** The same ladders in the other space (embedding for output presets and vice versa), where measured. */
  other?: { value: "errLast" | "errEmbed"; exponents: Partial<Record<Axis, number>>; ci: Partial<Record<Axis, [number, number]>> };
  /** Coefficient fits of the rate laws (a/L + b√(D/(LM)) + c/√D and the papers' variants). */
  coefficients: Record<string, CoefficientFit | { error: string }>;
  extra?: Record<string, unknown>;
  runtimeSec: number;
  files: string[];
}

/** Ladders (one per axis) and the coefficient grid of a preset. */
export interface Ladders {
  /** L ladder: finite vs Mean ODE, M fixed large. */
  L: { L: number[]; M: number; D: number; reps: number };
  /** M ladder: finite vs Mean ODE, L fixed large. */
  M: { L: number; M: number[]; D: number; reps: number };
  /** D ladder: finite vs DMFT at large L·M (or vs the Mean ODE for hidden-width). */
  D: { L: number; M: number; D: number[]; reps: number };
  /** Coefficient grid (cartesian). */
  grid: { L: number[]; M: number[]; D: number[]; reps: number };
}

export const LADDERS: Record<Scale, Ladders> = {
  small: {
    L: { L: [1, 2, 4, 8, 16], M: 32768, D: 8, reps: 10 },
    M: { L: 64, M: [2, 4, 8, 16, 32], D: 8, reps: 10 },
    D: { L: 32, M: 512, D: [2, 4, 8, 16, 32, 64, 128], reps: 10 },
    grid: { L: [1, 4, 16], M: [1, 8, 64], D: [4, 16, 64], reps: 6 },
  },
  paper: {
    L: { L: [1, 2, 4, 8, 16, 32], M: 131072, D: 8, reps: 20 },
    M: { L: 256, M: [2, 4, 8, 16, 32, 64, 128], D: 8, reps: 20 },
    D: { L: 64, M: 2048, D: [2, 4, 8, 16, 32, 64, 128, 256, 512], reps: 10 },
    grid: { L: [1, 2, 4, 8, 16, 32], M: [1, 4, 16, 64, 256], D: [4, 16, 64, 256], reps: 10 },
  },
};

/** The preset problem: tanh, teacher data d_in = 2, d_out = 1, N = 3, K = 3 GD steps at η_u = η_v = 1 (loss 0.28 → 0.009). */
export const PRESET_PROBLEM = {
  model: { D: 8, activation: "tanh" },
  data: { generator: "teacher", dIn: 2, dOut: 1, N: 3, seed: 7, nonlinearity: "tanh" },
  train: { steps: 3, etaU: 1, etaV: 1 },
  seed: 1,
};
/** Seed of the fixed embeddings of the Mean ODE ladders. */
export const EMBEDDING_SEED = 1;

const LEVEL = 0.9;

function ladderPoints(ld: Ladders, axis: Axis): Point[] {
  if (axis === "L") return ld.L.L.map((L) => ({ "model.L": L, "model.M": ld.L.M, "model.D": ld.L.D }));
  if (axis === "M") return ld.M.M.map((M) => ({ "model.L": ld.M.L, "model.M": M, "model.D": ld.M.D }));
  return ld.D.D.map((D) => ({ "model.L": ld.D.L, "model.M": ld.D.M, "model.D": D }));
}

function gridPoints(g: Ladders["grid"]): Point[] {
  const pts: Point[] = [];
  for (const L of g.L) for (const M of g.M) for (const D of g.D) pts.push({ "model.L": L, "model.M": M, "model.D": D });
  return pts;
}

function uniquePoints(pts: Point[]): Point[] {
  const seen = new Set<string>();
  return pts.filter((p) => {
    const k = JSON.stringify([p["model.L"], p["model.M"], p["model.D"]]);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** A sweep over explicit points with a per-point repetition count = max over the groups (extra repetitions are simply unused). */
function sweepSpec(task: string, points: Point[], reps: number, taskOptions: Record<string, unknown>): SweepSpec {
  return { problem: structuredClone(PRESET_PROBLEM), list: uniquePoints(points), repetitions: reps, task, taskOptions };
}

function rowsAt(rows: SweepRow[], pts: Point[], reps: number): SweepRow[] {
  const want = new Set(pts.map((p) => JSON.stringify([p["model.L"], p["model.M"], p["model.D"]])));
  return rows.filter((r) => r.rep < reps && want.has(JSON.stringify([r.shape.L, r.shape.M, r.shape.D])));
}

function tableOf(rows: SweepRow[], value: string): ShapeStats[] {
  return aggregateRows(rows, { value });
}

function axisFit(rows: SweepRow[], ld: Ladders, axis: Axis, limit: "meanode" | "dmft", value: "errLast" | "errEmbed", B: number): AxisFit {
  const reps = ld[axis].reps;
  const pts = ladderPoints(ld, axis);
  const table = tableOf(rowsAt(rows, pts, reps), value).sort((a, b) => a[axis] - b[axis]);
  const fit = fitPowerLawWithIntervals(table, axis as ShapeAxis, { B, seed: 1, level: LEVEL });
  const { [axis]: _drop, reps: _r, ...fixed } = ld[axis] as unknown as Record<string, number | number[]>;
  return {
    axis, theory: THEORY[axis], exponent: fit.exponent, ci: [fit.intervals.exponent.lo, fit.intervals.exponent.hi], C: fit.C, r2: fit.r2,
    limit, value, values: table.map((g) => g[axis]), fixed: fixed as Record<string, number>, repetitions: reps, rms: table.map((g) => g.rms),
  };
}

function coefficientFit(table: ShapeStats[], opts: RateFitOptions, B: number): CoefficientFit | { error: string } {
  try {
    const f = fitRatesWithIntervals(table, opts, { B, seed: 2, level: LEVEL });
    return {
      terms: f.terms, combine: opts.combine ?? "sum", coef: f.coef,
      intervals: Object.fromEntries(f.terms.map((t) => [t, [f.intervals[t].lo, f.intervals[t].hi] as [number, number]])),
      r2: f.r2, relRms: f.relRms, shapes: table.filter((g) => g.n > 0).length,
    };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

const fmt = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : String(x));

/** The printed summary table of a preset. */
export function formatSummary(s: PresetSummary): string[] {
  const lines = [`${s.preset} (--scale ${s.scale}): exponents of ${s.value} (RMS over repetitions), ${Math.round(s.level * 100)}% bootstrap intervals`, ""];
  lines.push("axis  theory   fitted   interval            R²     limit    ladder");
  for (const a of ["L", "M", "D"] as Axis[]) {
    const f = s.axes[a];
    const ladder = `${a} ∈ {${f.values.join(", ")}}, ${Object.entries(f.fixed).map(([k, v]) => `${k} = ${v}`).join(", ")}, R = ${f.repetitions}`;
    lines.push(`${a.padEnd(4)}  ${fmt(f.theory, 2).padStart(6)}  ${fmt(f.exponent).padStart(7)}   [${fmt(f.ci[0])}, ${fmt(f.ci[1])}]`.padEnd(45) + `${fmt(f.r2, 3).padStart(6)}   ${f.limit.padEnd(7)}  ${ladder}`);
  }
  if (s.other) {
    const o = s.other;
    lines.push("", `same ladders, ${o.value}: ` + (["L", "M", "D"] as Axis[]).filter((a) => o.exponents[a] !== undefined)
      .map((a) => `${a}: ${fmt(o.exponents[a]!)} [${fmt(o.ci[a]![0])}, ${fmt(o.ci[a]![1])}]`).join("   "));
  }
  const coefs = Object.entries(s.coefficients);
  if (coefs.length) {
    lines.push("", "coefficient fits:");
    for (const [name, c] of coefs) {
      if ("error" in c) { lines.push(`  ${name}: failed (${c.error})`); continue; }
      const terms = c.terms.map((t) => `${fmt(c.coef[t], 4)}·${t} [${fmt(c.intervals[t][0], 4)}, ${fmt(c.intervals[t][1], 4)}]`).join(c.combine === "l2" ? " ⊕ " : " + ");
      lines.push(`  ${name}: ${terms}   (R² = ${fmt(c.r2)}, ${c.shapes} shapes)`);
    }
  }
  lines.push("", `runtime ${s.runtimeSec.toFixed(1)} s; files in the output folder: ${s.files.length}`);
  return lines;
}

interface Ctx {
  name: PresetName;
  scale: Scale;
  out: string;
  workers: number;
  progress: ProgressMode;
  B: number;
  ld: Ladders;
  files: string[];
  log: (line: string) => void;
}

async function sweep(ctx: Ctx, file: string, spec: SweepSpec): Promise<SweepRow[]> {
  const out = join(ctx.out, file);
  ctx.log(`  sweep ${file}: ${spec.list!.length} shapes × ${spec.repetitions} repetitions, task ${spec.task}`);
  const res = await runSweep(spec, { out, workers: ctx.workers, progress: ctx.progress });
  ctx.files.push(out);
  if (res.failed) ctx.log(`  warning: ${res.failed} runs failed (see "error" in ${out})`);
  return res.rows;
}

async function plotLadder(ctx: Ctx, f: AxisFit, rows: SweepRow[], name: string, title: string): Promise<void> {
  const table = tableOf(rowsAt(rows, ladderPoints(ctx.ld, f.axis), f.repetitions), f.value);
  const out = join(ctx.out, name);
  await plotErrorVs(table, { x: f.axis, fit: { exponent: f.exponent, predict: (x: number) => f.C * x ** f.exponent }, series: [], title, out, yTitle: `${f.value} (RMS over ${f.repetitions} repetitions)` });
  ctx.files.push(`${out}.svg`, `${out}.vl.json`);
}

/** Mean ODE ladders (L, M) and a third sweep for D: finite vs Mean ODE (hidden-width) or vs DMFT (all-shapes, trajectories). */
async function ladders(ctx: Ctx, dLimit: "meanode" | "dmft", withGrid: boolean): Promise<{ meanRows: SweepRow[]; dmftRows: SweepRow[] }> {
  const ld = ctx.ld;
  const meanPts = [...ladderPoints(ld, "L"), ...ladderPoints(ld, "M")];
  const meanReps = Math.max(ld.L.reps, ld.M.reps, dLimit === "meanode" ? ld.D.reps : 0, dLimit === "meanode" && withGrid ? ld.grid.reps : 0);
  if (dLimit === "meanode") meanPts.push(...ladderPoints(ld, "D"));
  if (dLimit === "meanode" && withGrid) meanPts.push(...gridPoints(ld.grid));
  const meanRows = await sweep(ctx, `meanode.${ctx.scale}.jsonl`, sweepSpec("finite-vs-meanode", meanPts, meanReps, { embeddingSeed: EMBEDDING_SEED, embedding: true }));
  let dmftRows: SweepRow[] = [];
  if (dLimit === "dmft") {
    const pts = [...ladderPoints(ld, "D"), ...(withGrid ? gridPoints(ld.grid) : [])];
    dmftRows = await sweep(ctx, `dmft.${ctx.scale}.jsonl`, sweepSpec("finite-vs-dmft", pts, Math.max(ld.D.reps, withGrid ? ld.grid.reps : 0), { embedding: true }));
  }
  return { meanRows, dmftRows };
}

function summaryOf(ctx: Ctx, value: "errLast" | "errEmbed", axes: Record<Axis, AxisFit>, other: PresetSummary["other"], coefficients: PresetSummary["coefficients"], t0: number, extra?: Record<string, unknown>): PresetSummary {
  const ex = (a: Axis) => axes[a].exponent;
  return {
    preset: ctx.name, scale: ctx.scale, level: LEVEL, theory: { L: axes.L.theory, M: axes.M.theory, D: axes.D.theory },
    exponents: { L: ex("L"), M: ex("M"), D: ex("D") },
    ci: { L: axes.L.ci, M: axes.M.ci, D: axes.D.ci },
    value, axes, other, coefficients, extra,
    runtimeSec: (performance.now() - t0) / 1000, files: ctx.files,
  };
}

function otherSpace(ctx: Ctx, rowsFor: Record<Axis, SweepRow[]>, limits: Record<Axis, "meanode" | "dmft">, value: "errLast" | "errEmbed"): NonNullable<PresetSummary["other"]> {
  const exponents: Partial<Record<Axis, number>> = {}, ci: Partial<Record<Axis, [number, number]>> = {};
  for (const a of ["L", "M", "D"] as Axis[]) {
    const f = axisFit(rowsFor[a], ctx.ld, a, limits[a], value, ctx.B);
    exponents[a] = f.exponent;
    ci[a] = f.ci;
  }
  return { value, exponents, ci };
}

async function hiddenWidth(ctx: Ctx): Promise<PresetSummary> {
  const t0 = performance.now();
  const { meanRows } = await ladders(ctx, "meanode", true);
  const axes = {} as Record<Axis, AxisFit>;
  for (const a of ["L", "M", "D"] as Axis[]) axes[a] = axisFit(meanRows, ctx.ld, a, "meanode", "errLast", ctx.B);
  // D at fixed L, M against the Mean ODE of each D's embeddings: the theorem's √D is an upper bound (theory column: the bound's +1/2 is not a rate to expect on outputs)
  axes.D.theory = 0.5;
  const other = otherSpace(ctx, { L: meanRows, M: meanRows, D: meanRows }, { L: "meanode", M: "meanode", D: "meanode" }, "errEmbed");
  const all = tableOf(meanRows.filter((r) => r.shape.D === ctx.ld.L.D), "errLast");
  const coefficients = {
    "a/L + b/sqrt(LM)": coefficientFit(all, { terms: HIDDEN_WIDTH_TERMS, nonNegative: true, weighting: "relative" }, ctx.B),
    "sqrt((a/L)^2 + b^2/(LM))": coefficientFit(all, { terms: HIDDEN_WIDTH_TERMS, combine: "l2", weighting: "relative" }, ctx.B),
  };
  await plotLadder(ctx, axes.L, meanRows, "err-vs-L", `finite vs Mean ODE, M = ${ctx.ld.L.M} (1/L term)`);
  await plotLadder(ctx, axes.M, meanRows, "err-vs-M", `finite vs Mean ODE, L = ${ctx.ld.M.L} (width term)`);
  await plotLadder(ctx, axes.D, meanRows, "err-vs-D", `finite vs Mean ODE of each D, L = ${ctx.ld.D.L}, M = ${ctx.ld.D.M}`);
  const c = coefficients["a/L + b/sqrt(LM)"];
  if (!("error" in c)) {
    const out = join(ctx.out, "err-vs-LM");
    await plotErrorVs(all, { x: "LM", fit: (s) => c.coef["1/L"] / s.L + c.coef["1/sqrt(LM)"] / Math.sqrt(s.L * s.M), series: ["L"], title: "finite vs Mean ODE: a/L + b/√(LM)", out });
    ctx.files.push(`${out}.svg`, `${out}.vl.json`);
  }
  return summaryOf(ctx, "errLast", axes, other, coefficients, t0);
}

async function allShapes(ctx: Ctx): Promise<PresetSummary> {
  const t0 = performance.now();
  const { meanRows, dmftRows } = await ladders(ctx, "dmft", true);
  const axes: Record<Axis, AxisFit> = {
    L: axisFit(meanRows, ctx.ld, "L", "meanode", "errLast", ctx.B),
    M: axisFit(meanRows, ctx.ld, "M", "meanode", "errLast", ctx.B),
    D: axisFit(dmftRows, ctx.ld, "D", "dmft", "errLast", ctx.B),
  };
  const other = otherSpace(ctx, { L: meanRows, M: meanRows, D: dmftRows }, { L: "meanode", M: "meanode", D: "dmft" }, "errEmbed");
  const grid = tableOf(rowsAt(dmftRows, gridPoints(ctx.ld.grid), ctx.ld.grid.reps), "errLast");
  const gridE = tableOf(rowsAt(dmftRows, gridPoints(ctx.ld.grid), ctx.ld.grid.reps), "errEmbed");
  const rel = { nonNegative: true, weighting: "relative" } as const;
  const coefficients = {
    "a/L + b sqrt(D/(LM)) + c/sqrt(D)": coefficientFit(grid, { terms: ALL_SHAPES_TERMS, ...rel }, ctx.B),
    "a/L + b/sqrt(LM) + c/sqrt(D)": coefficientFit(grid, { terms: ["1/L", "1/sqrt(LM)", "1/sqrt(D)"], ...rel }, ctx.B),
    "l2: (a/L, b sqrt(D/(LM)), c/sqrt(D))": coefficientFit(grid, { terms: ALL_SHAPES_TERMS, combine: "l2", weighting: "relative" }, ctx.B),
    "embedding: a/L + b sqrt(D/(LM)) + c/sqrt(D)": coefficientFit(gridE, { terms: ALL_SHAPES_TERMS, ...rel }, ctx.B),
  };
  await plotLadder(ctx, axes.L, meanRows, "err-vs-L", `finite vs Mean ODE, M = ${ctx.ld.L.M} (1/L term)`);
  await plotLadder(ctx, axes.M, meanRows, "err-vs-M", `finite vs Mean ODE, L = ${ctx.ld.M.L} (width term)`);
  await plotLadder(ctx, axes.D, dmftRows, "err-vs-D", `finite vs DMFT, L = ${ctx.ld.D.L}, M = ${ctx.ld.D.M} (1/√D term)`);
  const dE = axisFit(dmftRows, ctx.ld, "D", "dmft", "errEmbed", ctx.B);
  await plotLadder(ctx, dE, dmftRows, "emb-vs-D", `embedding space: h_L vs DMFT coordinates, L = ${ctx.ld.D.L}, M = ${ctx.ld.D.M}`);
  for (const [name, table, key] of [["err-vs-P", grid, "a/L + b sqrt(D/(LM)) + c/sqrt(D)"], ["emb-vs-P", gridE, "embedding: a/L + b sqrt(D/(LM)) + c/sqrt(D)"]] as const) {
    const c = coefficients[key];
    const out = join(ctx.out, name);
    await plotErrorVs(table, {
      x: "P", series: ["D"], out, title: `finite vs DMFT over L × M × D (${name.startsWith("emb") ? "embedding space" : "outputs"}), fit ${key.replace("embedding: ", "")}`,
      fit: "error" in c ? undefined : (s) => c.coef["1/L"] / s.L + c.coef["sqrt(D/(LM))"] * Math.sqrt(s.D / (s.L * s.M)) + c.coef["1/sqrt(D)"] / Math.sqrt(s.D),
    });
    ctx.files.push(`${out}.svg`, `${out}.vl.json`);
  }
  return summaryOf(ctx, "errLast", axes, other, coefficients, t0);
}

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
    const out = join(ctx.out, k === 0 ? "coordinates-k0" : "coordinates");
    await plotCoordinates(series, { out, title: `h_k(s), coordinates d = 0..${cfg.rows - 1}, data point 0, GD step k = ${k}: finite (L = ${cfg.L}, M = ${cfg.M}, D = ${cfg.D}) vs DMFT`, yTitle: "h_k(s)_d" });
    ctx.files.push(`${out}.svg`, `${out}.vl.json`);
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
  const out = join(ctx.out, "preactivations");
  await plotHistograms([{ name: `finite M = ${cfg.M}`, values: pFin }], {
    bins, range: [lo, hi], out, xTitle: `preactivation p at layer ℓ = ${layer + 1} (s = ${((layer + 1) / cfg.L).toFixed(2)}), step k = ${K - 1}`,
    densities: [{ name: `limit law (finite M = ${cfg.Mlaw})`, x: edges.slice(0, -1).map((e, b) => (e + edges[b + 1]) / 2), pdf: dens }],
    title: "preactivations: finite width vs the limit law",
  });
  ctx.files.push(`${out}.svg`, `${out}.vl.json`);
  return { coordinateErrorK0: coordErr[0], coordinateErrorLast: coordErr[1], preactivationW1: w1(pFin, pLaw), figure: { ...cfg, layer: layer + 1 } };
}

async function trajectories(ctx: Ctx): Promise<PresetSummary> {
  const t0 = performance.now();
  const fig = ctx.scale === "small" ? { L: 16, M: 512, D: 32, Mlaw: 32768, rows: 4 } : { L: 64, M: 2048, D: 128, Mlaw: 131072, rows: 4 };
  const extra = await trajectoryFigures(ctx, fig);
  const { meanRows, dmftRows } = await ladders(ctx, "dmft", false);
  const axes: Record<Axis, AxisFit> = {
    L: axisFit(meanRows, ctx.ld, "L", "meanode", "errEmbed", ctx.B),
    M: axisFit(meanRows, ctx.ld, "M", "meanode", "errEmbed", ctx.B),
    D: axisFit(dmftRows, ctx.ld, "D", "dmft", "errEmbed", ctx.B),
  };
  const other = otherSpace(ctx, { L: meanRows, M: meanRows, D: dmftRows }, { L: "meanode", M: "meanode", D: "dmft" }, "errLast");
  await plotLadder(ctx, axes.L, meanRows, "emb-vs-L", `embedding space: h_L vs Mean ODE h(1), M = ${ctx.ld.L.M}`);
  await plotLadder(ctx, axes.M, meanRows, "emb-vs-M", `embedding space: h_L vs Mean ODE h(1), L = ${ctx.ld.M.L}`);
  await plotLadder(ctx, axes.D, dmftRows, "emb-vs-D", `embedding space: h_L vs DMFT coordinates, L = ${ctx.ld.D.L}, M = ${ctx.ld.D.M}`);
  return summaryOf(ctx, "errEmbed", axes, other, {}, t0, extra);
}

/** Smaller ladders for the trajectories preset (its ladders are a by-product of the figures). */
function laddersFor(name: PresetName, scale: Scale): Ladders {
  const ld = structuredClone(LADDERS[scale]);
  if (name === "hidden-width") {
    // D at fixed (L, M) against each D's own Mean ODE (one solve per D and worker)
    ld.D = { L: ld.M.L, M: 4, D: scale === "small" ? [4, 8, 16, 32, 64] : [4, 8, 16, 32, 64, 128, 256], reps: ld.M.reps };
    ld.grid = { L: [2, 8, 32], M: [16, 128], D: [ld.L.D], reps: scale === "small" ? 10 : 20 };
  }
  if (name === "trajectories") {
    // embedding space: the width term is b√(D/(LM)) with b ≈ 0.55 (tight, unlike outputs), so the 1/L ladder needs M ≳ 500·L
    // and the D ladder needs c/√D ≫ b√(D/(LM)), i.e. D ≪ 0.5√(LM)
    ld.L = scale === "small" ? { L: [1, 2, 4, 8], M: 32768, D: 8, reps: 6 } : { L: [1, 2, 4, 8, 16], M: 262144, D: 8, reps: 10 };
    ld.M.reps = scale === "small" ? 6 : 10;
    ld.D = scale === "small" ? { L: 64, M: 1024, D: [2, 4, 8, 16, 32], reps: 16 } : { L: 256, M: 4096, D: [2, 4, 8, 16, 32, 64, 128], reps: 10 };
  }
  return ld;
}

/** Run a preset: sweeps (JSONL rows, resumable), fits (fit.json), figures (.svg + .vl.json) in `out`. */
export async function runPreset(name: string, opts: PresetOptions = {}): Promise<PresetSummary> {
  if (!(PRESET_NAMES as readonly string[]).includes(name)) throw new ValidationError("preset", `must be one of ${PRESET_NAMES.join(", ")} (got ${JSON.stringify(name)})`);
  const scale = opts.scale ?? "small";
  if (scale !== "small" && scale !== "paper") throw new ValidationError("--scale", `must be small or paper (got ${JSON.stringify(scale)})`);
  const preset = name as PresetName;
  const out = resolve(opts.out ?? join("out", preset));
  mkdirSync(out, { recursive: true });
  const log = opts.log === null ? () => {} : (opts.log ?? ((l: string) => console.log(l)));
  const ctx: Ctx = {
    name: preset, scale, out, workers: opts.workers ?? availableParallelism(), progress: opts.progress ?? "none", B: opts.B ?? 1000,
    ld: { ...laddersFor(preset, scale), ...(opts.ladders ?? {}) }, files: [], log,
  };
  log(`limitdyn reproduce ${preset} --scale ${scale} → ${out}`);
  const summary = preset === "hidden-width" ? await hiddenWidth(ctx) : preset === "all-shapes" ? await allShapes(ctx) : await trajectories(ctx);
  const fitFile = join(out, "fit.json");
  summary.files = [...summary.files, fitFile];
  writeFileSync(fitFile, JSON.stringify(summary, null, 2) + "\n");
  log("");
  for (const l of formatSummary(summary)) log(l);
  return summary;
}
