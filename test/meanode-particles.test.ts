/**
 * The particle Mean ODE (src/meanode/particles.ts, MATH §2).
 *
 * (a) Exact equivalence: a finite ResNet (MATH §1) whose L layers all start
 *     from the same M units is the particle Mean ODE with staggered Euler,
 *     depthSteps = L, P = M and those units as initial particles — the same
 *     numbers up to summation order, at every GD step (f, loss, depth
 *     profiles and the final per-slot particle states = per-layer weights).
 * (b) Depth order at fixed particles against a fine rk4 run.
 * (c) P^(−1/2) Monte Carlo scaling over independent particle seeds.
 * (d) f_0 against an independent plain-array forward for every scheme; the
 *     linear-σ forward is a matrix exponential; invariance under duplicating
 *     and permuting particles; profiles; bad input; divergence.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeProblem, type Problem } from "../src/problem/problem.ts";
import { outputRms, type Trajectory } from "../src/problem/trajectory.ts";
import { trainResNet } from "../src/resnet/solver.ts";
import { internalToLayerMajor } from "../src/resnet/weights.ts";
import { initEmbeddings } from "../src/problem/embeddings.ts";
import { DepthGrid, SCHEMES, type Scheme } from "../src/depth/grid.ts";
import { drawParticles, ParticleMeanOde, solveParticleMeanOde, type ParticleSet } from "../src/particles/mean-ode.ts";
import { DivergenceError, ValidationError } from "../src/core/errors.ts";
import { maxAbs, maxAbsDiff, assertOrder, slope } from "./helpers/numeric.ts";


// ---------------------------------------------------------------- (a) exact equivalence

for (const activation of ["tanh", "linear"] as const) {
  test(`(a) ${activation}: finite ResNet with L layers sharing M units ≡ staggered-Euler particle Mean ODE (S = L, P = M)`, () => {
    const L = 5, M = 7, D = 6, K = 6;
    const spec = {
      model: { L, M, D, activation, alpha: 1.7 },
      data: { generator: "teacher" as const, dIn: 3, dOut: 2, N: 3, seed: 4 },
      train: { steps: K, etaU: 0.8, etaV: 0.3 },
      seed: 11,
    };
    const units = drawParticles(makeProblem(spec), M, 99); // M × D each
    const U = new Float64Array(L * M * D), V = new Float64Array(L * M * D);
    for (let l = 0; l < L; l++) {
      U.set(units.U, l * M * D);
      V.set(units.V, l * M * D);
    }
    const problem = makeProblem({ ...spec, init: { U: internalToLayerMajor(U, L, D, M), V: internalToLayerMajor(V, L, D, M) } });
    const fin = trainResNet(problem, { record: ["h", "b"], returnWeights: true });
    const ode = solveParticleMeanOde(problem, { scheme: "staggered-euler", depthSteps: L, initialParticles: units, record: ["h", "b"] });
    const fScale = maxAbs(fin.f.data);
    assert.ok(maxAbsDiff(fin.f.data, ode.f.data) <= 1e-12 * fScale, `f differs by ${maxAbsDiff(fin.f.data, ode.f.data)}`);
    for (let k = 0; k < K; k++) assert.ok(Math.abs(fin.loss[k] - ode.loss[k]) <= 1e-12 * fin.loss[k], `loss[${k}]: ${fin.loss[k]} vs ${ode.loss[k]}`);
    // the dynamics is not trivial: the loss moves
    assert.ok(Math.abs(fin.loss[K - 1] - fin.loss[0]) > 0.1 * fin.loss[0]);
    // depth profiles: finite h_ℓ, b_ℓ (ℓ = 0..L) ≡ node profiles (nodes = L + 1), every step
    // (the particle solver skips the last step's backward unless b is recorded — it is here)
    for (const key of ["h", "b"] as const) {
      const a = fin.profiles![key]!.data, b = ode.profiles![key]!.data;
      assert.ok(maxAbsDiff(a, b) <= 1e-12 * maxAbs(a), `${key} profiles differ by ${maxAbsDiff(a, b)}`);
    }
    assert.deepEqual(Array.from(ode.profiles!.s), Array.from(fin.profiles!.s));

    // the class: K full steps leave per-slot particle states = per-layer weights after K updates
    const cls = new ParticleMeanOde(problem, new DepthGrid("staggered-euler", L), units);
    for (let k = 0; k < K; k++) assert.ok(Math.abs(cls.step() - fin.loss[k]) <= 1e-12 * fin.loss[k]);
    const w = fin.extras!.weights as { U: Float64Array; V: Float64Array };
    assert.ok(maxAbsDiff(cls.U, w.U) <= 1e-12 * maxAbs(w.U), `U after ${K} updates differs by ${maxAbsDiff(cls.U, w.U)}`);
    assert.ok(maxAbsDiff(cls.V, w.V) <= 1e-12 * maxAbs(w.V), `V after ${K} updates differs by ${maxAbsDiff(cls.V, w.V)}`);
    assert.equal(cls.k, K);
  });
}

// ---------------------------------------------------------------- (b) depth order

test("(b) depth order at fixed particles: euler 1, staggered-euler 1, heun 2, rk4 4 (f_k against rk4 with S = 256)", () => {
  const problem = makeProblem({
    model: { D: 4, activation: "tanh", alpha: 1.3 },
    data: { generator: "teacher", dIn: 3, dOut: 2, N: 2, seed: 5 },
    train: { steps: 4, etaU: 0.7, etaV: 0.4 },
    seed: 21,
  });
  const initialParticles = drawParticles(problem, 32, 7);
  const ref = solveParticleMeanOde(problem, { scheme: "rk4", depthSteps: 256, initialParticles });
  const ladder: Record<Scheme, number[]> = { euler: [8, 16, 32, 64], "staggered-euler": [8, 16, 32, 64], heun: [4, 8, 16, 32], rk4: [4, 8, 16, 32] };
  const nominal: Record<Scheme, number> = { euler: 1, "staggered-euler": 1, heun: 2, rk4: 4 };
  for (const scheme of SCHEMES) {
    assertOrder(scheme, ladder[scheme], (S) => outputRms(solveParticleMeanOde(problem, { scheme, depthSteps: S, initialParticles }), ref), nominal[scheme]);
  }
});

// ---------------------------------------------------------------- (c) P^(-1/2)

/**
 * For each P, R = 16 runs with independent particle seeds; the Monte Carlo
 * error is measured as the RMS deviation of f_k (all k, outputs, data points)
 * from the mean of the R runs at the same P (with the R/(R−1) correction).
 * This estimates the standard deviation of f_k(P), which is c/√P to leading
 * order, without being contaminated by the O(1/P) bias or by the Monte Carlo
 * error of a finite "large-P" reference. Fitted slope over P = 64..4096:
 * −0.5 ± 0.15.
 *
 * False-failure probability: the procedure repeated with 40 disjoint sets of
 * seeds (R = 12) gave slopes with mean −0.496 and standard deviation 0.032
 * (range −0.56 … −0.44); R = 16 shrinks the sd to ≈ 0.027, so a miss of 0.15
 * is ≈ 5.5 sd: p ≈ 4e-8 under a normal approximation (the test is in any case
 * deterministic for the fixed seeds used here).
 * The seed-means at P = 1024 and 4096 must also agree within 3 of their
 * combined standard errors (no O(1) bias of the particle estimate).
 */
