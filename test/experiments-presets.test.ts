/**
 * Reproduction presets on tiny ladders (the full small-scale presets are in
 * test/verify/experiments.verify.ts): the limit tasks share embeddings / limits as
 * documented, a tiny sweep against the DMFT shows the D exponent −1/2, and
 * fit.json / the figures have the documented shape.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeProblem } from "../src/problem/problem.ts";
import { initEmbeddings } from "../src/problem/embeddings.ts";
import { fixEmbeddings, getTask, runPreset, type PresetSummary } from "../src/experiments/index.ts";

const dir = mkdtempSync(join(tmpdir(), "limitdyn-presets-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

const count = (svg: string, s: string) => svg.split(s).length - 1;
const lineSeries = (svg: string, name: string) => count(svg, `class="mark-line role-mark ${name}_marks"`);

const base = {
  model: { L: 4, M: 8, D: 8, activation: "tanh" },
  data: { generator: "teacher", dIn: 2, dOut: 1, N: 3, seed: 7, nonlinearity: "tanh" },
  train: { steps: 2, etaU: 1, etaV: 1 },
  seed: 5,
};

test("fixEmbeddings: embeddings from embeddingSeed, U, V still from the run seed", () => {
  const p = makeProblem(base as never);
  const q = fixEmbeddings(p, { embeddingSeed: 3 });
  const ref = initEmbeddings({ ...p, seed: 3 });
  assert.deepEqual(Array.from(initEmbeddings(q).WE), Array.from(ref.WE));
  assert.deepEqual(Array.from(initEmbeddings(q).WU), Array.from(ref.WU));
  assert.equal(q.seed, p.seed);
  assert.equal(fixEmbeddings(p, {}), p);
  assert.throws(() => fixEmbeddings(p, { embeddingSeed: -1 }), /embeddingSeed/);
});

test("finite-vs-dmft: output and embedding errors; the DMFT is shared by all D (one cached solve)", async () => {
  const task = getTask("finite-vs-dmft")!;
  const run = { index: 0, id: "x", point: {}, rep: 0, seed: 1 };
  const t0 = performance.now();
  const a = await task(makeProblem({ ...base, model: { ...base.model, D: 8 } } as never), { run, options: { embedding: true } });
  const t1 = performance.now();
  const b = await task(makeProblem({ ...base, model: { ...base.model, D: 32 } } as never), { run, options: { embedding: true } });
  const t2 = performance.now();
  for (const v of [a, b]) {
    assert.ok(Number.isFinite(v.errLast as number) && (v.errLast as number) > 0);
    assert.ok(Number.isFinite(v.errEmbed as number) && (v.errEmbed as number) > 0);
  }
  assert.deepEqual(a.limitLoss, b.limitLoss, "same DMFT for D = 8 and D = 32");
  assert.ok(t2 - t1 < (t1 - t0) / 2 + 50, `second run reuses the DMFT (${(t1 - t0).toFixed(0)} ms then ${(t2 - t1).toFixed(0)} ms)`);
});

test("finite-vs-meanode with embeddingSeed: one limit for all seeds and shapes of a D", async () => {
  const task = getTask("finite-vs-meanode")!;
  const opts = { embeddingSeed: 11 };
  const v1 = await task(makeProblem({ ...base, seed: 1 } as never), { run: { index: 0, id: "a", point: {}, rep: 0, seed: 1 }, options: opts });
  const v2 = await task(makeProblem({ ...base, seed: 2, model: { ...base.model, L: 8 } } as never), { run: { index: 1, id: "b", point: {}, rep: 1, seed: 2 }, options: opts });
  assert.deepEqual(v1.limitLoss, v2.limitLoss);
  assert.notDeepEqual(v1.loss, v2.loss, "U, V differ between runs");
  await assert.rejects(async () => task(makeProblem(base as never), { run: { index: 0, id: "a", point: {}, rep: 0, seed: 1 }, options: { bogus: 1 } }), /bogus/);
});

let summary: PresetSummary;
const out = join(dir, "all-shapes");

test("tiny all-shapes preset: D exponent against the DMFT ≈ −1/2, fit.json and figures", async () => {
  summary = await runPreset("all-shapes", {
    out, workers: 0, B: 200, log: null,
    ladders: {
      L: { L: [1, 2, 4], M: 2048, D: 8, reps: 4 },
      M: { L: 32, M: [4, 16], D: 8, reps: 4 },
      D: { L: 16, M: 256, D: [2, 8, 32], reps: 8 },
      grid: { L: [1, 4], M: [2, 16], D: [4, 16], reps: 3 },
    },
  });
  const fit = JSON.parse(readFileSync(join(out, "fit.json"), "utf8"));
  for (const a of ["L", "M", "D"]) {
    assert.equal(typeof fit.exponents[a], "number", `exponents.${a}`);
    assert.ok(Array.isArray(fit.ci[a]) && fit.ci[a].length === 2 && fit.ci[a][0] <= fit.ci[a][1], `ci.${a}`);
    assert.ok(fit.ci[a][0] <= fit.exponents[a] + 1e-12 && fit.exponents[a] <= fit.ci[a][1] + 1e-12, `ci.${a} holds the estimate`);
  }
  assert.deepEqual(fit.theory, { L: -1, M: -0.5, D: -0.5 });
  assert.ok(Math.abs(fit.exponents.D + 0.5) < 0.2, `D exponent ${fit.exponents.D}`);
  assert.ok(Math.abs(fit.exponents.L + 1) < 0.25, `L exponent ${fit.exponents.L}`);
  assert.ok("a/L + b sqrt(D/(LM)) + c/sqrt(D)" in fit.coefficients);
  assert.ok(existsSync(join(out, "meanode.small.jsonl")) && existsSync(join(out, "dmft.small.jsonl")));
  for (const name of ["err-vs-L", "err-vs-M", "err-vs-D", "emb-vs-D"]) {
    const svg = readFileSync(join(out, `${name}.svg`), "utf8");
    assert.ok(svg.startsWith("<svg") && svg.trimEnd().endsWith("</svg>"), `${name}.svg is an SVG`);
    assert.equal(lineSeries(svg, "fit"), 1, `${name}: one fitted line`);
    assert.ok(existsSync(join(out, `${name}.vl.json`)));
  }
  const p = readFileSync(join(out, "err-vs-P.svg"), "utf8");
  assert.equal(lineSeries(p, "fit"), 2, "err-vs-P: one fitted line per D");
});

test("rerunning a preset resumes from its rows (no run repeated) and gives the same fit", async () => {
  const t0 = performance.now();
  const again = await runPreset("all-shapes", {
    out, workers: 0, B: 200, log: null,
    ladders: {
      L: { L: [1, 2, 4], M: 2048, D: 8, reps: 4 },
      M: { L: 32, M: [4, 16], D: 8, reps: 4 },
      D: { L: 16, M: 256, D: [2, 8, 32], reps: 8 },
      grid: { L: [1, 4], M: [2, 16], D: [4, 16], reps: 3 },
    },
  });
  assert.deepEqual(again.exponents, summary.exponents);
  assert.ok(performance.now() - t0 < summary.runtimeSec * 1000, "resumed run is faster");
});

test("unknown preset and scale are refused", async () => {
  await assert.rejects(runPreset("nope", { out: join(dir, "x"), log: null }), /preset/);
  await assert.rejects(runPreset("all-shapes", { out: join(dir, "x"), scale: "huge" as never, log: null }), /scale/);
});
