/**
 * The chen preset on a tiny configuration (the small one runs in test/verify/experiments.verify.ts):
 * fit.json and the figures, the OLS exponent recomputed from the row file, the convergence
 * statistics recomputed from the recorded losses and λ_min, and the finite-test-error task
 * against the fTest of the API; OLS inference against scipy.stats reference values.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeProblem } from "../src/problem/problem.ts";
import { trainResNet } from "../src/resnet/solver.ts";
import { finiteTestError, runPreset, type ChenSummary } from "../src/experiments/index.ts";
import { ols, studentCritical, studentTwoSided } from "../src/stats/ols.ts";
import { ValidationError } from "../src/core/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "limitdyn-chen-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

test("OLS inference equals scipy.stats (linregress, t.ppf, t.sf) to 1e-12", () => {
  const x = [4, 6, 8, 11, 16, 23].map(Math.log), y = [0.3, 0.21, 0.17, 0.1, 0.08, 0.05].map(Math.log);
  const f = ols(x, y);
  // scipy 1.x: linregress → slope, intercept, stderr, pvalue; slope ± t.ppf(0.975, 4)·stderr; rvalue²
  const ref = { slope: -1.029894068593124, intercept: 0.2680529312112321, se: 0.05800683696255819, p: 5.9124627673535324e-05, lo: -1.190946867145825, hi: -0.8688412700404228, r2: 0.9874698266099179 };
  for (const [got, want] of [[f.slope, ref.slope], [f.intercept, ref.intercept], [f.se, ref.se], [f.ci[0], ref.lo], [f.ci[1], ref.hi], [f.r2, ref.r2]]) assert.ok(Math.abs(got - want) < 1e-12, `${got} vs ${want}`);
  assert.ok(Math.abs(f.pValue / ref.p - 1) < 1e-9, `p ${f.pValue} vs ${ref.p}`);
  assert.ok(Math.abs(studentTwoSided(2, 5) - 0.10193947882985835) < 1e-13);
  assert.ok(Math.abs(studentCritical(0.975 * 2 - 1, 4) - 2.7764451051977934) < 1e-10);
  assert.ok(Math.abs(studentCritical(0.9, 10) - 1.8124611228116756) < 1e-10);
  assert.throws(() => ols([1, 2], [1, 2]), RangeError);
});

test("finite-test-error task: testError is the 0-1 error of sign f at the weights after K updates (= fTest at step K of a K+1-step run)", () => {
  const input = { model: { L: 3, M: 8, D: 8, activation: "tanh", sigmaIn: 2 }, data: { generator: "two-spirals", N: 12, NTest: 300, testSeed: 4 }, train: { steps: 15, etaU: 2, etaV: 2 }, seed: 3 };
  const v = finiteTestError(makeProblem(input), { run: { index: 0, id: "x", point: {}, rep: 0, seed: 3 }, options: {} }) as Record<string, number>;
  const p1 = makeProblem({ ...input, train: { ...input.train, steps: 16 } });
  const t = trainResNet(p1);
  let e = 0;
  for (let m = 0; m < 300; m++) if (Math.sign(t.fTest!.get(15, 0, m)) !== p1.data.YTest![m]) e++;
  assert.equal(v.testError, e / 300);
  assert.ok(Math.abs(v.testLoss - t.lossTest![15]) < 1e-12);
  assert.throws(() => finiteTestError(makeProblem({ ...input, data: { generator: "two-spirals", N: 4 } }), { run: { index: 0, id: "x", point: {}, rep: 0, seed: 3 }, options: {} }), (err: unknown) => err instanceof ValidationError && err.field === "data.YTest");
});

test("tiny chen preset: fit.json, figures, the OLS exponent from the rows, the convergence statistics from the recorded losses and λ_min", async () => {
  const out = join(dir, "chen");
  const s: ChenSummary = await runPreset("chen", {
    out, workers: 0, log: null,
    chen: {
      gram: { N: 4, steps: 4, shapes: [[2, 8], [4, 16]], points: 256, randomizations: 2 },
      testError: { sizes: [4, 6, 9, 14], reps: 3, NTest: 300, steps: 30, L: 2, M: 8, D: 8 },
    },
  });
  const json = JSON.parse(readFileSync(join(out, "fit.json"), "utf8")) as ChenSummary;
  assert.equal(json.preset, "chen");
  for (const f of ["gram-lambda-min", "kl", "convergence", "test-error"]) {
    assert.ok(existsSync(join(out, `${f}.svg`)) && existsSync(join(out, `${f}.vl.json`)), f);
    assert.ok(json.files.includes(join(out, `${f}.svg`)), `${f} listed`);
  }
  assert.deepEqual(s.gram.runs.map((r) => r.name), ["finite L=2, M=8", "finite L=4, M=16", "Mean ODE (D = 16)", "DMFT (D = ∞)"]);
  assert.equal(s.kl.meanOde[0], 0);
  assert.equal(s.kl.dmft.length, 4);
  // OLS from the row file, recomputed
  const rows = readFileSync(join(out, "test-error.small.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(rows.length, 12);
  const sizes = [4, 6, 9, 14];
  const means = sizes.map((n) => { const v = rows.filter((r) => r.values.N === n).map((r) => r.values.testError); return v.reduce((a: number, b: number) => a + b, 0) / v.length; });
  assert.deepEqual(s.testError.mean, means);
  const pos = sizes.map((n, i) => [n, means[i]]).filter(([, e]) => e > 0);
  if (pos.length >= 3) {
    const f = ols(pos.map(([n]) => Math.log(n)), pos.map(([, e]) => Math.log(e)));
    assert.ok(!("error" in s.testError.fit));
    if (!("error" in s.testError.fit)) assert.ok(Math.abs(s.testError.fit.exponent - f.slope) < 1e-12 && Math.abs(s.testError.fit.pValue - f.pValue) < 1e-12);
  }
  // convergence: realised rate = geometric mean of 𝓛_{k+1}/𝓛_k, bound = geometric mean of 1 − 2λ_min/N
  for (const [i, c] of s.convergence.entries()) {
    const r = s.gram.runs[i];
    const ratios = r.loss.slice(1).map((l, k) => l / r.loss[k]);
    const geo = Math.exp(ratios.reduce((a, x) => a + Math.log(x), 0) / ratios.length);
    assert.ok(Math.abs(c.realisedRate - geo) < 1e-12, c.name);
    const b = r.lambdaMin.slice(0, -1).map((l) => 1 - (2 / 4) * l);
    assert.ok(Math.abs(c.boundRate - Math.exp(b.reduce((a, x) => a + Math.log(x), 0) / b.length)) < 1e-12);
    assert.equal(c.withinBound, ratios.filter((x, k) => x <= b[k]).length);
  }
  await assert.rejects(runPreset("chen", { out, workers: 0, log: null, chen: { gram: { bogus: 1 } } }), (e: unknown) => e instanceof ValidationError && e.field === "chen.gram.bogus");
});
