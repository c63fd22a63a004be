/**
 * Long convergence studies of the Mean ODE and DMFT solvers (npm run verify).
 * Fast versions of every check live in test/meanode-skeleton.test.ts and
 * test/dmft.test.ts; these use longer ladders, more repetitions and tighter
 * tolerances.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeProblem, withChanges, type Problem, type ProblemInput } from "../../src/problem/problem.ts";
import { solve } from "../../src/problem/algorithm.ts";
import { trainResNet } from "../../src/resnet/solver.ts";
import { initEmbeddings } from "../../src/problem/embeddings.ts";
import { meanOde } from "../../src/limits/mean-ode.ts";
import { dmft } from "../../src/limits/dmft.ts";
import { slope } from "../helpers/numeric.ts";
import { fixedEmbeddings } from "../helpers/problems.ts";

const rmsOver = (fs: Float64Array[], ref: Float64Array) => {
  let s = 0, c = 0;
  for (const f of fs) for (let i = 0; i < f.length; i++) { s += (f[i] - ref[i]) ** 2; c++; }
  return Math.sqrt(s / c);
};

test("verify: finite ResNet → Mean ODE (same embeddings) at fixed large L: RMS error ∝ (LM)^(−1/2) over M = 4…1024 (slope −0.5 ± 0.08)", () => {
  const L = 8;
  const base = fixedEmbeddings({
    model: { L, M: 8, D: 16, activation: "tanh" },
    data: { generator: "teacher", dIn: 3, dOut: 1, N: 2, seed: 1, nonlinearity: "tanh" },
    train: { steps: 4, etaU: 1, etaV: 1 },
    seed: 2,
  });
  // the M = ∞ limit at this L (staggered Euler, S = L) isolates the width term exactly
  const limit = solve(base, meanOde({ scheme: "staggered-euler", depthSteps: L, expectation: { kind: "qmc", samples: 65536 } })).f.data;
  const Ms = [4, 16, 64, 256, 1024], R = 64;
  const rms = Ms.map((M) => rmsOver(Array.from({ length: R }, (_, r) => trainResNet({ ...withChanges(base, { model: { M }, seed: 1000 + r }), init: base.init }).f.data), limit));
  const s = slope(Ms, rms);
  console.log(`width ladder: RMS ${rms.map((e) => e.toExponential(2)).join(", ")}; slope ${s.toFixed(3)}`);
  assert.ok(Math.abs(s + 0.5) <= 0.08, `slope ${s}`);
});

test("verify: depth term — mean over seeds of the finite ResNet (M ≫ L) vs the converged Mean ODE falls like 1/L (slope −1 ± 0.2)", () => {
  const base = fixedEmbeddings({
    model: { L: 2, M: 8, D: 16, activation: "tanh" },
    data: { generator: "teacher", dIn: 3, dOut: 1, N: 2, seed: 1, nonlinearity: "tanh" },
    train: { steps: 4, etaU: 1, etaV: 1 },
    seed: 2,
  });
  const limit = solve(base, meanOde({ expectation: { kind: "qmc", samples: 65536 } })).f.data;
  // bias a/L is what survives averaging over seeds; the width fluctuation √(D/(LM))/√R is kept ≪ a/L
  const Ls = [2, 4, 8, 16], M = 4096, R = 8;
  const errs = Ls.map((L) => {
    const runs = Array.from({ length: R }, (_, r) => trainResNet({ ...withChanges(base, { model: { L, M }, seed: 500 + r }), init: base.init }).f.data);
    const mean = runs[0].map((_, i) => runs.reduce((a, f) => a + f[i], 0) / R);
    return rmsOver([mean], limit);
  });
  const s = slope(Ls, errs);
  console.log(`depth ladder (mean of ${R} seeds, M = ${M}): ${errs.map((e) => e.toExponential(2)).join(", ")}; slope ${s.toFixed(3)}`);
  assert.ok(Math.abs(s + 1) <= 0.2, `slope ${s}`);
});

test("verify: finite-D skeleton Mean ODE → DMFT at D^(−1/2) over D = 8…8192 (tanh, 24 embedding draws, slope −0.5 ± 0.08)", () => {
  const p = makeProblem({
    model: { D: 8, activation: "tanh" },
    data: { generator: "teacher", dIn: 2, dOut: 1, N: 2, seed: 5, nonlinearity: "tanh" },
    train: { steps: 4, etaU: 1, etaV: 1 },
    seed: 1,
  });
  const opts = { depthSteps: 4, expectation: { kind: "qmc" as const, samples: 2048, seed: 7 } };
  const lim = solve(p, dmft(opts)).f.data;
  const Ds = [8, 64, 512, 8192], draws = 24;
  const errs = Ds.map((D) => rmsOver(Array.from({ length: draws }, (_, r) => solve(withChanges(p, { model: { D }, seed: 200 + r }), meanOde(opts)).f.data), lim));
  const s = slope(Ds, errs);
  console.log(`D ladder: ${errs.map((e) => e.toExponential(2)).join(", ")}; slope ${s.toFixed(3)}; c ≈ ${(errs[errs.length - 1] * Math.sqrt(8192)).toFixed(2)}`);
  assert.ok(Math.abs(s + 0.5) <= 0.08, `slope ${s}`);
});

test("verify: finite ResNets at large L·M approach the DMFT as D grows (D = 4…256, slope in [−0.7, −0.35])", () => {
  const p = makeProblem({
    model: { L: 32, M: 4096, D: 4, activation: "tanh" },
    data: { generator: "teacher", dIn: 2, dOut: 1, N: 2, seed: 5, nonlinearity: "tanh" },
    train: { steps: 3, etaU: 1, etaV: 1 },
    seed: 1,
  });
  const lim = solve(p, dmft({ expectation: { kind: "qmc", samples: 16384 } })).f.data;
  const Ds = [8, 32, 128, 256], R = 6;
  const errs = Ds.map((D) => rmsOver(Array.from({ length: R }, (_, r) => trainResNet(withChanges(p, { model: { D }, seed: 300 + r })).f.data), lim));
  const s = slope(Ds, errs);
  console.log(`finite → DMFT: ${errs.map((e) => e.toExponential(2)).join(", ")}; slope ${s.toFixed(3)}`);
  assert.ok(s <= -0.35 && s >= -0.7, `slope ${s}`);
});