test("(c) Monte Carlo error of f_k falls like P^(−1/2) over independent particle seeds", () => {
  const problem = makeProblem({
    model: { D: 4, activation: "tanh" },
    data: { generator: "teacher", dIn: 3, dOut: 2, N: 2, seed: 5 },
    train: { steps: 3, etaU: 0.8, etaV: 0.8 },
    seed: 21,
  });
  const Ps = [64, 256, 1024, 4096], R = 16;
  const means: Float64Array[] = [];
  const rms = Ps.map((P) => {
    const fs = Array.from({ length: R }, (_, r) => solveParticleMeanOde(problem, { scheme: "heun", depthSteps: 8, particles: P, particleSeed: 1000 + r }).f.data);
    const m = fs[0].length;
    const mean = new Float64Array(m);
    for (const f of fs) for (let i = 0; i < m; i++) mean[i] += f[i] / R;
    means.push(mean);
    let s = 0;
    for (const f of fs) for (let i = 0; i < m; i++) s += (f[i] - mean[i]) ** 2;
    return Math.sqrt(s / ((R - 1) * m));
  });
  const p = slope(Ps, rms);
  assert.ok(Math.abs(p + 0.5) <= 0.15, `fitted slope ${p.toFixed(3)} (RMS ${rms.map((e) => e.toExponential(2)).join(", ")})`);
  // no O(1) bias: seed-means at P = 1024 and P = 4096 agree within their standard errors
  const se = Math.sqrt((rms[2] ** 2 + rms[3] ** 2) / R);
  const d = Math.sqrt(means[2].reduce((a, x, i) => a + (x - means[3][i]) ** 2, 0) / means[2].length);
  assert.ok(d <= 3 * se, `seed-means differ by ${d.toExponential(2)} RMS, standard error ${se.toExponential(2)}`);
});

