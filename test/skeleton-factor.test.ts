/**
 * The factor-form skeleton engine (MATH §3 "Factor form"; src/skeleton/factor.ts) against
 * independent computations:
 *  - linear σ: the second-moment Mean ODE in R^D (test/helpers/linear-moments.ts: no factor,
 *    no skeleton maps) with a rule exact for the quadratic integrands, every scheme;
 *  - linear σ: the G-space closed-form skeleton (skeleton/core.ts, Jacobians in G-space);
 *  - tanh / sin / gelu: the G-space skeleton with its own QMC and the particle Mean ODE;
 *  - depth orders against an independent fine solution (the moment solver on a fine grid);
 *  - the first-order statement f_{k+1} − f_k = −(1/N) K_k r_k + O(η²) for the Gram matrix;
 *  - the KL of the trained law against the Gaussian closed form of the moment solver;
 *  - test points: zero-weight data points change nothing else, bit for bit;
 *  - the data-span reduction (spanFactor) against the full factor and the moment solver.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeProblem, type Problem } from "../src/problem/problem.ts";
import { embeddingGram, initEmbeddings, limitEmbeddingGram } from "../src/problem/embeddings.ts";
import { DepthGrid, type Scheme } from "../src/depth/grid.ts";
import { DivergenceError } from "../src/core/errors.ts";
import { embeddingFactor, runFactor, spanFactor, type FactorModel } from "../src/skeleton/factor.ts";
import { DEPTH_ERROR_POINTS, factorModelOf, runRandomization, samplingFactor, solveFactor, studentT975, type FactorSolveOptions } from "../src/skeleton/factor-solve.ts";
import { studentCritical } from "../src/stats/ols.ts";
import { degree3Rule, gaussHermiteTensor, sobolNormals } from "../src/skeleton/rules.ts";
import { type Algorithm, solve } from "../src/problem/algorithm.ts";
import type { SkeletonExtras } from "../src/skeleton/solve.ts";
import { meanOde } from "../src/limits/mean-ode.ts";
import { dmft } from "../src/limits/dmft.ts";
import { threadedRunner } from "../src/skeleton/factor-parallel.ts";
import { linearMomentMeanOde } from "./helpers/linear-moments.ts";
import { maxAbsDiff, slope } from "./helpers/numeric.ts";

interface Case { act?: string; dIn: number; dOut: number; N: number; K: number; D: number; eta?: number; etaV?: number; alpha?: number; sigmaU?: number; sigmaV?: number; seed?: number }

function problemOf(c: Case): Problem {
  return makeProblem({
    model: { D: c.D, activation: c.act ?? "tanh", alpha: c.alpha ?? 1, sigmaU: c.sigmaU ?? 1, sigmaV: c.sigmaV ?? 1 },
    data: { generator: "teacher", dIn: c.dIn, dOut: c.dOut, N: c.N, seed: 3 },
    train: { steps: c.K, etaU: c.eta ?? 1, etaV: c.etaV ?? c.eta ?? 1 },
    seed: c.seed ?? 5,
  });
}

function finiteE(p: Problem): { E: Float64Array; WE: Float64Array; WU: Float64Array } {
  const { WE, WU } = initEmbeddings(p);
  return { E: embeddingGram(WE, WU, p.model.D, p.data.dIn, p.data.dOut), WE, WU };
}

const BASE: FactorSolveOptions = {
  scheme: "rk4", depthSteps: 8, rule: "degree3", points: 1, randomizations: 1, seed: 1, nodes: 2,
  estimator: "direct", controlVariate: "none", depthError: false, tol: null, maxPoints: 1 << 20, maxDepthSteps: 64,
};

const LINEAR: Case = { act: "linear", dIn: 2, dOut: 2, N: 5, K: 6, D: 12, eta: 0.5, etaV: 0.7, alpha: 1.3, sigmaU: 0.8, sigmaV: 1.2 };

test("linear σ: the factor form with rules exact for quadratics equals the independent second-moment Mean ODE to 1e-12 (every scheme, both estimators, N = 5, K = 6)", () => {
  const p = problemOf(LINEAR);
  const { E, WE, WU } = finiteE(p);
  const model = factorModelOf(p);
  for (const scheme of ["euler", "staggered-euler", "heun", "rk4"] as Scheme[]) {
    const grid = new DepthGrid(scheme, 6);
    const ref = linearMomentMeanOde({ ...p.data, K: LINEAR.K, D: LINEAR.D, WE, WU, alpha: 1.3, sigmaU: 0.8, sigmaV: 1.2, etaU: 0.5, etaV: 0.7, grid });
    for (const rule of ["degree3", "gauss-hermite"] as const)
      for (const estimator of ["direct", "ibp"] as const)
        for (const controlVariate of ["none", "centered", "linear"] as const) {
          if (estimator === "ibp" && controlVariate !== "none") continue;
          const res = solveFactor(model, E, { ...BASE, scheme, depthSteps: 6, rule, estimator, controlVariate });
          const d = maxAbsDiff(res.f, ref.f);
          assert.ok(d < 1e-12, `${scheme} ${rule} ${estimator} ${controlVariate}: max |f − f_moments| = ${d}`);
        }
  }
});

test("linear σ: the factor form equals the G-space closed-form skeleton (same scheme and grid) to 1e-10, and a rank-deficient E (D < d) is handled by a rank-D factor", () => {
  const p = problemOf(LINEAR);
  const { E } = finiteE(p);
  const gs = solve(p, meanOde({ scheme: "rk4", depthSteps: 6, richardson: false }));
  const fac = solveFactor(factorModelOf(p), E, { ...BASE, depthSteps: 6 });
  assert.ok(maxAbsDiff(fac.f, gs.f.data) < 1e-10, `max diff ${maxAbsDiff(fac.f, gs.f.data)}`);
  // D = 3 < d = 4: E has rank 3
  const q = problemOf({ ...LINEAR, D: 3 });
  const Eq = finiteE(q);
  const F = embeddingFactor(Eq.E, 4);
  assert.equal(F.r, 3);
  const refq = linearMomentMeanOde({ ...q.data, K: LINEAR.K, D: 3, WE: Eq.WE, WU: Eq.WU, alpha: 1.3, sigmaU: 0.8, sigmaV: 1.2, etaU: 0.5, etaV: 0.7, grid: new DepthGrid("rk4", 6) });
  const facq = solveFactor(factorModelOf(q), Eq.E, { ...BASE, depthSteps: 6 });
  assert.ok(maxAbsDiff(facq.f, refq.f) < 1e-12, `rank-deficient: ${maxAbsDiff(facq.f, refq.f)}`);
  // the coefficient vectors reproduce h = W c of the moment solver's outputs: f = E_out,· c^h(1)
  const nodes = fac.grid.nodes, d = 4, N = LINEAR.N;
  for (let n = 0; n < N; n++)
    for (let o = 0; o < 2; o++) {
      let s = 0;
      for (let t = 0; t < d; t++) s += E[(2 + o) * d + t] * fac.ch[(((LINEAR.K - 1) * nodes + nodes - 1) * N + n) * d + t];
      assert.ok(Math.abs(s - fac.f[((LINEAR.K - 1) * 2 + o) * N + n]) < 1e-12);
    }
});

test("data span: with N + d_out < d the solve runs in the span of R_inᵀx_n, R_outᵀe_o (linear σ: equal to the moment solver and to the full factor to 1e-12, with gram and test points); the reduced factor is orthogonal, by decreasing norm, E C = R", () => {
  // d_in = 6, d_out = 1, N = 2: rank E = 7, span dimension 3
  const c: Case = { ...LINEAR, dIn: 6, dOut: 1, N: 2, K: 5, eta: 0.2, etaV: 0.25 };
  const p = problemOf(c);
  const { E, WE, WU } = finiteE(p);
  const model = factorModelOf(p);
  const grid = new DepthGrid("rk4", 6);
  const ref = linearMomentMeanOde({ ...p.data, K: c.K, D: c.D, WE, WU, alpha: 1.3, sigmaU: 0.8, sigmaV: 1.2, etaU: 0.2, etaV: 0.25, grid });
  for (const estimator of ["direct", "ibp"] as const) {
    const red = solveFactor(model, E, { ...BASE, depthSteps: 6, estimator }, { gram: true });
    const full = solveFactor(model, E, { ...BASE, depthSteps: 6, estimator, span: false }, { gram: true });
    assert.equal(red.factor.r, 3);
    assert.equal(full.factor.r, 7);
    assert.ok(maxAbsDiff(red.f, ref.f) < 1e-12, `${estimator}: reduced vs moments ${maxAbsDiff(red.f, ref.f)}`);
    assert.ok(maxAbsDiff(full.f, ref.f) < 1e-12, `${estimator}: full vs moments ${maxAbsDiff(full.f, ref.f)}`);
    // the coefficient vectors c = C a and the Gram matrices (quadratic integrands for linear σ) agree too
    assert.ok(maxAbsDiff(red.ch, full.ch) < 1e-11 && maxAbsDiff(red.cb, full.cb) < 1e-11, `${estimator}: c^h ${maxAbsDiff(red.ch, full.ch)}, c^b ${maxAbsDiff(red.cb, full.cb)}`);
    assert.ok(maxAbsDiff(red.gram!, full.gram!) < 1e-11, `${estimator}: gram ${maxAbsDiff(red.gram!, full.gram!)}`);
  }
  // test inputs widen the span: one new input → dimension 4, and its outputs agree with the full factor
  const XT = new Float64Array(6).map((_, i) => 0.4 - 0.15 * i);
  const mT: FactorModel = { ...model, XTest: XT, NTest: 1 };
  const redT = solveFactor(mT, E, { ...BASE, depthSteps: 6 }), fullT = solveFactor(mT, E, { ...BASE, depthSteps: 6, span: false });
  assert.equal(redT.factor.r, 4);
  assert.ok(maxAbsDiff(redT.fTest!, fullT.fTest!) < 1e-12 && maxAbsDiff(redT.f, ref.f) < 1e-12, `test points: ${maxAbsDiff(redT.fTest!, fullT.fTest!)}`);
  // the reduced factor: columns orthogonal with decreasing norms, E C_V = R_V (so W c = h as for the eigen factor)
  const F = spanFactor(embeddingFactor(E, 7), model);
  const d = 7, m = F.r;
  assert.equal(F.rankE, 7);
  for (let x = 0; x < m; x++)
    for (let y = 0; y < m; y++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += F.R[i * m + x] * F.R[i * m + y];
      if (x !== y) assert.ok(Math.abs(s) < 1e-12, `columns ${x}, ${y}: ${s}`);
      else if (x > 0) {
        let prev = 0;
        for (let i = 0; i < d; i++) prev += F.R[i * m + x - 1] ** 2;
        assert.ok(s <= prev * (1 + 1e-12), `column norms must decrease (${prev}, ${s})`);
      }
    }
  for (let i = 0; i < d; i++)
    for (let x = 0; x < m; x++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += E[i * d + j] * F.C[j * m + x];
      assert.ok(Math.abs(s - F.R[i * m + x]) < 1e-12, `(E C − R)[${i}][${x}] = ${s - F.R[i * m + x]}`);
    }
  // a repeated input adds no dimension; a full span returns the eigen factor itself
  const X2 = model.X.slice();
  for (let i = 0; i < 6; i++) X2[i * 2 + 1] = 2 * X2[i * 2];
  assert.equal(spanFactor(embeddingFactor(E, 7), { ...model, X: X2 }).r, 2);
  const q = problemOf(LINEAR), Fq = embeddingFactor(finiteE(q).E, 4);
  assert.equal(spanFactor(Fq, factorModelOf(q)), Fq);
});

test("data span, tanh (sampled): the reduced solve (dimension 3, not 6) agrees with an independent full-factor solve within 5 combined standard errors, both estimators; meanOde reports factorRank 6 and spanDimension 3", () => {
  // 5σ per entry: false-failure probability ≈ 6e-7 per entry, < 1e-5 over the 12 entries compared (fixed seeds)
  const c: Case = { act: "tanh", dIn: 5, dOut: 1, N: 2, K: 3, D: 16 };
  const p = problemOf(c);
  const { E } = finiteE(p);
  const model = factorModelOf(p);
  const sampled = { ...BASE, rule: "sobol" as const, points: 4096, randomizations: 8, scheme: "rk4" as const, depthSteps: 3 };
  const full = solveFactor(model, E, { ...sampled, estimator: "ibp", randomizations: 16, seed: 7, span: false });
  assert.equal(full.factor.r, 6);
  for (const [estimator, controlVariate] of [["ibp", "none"], ["direct", "linear"]] as const) {
    const red = solveFactor(model, E, { ...sampled, estimator, controlVariate });
    assert.equal(red.factor.r, 3);
    for (let i = 0; i < red.f.length; i++) {
      const tol = 5 * Math.hypot(red.error.sampling[i], full.error.sampling[i], 1e-7);
      assert.ok(Math.abs(red.f[i] - full.f[i]) < tol, `${estimator}: entry ${i}: reduced ${red.f[i]} vs full ${full.f[i]} (tolerance ${tol})`);
    }
  }
  const t = solve(p, meanOde({ expectation: { points: 256, randomizations: 2 } })) as unknown as { extras: SkeletonExtras };
  assert.equal(t.extras.factorRank, 6);
  assert.equal(t.extras.spanDimension, 3);
});

test("σ reuse and one-pass kernels: the GD step's σ(p) taken from the forward solve, and the fused field kernels (r ≤ 4), give the same bits as the plain path (tanh and sin, direct, every control variate, every scheme, with gram, KL and test points)", () => {
  // r = 4 (with a test point widening the span), 3 (the span), 2 (d = 2), 1 (D = 1: rank 1)
  for (const [act, dIn, D, test, r] of [["tanh", 3, 16, true, 4], ["sin", 3, 16, true, 4], ["tanh", 3, 16, false, 3], ["sin", 1, 16, false, 2], ["tanh", 2, 1, false, 1]] as const) {
    const p = problemOf({ act, dIn, dOut: 1, N: 2, K: 3, D });
    const model: FactorModel = test ? { ...factorModelOf(p), XTest: new Float64Array([0.3, -0.2, 0.5]), NTest: 1 } : factorModelOf(p);
    const F = spanFactor(embeddingFactor(finiteE(p).E, dIn + 1), model);
    assert.equal(F.r, r);
    const pts = sobolNormals(512, F.r, 1, 0, true);
    for (const [scheme, S] of [["rk4", 1], ["rk4", 3], ["heun", 4], ["staggered-euler", 5], ["euler", 3]] as const)
      for (const controlVariate of ["none", "linear", "centered"] as const) {
        const o = { grid: new DepthGrid(scheme, S), ...pts, estimator: "direct" as const, controlVariate, kl: true, gram: true };
        const plain = runFactor(model, F, { ...o, reuseSigma: false, fused: false });
        for (const variant of [{}, { fused: false }, { reuseSigma: false }]) {
          const a = runFactor(model, F, { ...o, ...variant });
          for (const key of ["f", "ah", "ab", "gram", "kl", "fTest"] as const)
            if (plain[key]) assert.deepEqual(Array.from(a[key]!), Array.from(plain[key]!), `${act} r = ${r} ${scheme} S = ${S} ${controlVariate} ${JSON.stringify(variant)}: ${key}`);
        }
      }
  }
});

test("depth orders against an independent fine solution (the moment solver at S = 256): rk4 ≈ 4, heun ≈ 2, staggered Euler ≈ 1", () => {
  const c: Case = { ...LINEAR, K: 4, eta: 1, etaV: 1 };
  const p = problemOf(c);
  const { E, WE, WU } = finiteE(p);
  const fine = linearMomentMeanOde({ ...p.data, K: c.K, D: c.D, WE, WU, alpha: 1.3, sigmaU: 0.8, sigmaV: 1.2, etaU: 1, etaV: 1, grid: new DepthGrid("rk4", 256) });
  const model = factorModelOf(p);
  for (const [scheme, order, ladder] of [["rk4", 4, [2, 4, 8]], ["heun", 2, [4, 8, 16, 32]], ["euler", 1, [8, 16, 32, 64]]] as const) {
    const errs = ladder.map((S) => maxAbsDiff(solveFactor(model, E, { ...BASE, scheme, depthSteps: S }).f, fine.f));
    const sl = -slope([...ladder], errs);
    assert.ok(Math.abs(sl - order) < 0.35, `${scheme}: fitted order ${sl.toFixed(2)} (errors ${errs.map((e) => e.toExponential(2)).join(", ")})`);
  }
});

test("tanh, sin, gelu: the factor form agrees with the G-space skeleton and with the particle Mean ODE within their combined standard errors", () => {
  const cases: Case[] = [
    { act: "tanh", dIn: 2, dOut: 1, N: 2, K: 3, D: 8 },
    { act: "sin", dIn: 1, dOut: 2, N: 2, K: 3, D: 6, alpha: 1.5, sigmaU: 0.8, sigmaV: 1.2 },
    { act: "gelu", dIn: 2, dOut: 1, N: 2, K: 3, D: 8, eta: 0.8 },
  ];
  for (const c of cases) {
    const p = problemOf(c);
    const { E } = finiteE(p);
    const fac = solveFactor(factorModelOf(p), E, { ...BASE, rule: "sobol", points: 4096, randomizations: 8, estimator: "ibp", scheme: "rk4", depthSteps: 4 });
    // G-space skeleton, two independent point sets: SE of their mean from their difference
    const g = [1, 2].map((seed) => solve(p, meanOde({ scheme: "rk4", depthSteps: 4, richardson: false, expectation: { kind: "qmc", samples: 1 << 14, randomizations: 8, seed } })).f.data);
    const seG = g[0].map((x, i) => Math.abs(x - g[1][i]) / 2);
    // particles: 3 seeds
    const P = 1 << 13;
    const par = [11, 12, 13].map((s) => solve(p, meanOde({ method: "particles", particles: P, particleSeed: s, scheme: "rk4", depthSteps: 4, richardson: false })).f.data);
    for (let i = 0; i < fac.f.length; i++) {
      const gm = (g[0][i] + g[1][i]) / 2;
      const tolG = 5 * Math.hypot(fac.error.sampling[i], seG[i], 2e-5);
      assert.ok(Math.abs(fac.f[i] - gm) < tolG, `${c.act} entry ${i}: factor ${fac.f[i]} vs G-space ${gm} (tolerance ${tolG})`);
      const pm = par.reduce((a, x) => a + x[i], 0) / 3;
      const sp = Math.sqrt(par.reduce((a, x) => a + (x[i] - pm) ** 2, 0) / 2 / 3);
      const tolP = 5 * Math.hypot(fac.error.sampling[i], sp, 1e-3);
      assert.ok(Math.abs(fac.f[i] - pm) < tolP, `${c.act} entry ${i}: factor ${fac.f[i]} vs particles ${pm} (tolerance ${tolP})`);
    }
  }
});

test("error estimate: on random small problems the true error (against an independent heavy solve) is below 2× the estimate in most cases", () => {
  // fixed seeds; the estimate scales the standard error by the Student factor of its 7 degrees of
  // freedom, so each problem passes with probability ≈ 0.9–0.95 (the criterion takes the max over
  // entries) and ≥ 9 of 12 fails with probability < 3% for fresh seeds; the full study (60
  // problems) is in npm run verify.
  let ok = 0;
  const rows: string[] = [];
  for (let j = 0; j < 12; j++) {
    const u = (x: number) => ((Math.sin(12.9898 * (j + 1) * x) * 43758.5453) % 1 + 1) % 1;
    const c: Case = { act: ["tanh", "sin", "gelu"][j % 3], dIn: 1 + Math.floor(u(1) * 2), dOut: 1 + Math.floor(u(2) * 2), N: 1 + Math.floor(u(3) * 3), K: 2 + Math.floor(u(4) * 3), D: 8, eta: 0.3 + u(5), seed: 100 + j };
    const p = problemOf(c);
    const { E } = finiteE(p);
    const model = factorModelOf(p);
    const est = solveFactor(model, E, { ...BASE, rule: "sobol", points: 1024, randomizations: 8, estimator: "direct", controlVariate: "linear", depthSteps: 3, depthError: true, seed: 7 });
    const ref = solveFactor(model, E, { ...BASE, rule: "sobol", points: 4096, randomizations: 4, estimator: "ibp", depthSteps: 6, seed: 99 });
    const err = maxAbsDiff(est.f, ref.f);
    if (err <= 2 * est.error.max) ok++;
    rows.push(`${c.act} N=${c.N} K=${c.K}: err ${err.toExponential(2)} est ${est.error.max.toExponential(2)}`);
  }
  assert.ok(ok >= 9, `only ${ok} of 12 within 2× the estimate:\n${rows.join("\n")}`);
});

test("error estimate: the standard error enters scaled by t_{R−1}(0.975)/z_{0.975} (within 0.15% of the exact Student quantile of stats/ for every R), combined with the depth part as √((c·se)² + depth²)", () => {
  for (let nu = 1; nu <= 300; nu++) {
    const rel = Math.abs(studentT975(nu) / studentCritical(0.95, nu) - 1);
    assert.ok(rel < 1.5e-3, `ν = ${nu}: ${studentT975(nu)} vs ${studentCritical(0.95, nu)}`);
  }
  assert.equal(samplingFactor(1), 1);
  assert.ok(Math.abs(samplingFactor(8) - 2.364624 / 1.959964) < 3e-4);
  const p = problemOf({ act: "tanh", dIn: 2, dOut: 1, N: 2, K: 3, D: 8 });
  const res = solveFactor(factorModelOf(p), finiteE(p).E, { ...BASE, rule: "sobol", points: 256, randomizations: 5, depthSteps: 2, depthError: true, controlVariate: "linear" });
  const e = res.error, c = samplingFactor(5);
  assert.equal(e.samplingFactor, c);
  for (let i = 0; i < e.f.length; i++) assert.equal(e.f[i], Math.hypot(c * e.sampling[i], e.depth[i]));
  assert.equal(e.max, Math.max(...e.f));
});

test("DMFT = the factor form with the limit E: f_0 = 0 and E's factor is diag(σ_in, σ_out)", () => {
  const p = makeProblem({ model: { D: 4, sigmaIn: 0.7, sigmaOut: 1.4 }, data: { generator: "teacher", dIn: 2, dOut: 2, N: 3, seed: 1 }, train: { steps: 3, etaU: 0.5, etaV: 0.5 } });
  const E = limitEmbeddingGram(2, 2, 0.7, 1.4);
  const F = embeddingFactor(E, 4);
  assert.equal(F.r, 4);
  for (const [estimator, controlVariate] of [["direct", "linear"], ["direct", "centered"], ["ibp", "none"]] as const) {
    const res = solveFactor(factorModelOf(p), E, { ...BASE, rule: "sobol", points: 256, randomizations: 2, estimator, controlVariate });
    for (let i = 0; i < 2 * 3; i++) assert.equal(Math.abs(res.f[i]), 0, `${estimator}/${controlVariate}`);
  }
});

test("tangent Gram matrix: f_{k+1} − f_k + (1/N) K_k (f_k − y) = O(η²) (slope 2 ± 0.2 over η), staggered grid and rk4, linear and tanh", () => {
  for (const [act, scheme] of [["linear", "staggered-euler"], ["tanh", "staggered-euler"], ["tanh", "rk4"]] as const) {
    const etas = [0.04, 0.02, 0.01, 0.005];
    const res: number[] = [];
    for (const eta of etas) {
      const p = problemOf({ act, dIn: 2, dOut: 2, N: 3, K: 2, D: 8, eta, etaV: 1.5 * eta, alpha: 1.2 });
      const { E } = finiteE(p);
      const F = embeddingFactor(E, 4);
      const pts = act === "linear" ? degree3Rule(F.r) : sobolNormals(512, F.r, 3, 0);
      const out = runFactor(factorModelOf(p), F, { grid: new DepthGrid(scheme, scheme === "rk4" ? 16 : 8), ...pts, estimator: "direct", controlVariate: "none", gram: true });
      const dN = 2 * 3;
      let m = 0;
      for (let x = 0; x < dN; x++) {
        let pred = 0;
        for (let y = 0; y < dN; y++) pred += out.gram![x * dN + y] * (out.f[y] - p.data.Y[y]);
        m = Math.max(m, Math.abs(out.f[dN + x] - out.f[x] + pred / 3));
      }
      res.push(m);
    }
    const sl = slope(etas, res);
    assert.ok(Math.abs(sl - 2) < 0.2, `${act} ${scheme}: slope ${sl.toFixed(3)} (residuals ${res.map((r) => r.toExponential(2)).join(", ")})`);
  }
});

test("the Gram matrix is symmetric PSD and its per-output adjoints reproduce b = Σ_o (f_o − y_o) b^(o)", () => {
  const p = problemOf({ act: "tanh", dIn: 2, dOut: 2, N: 3, K: 3, D: 8, eta: 0.7 });
  const { E } = finiteE(p);
  const model = factorModelOf(p);
  const opts = { ...BASE, rule: "sobol" as const, points: 512, randomizations: 2 };
  const plain = solveFactor(model, E, opts);
  const withGram = solveFactor(model, E, opts, { gram: true });
  assert.ok(maxAbsDiff(plain.f, withGram.f) < 1e-12, "the per-output backward solves change f");
  const dN = 6;
  for (let k = 0; k < 3; k++)
    for (let x = 0; x < dN; x++)
      for (let y = 0; y < dN; y++) assert.ok(Math.abs(withGram.gram![k * 36 + x * dN + y] - withGram.gram![k * 36 + y * dN + x]) < 1e-12);
});

test("KL of the trained law: linear σ equals the Gaussian closed form of the moment solver to 1e-8; KL_0 = 0 exactly; KL_1 ∝ η² for small η", () => {
  const p = problemOf(LINEAR);
  const { E, WE, WU } = finiteE(p);
  const grid = new DepthGrid("heun", 6);
  const ref = linearMomentMeanOde({ ...p.data, K: LINEAR.K, D: LINEAR.D, WE, WU, alpha: 1.3, sigmaU: 0.8, sigmaV: 1.2, etaU: 0.5, etaV: 0.7, grid });
  const res = solveFactor(factorModelOf(p), E, { ...BASE, scheme: "heun", depthSteps: 6 }, { kl: true });
  assert.ok(maxAbsDiff(res.klProfile!, ref.kl) < 1e-8, `max |KL − closed form| = ${maxAbsDiff(res.klProfile!, ref.kl)}`);
  for (let t = 0; t < grid.slots; t++) assert.equal(res.klProfile![t], 0);
  assert.equal(res.kl![0], 0);
  assert.ok(res.kl![LINEAR.K - 1] > 0);
  const etas = [0.04, 0.02, 0.01];
  const kl1 = etas.map((eta) => {
    const q = problemOf({ act: "tanh", dIn: 2, dOut: 1, N: 2, K: 2, D: 8, eta });
    return solveFactor(factorModelOf(q), finiteE(q).E, { ...BASE, rule: "sobol", points: 1024, randomizations: 1, depthSteps: 4 }, { kl: true }).kl![1];
  });
  const sl = slope(etas, kl1);
  assert.ok(Math.abs(sl - 2) < 0.2, `KL_1 slope ${sl} (${kl1})`);
});

test("test points: zero-weight data points change no training output bit for bit, and a test input equal to a training input gives its output", () => {
  const p = problemOf({ act: "tanh", dIn: 2, dOut: 2, N: 3, K: 3, D: 8 });
  const { E } = finiteE(p);
  const model = factorModelOf(p);
  const F = embeddingFactor(E, 4);
  const pts = sobolNormals(256, F.r, 1, 0);
  const base = runFactor(model, F, { grid: new DepthGrid("rk4", 3), ...pts, estimator: "direct", controlVariate: "linear" });
  // test inputs: training point 1, and a new point
  const XT = new Float64Array(2 * 2);
  for (let i = 0; i < 2; i++) { XT[i * 2] = p.data.X[i * 3 + 1]; XT[i * 2 + 1] = 0.3 - i; }
  const withTest: FactorModel = { ...model, XTest: XT, NTest: 2 };
  const t1 = runFactor(withTest, F, { grid: new DepthGrid("rk4", 3), ...pts, estimator: "direct", controlVariate: "linear" });
  assert.deepEqual(Array.from(t1.f), Array.from(base.f));
  for (let k = 0; k < 3; k++)
    for (let o = 0; o < 2; o++) assert.equal(t1.fTest![(k * 2 + o) * 2], base.f[(k * 2 + o) * 3 + 1]);
  // the new point's output does not depend on the other test point
  const XT2 = new Float64Array([0.3, -0.7]);
  const t2 = runFactor({ ...model, XTest: XT2, NTest: 1 }, F, { grid: new DepthGrid("rk4", 3), ...pts, estimator: "direct", controlVariate: "linear" });
  for (let k = 0; k < 3; k++) for (let o = 0; o < 2; o++) assert.equal(t2.fTest![k * 2 + o], t1.fTest![(k * 2 + o) * 2 + 1]);
});

test("divergence: a diverging limit (linear σ, large η) is a DivergenceError naming the step and the quantity", () => {
  for (const eta of [1e3, 1e6, 1e12]) {
    const p = problemOf({ act: "linear", dIn: 2, dOut: 1, N: 4, K: 8, D: 8, eta });
    const { E } = finiteE(p);
    assert.throws(() => solveFactor(factorModelOf(p), E, { ...BASE }), (e: unknown) => e instanceof DivergenceError && e.step >= 1 && /loss|h \(|b \(|p \(/.test(e.quantity));
  }
});

test("threads: randomizations on 2 threads are bit-identical to 1 thread (meanOde, dmft; with gram and kl), and a divergence on the worker is the same DivergenceError", () => {
  const p = problemOf({ act: "tanh", dIn: 2, dOut: 2, N: 3, K: 3, D: 8 });
  const algs: ((threads: 1 | 2) => Algorithm<object, SkeletonExtras>)[] = [
    (threads) => meanOde({ expectation: { points: 256, randomizations: 4, threads, estimator: "direct" } }) as Algorithm<object, SkeletonExtras>,
    (threads) => dmft({ expectation: { points: 256, randomizations: 3, threads, estimator: "ibp" } }) as Algorithm<object, SkeletonExtras>,
  ];
  for (const alg of algs) {
    const a = solve(p, alg(1)), b = solve(p, alg(2));
    assert.deepEqual(Array.from(b.f.data), Array.from(a.f.data));
    assert.deepEqual(Array.from(b.extras.error.f.data), Array.from(a.extras.error.f.data));
    assert.deepEqual(Array.from(b.extras.coefficients.h.data), Array.from(a.extras.coefficients.h.data));
  }
  const { E } = finiteE(p);
  const model = factorModelOf(p);
  const o = { ...BASE, rule: "sobol" as const, points: 128, randomizations: 4 };
  const one = solveFactor(model, E, o, { gram: true, kl: true }, threadedRunner(1));
  const two = solveFactor(model, E, o, { gram: true, kl: true }, threadedRunner(2));
  for (const key of ["f", "gram", "kl", "klProfile", "ah"] as const) assert.deepEqual(Array.from(two[key]!), Array.from(one[key]!), key);
  const lin = problemOf({ act: "linear", dIn: 2, dOut: 1, N: 4, K: 8, D: 8, eta: 1e6 });
  const errs = ([1, 2] as const).map((threads) => {
    try { solve(lin, meanOde({ expectation: { rule: "sobol", points: 64, randomizations: 4, threads } })); return null; } catch (e) { return e; }
  });
  assert.ok(errs[0] instanceof DivergenceError && errs[1] instanceof DivergenceError);
  assert.equal((errs[1] as Error).message, (errs[0] as Error).message);
});

/** A small tanh case for the tol loop: 4 × 64 Sobol points, direct + linear CV, depth doubling on; tol = a third of its plain estimate. */
function tolCase(c: Case, depthSteps: number) {
  const p = problemOf(c);
  const { E } = finiteE(p);
  const model = factorModelOf(p);
  const o = { ...BASE, rule: "sobol" as const, points: 64, randomizations: 4, estimator: "direct" as const, controlVariate: "linear" as const, depthSteps, depthError: true };
  const plain = solveFactor(model, E, o);
  return { p, E, model, o, plain, tol: plain.error.max / 3 };
}

