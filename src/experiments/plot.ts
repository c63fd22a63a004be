/**
 * Plots as Vega-Lite specs, rendered headless to SVG by vega (no browser, no
 * canvas). Every function returns { spec, svg } — `spec` is the Vega-Lite
 * JSON (save it as .vl.json to display in a notebook), `svg` the rendered
 * picture — and writes `<out>.vl.json` and `<out>.svg` when `out` is given.
 *
 * Mark names (they appear as SVG classes `<name>_marks`, one
 * `mark-line role-mark <name>_marks` group per line series):
 *   plotErrorVs:        "measured" (points), "fit" (lines, one per series)
 *   plotLossCurves:     "curves" (one line per named curve)
 *   plotCoordinates:    "finite" (lines with points), "limit" (dashed lines)
 *   plotHistograms:     "histogram" (step lines), "density" (lines)
 *   plotXY:             "lines", "dashed" (lines), "points"
 */
import { ValidationError } from "../core/errors.ts";
import { writeFileSync } from "node:fs";
import type * as vega from "vega";
import type * as vl from "vega-lite";
import type { ShapeStats } from "./errors.ts";
import { type Shape, type ShapeAxis, shapeAxis } from "../stats/fit.ts";
import { displayable } from "./display.ts";

// Vega-Lite's TopLevelSpec type is large; specs are built as plain JSON objects.
export type VegaLiteSpec = Record<string, unknown>;

export interface PlotResult {
  spec: VegaLiteSpec;
  svg: string;
  /** Files written (when `out` was given). */
  files?: { spec: string; svg: string };
}

export interface PlotOptions {
  title?: string;
  width?: number;
  height?: number;
  /** Path without extension: writes `<out>.vl.json` and `<out>.svg`. */
  out?: string;
}

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

/**
 * Compile a Vega-Lite spec to Vega. vega and vega-lite are loaded on first use:
 * they pull in vega-canvas, whose top-level await would otherwise make every
 * importer of the package ESM-only (and slow down `import "limitdyn"`).
 */
export async function compileVegaLite(spec: VegaLiteSpec): Promise<vega.Spec> {
  const { compile } = await import("vega-lite");
  return compile(spec as unknown as vl.TopLevelSpec).spec;
}