// ---------------------------------------------------------------- (d) independent forward, invariances

/**
 * An independent plain-array forward at step 0 (all slots hold the initial
 * particles, so the forward ODE is autonomous): ∂_s h_n = α (1/P) Σ_i v^i σ(u^i·h_n/D),
 * integrated by the textbook form of each scheme, then f = W_Uᵀ h(1)/D.
 */
function plainForward0(problem: Problem, parts: ParticleSet, scheme: Scheme, S: number): number[][] {
  const { D, alpha, activation } = problem.model;
  const { N, dIn, dOut, X } = problem.data;
  const { WE, WU } = initEmbeddings(problem);
  const P = parts.U.length / D;
  const u = Array.from({ length: P }, (_, i) => Array.from(parts.U.subarray(i * D, (i + 1) * D)));
  const v = Array.from({ length: P }, (_, i) => Array.from(parts.V.subarray(i * D, (i + 1) * D)));
  const F = (h: number[]): number[] => {
    const out = new Array<number>(D).fill(0);
    for (let i = 0; i < P; i++) {
      let p = 0;
      for (let d = 0; d < D; d++) p += u[i][d] * h[d];
      const s = activation.f(p / D);
      for (let d = 0; d < D; d++) out[d] += (alpha / P) * s * v[i][d];
    }
    return out;
  };
  const axpy = (y: number[], a: number, x: number[]) => y.map((yi, d) => yi + a * x[d]);
  const f: number[][] = Array.from({ length: dOut }, () => new Array<number>(N).fill(0));
  const ds = 1 / S;
  for (let n = 0; n < N; n++) {
    let h = Array.from({ length: D }, (_, d) => {
      let s = 0;
      for (let i = 0; i < dIn; i++) s += WE[d * dIn + i] * X[i * N + n];
      return s;
    });
    for (let step = 0; step < S; step++) {
      if (scheme === "euler" || scheme === "staggered-euler") h = axpy(h, ds, F(h));
      else if (scheme === "heun") {
        const k1 = F(h), k2 = F(axpy(h, ds, k1));
        h = h.map((x, d) => x + 0.5 * ds * (k1[d] + k2[d]));
      } else {
        const k1 = F(h), k2 = F(axpy(h, ds / 2, k1)), k3 = F(axpy(h, ds / 2, k2)), k4 = F(axpy(h, ds, k3));
        h = h.map((x, d) => x + (ds / 6) * (k1[d] + 2 * k2[d] + 2 * k3[d] + k4[d]));
      }
    }
    for (let o = 0; o < dOut; o++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += WU[d * dOut + o] * h[d];
      f[o][n] = s / D;
    }
  }
  return f;
}

