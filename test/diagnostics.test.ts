/**
 * The training diagnostics of MATH §8 for the finite ResNet and the particle Mean ODE, each
 * against an independent computation:
 *  - finite Gram = (LMD/α²) Σ_{U,V} η_θ J_θJ_θᵀ + (D/α) Σ_{W_E,W_U} η_θ J_θJ_θᵀ, J from central
 *    finite differences of the outputs (forward passes only), relative 1e-7;
 *  - the first-order statement f_{k+1} − f_k + (1/N) K_k r_k = O(η²) (slope 2 ± 0.2), finite,
 *    particles and the skeleton with d_out = 1 (a regression: its per-output adjoint was the
 *    residual-weighted one when d_out = 1);
 *  - particle Gram (staggered Euler, S slots) = finite Gram of the ResNet whose S layers start
 *    from the same P units (the particle system IS that ResNet, MATH §2);
 *  - finite Gram → limit Gram as L·M grows at fixed D (fitted rate), finite-D limit Gram → DMFT
 *    Gram as D grows (fitted rate);
 *  - test points: fTest = a forward pass at the weights after k updates, a test input equal to
 *    a training input gives the training output, adding test points changes no training output;
 *  - bad input: XTest with the wrong d_in, YTest without XTest, "kl" where it is unavailable.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeProblem, withChanges, type Problem, type ProblemInput } from "../src/problem/problem.ts";
import { type Algorithm, solve } from "../src/problem/algorithm.ts";
import { forward, trainResNet, finiteResNet } from "../src/resnet/solver.ts";
import { cloneWeights, type ResNetWeights } from "../src/resnet/weights.ts";
import { drawParticles, solveParticleMeanOde } from "../src/particles/mean-ode.ts";
import { meanOde } from "../src/limits/mean-ode.ts";
import { dmft } from "../src/limits/dmft.ts";
import { largeWidth } from "../src/limits/large-width.ts";
import { lazy } from "../src/limits/lazy.ts";
import { chaosSimulator } from "../src/chaos/simulate.ts";
import { ValidationError } from "../src/core/errors.ts";
import type { Trajectory } from "../src/problem/trajectory.ts";
import { maxAbs, maxAbsDiff, slope } from "./helpers/numeric.ts";
import { fixedEmbeddings, nested, sameUnits } from "./helpers/problems.ts";

const spec = (act: string, o: { L?: number; M?: number; D?: number; dIn?: number; dOut?: number; N?: number; K?: number; eta?: number; alpha?: number; etaE?: number; etaO?: number; seed?: number } = {}): ProblemInput => ({
  model: { L: o.L ?? 3, M: o.M ?? 4, D: o.D ?? 5, activation: act, alpha: o.alpha ?? 1.7, sigmaU: 0.9, sigmaV: 1.1 },
  data: { generator: "teacher", dIn: o.dIn ?? 2, dOut: o.dOut ?? 2, N: o.N ?? 3, seed: 2, nonlinearity: "tanh" },
  train: { steps: o.K ?? 3, etaU: o.eta ?? 0.7, etaV: 1.5 * (o.eta ?? 0.7), etaE: o.etaE ?? 0, etaO: o.etaO ?? 0 },
  seed: o.seed ?? 4,
});

/** max |f_{k+1} − f_k + (1/N) K_k (f_k − y)| over steps k < K−1 and entries. */
function firstOrderResidual(t: Trajectory, p: Problem): number {
  const { dOut, N, Y } = p.data;
  const dN = dOut * N;
  let m = 0;
  for (let k = 0; k + 1 < t.K; k++)
    for (let x = 0; x < dN; x++) {
      let pred = 0;
      for (let y = 0; y < dN; y++) pred += t.gram!.data[(k * dN + x) * dN + y] * (t.f.data[k * dN + y] - Y[y]);
      m = Math.max(m, Math.abs(t.f.data[(k + 1) * dN + x] - t.f.data[k * dN + x] + pred / N));
    }
  return m;
}