/** Render a Vega-Lite spec to an SVG string (headless). */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const { View, parse } = await import("vega");
  // vega ingests inline data in place (it tags the objects with a vega_id symbol): render a copy
  const view = new View(parse(await compileVegaLite(JSON.parse(JSON.stringify(spec)))), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

async function finish(spec: VegaLiteSpec, opts: PlotOptions): Promise<PlotResult> {
  const svg = await renderSvg(spec);
  const res: PlotResult = displayable({ spec, svg }); // shows inline in Jupyter (./display.ts)
  if (opts.out) {
    const files = { spec: `${opts.out}.vl.json`, svg: `${opts.out}.svg` };
    writeFileSync(files.spec, JSON.stringify(spec, null, 2) + "\n");
    writeFileSync(files.svg, svg);
    res.files = files;
  }
  return res;
}

function frame(opts: PlotOptions, w = 420, h = 300): VegaLiteSpec {
  // legend labels in full (vega-lite cuts them at 160 px: the guides' formulas were truncated)
  const f: VegaLiteSpec = { $schema: SCHEMA, width: opts.width ?? w, height: opts.height ?? h, config: { legend: { labelLimit: 360 } } };
  if (opts.title) f.title = opts.title;
  return f;
}

function logSpaced(lo: number, hi: number, n: number): number[] {
  if (lo === hi) return [lo];
  const a = Math.log(lo), b = Math.log(hi);
  return Array.from({ length: n }, (_, i) => Math.exp(a + ((b - a) * i) / (n - 1)));
}

/** Something that predicts an error from a shape: a RateFit, a PowerFit (along the plot's x axis) or a function. */
export type Predictor = ((s: Shape) => number) | { predict: (s: Shape) => number } | { exponent: number; predict: (x: number) => number };

export interface ErrorPlotOptions extends PlotOptions {
  /** x axis: L, M, D, LM, LD, MD or P = LMD (log scale). */
  x: ShapeAxis;
  /** Fields (table key fields or L/M/D) whose values make a series (one colour each). Default: the shape axes that vary, except x. */
  series?: string[];
  /** Fitted law drawn as a line per series. */
  fit?: Predictor;
  /** Label of the fit in the legend (default "fit"). */
  yTitle?: string;
  /** Guide lines drawn in black with their labels (e.g. 0.7·P^(−1/5)), as functions of x. */
  guides?: { label: string; predict: (x: number) => number }[];
}

function seriesLabel(g: ShapeStats, fields: string[]): string {
  if (fields.length === 0) return "all";
  return fields.map((f) => `${f}=${f in g.key ? g.key[f] : (g as unknown as Record<string, unknown>)[f]}`).join(", ");
}

/**
 * Measured error (per-shape RMS over repetitions) against one shape axis,
 * log-log, one colour per series, with the fitted law as lines. For x = L, M
 * or D the fit is drawn on a dense grid of that axis (other axes fixed at the
 * series' values); for product axes (LM, P, ...) through the measured shapes.
 */
export async function plotErrorVs(table: ShapeStats[], opts: ErrorPlotOptions): Promise<PlotResult> {
  const groups = table.filter((g) => g.n > 0);
  const x = opts.x;
  const varying = (["L", "M", "D"] as const).filter((a) => a !== x && new Set(groups.map((g) => g[a])).size > 1);
  const fields = opts.series ?? (x === "L" || x === "M" || x === "D" ? [...varying] : varying.filter((a) => !x.includes(a)));
  const measured = groups.map((g) => ({ x: shapeAxis(g, x), err: g.rms, series: seriesLabel(g, fields), L: g.L, M: g.M, D: g.D, n: g.n, ...(g.ci ? { lo: g.ci[0], hi: g.ci[1] } : {}) }));
  const layers: VegaLiteSpec[] = [];
  const xEnc = { field: "x", type: "quantitative", scale: { type: "log" }, title: x === "P" ? "P = LMD" : x };
  const yEnc = { field: "err", type: "quantitative", scale: { type: "log" }, title: opts.yTitle ?? "error (RMS over repetitions)" };
  // legend in numeric order (M=14, M=31, M=66, M=301 — not the lexicographic 14, 301, 31, 66)
  const order = [...new Set(measured.map((m) => m.series))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  const color = { field: "series", type: "nominal", title: fields.join(", ") || "series", sort: order, scale: { domain: order } };
  if (opts.fit) {
    const f = opts.fit;
    const predict = typeof f === "function" ? f : "exponent" in f ? (s: Shape) => f.predict(shapeAxis(s, x)) : (s: Shape) => (f.predict as (s: Shape) => number)(s);
    const fitted: { x: number; err: number; series: string }[] = [];
    const bySeries = new Map<string, typeof measured>();
    for (const m of measured) {
      if (!bySeries.has(m.series)) bySeries.set(m.series, []);
      bySeries.get(m.series)!.push(m);
    }
    for (const [series, ms] of bySeries) {
      if (x === "L" || x === "M" || x === "D") {
        const xs = ms.map((m) => m.x);
        const base = ms[0];
        for (const v of logSpaced(Math.min(...xs), Math.max(...xs), 40)) fitted.push({ x: v, err: predict({ L: base.L, M: base.M, D: base.D, [x]: v }), series });
      } else {
        for (const m of [...ms].sort((a, b) => a.x - b.x)) fitted.push({ x: m.x, err: predict(m), series });
      }
    }
    layers.push({ name: "fit", data: { values: fitted }, mark: { type: "line", strokeDash: [5, 3], strokeWidth: 1.5 }, encoding: { x: xEnc, y: yEnc, color } });
  }
  const withCi = measured.filter((m) => (m.lo ?? 0) > 0);
  if (withCi.length) {
    layers.push({ name: "intervals", data: { values: withCi }, mark: { type: "rule", strokeWidth: 1 }, encoding: { x: xEnc, y: { ...yEnc, field: "lo" }, y2: { field: "hi" }, color } });
  }
  if (opts.guides?.length) {
    const xs = measured.map((m) => m.x);
    const lo = Math.min(...xs), hi = Math.max(...xs);
    const gv = opts.guides.flatMap((g) => logSpaced(lo, hi, 20).map((v) => ({ x: v, err: g.predict(v), guide: g.label })));
    layers.push({
      name: "guides", data: { values: gv }, mark: { type: "line", color: "black", strokeWidth: 1 },
      encoding: { x: xEnc, y: yEnc, strokeDash: { field: "guide", type: "nominal", title: "guide" } },
    });
  }
  layers.push({
    name: "measured", data: { values: measured }, mark: { type: "point", filled: true, size: 50 },
    encoding: { x: xEnc, y: yEnc, color, tooltip: [{ field: "L" }, { field: "M" }, { field: "D" }, { field: "err", format: ".3g" }, { field: "n" }] },
  });
  return finish({ ...frame(opts), layer: layers }, opts);
}

export interface LossCurve {
  name: string;
  loss: ArrayLike<number>;
}

/** Loss (or any per-step quantity) against the GD step k, one line per named curve. */
export async function plotLossCurves(curves: LossCurve[] | Record<string, ArrayLike<number>>, opts: PlotOptions & { logY?: boolean; yTitle?: string } = {}): Promise<PlotResult> {
  const list = Array.isArray(curves) ? curves : Object.entries(curves).map(([name, loss]) => ({ name, loss }));
  const values = list.flatMap((c) => Array.from(c.loss, (v, k) => ({ k, loss: v, name: c.name })));
  const spec = {
    ...frame(opts),
    data: { values },
    layer: [{
      name: "curves",
      mark: { type: "line", point: list.every((c) => c.loss.length <= 30) },
      encoding: {
        x: { field: "k", type: "quantitative", title: "GD step k" },
        y: { field: "loss", type: "quantitative", title: opts.yTitle ?? "loss", scale: opts.logY ? { type: "log" } : {} },
        color: { field: "name", type: "nominal", title: null },
      },
    }],
  };
  return finish(spec, opts);
}

export interface CoordinateSeries {
  name: string;
  /** Depth grid s (finite model: ℓ/L). */
  s: ArrayLike<number>;
  values: ArrayLike<number>;
  /** "finite": line with points; "limit": dashed line. Default "finite". */
  kind?: "finite" | "limit";
}

/** Coordinate trajectories along depth (x = s), finite models vs limits. */
export async function plotCoordinates(series: CoordinateSeries[], opts: PlotOptions & { yTitle?: string } = {}): Promise<PlotResult> {
  const rows = (kind: "finite" | "limit") => series.filter((c) => (c.kind ?? "finite") === kind).flatMap((c) => {
    if (c.s.length !== c.values.length) throw new ValidationError(`series ${c.name}`, `has ${c.s.length} depths but ${c.values.length} values`);
    return Array.from(c.values, (v, i) => ({ s: c.s[i], value: v, name: c.name }));
  });
  const enc = {
    x: { field: "s", type: "quantitative", title: "depth s", scale: { domain: [0, 1] } },
    y: { field: "value", type: "quantitative", title: opts.yTitle ?? "coordinate" },
    color: { field: "name", type: "nominal", title: null },
  };
  const layers: VegaLiteSpec[] = [];
  const fin = rows("finite"), lim = rows("limit");
  if (lim.length) layers.push({ name: "limit", data: { values: lim }, mark: { type: "line", strokeDash: [6, 3] }, encoding: enc });
  if (fin.length) layers.push({ name: "finite", data: { values: fin }, mark: { type: "line", point: { size: 20 } }, encoding: enc });
  return finish({ ...frame(opts), layer: layers }, opts);
}

export interface SampleSet {
  name: string;
  values: ArrayLike<number>;
}

export interface DensityCurve {
  name: string;
  x: ArrayLike<number>;
  pdf: ArrayLike<number>;
}

/** Histogram counts on common bins, normalised to a density (area 1). */
export function histogram(values: ArrayLike<number>, edges: number[]): number[] {
  const nb = edges.length - 1;
  const counts = new Array<number>(nb).fill(0);
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= edges[0] && v <= edges[nb])) continue;
    let b = Math.floor(((v - edges[0]) / (edges[nb] - edges[0])) * nb);
    if (b === nb) b = nb - 1;
    counts[b]++;
    n++;
  }
  return counts.map((c, b) => (n ? c / (n * (edges[b + 1] - edges[b])) : 0));
}

