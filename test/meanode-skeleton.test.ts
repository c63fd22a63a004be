/**
 * The skeleton Mean ODE (MATH §3; src/meanode/skeleton-core.ts, solver.ts).
 *
 * 1. Linear σ: the skeleton solver (closed-form expectations, coefficient
 *    coordinates) equals an independent second algorithm — the second-moment
 *    Mean ODE in R^D of test/helpers/linear-moments.ts (no skeleton maps, no
 *    Gaussian integration by parts) — to round-off, for every depth scheme.
 * 2. Order of accuracy in depth (linear: exact expectations; tanh: QMC with
 *    common random numbers, so f_k is a smooth function of Δs).
 * 3. Skeleton vs particles (tanh and linear, N = 2, K = 3).
 * 4. Finite → limit: finite ResNets vs the M = ∞ limit at fixed L (staggered
 *    Euler with S = L): RMS error ∝ (LM)^(−1/2); and the fixed-L limit → the
 *    converged Mean ODE at order 1 in 1/L.
 * 5. Bad input.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeProblem, withChanges, type Problem, type ProblemInput } from "../src/problem/problem.ts";
import { solve } from "../src/problem/algorithm.ts";
import { trainResNet } from "../src/resnet/solver.ts";
import { initEmbeddings } from "../src/problem/embeddings.ts";
import { DepthGrid, SCHEMES } from "../src/depth/integrators.ts";
import { meanOde } from "../src/limits/mean-ode.ts";
import { customActivation } from "../src/core/activations.ts";
import { ValidationError } from "../src/core/errors.ts";
import { gspace } from "./helpers/gspace.ts";
import { linearMomentMeanOde } from "./helpers/linear-moments.ts";
import { maxAbsDiff, slope } from "./helpers/numeric.ts";
import { fixedEmbeddings } from "./helpers/problems.ts";


const linearSpec: ProblemInput = {
  model: { L: 1, M: 1, D: 6, activation: "linear", alpha: 1.3, sigmaU: 0.8, sigmaV: 1.2 },
  data: { generator: "teacher", dIn: 2, dOut: 2, N: 2, seed: 3 },
  train: { steps: 4, etaU: 0.7, etaV: 0.4 },
  seed: 5,
};

for (const scheme of SCHEMES) {
  test(`linear σ, ${scheme}: skeleton (closed form) ≡ independent second-moment Mean ODE to round-off`, () => {
    const p = makeProblem(linearSpec);
    const { WE, WU } = initEmbeddings(p);
    const S = 8;
    const t = solve(p, meanOde({ scheme, depthSteps: S, richardson: false }));
    const m = linearMomentMeanOde({ ...p.data, K: 4, D: 6, WE, WU, alpha: 1.3, sigmaU: 0.8, sigmaV: 1.2, etaU: 0.7, etaV: 0.4, grid: new DepthGrid(scheme, S) });
    const scale = Math.max(...Array.from(m.f, Math.abs));
    assert.ok(maxAbsDiff(t.f.data, m.f) <= 1e-12 * scale, `f differs by ${maxAbsDiff(t.f.data, m.f)}`);
    assert.ok(maxAbsDiff(t.loss, m.loss) <= 1e-12 * m.loss[0]);
    // the dynamics is not trivial
    assert.ok(t.loss[3] < 0.5 * t.loss[0]);
  });
}

test("linear σ: the defaults (exact degree-3 rule, RK4) equal the moment solver on a fine RK4 grid within 1e-6", () => {
  const p = makeProblem(linearSpec);
  const { WE, WU } = initEmbeddings(p);
  const t = solve(p, meanOde({}));
  assert.equal(t.options.expectation.rule, "degree3");
  const m = linearMomentMeanOde({ ...p.data, K: 4, D: 6, WE, WU, alpha: 1.3, sigmaU: 0.8, sigmaV: 1.2, etaU: 0.7, etaV: 0.4, grid: new DepthGrid("rk4", 64) });
  assert.ok(maxAbsDiff(t.f.data, m.f) < 1e-6, `defaults: |f − f_ref| = ${maxAbsDiff(t.f.data, m.f)}`);
});

// ---------------------------------------------------------------- 2. order of accuracy

function orderLadder(p: Problem, scheme: "euler" | "heun" | "rk4", Ss: number[], ref: Float64Array, expectation?: object): number[] {
  return Ss.map((S) => maxAbsDiff(solve(p, meanOde({ scheme, depthSteps: S, richardson: false, expectation })).f.data, ref));
}

test("order of accuracy in depth, linear σ: euler 1, heun 2, rk4 4 (fitted slopes ±0.3)", () => {
  const p = makeProblem(linearSpec);
  const ref = solve(p, meanOde({ scheme: "rk4", depthSteps: 256, richardson: false })).f.data;
  const cases = [["euler", [8, 16, 32, 64], 1], ["heun", [4, 8, 16, 32], 2], ["rk4", [2, 4, 8, 16], 4]] as const;
  for (const [scheme, Ss, order] of cases) {
    const errs = orderLadder(p, scheme, [...Ss], ref);
    const s = slope(Ss.map((S) => 1 / S), errs);
    assert.ok(Math.abs(s - order) <= 0.3, `${scheme}: fitted order ${s.toFixed(3)} (errors ${errs.map((e) => e.toExponential(2)).join(", ")})`);
  }
});

test("order of accuracy in depth, tanh with QMC common random numbers: euler 1, heun 2, rk4 4", () => {
  const p = makeProblem({
    model: { D: 8, activation: "tanh", alpha: 1 },
    data: { generator: "teacher", dIn: 2, dOut: 1, N: 1, seed: 2 },
    train: { steps: 3, etaU: 1, etaV: 1 },
    seed: 9,
  });
  const expectation = { kind: "qmc" as const, samples: 1024, randomizations: 2, seed: 3 };
  // (rk4 from S = 6: at S = 4 the tanh problem is still pre-asymptotic — measured order 5 between S = 4 and 6)
  const ref = solve(p, meanOde({ scheme: "rk4", depthSteps: 64, richardson: false, expectation })).f.data;
  const cases = [["euler", [6, 12, 24], 1], ["heun", [3, 6, 12], 2], ["rk4", [6, 8, 12, 16], 4]] as const;
  for (const [scheme, Ss, order] of cases) {
    const errs = orderLadder(p, scheme, [...Ss], ref, expectation);
    const s = slope(Ss.map((S) => 1 / S), errs);
    assert.ok(Math.abs(s - order) <= 0.3, `${scheme}: fitted order ${s.toFixed(3)} (errors ${errs.map((e) => e.toExponential(2)).join(", ")})`);
  }
});

// ---------------------------------------------------------------- 3. skeleton vs particles

for (const activation of ["tanh", "linear"] as const) {
  test(`skeleton vs particles (${activation}, N = 2, K = 3): agree within 5 standard errors of the particle mean`, () => {
    const p = makeProblem({
      model: { D: 8, activation, alpha: 1 },
      data: { generator: "teacher", dIn: 2, dOut: 1, N: 2, seed: 7 },
      train: { steps: 3, etaU: 1, etaV: 0.8 },
      seed: 4,
    });
    const opts = { scheme: "heun" as const, depthSteps: 8, richardson: false };
    const sk = solve(p, meanOde({ ...opts, expectation: activation === "tanh" ? { kind: "qmc", samples: 8192 } : undefined }));
    const R = 8, P = 2048;
    const runs = Array.from({ length: R }, (_, r) => solve(p, meanOde({ ...opts, method: "particles", particles: P, particleSeed: 100 + r })).f.data);
    // per entry: mean and standard error over the R independent particle runs. A t-statistic
    // with 7 degrees of freedom exceeds 5 with probability ≈ 1.6e-3 per entry; the QMC error of
    // the skeleton (≈ 1e-5 here) is negligible against the particle standard error (≈ 1e-3).
    for (let i = 0; i < sk.f.data.length; i++) {
      const xs = runs.map((f) => f[i]);
      const mean = xs.reduce((a, b) => a + b) / R;
      const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (R - 1));
      const se = sd / Math.sqrt(R);
      assert.ok(Math.abs(mean - sk.f.data[i]) <= 5 * se + 1e-6, `entry ${i}: particles ${mean} ± ${se}, skeleton ${sk.f.data[i]}`);
    }
  });
}

// ---------------------------------------------------------------- 4. finite → limit

test("finite ResNet → M = ∞ limit at fixed L (staggered Euler, S = L): RMS error ∝ (LM)^(−1/2)", () => {
  const L = 4;
  const base = fixedEmbeddings({
    model: { L, M: 8, D: 8, activation: "tanh" },
    data: { generator: "teacher", dIn: 2, dOut: 1, N: 2, seed: 1 },
    train: { steps: 3, etaU: 1, etaV: 1 },
    seed: 1,
  });
  const limit = solve(base, meanOde({ scheme: "staggered-euler", depthSteps: L, expectation: { kind: "qmc", samples: 16384 } })).f.data;
  const Ms = [4, 16, 64, 256], R = 24;
  const rms = Ms.map((M) => {
    let s = 0, c = 0;
    for (let r = 0; r < R; r++) {
      const f = trainResNet({ ...withChanges(base, { model: { M }, seed: 1000 + r }), init: base.init }).f.data;
      for (let i = 0; i < f.length; i++) { s += (f[i] - limit[i]) ** 2; c++; }
    }
    return Math.sqrt(s / c);
  });
  // 24 seeds × 6 outputs per width: the RMS has relative sd ≈ 1/√(2·24) ≈ 0.15 (outputs are
  // correlated within a seed); over a 64× range of M the slope's sd is ≈ 0.07·... ≈ 0.05,
  // so ±0.15 is ≈ 3 sd (false failure ≈ 3e-3 with these fixed seeds: the test is deterministic).
  const s = slope(Ms.map((M) => L * M), rms);
  assert.ok(Math.abs(s + 0.5) <= 0.15, `slope ${s.toFixed(3)}; RMS ${rms.map((e) => e.toExponential(2)).join(", ")}`);
});

test("M = ∞ limit at fixed L converges to the Mean ODE at order 1 in 1/L", () => {
  const p = makeProblem({
    model: { D: 8, activation: "tanh" },
    data: { generator: "teacher", dIn: 2, dOut: 1, N: 2, seed: 1 },
    train: { steps: 3, etaU: 1, etaV: 1 },
    seed: 1,
  });
  const expectation = { kind: "qmc" as const, samples: 2048, randomizations: 2 };
  const ref = solve(p, meanOde({ scheme: "heun", depthSteps: 32, expectation })).f.data;
  const Ls = [4, 8, 16, 32];
  const errs = Ls.map((L) => maxAbsDiff(solve(p, meanOde({ scheme: "staggered-euler", depthSteps: L, expectation })).f.data, ref));
  const s = slope(Ls.map((L) => 1 / L), errs);
  assert.ok(Math.abs(s - 1) <= 0.3, `order ${s.toFixed(3)} (errors ${errs.map((e) => e.toExponential(2)).join(", ")})`);
});

// ---------------------------------------------------------------- 5. bad input

test("bad input: options and problems the Mean ODE cannot take give a ValidationError naming the field", () => {
  const p = makeProblem(linearSpec);
  const tanhP = makeProblem({ ...linearSpec, model: { ...linearSpec.model, activation: "tanh" } });
  const cases: [() => unknown, string][] = [
    [() => meanOde({ scheme: "midpoint" as never }), "options.scheme"],
    [() => meanOde({ depthSteps: 0 }), "options.depthSteps"],
    [() => meanOde({ depthSteps: 2.5 }), "options.depthSteps"],
    [() => meanOde({ method: "exact" as never }), "options.method"],
    [() => meanOde({ method: "particles", particles: 0 }), "options.particles"],
    [() => meanOde({ method: "skeleton", particles: 10 }), "options.particles"],
    [() => meanOde({ method: "particles", expectation: { kind: "mc" } }), "options.expectation"],
    [() => meanOde({ scheme: "staggered-euler", richardson: true }), "options.richardson"],
    [() => meanOde({ foo: 1 } as never), "options.foo"],
    [() => solve(p, meanOde({ expectation: { kind: "mc", samples: 0 } })), "options.expectation.samples"],
    [() => solve(tanhP, meanOde({ expectation: { kind: "closed-form" } })), "options.expectation.kind"],
    [() => solve(p, meanOde({ expectation: { kind: "sobol" as never } })), "options.expectation.kind"],
    [() => solve(tanhP, meanOde({ expectation: { rule: "sobol", points: 1000 } })), "options.expectation.points"],
    [() => solve(tanhP, meanOde({ expectation: { rule: "degree3", points: 1024 } })), "options.expectation.points"],
    [() => solve(tanhP, meanOde({ expectation: { estimator: "ibp", controlVariate: "linear" } })), "options.expectation.controlVariate"],
    [() => solve(tanhP, meanOde({ expectation: { factor: "eigen" as never } })), "options.expectation.factor"],
    [() => meanOde({ tol: -1 }), "options.tol"],
    [() => meanOde({ tol: 1e-3, budget: { points: 0 } }), "options.budget.points"],
    [() => meanOde({ depthError: "yes" as never }), "options.depthError"],
    [() => meanOde({ method: "particles", tol: 1e-3 }), "options.tol"],
    [() => solve(makeProblem({ ...linearSpec, train: { ...linearSpec.train, etaE: 0.1 } }), meanOde({})), "train.etaE"],
    [() => solve({ ...tanhP, model: { ...tanhP.model, activation: customActivation({ name: "soft", f: Math.tanh, df: (x) => 1 - Math.tanh(x) ** 2 }) } }, meanOde({})), "model.activation"],
  ];
  for (const [fn, field] of cases) {
    assert.throws(fn, (e: unknown) => e instanceof ValidationError && e.field.startsWith(field), `expected a ValidationError on ${field}`);
  }
});

// ---------------------------------------------------------------- square-root factors

test("embedding factor (G = σ F ξ, F = rows E^{1/2}c): Gauss–Hermite with it equals the closed form exactly for linear σ", () => {
  // linear σ: every integrand is a polynomial of degree ≤ 2 in G, so a 3-node tensor Gauss–Hermite
  // rule in the 2(d_in + d_out) = 8 dimensions of the factor is exact: the factor path must
  // reproduce the closed-form coefficients to round-off.
  const p = makeProblem(linearSpec);
  const exact = solve(p, meanOde({ depthSteps: 6, richardson: false })).f.data;
  const gh = solve(p, meanOde({ depthSteps: 6, richardson: false, expectation: { kind: "gauss-hermite", nodes: 3, factor: "embedding" } })).f.data;
  assert.ok(maxAbsDiff(exact, gh) < 1e-11, `|f_closed − f_GH| = ${maxAbsDiff(exact, gh)}`);
});

test("G-space engine (the tests' cross-check): embedding factor vs eigen square root (tanh, QMC): same limit, the factor is more accurate at equal samples", () => {
  const p = makeProblem({
    model: { D: 8, activation: "tanh" },
    data: { generator: "teacher", dIn: 2, dOut: 1, N: 2, seed: 3 },
    train: { steps: 4, etaU: 1, etaV: 1 },
    seed: 5,
  });
  const run = (factor: "eigen" | "embedding", samples: number, seed: number) =>
    gspace(p, { scheme: "heun", depthSteps: 2, richardson: true, expectation: { kind: "qmc", samples, seed, factor } }).f.data;
  const ref = run("embedding", 32768, 11);
  // error over 3 QMC seeds each at 2048 points
  const err = (factor: "eigen" | "embedding") => Math.max(...[1, 2, 3].map((seed) => maxAbsDiff(run(factor, 2048, seed), ref)));
  const eEig = err("eigen"), eEmb = err("embedding");
  // measured: eigen ≈ 5e-4, embedding ≈ 1e-4 (reference spread ≈ 2e-5)
  assert.ok(eEig < 3e-3 && eEmb < 1e-3, `errors: eigen ${eEig}, embedding ${eEmb}`);
  assert.ok(eEmb < eEig, `embedding factor (${eEmb}) should beat the eigen root (${eEig}) at equal samples`);
});