test("finite Gram = (LMD/α²) Σ η J Jᵀ (U, V) + (D/α) Σ η J Jᵀ (W_E, W_U) with J by central differences: relative 1e-7, tanh and linear, frozen and trained embeddings", () => {
  for (const act of ["tanh", "linear"]) for (const trained of [false, true]) {
    const eta = act === "linear" ? 0.2 : 0.7;
    const p = makeProblem(spec(act, { eta, etaE: trained ? 0.4 : 0, etaO: trained ? 0.6 : 0 }));
    // at trained weights (after 3 steps): b^(o), h and σ(p) are no longer the initial ones
    const w = trainResNet(p, { returnWeights: true }).extras.weights!;
    const g = trainResNet(withChanges(p, { train: { steps: 1 } }), { weights: w, record: ["gram"] }).gram!.data;
    const { L, M, D, alpha } = p.model;
    const { dOut, N } = p.data;
    const dN = dOut * N;
    const ref = new Float64Array(dN * dN);
    const groups: ["U" | "V" | "WE" | "WU", number, number][] = [
      ["U", (L * M * D) / alpha ** 2, p.train.etaU], ["V", (L * M * D) / alpha ** 2, p.train.etaV],
      ["WE", D / alpha, p.train.etaE], ["WU", D / alpha, p.train.etaO],
    ];
    for (const [key, scale, rate] of groups) {
      if (rate === 0) continue;
      const arr = w[key];
      for (let i = 0; i < arr.length; i++) {
        const h = 1e-5 * Math.max(1, Math.abs(arr[i]));
        const at = (sgn: number): Float64Array => { const v: ResNetWeights = cloneWeights(w); v[key][i] += sgn * h; return forward(p, v).f.data as Float64Array; };
        const fp = at(1), fm = at(-1);
        for (let x = 0; x < dN; x++) {
          const jx = (fp[x] - fm[x]) / (2 * h);
          for (let y = 0; y < dN; y++) ref[x * dN + y] += scale * rate * jx * ((fp[y] - fm[y]) / (2 * h));
        }
      }
    }
    const rel = maxAbsDiff(g, ref) / maxAbs(ref);
    if (process.env.SHOW_ORDERS) console.log("finite Gram vs FD", act, trained, rel);
    assert.ok(rel < 1e-7, `${act}, trained ${trained}: relative error ${rel.toExponential(2)}`);
  }
});

test("first-order statement f_{k+1} − f_k + (1/N) K_k r_k = O(η²): slope 2 ± 0.2 over the step scale, finite ResNet (trained embeddings), particles (staggered), skeleton with d_out = 1 and 2", () => {
  const etas = [0.04, 0.02, 0.01, 0.005];
  const cases: [string, (eta: number) => number][] = [
    ["finite tanh", (eta) => { const p = makeProblem(spec("tanh", { eta, etaE: eta, etaO: eta })); return firstOrderResidual(trainResNet(p, { record: ["gram"] }), p); }],
    ["finite linear d_out = 1", (eta) => { const p = makeProblem(spec("linear", { eta, dOut: 1 })); return firstOrderResidual(trainResNet(p, { record: ["gram"] }), p); }],
    ["particles", (eta) => {
      const p = makeProblem(spec("tanh", { eta, D: 6 }));
      return firstOrderResidual(solve(p, meanOde({ method: "particles", particles: 64, scheme: "staggered-euler", depthSteps: 6, record: ["gram"] })), p);
    }],
    ...[1, 2].map((dOut): [string, (eta: number) => number] => [`skeleton d_out = ${dOut}`, (eta) => {
      const p = makeProblem(spec("tanh", { eta, D: 8, dOut, K: 2 }));
      return firstOrderResidual(solve(p, meanOde({ scheme: "staggered-euler", depthSteps: 8, record: ["gram"], expectation: { points: 512, randomizations: 1, estimator: "direct", controlVariate: "none" } })), p);
    }]),
  ];
  for (const [name, res] of cases) {
    const r = etas.map(res);
    const sl = slope(etas, r);
    if (process.env.SHOW_ORDERS) console.log("first order", name, sl);
    assert.ok(Math.abs(sl - 2) < 0.2, `${name}: slope ${sl.toFixed(3)} (residuals ${r.map((x) => x.toExponential(2)).join(", ")})`);
  }
});

