/**
 * Plots: Vega-Lite specs rendered headless to SVG. Checks the SVG root, the
 * number of series (one `mark-line role-mark <name>_marks` group per line
 * series in vega's SVG), the number of plotted points, the compiled Vega
 * data, and the files written.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  compileVegaLite, fitPowerLawAlong, fitRates, histogram, plotCoordinates, plotErrorVs, plotHistograms, plotLossCurves,
  rms, type ShapeStats, toRatePoints,
} from "../src/experiments/index.ts";

const dir = mkdtempSync(join(tmpdir(), "limitdyn-plot-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

const count = (svg: string, s: string) => svg.split(s).length - 1;
/** Number of line series of mark `name` in a vega SVG. */
const lineSeries = (svg: string, name: string) => count(svg, `class="mark-line role-mark ${name}_marks"`);
/** Number of symbols (points) in the symbol mark `name`. */
function symbols(svg: string, name: string): number {
  const i = svg.indexOf(`class="mark-symbol role-mark ${name}_marks"`);
  assert.ok(i >= 0, `no symbol mark ${name}`);
  const end = svg.indexOf("</g>", i);
  return count(svg.slice(i, end), "<path");
}

function assertSvg(svg: string): void {
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*>/);
  assert.ok(svg.trimEnd().endsWith("</svg>"));
  assert.equal(count(svg, "<svg"), 1);
}

const law = (L: number, M: number, D: number) => 0.8 / L + 0.5 * Math.sqrt(D / (L * M)) + 0.3 / Math.sqrt(D);
function table(): ShapeStats[] {
  const t: ShapeStats[] = [];
  for (const L of [2, 4, 8, 16]) for (const M of [2, 8, 32]) {
    const values = [0.9, 1.1, 1.0].map((w) => w * law(L, M, 16));
    t.push({ key: { L, M, D: 16 }, L, M, D: 16, n: 3, rms: rms(values), mean: NaN, values, missing: 0 });
  }
  return t;
}

test("plotErrorVs: error vs L with one fitted line per M series, files written", async () => {
  const t = table();
  const fit = fitRates(toRatePoints(t), { terms: ["1/L", "1/sqrt(LM)", "1"] });
  const out = join(dir, "err-vs-L");
  const r = await plotErrorVs(t, { x: "L", fit, title: "error vs L", out });
  assertSvg(r.svg);
  assert.equal(lineSeries(r.svg, "fit"), 3, "three M values → three fitted lines");
  assert.equal(symbols(r.svg, "measured"), 12, "one point per shape");
  assert.match(r.svg, /aria-label="L: 2; error \(RMS over repetitions\): [^"]*; M: M=8; D: 16; err: [^"]*; n: 3"/);
  // the spec: log-log, two layers; the saved files are that spec and that svg
  const layers = r.spec.layer as { name: string; encoding: { x: { scale: { type: string } }; y: { scale: { type: string } } } }[];
  assert.deepEqual(layers.map((l) => l.name), ["fit", "measured"]);
  assert.ok(layers.every((l) => l.encoding.x.scale.type === "log" && l.encoding.y.scale.type === "log"));
  assert.deepEqual(JSON.parse(readFileSync(`${out}.vl.json`, "utf8")), r.spec);
  assert.equal(readFileSync(`${out}.svg`, "utf8"), r.svg);
  // the compiled Vega spec carries the data: 3 × 40 fitted points, 12 measured
  const vg = (await compileVegaLite(r.spec)) as { data: { name: string; values?: unknown[] }[] };
  const sizes = vg.data.filter((d) => d.values).map((d) => d.values!.length).sort((a, b) => a - b);
  assert.deepEqual(sizes, [12, 120]);
  // fitted values on the line equal the fit's predictions
  const fitted = (layers[0] as unknown as { data: { values: { x: number; err: number; series: string }[] } }).data.values;
  const p0 = fitted.find((v) => v.series === "M=2" && v.x === 2)!;
  assert.ok(Math.abs(p0.err - fit.predict({ L: 2, M: 2, D: 16 })) < 1e-15);
});

