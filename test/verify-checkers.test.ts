/**
 * Self-check of the verification checkers (src/verify/checkers.ts): planted
 * violations are caught with shrunk counterexamples, true statements pass,
 * and the stated statistical levels hold when measured over many seeds.
 *
 * Binomial tolerances: a count C of events over R = 300 independent seeds,
 * each of probability ≤ p, is accepted when C ≤ the (1 − 1e-3) quantile of
 * Bin(R, p) (one-sided claims) — the test itself fails spuriously with
 * probability ≤ 1e-3 (in fact never: all seeds are fixed).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { stream } from "../src/core/rng.ts";
import {
  checkLipschitz, checkSubGaussian, estimatePsi2, vectorPairArb, gaussian, rademacher, uniform, mixture, irwinHall,
  studentT, betaQuantile, binomialUpperTail, binomialCdf, defaultRanks,
} from "../src/verify/index.ts";

const R = 300;
/** Smallest c with P(Bin(n, p) ≤ c) ≥ 1 − 1e-3. */
function binomialUpperQuantile(n: number, p: number, level = 1 - 1e-3): number {
  let c = 0;
  while (binomialCdf(n, p, c) < level) c++;
  return c;
}

const A = [[2, 0, 0], [0, 1, 0], [0, 0, 0.5]]; // operator norm 2
const linearMap = (x: number[]) => A.map((row) => row.reduce((s, a, j) => s + a * x[j], 0));

test("Lipschitz: a bound set to half the operator norm fails with a small shrunk counterexample", () => {
  const r = checkLipschitz({ f: linearMap, pairs: vectorPairArb(3), bound: 1 });
  assert.equal(r.ok, false);
  const c = r.counterexample!;
  assert.ok(c, "counterexample present");
  // shrunk: entries on the coarsest grid step, a single non-zero entry, along e1
  const all = [...c.x, ...c.y];
  assert.ok(all.every((v) => Math.abs(v) <= 0.25), `entries small: ${JSON.stringify(c)}`);
  assert.equal(all.filter((v) => v !== 0).length, 1, `one non-zero entry: ${JSON.stringify(c)}`);
  assert.notEqual(c.x[0], c.y[0]);
  assert.ok(Math.abs(c.ratio - 2) < 1e-12);
  assert.ok(r.numShrinks > 0);
  assert.ok(Math.abs(r.worstRatio - 2) < 1e-12);
});

test("Lipschitz: the true operator norm passes, worstRatio attains it", () => {
  const r = checkLipschitz({ f: linearMap, pairs: vectorPairArb(3), bound: 2, numRuns: 300 });
  assert.equal(r.ok, true);
  assert.equal(r.counterexample, undefined);
  assert.ok(r.worstRatio <= 2 * (1 + 1e-12) && r.worstRatio > 1.9, `worstRatio ${r.worstRatio}`);
  assert.equal(r.numRuns, 300);
});

test("Lipschitz: smooth scalar map sin(3x), sup|f'| = 3 — half the bound fails (shrunk), the bound passes", () => {
  const f = (x: number[]) => [Math.sin(3 * x[0])];
  const bad = checkLipschitz({ f, pairs: vectorPairArb(1), bound: 1.5 });
  assert.equal(bad.ok, false);
  const c = bad.counterexample!;
  assert.ok(Math.abs(c.x[0]) <= 0.5 && Math.abs(c.y[0]) <= 0.5, `small: ${JSON.stringify(c)}`);
  assert.ok(c.x[0] === 0 || c.y[0] === 0, `one end at 0: ${JSON.stringify(c)}`);
  assert.ok(c.ratio > 1.5);
  for (const entries of ["grid", "continuous"] as const) {
    const good = checkLipschitz({ f, pairs: vectorPairArb(1, { entries }), bound: 3, numRuns: 1000, seed: 7 });
    assert.equal(good.ok, true, JSON.stringify(good.counterexample));
    assert.ok(good.worstRatio <= 3 * (1 + 1e-9) && good.worstRatio > 2.9, `worstRatio ${good.worstRatio}`);
  }
});