test("particle Gram (staggered Euler, S slots, P particles) = finite Gram of the ResNet whose S layers start from the same P units, to 1e-12", () => {
  const p = makeProblem(spec("tanh", { D: 6, alpha: 1.3 }));
  const units = drawParticles(p, 10, 7);
  const par = solveParticleMeanOde(p, { scheme: "staggered-euler", depthSteps: 5, initialParticles: units, record: ["gram"] });
  const fin = trainResNet(sameUnits(p, units, 5), { record: ["gram"] });
  assert.ok(maxAbsDiff(par.f.data, fin.f.data) < 1e-12);
  assert.ok(maxAbsDiff(par.gram!.data, fin.gram!.data) < 1e-12 * maxAbs(fin.gram!.data), `max diff ${maxAbsDiff(par.gram!.data, fin.gram!.data)}`);
  assert.deepEqual(Array.from(par.gramLambdaMin!).map((x) => x > 0), [true, true, true]);
});

// Tolerances of the two fitted rates (fixed seeds, so the outcome is deterministic): over 8 other seed
// sets the L·M rate was −0.501 ± 0.055 (sd) and the D rate −0.437 ± 0.045 (the D ladder sits a little
// above −1/2 at D ≤ 256); the windows [−0.7, −0.35] and [−0.7, −0.3] leave ≥ 2.7 and 3.0 sd, a
// false-failure probability of about 0.5% and 0.1% (normal approximation).
test("finite Gram → Mean ODE Gram as L·M grows at fixed D (rate ≈ (LM)^(−1/2)); Mean ODE Gram → DMFT Gram as D grows (rate ≈ D^(−1/2))", () => {
  // step k = 1 (after one update): K_1 involves b^(o) and the trained particles
  const base = { act: "tanh", dIn: 2, dOut: 1, N: 3, K: 2, eta: 0.5 };
  const limitOpts = { record: ["gram" as const], expectation: { points: 1024, randomizations: 2 } };
  // fixed embeddings (the Mean ODE at finite D is the limit for given W_E, W_U); U, V redrawn per repetition
  const emb = fixedEmbeddings(spec("tanh", { ...base, D: 8 }));
  const lim = solve(emb, meanOde(limitOpts)).gram!.data.subarray(9, 18);
  const LMs = [[4, 16], [16, 64], [64, 256]];
  const reps = 6;
  const errs = LMs.map(([L, M]) => {
    let s = 0;
    for (let r = 0; r < reps; r++) {
      const g = trainResNet(withChanges(emb, { model: { L, M }, seed: 4 + 1000 * r }), { record: ["gram"] }).gram!.data.subarray(9, 18);
      s += maxAbsDiff(g, lim) ** 2;
    }
    return Math.sqrt(s / reps);
  });
  const rLM = slope(LMs.map(([L, M]) => L * M), errs);
  if (process.env.SHOW_ORDERS) console.log("finite → Mean ODE Gram", rLM, errs);
  assert.ok(rLM < -0.35 && rLM > -0.7, `finite → Mean ODE Gram: fitted rate ${rLM.toFixed(3)} (errors ${errs.map((e) => e.toExponential(2)).join(", ")})`);
  const inf = solve(makeProblem(spec("tanh", { ...base, D: 8 })), dmft(limitOpts)).gram!.data.subarray(9, 18);
  const Ds = [4, 16, 64, 256];
  const dErr = Ds.map((D) => {
    let s = 0;
    for (let r = 0; r < reps; r++) s += maxAbsDiff(solve(makeProblem(spec("tanh", { ...base, D, seed: 4 + 1000 * r })), meanOde(limitOpts)).gram!.data.subarray(9, 18), inf) ** 2;
    return Math.sqrt(s / reps);
  });
  const rD = slope(Ds, dErr);
  if (process.env.SHOW_ORDERS) console.log("Mean ODE → DMFT Gram", rD, dErr);
  assert.ok(rD < -0.3 && rD > -0.7, `Mean ODE → DMFT Gram: fitted rate ${rD.toFixed(3)} (errors ${dErr.map((e) => e.toExponential(2)).join(", ")})`);
});