test("plotErrorVs: vs P = LMD through the measured shapes, a power-law fit, one series", async () => {
  const t = table();
  const pf = fitPowerLawAlong(t, "P");
  const r = await plotErrorVs(t, { x: "P", fit: pf, series: [] });
  assertSvg(r.svg);
  assert.equal(lineSeries(r.svg, "fit"), 1);
  assert.equal(symbols(r.svg, "measured"), 12);
  for (const x of ["LM", "M", "D"] as const) assertSvg((await plotErrorVs(t, { x })).svg);
  assert.equal(existsSync(join(dir, "undefined.svg")), false);
});

test("plotLossCurves: one line per named curve", async () => {
  const r = await plotLossCurves({ finite: [1, 0.5, 0.3, 0.2], meanode: [1, 0.52, 0.31, 0.21], dmft: [1, 0.55, 0.33, 0.22] }, { logY: true });
  assertSvg(r.svg);
  assert.equal(lineSeries(r.svg, "curves"), 3);
  const r2 = await plotLossCurves([{ name: "a", loss: new Float64Array([3, 2, 1]) }]);
  assert.equal(lineSeries(r2.svg, "curves"), 1);
});

test("plotCoordinates: finite (points + lines) vs limit (dashed) along depth", async () => {
  const sF = [0, 0.25, 0.5, 0.75, 1];
  const sL = Array.from({ length: 21 }, (_, i) => i / 20);
  const r = await plotCoordinates([
    { name: "finite d=1", s: sF, values: sF.map((s) => Math.sin(s)), kind: "finite" },
    { name: "finite d=2", s: sF, values: sF.map((s) => Math.cos(s)), kind: "finite" },
    { name: "limit d=1", s: sL, values: sL.map((s) => Math.sin(s)), kind: "limit" },
    { name: "limit d=2", s: sL, values: sL.map((s) => Math.cos(s)), kind: "limit" },
  ], { yTitle: "h_d(s)" });
  assertSvg(r.svg);
  assert.equal(lineSeries(r.svg, "finite"), 2);
  assert.equal(lineSeries(r.svg, "limit"), 2);
  assert.match(r.svg, /stroke-dasharray="6,3"/);
  await assert.rejects(plotCoordinates([{ name: "x", s: [0, 1], values: [1] }]), /2 depths but 1 values/);
});

test("plotHistograms: finite histograms and limit densities; histogram() is a density", async () => {
  const edges = [0, 1, 2, 4];
  const d = histogram([0.5, 1.5, 1.5, 3, 10], edges);
  assert.deepEqual(d, [0.25, 0.5, 0.125]); // 1/4, 2/4, (1/4)/2 — the sample at 10 is outside
  assert.equal(d.reduce((s, v, b) => s + v * (edges[b + 1] - edges[b]), 0), 1);
  const xs = Array.from({ length: 2000 }, (_, i) => Math.sin(i * 12.9898) * 2); // deterministic samples
  const grid = Array.from({ length: 101 }, (_, i) => -3 + (6 * i) / 100);
  const r = await plotHistograms([
    { name: "finite L=4", values: xs },
    { name: "finite L=16", values: xs.map((x) => 0.9 * x) },
  ], { bins: 30, range: [-3, 3], densities: [{ name: "limit law", x: grid, pdf: grid.map((x) => Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI)) }] });
  assertSvg(r.svg);
  assert.equal(lineSeries(r.svg, "histogram"), 2);
  assert.equal(lineSeries(r.svg, "density"), 1);
  const hist = ((r.spec.layer as { data: { values: { name: string }[] } }[])[0]).data.values;
  assert.equal(hist.filter((v) => v.name === "finite L=4").length, 31); // 30 bins + closing edge
});