test("Lipschitz: non-finite outputs are violations; errors thrown by f propagate; pair-dependent bounds", () => {
  const r = checkLipschitz({ f: (x: number[]) => [x[0] > 1 ? NaN : x[0]], pairs: vectorPairArb(1), bound: 10 });
  assert.equal(r.ok, false);
  assert.equal(r.counterexample!.ratio, Number.MAX_VALUE); // non-finite outputs: the ratio saturates (no Infinity leaves the checker)
  assert.throws(() => checkLipschitz({ f: () => { throw new Error("boom"); }, pairs: vectorPairArb(1), bound: 1 }), /boom/);
  // local bound for x ↦ x²/2 on pairs: |x²−y²|/2 = |x+y|/2·|x−y|
  const local = checkLipschitz({ f: (x: number[]) => [x[0] * x[0] / 2], pairs: vectorPairArb(1), bound: (x, y) => (Math.abs(x[0]) + Math.abs(y[0])) / 2 });
  assert.equal(local.ok, true);
});

test("sub-gaussian: Student-t(2) fails at the default n against moderate proxies", () => {
  const t2 = studentT(2);
  for (const proxy of [gaussian(1).psi2, 3, 10]) {
    const r = checkSubGaussian({ sample: t2.sample, proxy });
    assert.equal(r.n, 20000);
    assert.equal(r.ok, false, `t(2) vs proxy ${proxy}: lower ${r.lower}`);
    assert.ok(r.lower > proxy);
  }
});

test("sub-gaussian: Gaussian, Rademacher, uniform, mixtures and Irwin–Hall pass at their ψ₂", () => {
  const laws = [
    gaussian(1), gaussian(0.3), rademacher(1), rademacher(2.5), uniform(1), uniform(4),
    mixture([{ weight: 0.7, law: gaussian(1) }, { weight: 0.3, law: rademacher(2) }]), irwinHall(3),
  ];
  for (const law of laws) {
    for (const seed of [1, 2, 3]) {
      const r = checkSubGaussian({ sample: law.sample, proxy: law.psi2, seed });
      assert.equal(r.ok, true, `${law.describe}: lower ${r.lower} > ψ₂ ${law.psi2}`);
      assert.ok(Math.abs(r.falseFailureProbability - 1e-3) < 1e-12);
    }
    // and detects a proxy 25 % too small (power at n = 20000), except where ψ₂ is only an upper bound
    if (law.psi2Kind === "exact") {
      const r = checkSubGaussian({ sample: law.sample, proxy: 0.75 * law.psi2 });
      assert.equal(r.ok, false, `${law.describe}: not detected at 0.75·ψ₂ (lower ${r.lower})`);
    }
  }
});

test("sub-gaussian: false-failure rate at the least-favourable law attains the stated level (single rank, δ = 5 %)", (t) => {
  // Two-point |X| ∈ {0, x} with P(|X| = x) = p, e^{x²} = 1 + 1/p: ψ₂ = 1 exactly. With the band
  // on rank k only, the test fails iff #{|X_i| = x} ≥ k, probability P(Bin(n, p) ≥ k), which
  // tends to δ as p ↑ q_k (the Clopper–Pearson bound): the level is sharp, not just an upper bound.
  const n = 2000, k = 10, delta = 0.05;
  const q = betaQuantile(delta, k, n - k + 1, "low");
  const p = q * (1 - 1e-9);
  const x = Math.sqrt(Math.log(1 + 1 / p));
  const exact = binomialUpperTail(n, p, k);
  assert.ok(Math.abs(exact - delta) < 1e-6, `exact rate ${exact}`);
  let fails = 0;
  for (let s = 0; s < R; s++) {
    const r = checkSubGaussian({ sample: (rng) => (rng() < p ? (rng() < 0.5 ? -x : x) : 0), proxy: 1, n, confidence: 1 - delta, ranks: [k], seed: 5000 + s });
    if (!r.ok) fails++;
  }
  // two-sided binomial tolerance at 1e-3 each side
  let lo = 0;
  while (binomialCdf(R, delta, lo) < 1e-3) lo++;
  const hi = binomialUpperQuantile(R, delta);
  t.diagnostic(`least-favourable law: ${fails}/${R} = ${(100 * fails / R).toFixed(1)} % false failures (nominal ${100 * delta} %, accepted ${lo}..${hi})`);
  assert.ok(fails >= lo && fails <= hi, `${fails} not in [${lo}, ${hi}]`);
});