/** The problem of `spec` with explicit data and test inputs: training point 1, and two new points. */
function withTestPoints(p: Problem, YTest = false): Problem {
  const { dIn, dOut, N, X, Y } = p.data;
  const NT = 3;
  const XT = new Float64Array(dIn * NT);
  for (let i = 0; i < dIn; i++) { XT[i * NT] = X[i * N + 1]; XT[i * NT + 1] = 0.3 - i; XT[i * NT + 2] = -0.8 + 0.5 * i; }
  const data: Record<string, unknown> = { X: nested(X, dIn, N), Y: nested(Y, dOut, N), XTest: nested(XT, dIn, NT) };
  if (YTest) data.YTest = Array.from({ length: dOut }, (_, o) => [0.1 * o, -0.2, 0.3]);
  return { ...makeProblem({ model: { ...p.model, activation: p.model.activation.name }, data, train: p.train, seed: p.seed } as never), init: p.init };
}

test("test points, finite ResNet: fTest[k] = a forward pass at the weights after k updates; a test input equal to a training input gives its output; lossTest from YTest; nothing else changes", () => {
  const p0 = makeProblem(spec("tanh", { etaE: 0.3, etaO: 0.2 }));
  const p = withTestPoints(p0, true);
  const t = trainResNet(p, { record: ["gram"] });
  const plain = trainResNet(p0);
  assert.deepEqual(Array.from(t.f.data), Array.from(plain.f.data), "test points change no training output");
  const NT = 3, { dOut } = p.data;
  for (let k = 0; k < 3; k++) {
    const wAfter = k === 0 ? null : trainResNet(withChanges(p, { train: { steps: k } }), { returnWeights: true }).extras.weights!;
    const testOnly = { ...p, data: { dIn: p.data.dIn, dOut, N: NT, X: p.data.XTest!, Y: p.data.YTest! } };
    const f = (wAfter ? forward(testOnly, wAfter) : forward(testOnly)).f.data;
    for (let i = 0; i < dOut * NT; i++) assert.ok(Math.abs(t.fTest!.data[k * dOut * NT + i] - f[i]) < 1e-13, `k = ${k}, entry ${i}`);
    for (let o = 0; o < dOut; o++) assert.ok(Math.abs(t.fTest!.get(k, o, 0) - t.f.get(k, o, 1)) < 1e-13, "test point = training point 1");
  }
  assert.equal(t.lossTest!.length, 3);
  let l = 0;
  for (let o = 0; o < dOut; o++) for (let m = 0; m < NT; m++) l += (t.fTest!.get(2, o, m) - p.data.YTest![o * NT + m]) ** 2;
  assert.ok(Math.abs(t.lossTest![2] - l / (2 * NT)) < 1e-15);
});

test("test points, particle Mean ODE (Richardson) and the M = ∞ ResNet: a test input equal to a training input gives its output; adding test points changes no training output, bit for bit", () => {
  const p0 = makeProblem(spec("tanh", { D: 6 }));
  const p = withTestPoints(p0);
  const algs: Algorithm<object, object>[] = [meanOde({ method: "particles", particles: 64, depthSteps: 4 }), largeWidth({ method: "particles", particles: 32 }), largeWidth({ expectation: { points: 256, randomizations: 2 } })] as never;
  for (const alg of algs) {
    const t = solve(p, alg), plain = solve(p0, alg);
    assert.deepEqual(Array.from(t.f.data), Array.from(plain.f.data), `${t.algorithm}: training outputs`);
    for (let k = 0; k < 3; k++) for (let o = 0; o < 2; o++) assert.ok(Math.abs(t.fTest!.get(k, o, 0) - t.f.get(k, o, 1)) < 1e-13, `${t.algorithm} k = ${k}`);
    // the other test points' outputs do not depend on which further test points there are
    const one = solve(withTestPoints(p0), alg);
    assert.deepEqual(Array.from(one.fTest!.data), Array.from(t.fTest!.data));
  }
});

