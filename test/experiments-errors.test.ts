/**
 * Errors against a reference: output RMS (over outputs, data points,
 * repetitions), embedding-space RMS over coordinates, the limitTask wrapper
 * with a pluggable limit (here a large finite ResNet), row fields.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeProblem } from "../src/problem/problem.ts";
import { trainResNet } from "../src/resnet/solver.ts";
import {
  embeddingError, finalHidden, limitTask, outputError, outputErrorRms, referenceResNet, registerTask, rms, rowField, runSweep,
} from "../src/experiments/index.ts";

const base = {
  model: { L: 3, M: 4, D: 8 },
  data: { generator: "teacher", dIn: 3, dOut: 2, N: 5, seed: 2 },
  train: { steps: 4, etaU: 0.2, etaV: 0.2 },
  seed: 5,
};

test("outputError / outputErrorRms: definitions on arrays and trajectories", () => {
  assert.equal(outputError([1, 2, 3, 4], [1, 2, 3, 6]), 1); // √(4/4)
  // RMS over repetitions of per-run RMS = RMS over all entries (equal sizes)
  const runs = [[1, 1], [0, 3]], ref = [0, 0];
  assert.ok(Math.abs(outputErrorRms(runs, ref) - Math.sqrt((1 + 1 + 0 + 9) / 4)) < 1e-15);
  assert.ok(Math.abs(outputErrorRms(runs, [[1, 0], [0, 0]]) - Math.sqrt((0 + 1 + 0 + 9) / 4)) < 1e-15);
  const p = makeProblem(base);
  const a = trainResNet(p), b = trainResNet({ ...p, seed: 6 });
  const K = 4, per = 2 * 5;
  const last = rms(Array.from(a.f.data.subarray((K - 1) * per), (v, i) => v - b.f.data[(K - 1) * per + i]));
  assert.ok(Math.abs(outputError(a, b) - last) < 1e-15);
  assert.ok(Math.abs(outputError(a, b, "all") - rms(Array.from(a.f.data, (v, i) => v - b.f.data[i]))) < 1e-15);
  assert.equal(outputError(a, a, 2), 0);
  // a trajectory against a flat array (a row's fLast)
  assert.ok(Math.abs(outputError(a, Array.from(b.f.data.subarray((K - 1) * per))) - last) < 1e-15);
  assert.throws(() => outputError(a, b, 9), /outside/);
});

test("embeddingError: RMS over coordinates of h_L; finite vs reference with shared embeddings", () => {
  assert.equal(embeddingError([0, 0, 0, 0], [2, 0, 0, 0]), 1);
  const p = makeProblem(base);
  const fin = trainResNet(p, { record: ["h"], recordSteps: [3] });
  const hL = finalHidden(fin, 3);
  assert.equal(hL.length, 5 * 8);
  assert.equal(hL[8 + 2], fin.profiles!.h!.get(0, 3, 1, 2)); // n = 1, d = 2, ℓ = L
  const small = referenceResNet(p, { L: 6, M: 8, record: "h" });
  const big = referenceResNet(p, { L: 24, M: 32, record: "h" });
  // the reference shares W_E, W_U with the run: h_0 agrees exactly
  assert.equal(small.profiles!.h!.get(0, 0, 1, 2), fin.profiles!.h!.get(0, 0, 1, 2));
  // and errors shrink as the finite model grows towards it
  const e1 = embeddingError(finalHidden(small, 3), finalHidden(big, 3));
  const e0 = embeddingError(hL, finalHidden(big, 3));
  assert.ok(e1 < e0, `${e1} < ${e0}`);
  assert.throws(() => finalHidden(trainResNet(p), 0), /no recorded h/);
});

test("limitTask: a pluggable limit (here a large finite ResNet) in a sweep; row fields", async () => {
  let calls = 0;
  registerTask("test-finite-vs-big", limitTask((p, o) => {
    calls++;
    return referenceResNet(p, { L: 16, M: 16, ...(o.record ? { record: "h" } : {}) });
  }, { cacheKey: (p) => String(p.seed) }));
  const { rows } = await runSweep({
    problem: base, grid: { L: [2, 8], M: [2, 8] }, repetitions: 2, seedAxes: [],
    task: "test-finite-vs-big", taskOptions: { embedding: true, fLast: true, limit: { record: true } },
  });
  assert.equal(rows.length, 8);
  assert.equal(calls, 2, "one limit per seed (seedAxes: [] → one seed per repetition), cached");
  for (const r of rows) {
    assert.equal(r.error, undefined, r.error);
    for (const k of ["errLast", "errAll", "errEmbed"]) assert.ok((r.values![k] as number) > 0, k);
    assert.equal((r.values!.fLast as number[]).length, 10);
    assert.equal(rowField(r, "L"), r.shape.L);
    assert.equal(rowField(r, "errLast"), r.values!.errLast);
    assert.equal(rowField(r, "model.M"), r.point["model.M"]);
  }
  // the error decreases from (L, M) = (2, 2) to (8, 8), in every repetition
  for (const rep of [0, 1]) {
    const e = (L: number, M: number) => rows.find((r) => r.shape.L === L && r.shape.M === M && r.rep === rep)!.values!.errLast as number;
    assert.ok(e(8, 8) < e(2, 2), `rep ${rep}: ${e(8, 8)} < ${e(2, 2)}`);
  }
});
