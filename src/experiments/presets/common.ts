/**
 * What the reproduction presets share: their types and ladders, the preset
 * problem, the sweeps against the limits, the fits along each axis and of the
 * coefficient laws, and the one figure helper.
 */
import { join } from "node:path";
import { aggregateRows, type ShapeStats } from "../errors.ts";
import { fitPowerLawWithIntervals, fitRatesWithIntervals, type RateFitOptions, type ShapeAxis } from "../../stats/fit.ts";
import { plotErrorVs } from "../plot.ts";
import type { ProgressMode } from "../progress.ts";
import type { SweepRow } from "../rows.ts";
import type { Point, SweepSpec } from "../spec.ts";
import { runSweep } from "../sweep.ts";

export type Scale = "small" | "paper";
export const PRESET_NAMES = ["hidden-width", "all-shapes", "trajectories", "chen"] as const;
export type PresetName = (typeof PRESET_NAMES)[number];
export type Axis = "L" | "M" | "D";

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
  /** The chen preset: override its configuration (tests: tiny runs); fields of `gram` / `testError` replace the scale's. */
  chen?: { gram?: Record<string, unknown>; testError?: Record<string, unknown> };
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
  preset: Exclude<PresetName, "chen">;
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

export const LEVEL = 0.9;

export function ladderPoints(ld: Ladders, axis: Axis): Point[] {
  if (axis === "L") return ld.L.L.map((L) => ({ "model.L": L, "model.M": ld.L.M, "model.D": ld.L.D }));
  if (axis === "M") return ld.M.M.map((M) => ({ "model.L": ld.M.L, "model.M": M, "model.D": ld.M.D }));
  return ld.D.D.map((D) => ({ "model.L": ld.D.L, "model.M": ld.D.M, "model.D": D }));
}

export function gridPoints(g: Ladders["grid"]): Point[] {
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

export function rowsAt(rows: SweepRow[], pts: Point[], reps: number): SweepRow[] {
  const want = new Set(pts.map((p) => JSON.stringify([p["model.L"], p["model.M"], p["model.D"]])));
  return rows.filter((r) => r.rep < reps && want.has(JSON.stringify([r.shape.L, r.shape.M, r.shape.D])));
}

export function tableOf(rows: SweepRow[], value: string): ShapeStats[] {
  return aggregateRows(rows, { value });
}

export function axisFit(rows: SweepRow[], ld: Ladders, axis: Axis, limit: "meanode" | "dmft", value: "errLast" | "errEmbed", B: number): AxisFit {
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

export function coefficientFit(table: ShapeStats[], opts: RateFitOptions, B: number): CoefficientFit | { error: string } {
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

export interface Ctx {
  name: PresetName;
  scale: Scale;
  out: string;
  workers: number;
  progress: ProgressMode;
  B: number;
  ld: Ladders;
  files: string[];
  log: (line: string) => void;
  /** PresetOptions.chen (the chen preset's overrides). */
  chen?: PresetOptions["chen"];
}

export async function sweep(ctx: Ctx, file: string, spec: SweepSpec): Promise<SweepRow[]> {
  const out = join(ctx.out, file);
  ctx.log(`  sweep ${file}: ${spec.list!.length} shapes × ${spec.repetitions} repetitions, task ${spec.task}`);
  const res = await runSweep(spec, { out, workers: ctx.workers, progress: ctx.progress });
  ctx.files.push(out);
  if (res.failed) ctx.log(`  warning: ${res.failed} runs failed (see "error" in ${out})`);
  return res.rows;
}

/** Draw one figure: `draw(out)` writes <out>.svg and <out>.vl.json in the preset's folder; both are listed in the summary. */
export async function figure(ctx: Ctx, name: string, draw: (out: string) => Promise<unknown>): Promise<void> {
  const out = join(ctx.out, name);
  await draw(out);
  ctx.files.push(`${out}.svg`, `${out}.vl.json`);
}

/** The error-vs-axis figure of a ladder fit, with its fitted power law. */
async function plotLadder(ctx: Ctx, f: AxisFit, rows: SweepRow[], name: string, title: string): Promise<void> {
  const table = tableOf(rowsAt(rows, ladderPoints(ctx.ld, f.axis), f.repetitions), f.value);
  await figure(ctx, name, (out) => plotErrorVs(table, { x: f.axis, fit: { exponent: f.exponent, predict: (x: number) => f.C * x ** f.exponent }, series: [], title, out, yTitle: `${f.value} (RMS over ${f.repetitions} repetitions)` }));
}

/** The ladder figures of a preset: [fit, rows, file name, title] each. */
export async function plotLadders(ctx: Ctx, figures: [AxisFit, SweepRow[], string, string][]): Promise<void> {
  for (const [f, rows, name, title] of figures) await plotLadder(ctx, f, rows, name, title);
}

/** Mean ODE ladders (L, M) and a third sweep for D: finite vs Mean ODE (hidden-width) or vs DMFT (all-shapes, trajectories). */
export async function ladders(ctx: Ctx, dLimit: "meanode" | "dmft", withGrid: boolean): Promise<{ meanRows: SweepRow[]; dmftRows: SweepRow[] }> {
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

export function summaryOf(ctx: Ctx, value: "errLast" | "errEmbed", axes: Record<Axis, AxisFit>, other: PresetSummary["other"], coefficients: PresetSummary["coefficients"], t0: number, extra?: Record<string, unknown>): PresetSummary {
  const ex = (a: Axis) => axes[a].exponent;
  return {
    preset: ctx.name as Exclude<PresetName, "chen">, scale: ctx.scale, level: LEVEL, theory: { L: axes.L.theory, M: axes.M.theory, D: axes.D.theory },
    exponents: { L: ex("L"), M: ex("M"), D: ex("D") },
    ci: { L: axes.L.ci, M: axes.M.ci, D: axes.D.ci },
    value, axes, other, coefficients, extra,
    runtimeSec: (performance.now() - t0) / 1000, files: ctx.files,
  };
}

/** The fits along L, M (rows against the Mean ODE) and D (rows `dRows` against `dLimit`) of one measured value. */
export function axisFits(ctx: Ctx, meanRows: SweepRow[], dRows: SweepRow[], dLimit: "meanode" | "dmft", value: "errLast" | "errEmbed"): Record<Axis, AxisFit> {
  return {
    L: axisFit(meanRows, ctx.ld, "L", "meanode", value, ctx.B),
    M: axisFit(meanRows, ctx.ld, "M", "meanode", value, ctx.B),
    D: axisFit(dRows, ctx.ld, "D", dLimit, value, ctx.B),
  };
}

/** The same ladders' exponents and intervals in the other space (`value`). */
export function otherSpace(ctx: Ctx, meanRows: SweepRow[], dRows: SweepRow[], dLimit: "meanode" | "dmft", value: "errLast" | "errEmbed"): NonNullable<PresetSummary["other"]> {
  const fits = axisFits(ctx, meanRows, dRows, dLimit, value);
  const exponents: Partial<Record<Axis, number>> = {}, ci: Partial<Record<Axis, [number, number]>> = {};
  for (const a of ["L", "M", "D"] as Axis[]) {
    exponents[a] = fits[a].exponent;
    ci[a] = fits[a].ci;
  }
  return { value, exponents, ci };
}