test("sub-gaussian: false-failure rate with default ranks on laws at their exact ψ₂ stays below the level (δ = 5 %)", (t) => {
  const n = 2000, delta = 0.05;
  const hi = binomialUpperQuantile(R, delta);
  for (const law of [gaussian(0.7), uniform(1)]) {
    let fails = 0;
    for (let s = 0; s < R; s++) if (!checkSubGaussian({ sample: law.sample, proxy: law.psi2, n, confidence: 1 - delta, seed: 7000 + s }).ok) fails++;
    t.diagnostic(`${law.name} at exact ψ₂, default ranks (${defaultRanks(n).length}): ${fails}/${R} false failures (nominal ≤ ${100 * delta} %, accepted ≤ ${hi})`);
    assert.ok(fails <= hi);
  }
});

test("estimatePsi2: coverage on Gaussian samples over 300 seeds (confidence 0.9, ≤ 5 % per side)", (t) => {
  const n = 2000, law = gaussian(0.7);
  let lowMiss = 0, upMiss = 0, sumEst = 0;
  for (let s = 0; s < R; s++) {
    const st = stream(1000 + s), rng = () => st.uniform();
    const xs = Array.from({ length: n }, () => law.sample(rng));
    const e = estimatePsi2(xs, { confidence: 0.9 });
    assert.ok(e.lower <= e.estimate && e.estimate <= e.upper, JSON.stringify(e));
    if (e.lower > law.psi2) lowMiss++;
    if (e.upper < law.psi2) upMiss++;
    sumEst += e.estimate / law.psi2;
  }
  const hi = binomialUpperQuantile(R, 0.05);
  t.diagnostic(`Gaussian n=${n}: lower > ψ₂ in ${lowMiss}/${R} (guaranteed ≤ 5 %), upper < ψ₂ in ${upMiss}/${R} (heuristic, target ≤ 5 %); mean estimate/ψ₂ = ${(sumEst / R).toFixed(4)}`);
  assert.ok(lowMiss <= hi && upMiss <= hi);
});

test("estimatePsi2: with a known support the upper end is guaranteed too (uniform, Rademacher)", (t) => {
  const n = 1000;
  for (const law of [uniform(1.5), rademacher(1)]) {
    const support = law.name.startsWith("U") ? 1.5 : 1;
    let miss = 0;
    for (let s = 0; s < R; s++) {
      const st = stream(3000 + s), rng = () => st.uniform();
      const e = estimatePsi2(Array.from({ length: n }, () => law.sample(rng)), { confidence: 0.9, support });
      assert.equal(e.upperGuaranteed, true);
      if (e.lower > law.psi2 * (1 + 1e-12) || e.upper < law.psi2 * (1 - 1e-12)) miss++;
    }
    t.diagnostic(`${law.name}: interval misses ψ₂ in ${miss}/${R} (guaranteed ≤ 10 %)`);
    assert.ok(miss <= binomialUpperQuantile(R, 0.1));
  }
  assert.throws(() => estimatePsi2([0.5, 2], { support: 1 }), /support/);
});

test("estimatePsi2: degenerate and invalid input", () => {
  assert.deepEqual([estimatePsi2([0, 0, 0]).estimate, estimatePsi2([0, 0, 0]).lower, estimatePsi2([0, 0, 0]).upper], [0, 0, 0]);
  const one = estimatePsi2([3]);
  assert.ok(Math.abs(one.estimate - 3 / Math.sqrt(Math.LN2)) < 1e-12);
  assert.throws(() => estimatePsi2([]), /at least one/);
  assert.throws(() => estimatePsi2([1, NaN]), /not finite/);
  assert.throws(() => checkSubGaussian({ proxy: 1 }), /sampler/);
  assert.throws(() => checkSubGaussian({ samples: [1], proxy: -1 }), /proxy/);
});
