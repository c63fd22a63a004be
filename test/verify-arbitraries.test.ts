/**
 * The verification arbitraries (src/verify/arbitraries.ts): they generate
 * valid problems on which the finite ResNet trains without divergence, they
 * shrink to small readable cases, and the laws' ψ₂ values are right.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { makeProblem } from "../src/problem/problem.ts";
import { trainResNet } from "../src/resnet/solver.ts";
import { stream } from "../src/core/rng.ts";
import {
  problemInputArb, problemArb, modelSpecArb, datasetArb, lawArb, particlesArb, depthProfileArb, vectorPairArb, stepSizeBound,
  checkSubGaussian, estimatePsi2, gaussian, rademacher, uniform, UNIFORM_PSI2_CONSTANT, psi2FromLogMgfSq,
} from "../src/verify/index.ts";

test("problemInputArb: makeProblem accepts every draw and the finite ResNet trains without divergence", () => {
  for (const trainEmbeddings of [false, true]) {
    fc.assert(fc.property(problemInputArb({ train: { trainEmbeddings } }), (input) => {
      const p = makeProblem(input); // throws on invalid input
      assert.ok(stepSizeBound(p) <= 1 + 1e-12);
      const t = trainResNet(p); // throws DivergenceError on a non-finite loss
      assert.ok(t.loss.every(Number.isFinite));
      assert.ok(Math.max(...t.loss) <= 1.5 * t.loss[0] + 1e-9, `loss grew: ${Array.from(t.loss)}`);
    }), { numRuns: 400, seed: 42 });
  }
});

test("problemArb yields Problems matching their inputs; rates stay on the 0.01 grid after clamping", () => {
  for (const p of fc.sample(problemArb(), { numRuns: 50, seed: 5 })) {
    assert.ok(p.model.L >= 1 && p.model.L <= 4 && p.model.D <= 4 && p.model.M <= 4);
    assert.ok(p.data.N <= 4 && p.data.dIn <= 3 && p.data.dOut <= 2);
    for (const eta of [p.train.etaU, p.train.etaV]) assert.ok(Math.abs(eta * 100 - Math.round(eta * 100)) < 1e-9 && eta <= 0.5);
    assert.ok(["linear", "tanh", "gelu", "sin"].includes(p.model.activation.name));
  }
});

test("shrinking: a failing size predicate L·M·D < 50 shrinks to a minimal, default-valued case", () => {
  const r = fc.check(fc.property(modelSpecArb({ L: { max: 8 }, M: { max: 8 }, D: { max: 8 } }), (m) => m.L * m.M * m.D < 50), { seed: 3, numRuns: 1000 });
  assert.equal(r.failed, true);
  const m = r.counterexample![0];
  const v = m.L * m.M * m.D;
  assert.ok(v >= 50);
  // minimal: decreasing any size makes the predicate hold again
  assert.ok((m.L - 1) * m.M * m.D < 50 && m.L * (m.M - 1) * m.D < 50 && m.L * m.M * (m.D - 1) < 50, JSON.stringify(m));
  assert.deepEqual({ ...m, L: 0, M: 0, D: 0 }, { L: 0, M: 0, D: 0, activation: "linear", alpha: 1, sigmaU: 1, sigmaV: 1, sigmaIn: 1, sigmaOut: 1 });
});

test("shrinking: problems and data sets shrink to sizes 1 and zero entries", () => {
  const r = fc.check(fc.property(problemInputArb(), (p) => p.data.X[0].length < 3), { seed: 3 });
  assert.equal(r.failed, true);
  const p = r.counterexample![0];
  assert.deepEqual(p.model, { L: 1, M: 1, D: 1, activation: "linear", alpha: 1, sigmaU: 1, sigmaV: 1, sigmaIn: 1, sigmaOut: 1 });
  assert.deepEqual(p.data, { X: [[0, 0, 0]], Y: [[0, 0, 0]] });
  assert.deepEqual(p.train, { steps: 1, etaU: 0, etaV: 0 });
  assert.equal(p.seed, 0);
  // a value predicate shrinks entries to the simplest failing grid value: one entry 1, all others 0, Y = 0
  // (sizes shrink as far as the position of that entry allows: sliced generation, no chain)
  for (const seed of [1, 2, 3, 9]) {
    const d = fc.check(fc.property(datasetArb(), (ds) => ds.X.flat().every((x) => x < 1)), { seed });
    const { X, Y } = d.counterexample![0];
    assert.deepEqual(X.flat().filter((x) => x !== 0), [1], JSON.stringify(X));
    assert.ok(Y.flat().every((y) => y === 0) && Y.length === 1, JSON.stringify(Y));
  }
  const d = fc.check(fc.property(datasetArb(), (ds) => ds.X.flat().every((x) => x < 1)), { seed: 2 });
  assert.deepEqual(d.counterexample![0], { X: [[1]], Y: [[0]] });
  const law = fc.check(fc.property(lawArb(), (l) => l.psi2 < 2), { seed: 1 });
  assert.equal(law.counterexample![0].name, "N(0,1.25²)"); // the first Gaussian scale with ψ₂ ≥ 2
});

test("states: particle sets and depth profiles have consistent shapes and finite entries", () => {
  for (const z of fc.sample(particlesArb({ P: { max: 6 }, D: { max: 3 } }), { numRuns: 100, seed: 1 })) {
    assert.ok(z.length >= 1 && z.length <= 6);
    const w = z[0].length;
    assert.ok(w % 2 === 0 && w >= 2 && w <= 6 && z.every((r) => r.length === w && r.every(Number.isFinite)));
  }
  for (const h of fc.sample(depthProfileArb({ S: { max: 3 }, N: 2, D: { max: 2 } }), { numRuns: 100, seed: 1 })) {
    assert.ok(h.length >= 2 && h.length <= 4);
    assert.ok(h.every((s) => s.length === 2 && s.every((r) => r.length === h[0][0].length && r.every(Number.isFinite))));
  }
  for (const [x, y] of fc.sample(vectorPairArb({ min: 2, max: 4 }, { entries: "continuous", bound: 3 }), { numRuns: 100, seed: 1 })) {
    assert.equal(x.length, y.length);
    assert.ok(x.every((v) => Math.abs(v) <= 3) && y.every(Number.isFinite));
  }
});

test("laws: closed forms give E exp(X²/ψ₂²) = 2, the uniform constant matches quadrature", () => {
  // (1/c)∫₀^c e^{y²} dy at c* by composite Simpson (2000 panels)
  const c = UNIFORM_PSI2_CONSTANT, K = 2000, h = c / K;
  let s = 1 + Math.exp(c * c);
  for (let i = 1; i < K; i++) s += (i % 2 ? 4 : 2) * Math.exp((i * h) ** 2);
  assert.ok(Math.abs((s * h) / 3 / c - 2) < 1e-10);
  assert.ok(Math.abs(gaussian(2).psi2 - 2 * Math.sqrt(8 / 3)) < 1e-15);
  assert.ok(Math.abs(rademacher(3).psi2 - 3 / Math.sqrt(Math.LN2)) < 1e-15);
  for (const law of fc.sample(lawArb(), { numRuns: 60, seed: 2 })) {
    if (law.logMgfSq) {
      assert.ok(Math.abs(law.logMgfSq(law.psi2) - Math.LN2) < 1e-9, law.describe);
      assert.ok(Math.abs(psi2FromLogMgfSq(law.logMgfSq) / law.psi2 - 1) < 1e-10, law.describe);
    }
  }
  assert.ok(Math.abs(uniform(2).psi2 - 2 / c) < 1e-15);
});

test("laws: Monte Carlo — the samplers match the closed forms, and ψ₂ lies in the distribution-free bounds", () => {
  const laws = fc.sample(lawArb(), { numRuns: 30, seed: 4 });
  let seed = 100;
  for (const law of laws) {
    const st = stream(seed++), rng = () => st.uniform();
    const n = 20000;
    const xs = Float64Array.from({ length: n }, () => law.sample(rng));
    if (law.logMgfSq) {
      // at t = 2ψ₂ exp(X²/t²) has finite variance for every law here: a z-test of the closed form
      const t = 2 * law.psi2;
      const ys = Array.from(xs, (x) => Math.exp((x * x) / (t * t)));
      const mean = ys.reduce((a, b) => a + b, 0) / n;
      const sd = Math.sqrt(ys.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) / n);
      const want = Math.exp(law.logMgfSq(t));
      assert.ok(Math.abs(mean - want) <= 5 * sd + 1e-12, `${law.describe}: MC ${mean} vs ${want} (sd ${sd})`);
    }
    // H0: ψ₂ ≤ law.psi2 is true (exact or upper bound): the check passes
    const r = checkSubGaussian({ samples: xs, proxy: law.psi2 });
    assert.equal(r.ok, true, `${law.describe}: lower ${r.lower}`);
    if (law.psi2Kind === "exact") {
      const e = estimatePsi2(xs, { confidence: 0.999 });
      assert.ok(e.lower <= law.psi2 && law.psi2 <= e.upper * (1 + 1e-9), `${law.describe}: [${e.lower}, ${e.upper}]`);
      // the plug-in is biased low when a rare heavy component sets ψ₂ (exp(X²/ψ₂²) has infinite variance), so only bracket it
      assert.ok(e.lower <= e.estimate && e.estimate <= e.upper);
    }
  }
});