/**
 * Histograms of samples (e.g. preactivations of finite models) as density
 * step lines on common bins, with limit laws as density curves (e.g. from a
 * particle sampler, or a closed form).
 */
export async function plotHistograms(samples: SampleSet[], opts: PlotOptions & { bins?: number; range?: [number, number]; densities?: DensityCurve[]; xTitle?: string } = {}): Promise<PlotResult> {
  const bins = opts.bins ?? 40;
  let lo = Infinity, hi = -Infinity;
  if (opts.range) [lo, hi] = opts.range;
  else for (const s of samples) for (let i = 0; i < s.values.length; i++) { lo = Math.min(lo, s.values[i]); hi = Math.max(hi, s.values[i]); }
  if (!(hi > lo)) { lo -= 0.5; hi += 0.5; }
  const edges = Array.from({ length: bins + 1 }, (_, b) => lo + ((hi - lo) * b) / bins);
  const hist = samples.flatMap((s) => {
    const d = histogram(s.values, edges);
    // step-after line: one point per left edge, plus the right end
    return [...d.map((v, b) => ({ x: edges[b], density: v, name: s.name })), { x: edges[bins], density: d[bins - 1], name: s.name }];
  });
  const dens = (opts.densities ?? []).flatMap((c) => Array.from(c.x, (x, i) => ({ x, density: c.pdf[i], name: c.name })));
  const enc = {
    x: { field: "x", type: "quantitative", title: opts.xTitle ?? "preactivation p" },
    y: { field: "density", type: "quantitative", title: "density" },
    color: { field: "name", type: "nominal", title: null },
  };
  const layers: VegaLiteSpec[] = [];
  if (hist.length) layers.push({ name: "histogram", data: { values: hist }, mark: { type: "line", interpolate: "step-after" }, encoding: enc });
  if (dens.length) layers.push({ name: "density", data: { values: dens }, mark: { type: "line", strokeDash: [6, 3], strokeWidth: 2 }, encoding: enc });
  return finish({ ...frame(opts), layer: layers }, opts);
}