const small = (activation: "tanh" | "linear" = "tanh", steps = 3) => makeProblem({
  model: { D: 5, activation, alpha: 0.9, sigmaU: 1.2, sigmaV: 0.8 },
  data: { generator: "teacher", dIn: 3, dOut: 2, N: 3, seed: 8 },
  train: { steps, etaU: 0.6, etaV: 0.9 },
  seed: 13,
});

test("(d) f_0 and loss_0 of every scheme equal an independent plain-array forward of the same particles", () => {
  const problem = small();
  const parts = drawParticles(problem, 24, 3);
  for (const scheme of SCHEMES) {
    const S = 6;
    const t = solveParticleMeanOde(problem, { scheme, depthSteps: S, initialParticles: parts });
    const f0 = plainForward0(problem, parts, scheme, S);
    const { dOut, N, Y } = problem.data;
    let loss = 0;
    for (let o = 0; o < dOut; o++)
      for (let n = 0; n < N; n++) {
        assert.ok(Math.abs(t.f.get(0, o, n) - f0[o][n]) <= 1e-13, `${scheme}: f_0[${o}][${n}] = ${t.f.get(0, o, n)} vs ${f0[o][n]}`);
        loss += 0.5 * (f0[o][n] - Y[o * N + n]) ** 2 / N;
      }
    assert.ok(Math.abs(t.loss[0] - loss) <= 1e-13 * loss);
  }
});

test("(d) linear σ: the step-0 forward is h(1) = exp(A) h(0), A = (α/(PD)) Σ_i v^i u^iᵀ; rk4 converges to it at order 4", () => {
  const problem = small("linear", 1);
  const { D, alpha } = problem.model;
  const { N, dIn, dOut, X } = problem.data;
  const parts = drawParticles(problem, 16, 4);
  const P = 16;
  const A = Array.from({ length: D }, (_, a) => Array.from({ length: D }, (_, b) => {
    let s = 0;
    for (let i = 0; i < P; i++) s += parts.V[i * D + a] * parts.U[i * D + b];
    return (alpha / (P * D)) * s;
  }));
  // exp(A) by Taylor series (‖A‖ = O(1): 60 terms are exact to roundoff)
  let term: number[][] = A.map((r, a) => r.map((_, b) => (a === b ? 1 : 0)));
  let E: number[][] = term.map((r) => [...r]);
  for (let j = 1; j < 60; j++) {
    term = term.map((r) => Array.from({ length: D }, (_, b) => r.reduce((s, x, c) => s + x * A[c][b], 0) / j));
    E = E.map((r, a) => r.map((x, b) => x + term[a][b]));
  }
  const { WE, WU } = initEmbeddings(problem);
  const fExact = new Float64Array(dOut * N);
  for (let n = 0; n < N; n++) {
    const h0 = Array.from({ length: D }, (_, d) => Array.from({ length: dIn }, (_, i) => WE[d * dIn + i] * X[i * N + n]).reduce((a, b) => a + b));
    const h1 = E.map((r) => r.reduce((s, x, c) => s + x * h0[c], 0));
    for (let o = 0; o < dOut; o++) fExact[o * N + n] = h1.reduce((s, x, d) => s + WU[d * dOut + o] * x, 0) / D;
  }
  const errs = assertOrder("rk4", [2, 4, 8, 16], (S) => maxAbsDiff(solveParticleMeanOde(problem, { scheme: "rk4", depthSteps: S, initialParticles: parts }).f.data, fExact), 4);
  assert.ok(errs[3] < 1e-6);
});