test("depth error on a quarter of the points (at least DEPTH_ERROR_POINTS): at 4 × 4096 points it matches the true depth error of the solve's own randomization 0 (heun S = 1 against S = 16 on its points) within 1.5×, on 1 or 2 threads alike; at ≤ 4096 points it is randomization 0 against 2S, as before", () => {
  const p = problemOf({ act: "tanh", dIn: 2, dOut: 1, N: 2, K: 3, D: 8, eta: 1 });
  const { E } = finiteE(p);
  const model = factorModelOf(p);
  const o = { ...BASE, rule: "sobol" as const, points: 4 * DEPTH_ERROR_POINTS, randomizations: 3, estimator: "direct" as const, controlVariate: "linear" as const, scheme: "heun" as const, depthSteps: 1, depthError: true };
  const res = solveFactor(model, E, o);
  // the true depth error of the coarse solve: randomization 0 at S = 1 against the same points at S = 16 (heun: error/256)
  const F = res.factor;
  const coarse = runRandomization(model, F, o, 0, 1, {}), fine = runRandomization(model, F, o, 0, 16, {});
  let maxTrue = 0;
  for (let i = 0; i < coarse.f.length; i++) maxTrue = Math.max(maxTrue, Math.abs(coarse.f[i] - fine.f[i]));
  const ratio = res.error.maxDepth / maxTrue;
  assert.ok(maxTrue > 5 * res.error.maxSampling, `the case must be depth-dominated (depth ${maxTrue}, sampling ${res.error.maxSampling})`);
  assert.ok(ratio > 1 / 1.5 && ratio < 1.5, `estimated depth error ${res.error.maxDepth} vs true ${maxTrue} (ratio ${ratio})`);
  const two = solveFactor(model, E, o, {}, threadedRunner(2));
  assert.deepEqual(Array.from(two.error.depth), Array.from(res.error.depth));
  assert.deepEqual(Array.from(two.f), Array.from(res.f));
  // at DEPTH_ERROR_POINTS points: c·|randomization 0 − the same on 2S| (c = 2^p/(2^p − 1))
  const small = solveFactor(model, E, { ...o, points: DEPTH_ERROR_POINTS });
  const r0 = runRandomization(model, small.factor, { ...o, points: DEPTH_ERROR_POINTS }, 0, 1, {}), r0f = runRandomization(model, small.factor, { ...o, points: DEPTH_ERROR_POINTS }, 0, 2, {});
  for (let i = 0; i < r0.f.length; i++) assert.equal(small.error.depth[i], (4 / 3) * Math.abs(r0.f[i] - r0f.f[i]));
  // at 8 × 4096 points: the first quarter (2 × 4096 points of randomization 0) on S and 2S
  const big = solveFactor(model, E, { ...o, points: 8 * DEPTH_ERROR_POINTS, randomizations: 2 });
  const q = { ...o, points: 2 * DEPTH_ERROR_POINTS };
  const b1 = runRandomization(model, big.factor, q, 0, 1, {}), b2 = runRandomization(model, big.factor, q, 0, 2, {});
  for (let i = 0; i < b1.f.length; i++) assert.equal(big.error.depth[i], (4 / 3) * Math.abs(b1.f[i] - b2.f[i]));
});

