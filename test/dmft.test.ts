/**
 * The DMFT limit D → ∞ (MATH §5; src/dmft/solver.ts).
 *
 * 1. Linear σ vs an independent computation: the second-moment Mean ODE in
 *    R^D (test/helpers/linear-moments.ts) run with embeddings whose Gram
 *    matrix is EXACTLY the limit one (W = √D·Q·diag(σ_in, σ_out), Q with
 *    orthonormal columns: WᵀW/D = diag(σ_in² I, σ_out² I)). The Mean ODE
 *    depends on the embeddings only through E, so the two must agree to
 *    round-off, at every D ≥ d_in + d_out.
 * 2. Nonlinear σ: finite-D skeleton Mean ODE (same expectation samples) →
 *    DMFT at rate D^(−1/2) over random embedding draws.
 * 3. Finite ResNets at large L·M approach the DMFT output as D grows.
 * 4. Coordinate sampler coupled to a finite model's W_E, W_U: coordinate-wise
 *    RMS error of h_L decreases as (L, M, D) grow.
 * 5. Depth-grid order, invariances (f_0 = 0, h_{0,n}(s) constant), Gram profiles.
 * 6. Bad input.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeProblem, withChanges, type ProblemInput } from "../src/problem/problem.ts";
import { solve } from "../src/problem/algorithm.ts";
import { trainResNet } from "../src/resnet/solver.ts";
import { initEmbeddings } from "../src/problem/embeddings.ts";
import { DepthGrid } from "../src/depth/grid.ts";
import { meanOde } from "../src/limits/mean-ode.ts";
import { dmft, dmftCoordinates, gramProfiles, rowsFromEmbeddings, sampleEmbeddingRows } from "../src/limits/dmft.ts";
import { ksSorted } from "../src/stats/distances.ts";
import { gspace } from "./helpers/gspace.ts";
import { StreamFamily } from "../src/core/rng.ts";
import { ValidationError } from "../src/core/errors.ts";
import { linearMomentMeanOde } from "./helpers/linear-moments.ts";
import { maxAbsDiff, rmsDiff, assertOrder, slope } from "./helpers/numeric.ts";


/** W_E (D × d_in), W_U (D × d_out) with WᵀW/D = diag(σ_in² I, σ_out² I) exactly (Gram–Schmidt on Gaussian columns). */
function limitEmbeddings(D: number, dIn: number, dOut: number, sIn: number, sOut: number, seed: number) {
  const r = dIn + dOut;
  const s = new StreamFamily(seed).get(0);
  const cols: Float64Array[] = [];
  for (let c = 0; c < r; c++) {
    const v = s.fillNormal(new Float64Array(D));
    for (const q of cols) {
      let d = 0;
      for (let i = 0; i < D; i++) d += v[i] * q[i];
      for (let i = 0; i < D; i++) v[i] -= d * q[i];
    }
    let n = 0;
    for (let i = 0; i < D; i++) n += v[i] * v[i];
    n = Math.sqrt(n);
    for (let i = 0; i < D; i++) v[i] /= n;
    cols.push(v);
  }
  const WE = new Float64Array(D * dIn), WU = new Float64Array(D * dOut);
  for (let d = 0; d < D; d++) {
    for (let i = 0; i < dIn; i++) WE[d * dIn + i] = Math.sqrt(D) * sIn * cols[i][d];
    for (let o = 0; o < dOut; o++) WU[d * dOut + o] = Math.sqrt(D) * sOut * cols[dIn + o][d];
  }
  return { WE, WU };
}

const linSpec: ProblemInput = {
  model: { D: 5, activation: "linear", alpha: 1.2, sigmaU: 0.9, sigmaV: 1.1, sigmaIn: 0.8, sigmaOut: 1.3 },
  data: { generator: "teacher", dIn: 2, dOut: 2, N: 2, seed: 3 },
  train: { steps: 5, etaU: 0.6, etaV: 0.9 },
  seed: 2,
};