test("(d) the empirical measure is what matters: duplicating or permuting the particles changes nothing", () => {
  const problem = small("tanh", 4);
  const { D } = problem.model;
  const parts = drawParticles(problem, 20, 5);
  const P = 20;
  const dup: ParticleSet = { U: new Float64Array(2 * P * D), V: new Float64Array(2 * P * D) };
  dup.U.set(parts.U); dup.U.set(parts.U, P * D); dup.V.set(parts.V); dup.V.set(parts.V, P * D);
  const perm: ParticleSet = { U: new Float64Array(P * D), V: new Float64Array(P * D) };
  for (let i = 0; i < P; i++) {
    const j = (7 * i + 3) % P; // a permutation of 0..19 (gcd(7, 20) = 1)
    perm.U.set(parts.U.subarray(j * D, (j + 1) * D), i * D);
    perm.V.set(parts.V.subarray(j * D, (j + 1) * D), i * D);
  }
  for (const scheme of ["staggered-euler", "heun", "rk4"] as const) {
    const base = solveParticleMeanOde(problem, { scheme, depthSteps: 5, initialParticles: parts });
    for (const other of [dup, perm]) {
      const t = solveParticleMeanOde(problem, { scheme, depthSteps: 5, initialParticles: other });
      assert.ok(maxAbsDiff(base.f.data, t.f.data) <= 1e-13, `${scheme}: ${maxAbsDiff(base.f.data, t.f.data)}`);
    }
  }
});

test("(d) trajectory shape, profiles on the node grid, boundary values, extras", () => {
  const problem = small("tanh", 3);
  const { D } = problem.model;
  const { N, dOut, Y } = problem.data;
  const t: Trajectory = solveParticleMeanOde(problem, { scheme: "rk4", depthSteps: 4, particles: 50, record: ["h", "b"], recordSteps: [2, 0] });
  assert.equal(t.algorithm, "meanOde/particles");
  assert.deepEqual(t.f.shape, [3, dOut, N]);
  assert.equal(t.loss.length, 3);
  assert.deepEqual(t.extras, { P: 50, scheme: "rk4", depthSteps: 4, nodes: 9, slots: 9, particleSeed: problem.seed });
  const pr = t.profiles!;
  assert.deepEqual(pr.steps, [2, 0]);
  assert.deepEqual(Array.from(pr.s), Array.from(new DepthGrid("rk4", 4).nodeDepths()));
  assert.deepEqual(pr.h!.shape, [2, 9, N, D]);
  assert.deepEqual(pr.b!.shape, [2, 9, N, D]);
  const { WE, WU } = initEmbeddings(problem);
  const { dIn, X } = problem.data;
  for (const [r, k] of [[0, 2], [1, 0]] as const) {
    for (let n = 0; n < N; n++) {
      for (let d = 0; d < D; d++) {
        let h0 = 0;
        for (let i = 0; i < dIn; i++) h0 += WE[d * dIn + i] * X[i * N + n];
        assert.ok(Math.abs(pr.h!.get(r, 0, n, d) - h0) < 1e-14);
        let b1 = 0;
        for (let o = 0; o < dOut; o++) b1 += WU[d * dOut + o] * (t.f.get(k, o, n) - Y[o * N + n]);
        assert.ok(Math.abs(pr.b!.get(r, 8, n, d) - b1) < 1e-14);
      }
      for (let o = 0; o < dOut; o++) {
        let f = 0;
        for (let d = 0; d < D; d++) f += WU[d * dOut + o] * pr.h!.get(r, 8, n, d);
        assert.ok(Math.abs(f / D - t.f.get(k, o, n)) < 1e-14);
      }
    }
  }
  // default particleSeed = problem.seed; particle sets are nested in P
  const a = solveParticleMeanOde(problem, { scheme: "heun", depthSteps: 3, particles: 10 });
  const b = solveParticleMeanOde(problem, { scheme: "heun", depthSteps: 3, particles: 10, particleSeed: problem.seed });
  assert.deepEqual(Array.from(a.f.data), Array.from(b.f.data));
  const p10 = drawParticles(problem, 10), p30 = drawParticles(problem, 30);
  assert.deepEqual(Array.from(p10.U), Array.from(p30.U.subarray(0, 10 * D)));
  assert.deepEqual(Array.from(p10.V), Array.from(p30.V.subarray(0, 10 * D)));
  const c = solveParticleMeanOde(problem, { scheme: "heun", depthSteps: 3, initialParticles: p10 });
  assert.deepEqual(Array.from(a.f.data), Array.from(c.f.data));
  // defaults: heun, 32 steps, 4096 particles
  const def = solveParticleMeanOde(small("tanh", 1));
  assert.deepEqual(def.extras, { P: 4096, scheme: "heun", depthSteps: 32, nodes: 33, slots: 33, particleSeed: problem.seed });
});