export interface XYSeries {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** "line" (default), "dashed" or "points". */
  kind?: "line" | "dashed" | "points";
}

/**
 * Any y against any x, one colour per named series (lines, dashed lines or points); on a log
 * axis the non-positive or non-finite values are left out (listed in the spec's `description`).
 */
export async function plotXY(series: XYSeries[], opts: PlotOptions & { xTitle?: string; yTitle?: string; logX?: boolean; logY?: boolean } = {}): Promise<PlotResult> {
  let dropped = 0;
  const rows = (kind: "line" | "dashed" | "points") => series.filter((c) => (c.kind ?? "line") === kind).flatMap((c) => {
    if (c.x.length !== c.y.length) throw new RangeError(`series ${c.name}: ${c.x.length} x values but ${c.y.length} y values`);
    const out: { x: number; y: number; name: string }[] = [];
    for (let i = 0; i < c.x.length; i++) {
      const x = c.x[i], y = c.y[i];
      if (!Number.isFinite(x) || !Number.isFinite(y) || (opts.logX && x <= 0) || (opts.logY && y <= 0)) { dropped++; continue; }
      out.push({ x, y, name: c.name });
    }
    return out;
  });
  const enc = {
    x: { field: "x", type: "quantitative", title: opts.xTitle ?? "x", scale: opts.logX ? { type: "log" } : { zero: false } },
    y: { field: "y", type: "quantitative", title: opts.yTitle ?? "y", scale: opts.logY ? { type: "log" } : { zero: false } },
    color: { field: "name", type: "nominal", title: null },
  };
  const layers: VegaLiteSpec[] = [];
  const line = rows("line"), dashed = rows("dashed"), points = rows("points");
  if (line.length) layers.push({ name: "lines", data: { values: line }, mark: { type: "line", point: { size: 15 } }, encoding: enc });
  if (dashed.length) layers.push({ name: "dashed", data: { values: dashed }, mark: { type: "line", strokeDash: [6, 3] }, encoding: enc });
  if (points.length) layers.push({ name: "points", data: { values: points }, mark: { type: "point", filled: true, size: 30, opacity: 0.6 }, encoding: enc });
  const spec: VegaLiteSpec = { ...frame(opts), layer: layers };
  if (dropped) spec.description = `${dropped} value(s) not shown (non-positive on a log axis, or not finite)`;
  return finish(spec, opts);
}