test("linear σ: DMFT ≡ second-moment Mean ODE in R^D with limit-Gram embeddings (D = 4 and 9), to round-off, every scheme", () => {
  const p = makeProblem(linSpec);
  for (const scheme of ["euler", "heun", "rk4"] as const) {
    const t = solve(p, dmft({ scheme, depthSteps: 6, richardson: false }));
    for (const D of [4, 9]) {
      const { WE, WU } = limitEmbeddings(D, 2, 2, 0.8, 1.3, D);
      const m = linearMomentMeanOde({ ...p.data, K: 5, D, WE, WU, alpha: 1.2, sigmaU: 0.9, sigmaV: 1.1, etaU: 0.6, etaV: 0.9, grid: new DepthGrid(scheme, 6) });
      assert.ok(maxAbsDiff(t.f.data, m.f) <= 1e-12, `${scheme}, D = ${D}: |f_dmft − f_moments| = ${maxAbsDiff(t.f.data, m.f)}`);
    }
    // f_0 = 0 in the limit (W_Uᵀ W_E / D → 0)
    for (let i = 0; i < t.dOut * t.N; i++) assert.equal(t.f.data[i], 0);
  }
});

test("linear σ: finite-D skeleton Mean ODE with random embeddings → DMFT at rate D^(−1/2)", () => {
  const p = makeProblem(linSpec);
  const lim = solve(p, dmft({})).f.data;
  const Ds = [16, 64, 256, 1024], draws = 12;
  const errs = Ds.map((D) => {
    let s = 0;
    for (let r = 0; r < draws; r++) {
      const q = withChanges(p, { model: { D }, seed: 100 + r });
      s += rmsDiff(solve(q, meanOde({})).f.data, lim) ** 2;
    }
    return Math.sqrt(s / draws);
  });
  const sl = slope(Ds, errs);
  // 12 draws per D: RMS relative sd ≈ 1/√24 ≈ 0.2 → slope sd over a 64× range ≈ 0.07; ±0.15 ≈ 2 sd
  // of a deterministic (fixed-seed) check.
  assert.ok(Math.abs(sl + 0.5) <= 0.15, `slope ${sl.toFixed(3)}; errors ${errs.map((e) => e.toExponential(2)).join(", ")}`);
});

test("tanh: finite-D skeleton Mean ODE (same QMC samples) → DMFT, error ≈ c/√D (slope −0.5 ± 0.15)", () => {
  const p = makeProblem({
    model: { D: 8, activation: "tanh" },
    data: { generator: "teacher", dIn: 2, dOut: 1, N: 1, seed: 5, nonlinearity: "tanh" },
    train: { steps: 4, etaU: 1, etaV: 1 },
    seed: 1,
  });
  const opts = { depthSteps: 4, expectation: { kind: "qmc" as const, samples: 1024, randomizations: 2, seed: 7 } };
  const lim = solve(p, dmft(opts)).f.data;
  const Ds = [16, 64, 256, 1024], draws = 10;
  const errs = Ds.map((D) => {
    let s = 0;
    for (let r = 0; r < draws; r++) s += rmsDiff(solve(withChanges(p, { model: { D }, seed: 200 + r }), meanOde(opts)).f.data, lim) ** 2;
    return Math.sqrt(s / draws);
  });
  const sl = slope(Ds, errs);
  assert.ok(Math.abs(sl + 0.5) <= 0.15, `slope ${sl.toFixed(3)}; errors ${errs.map((e) => e.toExponential(2)).join(", ")}`);
});

test("finite ResNets (L = 16, M = 2048) approach the DMFT output as D grows", () => {
  const base: ProblemInput = {
    model: { L: 16, M: 2048, D: 4, activation: "tanh" },
    data: { generator: "teacher", dIn: 2, dOut: 1, N: 2, seed: 5, nonlinearity: "tanh" },
    train: { steps: 3, etaU: 1, etaV: 1 },
    seed: 1,
  };
  const p = makeProblem(base);
  const lim = solve(p, dmft({ depthSteps: 4, expectation: { kind: "qmc", samples: 4096 } })).f.data;
  const Ds = [8, 32, 128], draws = 6;
  const errs = Ds.map((D) => {
    let s = 0;
    for (let r = 0; r < draws; r++) s += rmsDiff(trainResNet(withChanges(p, { model: { D }, seed: 300 + r })).f.data, lim) ** 2;
    return Math.sqrt(s / draws);
  });
  // expected ≈ c/√D (c ≈ 0.7–1.1 on outputs, MATH §5) plus √(D/(LM)) ≤ 0.03 and O(1/L)
  // (at D = 4 the c/√D regime has not started: measured 0.32 vs 0.25 at D = 16)
  assert.ok(errs[1] < 0.8 * errs[0] && errs[2] < 0.8 * errs[1], `errors ${errs.map((e) => e.toExponential(2)).join(", ")}`);
  const sl = slope(Ds, errs);
  assert.ok(sl < -0.25 && sl > -0.8, `slope ${sl.toFixed(3)}`);
});

