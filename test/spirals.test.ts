/**
 * The two-spirals generator (src/problem/spirals.ts) against its definition, recomputed here:
 * without noise every point lies on its arm (radius ρ = 0.1 + 0.9t, angle 2π·turns·t + cπ for
 * one t ∈ [0, 1)), classes alternate (balanced), labels are ±1; the test set depends on testSeed
 * and NTest only; every field is validated. The teacher's NTest: test targets from the same teacher.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeProblem } from "../src/problem/problem.ts";
import { twoSpiralsData } from "../src/problem/spirals.ts";
import { ValidationError } from "../src/core/errors.ts";

const problem = (data: Record<string, unknown>) => makeProblem({ model: { D: 4 }, data, train: { steps: 1, etaU: 1, etaV: 1 } } as never);

test("two spirals: points on their arms (noise 0), alternating balanced classes with labels ±1, d_in = 2, d_out = 1", () => {
  for (const turns of [0.5, 1, 1.75]) {
    const d = twoSpiralsData({ N: 201, turns, seed: 3 });
    assert.deepEqual([d.dIn, d.dOut, d.N, d.X.length, d.Y.length], [2, 1, 201, 402, 201]);
    for (let i = 0; i < d.N; i++) {
      const x = d.X[i], y = d.X[d.N + i], c = i % 2;
      assert.equal(d.Y[i], c === 0 ? 1 : -1);
      const rho = Math.hypot(x, y), t = (rho - 0.1) / 0.9;
      assert.ok(t >= -1e-12 && t < 1 + 1e-12, `radius ${rho}`);
      const th = 2 * Math.PI * turns * t + c * Math.PI;
      assert.ok(Math.hypot(x - rho * Math.cos(th), y - rho * Math.sin(th)) < 1e-12, `point ${i} off its arm`);
    }
  }
});

test("two spirals: deterministic in seed; the test set depends on testSeed and NTest only (fixed across training seeds and sizes); noise has the stated scale", () => {
  const a = twoSpiralsData({ N: 10, seed: 1, NTest: 50, testSeed: 9 });
  const b = twoSpiralsData({ N: 10, seed: 1, NTest: 50, testSeed: 9 });
  assert.deepEqual(Array.from(a.X), Array.from(b.X));
  const c = twoSpiralsData({ N: 37, seed: 2, NTest: 50, testSeed: 9 });
  assert.deepEqual(Array.from(c.XTest!), Array.from(a.XTest!), "same test set for another seed and N");
  assert.deepEqual(Array.from(c.YTest!), Array.from(a.YTest!));
  assert.notDeepEqual(Array.from(c.X.subarray(0, 10)), Array.from(a.X.subarray(0, 10)));
  assert.equal(twoSpiralsData({ N: 3 }).XTest, undefined);
  // noise: the residual to the noiseless point (same positions t) has standard deviation ≈ noise
  const clean = twoSpiralsData({ N: 4000, seed: 5 }), noisy = twoSpiralsData({ N: 4000, seed: 5, noise: 0.05 });
  let s = 0;
  for (let i = 0; i < 8000; i++) s += (noisy.X[i] - clean.X[i]) ** 2;
  const sd = Math.sqrt(s / 8000);
  assert.ok(Math.abs(sd - 0.05) < 0.05 * 5 / Math.sqrt(2 * 8000), `noise sd ${sd}`); // 5 standard errors of a sd estimate
  const p = problem({ generator: "two-spirals", N: 6, NTest: 4, testSeed: 9 });
  assert.equal(p.data.NTest, 4);
  assert.deepEqual(Array.from(p.data.XTest!), Array.from(twoSpiralsData({ N: 1, NTest: 4, testSeed: 9 }).XTest!));
});

test("two spirals and teacher NTest: every field validated, errors name data.<key>", () => {
  const bad = (data: Record<string, unknown>, field: string) => assert.throws(() => problem(data), (e: unknown) => e instanceof ValidationError && e.field === field, field);
  bad({ generator: "two-spirals" }, "data.N");
  bad({ generator: "two-spirals", N: 0 }, "data.N");
  bad({ generator: "two-spirals", N: 2.5 }, "data.N");
  bad({ generator: "two-spirals", N: 4, turns: 0 }, "data.turns");
  bad({ generator: "two-spirals", N: 4, turns: "2" }, "data.turns");
  bad({ generator: "two-spirals", N: 4, noise: -0.1 }, "data.noise");
  bad({ generator: "two-spirals", N: 4, seed: -1 }, "data.seed");
  bad({ generator: "two-spirals", N: 4, NTest: 1.5 }, "data.NTest");
  bad({ generator: "two-spirals", N: 4, testSeed: "x" }, "data.testSeed");
  bad({ generator: "two-spirals", N: 4, dIn: 2 }, "data.dIn");
  bad({ generator: "spirals", N: 4 }, "data.generator");
  bad({ generator: "teacher", dIn: 2, dOut: 1, N: 3, NTest: "4" }, "data.NTest");
  const t = problem({ generator: "teacher", dIn: 3, dOut: 2, N: 5, seed: 4, NTest: 7 });
  assert.deepEqual([t.data.NTest, t.data.XTest!.length, t.data.YTest!.length], [7, 21, 14]);
  const plain = problem({ generator: "teacher", dIn: 3, dOut: 2, N: 5, seed: 4 });
  assert.deepEqual(Array.from(t.data.X), Array.from(plain.data.X), "test points change no training point");
});