test("(d) bad input names the field; a diverging run throws DivergenceError(step, loss / h / b)", () => {
  const problem = small();
  const named = (field: string) => (e: unknown) => e instanceof ValidationError && e.field === field && e.message.startsWith(field);
  const run = (o: unknown) => () => solveParticleMeanOde(problem, o as never);
  assert.throws(run({ particles: 0 }), named("solver.particles"));
  assert.throws(run({ particles: 2.5 }), named("solver.particles"));
  assert.throws(run({ depthSteps: 0 }), named("solver.depthSteps"));
  assert.throws(run({ depthSteps: 1.5 }), named("solver.depthSteps"));
  assert.throws(run({ scheme: "midpoint" }), named("solver.scheme"));
  assert.throws(run({ particleSeed: -1 }), named("solver.particleSeed"));
  assert.throws(run({ particels: 10 }), named("solver.particels"));
  assert.throws(run(5), named("solver"));
  assert.throws(run({ record: ["p"] }), named("solver.record[0]"));
  assert.throws(run({ record: "h" }), named("solver.record"));
  assert.throws(run({ record: ["h"], recordSteps: [3] }), named("solver.recordSteps[0]"));
  assert.throws(run({ record: ["h"], recordSteps: [-1] }), named("solver.recordSteps[0]"));
  const D = problem.model.D;
  assert.throws(run({ initialParticles: { U: new Float64Array(3 * D + 1), V: new Float64Array(3 * D + 1) } }), named("solver.initialParticles.U"));
  assert.throws(run({ initialParticles: { U: new Float64Array(3 * D), V: new Float64Array(2 * D) } }), named("solver.initialParticles.V"));
  assert.throws(run({ initialParticles: { U: new Float64Array(3 * D).fill(Number.NaN), V: new Float64Array(3 * D) } }), named("solver.initialParticles.U[0]"));
  assert.throws(run({ initialParticles: { U: new Float64Array(3 * D), V: new Float64Array(3 * D) }, particles: 4 }), named("solver.particles"));
  assert.throws(run({ initialParticles: [1, 2] }), named("solver.initialParticles"));
  const trained = makeProblem({ model: { D: 3 }, data: { generator: "teacher", dIn: 2, dOut: 1, N: 2 }, train: { steps: 2, etaU: 1, etaV: 1, etaE: 0.1 } });
  assert.throws(() => solveParticleMeanOde(trained, { particles: 4 }), named("train.etaE"));
  // number arrays are accepted for initialParticles
  const parts = drawParticles(problem, 4, 1);
  const t = solveParticleMeanOde(problem, { depthSteps: 2, initialParticles: { U: Array.from(parts.U), V: Array.from(parts.V) } });
  assert.equal(t.extras!.P, 4);

  const wild = makeProblem({
    model: { D: 3, activation: "linear" },
    data: { generator: "teacher", dIn: 2, dOut: 1, N: 2, seed: 1 },
    train: { steps: 20, etaU: 1e30, etaV: 1e30 },
  });
  assert.throws(() => solveParticleMeanOde(wild, { particles: 8, depthSteps: 4 }), (e: unknown) => e instanceof DivergenceError && /^(loss|h |b )/.test(e.quantity) && e.step > 0 && e.step < 20);
});