test("coordinate sampler coupled to a finite model's W_E, W_U: RMS error of h_L coordinates decreases as L, M, D grow", () => {
  const shapes = [[4, 32, 8], [8, 256, 32], [16, 2048, 128]] as const;
  const errs = shapes.map(([L, M, D]) => {
    const p = makeProblem({
      model: { L, M, D, activation: "tanh" },
      data: { generator: "teacher", dIn: 2, dOut: 1, N: 2, seed: 5, nonlinearity: "tanh" },
      train: { steps: 3, etaU: 1, etaV: 1 },
      seed: 11,
    });
    const K = 3, k = K - 1;
    const lim = solve(p, dmft({ depthSteps: 4, expectation: { kind: "qmc", samples: 4096 } }));
    const { WE, WU } = initEmbeddings(p);
    const coords = dmftCoordinates(lim, rowsFromEmbeddings(WE, WU, D)); // [R = D, K, nodes, N]
    const fin = trainResNet(p, { record: ["h"], recordSteps: [k] }); // [1, L+1, N, D]
    const nodes = coords.h.shape[2], N = 2;
    let s = 0;
    for (let d = 0; d < D; d++) for (let n = 0; n < N; n++) s += (fin.profiles!.h!.get(0, L, n, d) - coords.h.get(d, k, nodes - 1, n)) ** 2;
    return Math.sqrt(s / (D * N));
  });
  assert.ok(errs[1] < errs[0] && errs[2] < errs[1], `embedding-space RMS ${errs.map((e) => e.toExponential(2)).join(", ")}`);
});

test("DMFT invariances: f_0 = 0, h_{0,n}(s) constant in s, b_{0,n}(s) constant; Gram profiles consistent with f", () => {
  const p = makeProblem({
    model: { D: 8, activation: "tanh", sigmaIn: 1.1, sigmaOut: 0.7 },
    data: { generator: "teacher", dIn: 2, dOut: 2, N: 2, seed: 5 },
    train: { steps: 3, etaU: 1, etaV: 1 },
    seed: 1,
  });
  // no Richardson: the Gram profiles come from the one grid whose f they must match
  const t = solve(p, dmft({ depthSteps: 4, richardson: false, expectation: { kind: "qmc", samples: 2048 } }));
  for (let i = 0; i < 4; i++) assert.equal(t.f.data[i], 0);
  const c = (t.extras as { coefficients: { h: { get: (...i: number[]) => number; shape: number[] }; b: { get: (...i: number[]) => number } } }).coefficients;
  const nodes = c.h.shape[1], r = c.h.shape[3];
  for (let node = 0; node < nodes; node++) for (let n = 0; n < 2; n++) for (let i = 0; i < r; i++) {
    assert.equal(c.h.get(0, node, n, i), c.h.get(0, 0, n, i));
    assert.equal(c.b.get(0, node, n, i), c.b.get(0, 0, n, i));
  }
  // Γ^H_{(0,n),(0,m)}(s) = σ_in² x_n·x_m at every s
  const g = gramProfiles(t);
  const X = p.data.X;
  const xx = X[0] * X[1] + X[2] * X[3]; // x_0 · x_1 with X d_in × N row-major
  assert.ok(Math.abs(g.H.get(nodes - 1, 0, 1) - 1.21 * xx) < 1e-12);
  // Λ_{(k,n),(k,n)}: h_a·b_a/D symmetric structure, Γ^B_{(k,n),(k,n)}(1) = σ_out² |f − y|²
  const f = t.f.data, Y = p.data.Y;
  const res2 = (f[1 * 4 + 0] - Y[0]) ** 2 + (f[1 * 4 + 2] - Y[2]) ** 2; // step 1, n = 0, outputs 0,1
  assert.ok(Math.abs(g.B.get(nodes - 1, 2, 2) - 0.49 * res2) < 1e-10, `Γ^B(1) ${g.B.get(nodes - 1, 2, 2)} vs ${0.49 * res2}`);
});