test("tol: the refinement grows the points while the measured QMC rate pays, adds randomizations (the earlier ones reused bit for bit) at the points budget, and stops at the budget saying so", () => {
  const { p, E, model, o, tol } = tolCase({ act: "tanh", dIn: 2, dOut: 1, N: 3, K: 3, D: 8, eta: 1 }, 3);
  // points may grow: they do (the first step assumes the Monte Carlo rate)
  const grown = solveFactor(model, E, { ...o, tol, maxRandomizations: 1000 });
  assert.equal(grown.error.tolReached, true, `estimate ${grown.error.max} vs tol ${tol}`);
  assert.ok(grown.options.points > 64, `points ${grown.options.points}`);
  assert.ok(grown.error.refinements.length >= 2 && grown.error.refinements[0].points === 64);
  // points capped at 64: randomizations are added, and the first 4 are reused (= a one-shot solve with R)
  const added = solveFactor(model, E, { ...o, tol, maxRandomizations: 1000, maxPoints: 64 });
  assert.equal(added.error.tolReached, true);
  const R = added.options.randomizations;
  assert.ok(R > 4 && added.options.points === 64, `randomizations ${R}, points ${added.options.points}`);
  const direct = solveFactor(model, E, { ...o, randomizations: R });
  assert.deepEqual(Array.from(added.f), Array.from(direct.f));
  // through the solver: an unreachable tol is a warning naming the budget
  const t = solve(p, meanOde({ tol: 1e-9, budget: { randomizations: 6, points: 128, depthSteps: 6 }, expectation: { points: 64, randomizations: 4, estimator: "direct" } }));
  assert.equal(t.extras.error.tolReached, false);
  assert.ok(t.extras.solved.points <= 128 && t.extras.solved.randomizations <= 6 && t.extras.solved.depthSteps <= 6);
  assert.ok(t.warnings?.some((w) => /tol = 1e-9 not reached within the budget \(6 randomizations/.test(w)), String(t.warnings));
});

test("tol: a small variance cut (v < 2) adds randomizations instead of doubling the points, with the sampling share √(tol² − depth²) when the depth part is not refined; the result equals a one-shot solve with that many randomizations", () => {
  const { E, model, o, plain } = tolCase({ act: "tanh", dIn: 2, dOut: 1, N: 3, K: 3, D: 8, eta: 1 }, 3);
  const e = plain.error;
  assert.ok(e.maxDepth < 0.2 * e.max, `the case needs a small depth part (${e.maxDepth} vs ${e.max})`);
  const tol = 0.93 * e.max; // v = (c·se/√(tol² − depth²))² × 1.2 ≈ 1.4 < 2 (tol/√2 as the share would give v ≈ 2.8: points × 4)
  const res = solveFactor(model, E, { ...o, tol, maxRandomizations: 1000 });
  assert.equal(res.error.tolReached, true, `estimate ${res.error.max} vs tol ${tol}`);
  assert.equal(res.options.points, o.points);
  assert.equal(res.error.refinements.length, 2);
  const R = res.options.randomizations;
  assert.ok(R > o.randomizations && R <= Math.ceil(2 * o.randomizations), `randomizations ${R}`);
  assert.deepEqual(Array.from(res.f), Array.from(solveFactor(model, E, { ...o, randomizations: R }).f));
});

test("tol: when the points grow and the depth error is far below tol, the depth steps shrink to what the scheme's order predicts, and the re-measured depth error stays within tol/2", () => {
  const { E, model, o, plain, tol } = tolCase({ act: "tanh", dIn: 2, dOut: 1, N: 2, K: 3, D: 8, eta: 0.5 }, 8);
  assert.ok(plain.error.maxDepth < tol / 8, `the case needs a negligible depth error at S = 8: ${plain.error.maxDepth} vs tol ${tol}`);
  const t = solveFactor(model, E, { ...o, tol, maxRandomizations: 1000 });
  assert.equal(t.error.tolReached, true);
  const steps = t.error.refinements.map((r) => r.depthSteps);
  assert.equal(steps[0], 8);
  assert.ok(t.options.depthSteps < 8, `depth steps ${steps.join(" → ")}`);
  const last = t.error.refinements[t.error.refinements.length - 1];
  assert.ok(last.maxDepth <= tol / 2, `re-measured depth error ${last.maxDepth} vs tol/2 = ${tol / 2}`);
  // the answer at the fewer steps agrees with a fine independent solve (S = 16, 16 × 4096 points) within 4 × its estimate
  const fine = solveFactor(model, E, { ...o, depthSteps: 16, points: 4096, randomizations: 16, depthError: false });
  for (let i = 0; i < t.f.length; i++) {
    const bound = 4 * Math.hypot(t.error.f[i], fine.error.sampling[i]);
    assert.ok(Math.abs(t.f[i] - fine.f[i]) <= bound, `entry ${i}: ${t.f[i]} vs ${fine.f[i]} (bound ${bound})`);
  }
});

test("test points with Richardson: fTest is extrapolated like f (a test input equal to a training input gives its output)", () => {
  const p = makeProblem({ model: { D: 8, activation: "tanh" }, data: { X: [[0.5, -1, 0.3], [1, 0.2, -0.4]], Y: [[0.3, -0.2, 0.5]], XTest: [[-1], [0.2]] }, train: { steps: 3, etaU: 1, etaV: 1 }, seed: 3 });
  const t = solve(p, meanOde({ richardson: true, depthSteps: 2, expectation: { points: 128, randomizations: 2 } }));
  for (let k = 0; k < 3; k++) assert.ok(Math.abs(t.fTest!.get(k, 0, 0) - t.f.get(k, 0, 1)) < 1e-12, `k=${k}`);
});