test("bad input: XTest with the wrong d_in, YTest without XTest or of the wrong shape, \"kl\" on the finite ResNet / particles, unknown generator keys", () => {
  const base = { model: { L: 2, M: 3, D: 4 }, train: { steps: 2, etaU: 0.1, etaV: 0.1 } };
  const X = [[1, 2, -1], [0.5, -1, 2]], Y = [[1, -1, 0.5]];
  const bad = (data: unknown, field: string, re: RegExp) => assert.throws(() => makeProblem({ ...base, data } as never), (e: unknown) => e instanceof ValidationError && e.field === field && re.test(e.message), field);
  bad({ X, Y, XTest: [[1, 2]] }, "data.XTest", /1 rows but the inputs have d_in = 2/);
  bad({ X, Y, YTest: [[1]] }, "data.YTest", /needs data.XTest/);
  bad({ X, Y, XTest: [[1], [2]], YTest: [[1, 2]] }, "data.YTest", /1×2 but d_out × N_test = 1×1/);
  bad({ generator: "teacher", dIn: 2, dOut: 1, N: 3, NTest: -1 }, "data.NTest", /non-negative integer/);
  bad({ generator: "two-spirals", N: 4, XTest: [[1]] }, "data.XTest", /not a known key/);
  const p = makeProblem(spec("tanh"));
  assert.throws(() => finiteResNet({ record: ["kl" as never] }), (e: unknown) => e instanceof ValidationError && e.field === "options.record[0]" && /"kl" is not available for the finite ResNet/.test(e.message));
  assert.throws(() => solve(p, meanOde({ method: "particles", record: ["h", "kl" as never] })), (e: unknown) => e instanceof ValidationError && e.field === "options.record[1]" && /particle Mean ODE/.test(e.message));
  assert.throws(() => largeWidth({ method: "particles", record: ["kl"] }), (e: unknown) => e instanceof ValidationError && /record\[0\]/.test(e.field));
  assert.throws(() => finiteResNet({ record: ["gramm" as never] }), (e: unknown) => e instanceof ValidationError && e.field === "options.record[0]" && /"gram"/.test(e.message));
});

test("every solver reports fTest [K, d_out, N_test] and lossTest on a problem with test points", () => {
  const p = makeProblem({ model: { L: 2, M: 3, D: 6 }, data: { generator: "teacher", dIn: 2, dOut: 2, N: 2, seed: 3, NTest: 3 }, train: { steps: 3, etaU: 0.8, etaV: 0.8 }, seed: 5 });
  const ex = { expectation: { points: 256, randomizations: 2 } };
  const algs = [
    finiteResNet(), meanOde(ex), meanOde({ method: "particles", particles: 32, depthSteps: 2 }), largeWidth(ex), dmft(ex),
    chaosSimulator({ R: 2, widths: [4], diagnostics: ["coupling"], ...ex }), lazy({ solver: ex }), lazy({ limit: "dmft", solver: ex }),
  ] as unknown as Algorithm<object, object>[];
  for (const alg of algs) {
    const t = solve(p, alg);
    assert.deepEqual(t.fTest?.shape, [3, 2, 3], `${t.algorithm} fTest`);
    assert.equal(t.lossTest?.length, 3, `${t.algorithm} lossTest`);
    assert.ok(Array.from(t.fTest!.data).every(Number.isFinite));
  }
});

test("finite ResNet on 2 threads: f, gram and fTest bit-identical to 1 thread (the diagnostics read the workers' arrays after each pass)", () => {
  const p = makeProblem({ model: { L: 3, M: 512, D: 64 }, data: { generator: "teacher", dIn: 2, dOut: 2, N: 4, seed: 3, NTest: 5 }, train: { steps: 3, etaU: 0.8, etaV: 0.8, etaE: 0.1, etaO: 0.1 }, seed: 5 });
  const a = solve(p, finiteResNet({ record: ["gram"], threads: 1 })), b = solve(p, finiteResNet({ record: ["gram"], threads: 2 }));
  for (const key of ["f", "gram", "fTest"] as const) assert.deepEqual(Array.from(b[key]!.data), Array.from(a[key]!.data), key);
});