test("DMFT depth-grid convergence at the scheme's order (heun 2, rk4 4) with common random numbers", () => {
  const p = makeProblem({
    model: { D: 8, activation: "tanh" },
    data: { generator: "teacher", dIn: 2, dOut: 1, N: 1, seed: 5 },
    train: { steps: 3, etaU: 1, etaV: 1 },
    seed: 1,
  });
  const expectation = { kind: "qmc" as const, samples: 1024, randomizations: 2 };
  const ref = solve(p, dmft({ scheme: "rk4", depthSteps: 64, richardson: false, expectation })).f.data;
  for (const [scheme, Ss, order] of [["heun", [4, 8, 16], 2], ["rk4", [4, 6, 8, 12], 4]] as const) {
    assertOrder(scheme, [...Ss], (S) => maxAbsDiff(solve(p, dmft({ scheme, depthSteps: S, richardson: false, expectation })).f.data, ref), order);
  }
});

test("DMFT bad input gives ValidationError naming the field", () => {
  const p = makeProblem(linSpec);
  const cases: [() => unknown, string][] = [
    [() => dmft({ method: "particles" } as never), "options.method"],
    [() => dmft({ record: ["h"] } as never), "options.record"],
    [() => dmft({ depthSteps: -1 }), "options.depthSteps"],
    [() => dmft({ scheme: "bdf" as never }), "options.scheme"],
    [() => solve(makeProblem({ ...linSpec, model: { ...linSpec.model, activation: "tanh" } }), dmft({ expectation: { kind: "closed-form" } })), "options.expectation.kind"],
    [() => solve(makeProblem({ ...linSpec, train: { ...linSpec.train, etaO: 0.5 } }), dmft({})), "train.etaO"],
    [() => dmftCoordinates(solve(p, dmft({})), { R: 2, e: new Float64Array(3), o: new Float64Array(4) }), "rows"],
    [() => gramProfiles(trainResNet(makeProblem({ ...linSpec, model: { ...linSpec.model, L: 2, M: 2 } }))), "trajectory"],
  ];
  for (const [fn, field] of cases) assert.throws(fn, (e: unknown) => e instanceof ValidationError && e.field.startsWith(field), `expected ValidationError on ${field}`);
});

test("coordinate sampler: the factor-form DMFT's coordinate processes have the law of the previous (G-space) engine's (two-sample KS on h_k(1) over embedding rows), tanh, d_out = 2", () => {
  const p = makeProblem({ model: { D: 1, activation: "tanh", sigmaIn: 0.8, sigmaOut: 1.3 }, data: { generator: "teacher", dIn: 2, dOut: 2, N: 2, seed: 5 }, train: { steps: 3, etaU: 1, etaV: 1 }, seed: 2 });
  const fac = solve(p, dmft({ expectation: { points: 4096 } }));
  const gs = gspace(p, { limit: "dmft", scheme: "rk4", depthSteps: 3, expectation: { kind: "qmc", samples: 1 << 15, factor: "embedding" } });
  const Rn = 8192;
  const rowsA = sampleEmbeddingRows(Rn, 2, 2, 0.8, 1.3, 11), rowsB = sampleEmbeddingRows(Rn, 2, 2, 0.8, 1.3, 12);
  const a = dmftCoordinates(fac, rowsA), b = dmftCoordinates(gs as never, rowsB);
  const [, K, nodes, N] = a.h.shape;
  // two independent samples of one law: KS critical value at α = 1e-3 is 1.95 √(2/Rn) ≈ 0.0305
  for (let k = 1; k < K; k++)
    for (let n = 0; n < N; n++) {
      const x = Float64Array.from({ length: Rn }, (_, d) => a.h.get(d, k, nodes - 1, n)).sort();
      const y = Float64Array.from({ length: Rn }, (_, d) => b.h.get(d, k, nodes - 1, n)).sort();
      const ks = ksSorted(x, Rn, y, Rn);
      assert.ok(ks < 0.0305, `k=${k} n=${n}: KS ${ks.toFixed(4)}`);
    }
});
