/**
 * Long versions of the MATH §8 checks (npm run verify); the fast ones are in
 * test/diagnostics.test.ts and test/lazy-kl.test.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeProblem, withChanges } from "../../src/problem/problem.ts";
import { solve } from "../../src/problem/algorithm.ts";
import { trainResNet } from "../../src/resnet/solver.ts";
import { meanOde } from "../../src/limits/mean-ode.ts";
import { dmft } from "../../src/limits/dmft.ts";
import { largeWidth } from "../../src/limits/large-width.ts";
import { lazy } from "../../src/limits/lazy.ts";
import { limitLawSamples } from "../../src/skeleton/sampler.ts";
import { knnKlToNormal } from "../helpers/knn.ts";
import { maxAbsDiff, slope } from "../helpers/numeric.ts";
import { fixedEmbeddings } from "../helpers/problems.ts";

const base = {
  model: { L: 8, M: 8, D: 8, activation: "tanh" },
  data: { generator: "teacher", dIn: 2, dOut: 2, N: 3, seed: 2, nonlinearity: "tanh" },
  train: { steps: 3, etaU: 0.7, etaV: 0.7 },
  seed: 4,
};
/** RMS over repetitions of the max-entry difference of K_k (all steps). */
const rmsMax = (gs: Float64Array[], ref: Float64Array) => Math.sqrt(gs.reduce((s, g) => s + maxAbsDiff(g, ref) ** 2, 0) / gs.length);

test("verify: finite Gram → the M = ∞ Gram at the same L (largeWidth) ∝ (LM)^(−1/2) over M = 4…1024 (slope −0.5 ± 0.08), d_out = 2", () => {
  const p = fixedEmbeddings(base as never);
  const lim = solve(p, largeWidth({ record: ["gram"], expectation: { points: 16384, randomizations: 4 } })).gram!.data;
  const Ms = [4, 16, 64, 256, 1024], R = 32;
  const errs = Ms.map((M) => rmsMax(Array.from({ length: R }, (_, r) => trainResNet({ ...withChanges(p, { model: { M }, seed: 100 + r }), init: p.init }, { record: ["gram"] }).gram!.data), lim));
  const s = slope(Ms, errs);
  console.log(`finite → M = ∞ Gram: ${errs.map((e) => e.toExponential(2)).join(", ")}; slope ${s.toFixed(3)}`);
  assert.ok(Math.abs(s + 0.5) <= 0.08, `slope ${s}`);
});

test("verify: finite-D Mean ODE Gram → DMFT Gram ∝ D^(−1/2) over D = 4…1024 (slope −0.5 ± 0.1)", () => {
  const opts = { record: ["gram" as const], expectation: { points: 4096, randomizations: 4 } };
  const inf = solve(makeProblem(base as never), dmft(opts)).gram!.data;
  const Ds = [4, 16, 64, 256, 1024], R = 8;
  const errs = Ds.map((D) => rmsMax(Array.from({ length: R }, (_, r) => solve(makeProblem({ ...base, model: { ...base.model, D }, seed: 100 + r } as never), meanOde(opts)).gram!.data), inf));
  const s = slope(Ds, errs);
  console.log(`Mean ODE → DMFT Gram: ${errs.map((e) => e.toExponential(2)).join(", ")}; slope ${s.toFixed(3)}`);
  assert.ok(Math.abs(s + 0.5) <= 0.1, `slope ${s}`);
});

test("verify: lazy limit of the one-layer M = ∞ ResNet over α = 10…1000: |f^α − f^lazy| slope −2 ± 0.05, feature movement slope −1 ± 0.05 (tanh, Gauss–Hermite rule)", () => {
  const ex = { expectation: { rule: "gauss-hermite" as const, nodes: 4, estimator: "direct" as const, controlVariate: "none" as const } };
  const as = [10, 30, 100, 300, 1000];
  const errs: number[] = [], moves: number[] = [];
  for (const alpha of as) {
    const p = makeProblem({ ...base, model: { L: 1, D: 8, activation: "tanh", alpha }, data: { ...base.data, dOut: 1, N: 4 }, train: { steps: 6, etaU: 0.5, etaV: 0.5 } } as never);
    const t = solve(p, largeWidth(ex)), l = solve(p, lazy({ solver: ex }));
    errs.push(maxAbsDiff(t.f.data, l.f.data));
    const law = (step: number) => limitLawSamples(t, { step, hNode: 0, bNode: 1, samples: 8000, seed: 3, what: ["p"] }).p!.data;
    const a = law(5), b = law(0);
    let s = 0;
    for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
    moves.push(s / a.length);
  }
  const se = slope(as, errs), sm = slope(as, moves);
  console.log(`lazy L = 1: |f − f^lazy| ${errs.map((e) => e.toExponential(2)).join(", ")} (slope ${se.toFixed(3)}); movement ${moves.map((e) => e.toExponential(2)).join(", ")} (slope ${sm.toFixed(3)})`);
  assert.ok(Math.abs(se + 2) <= 0.05 && Math.abs(sm + 1) <= 0.05, `slopes ${se}, ${sm}`);
});

test("verify: KL of the trained law vs the k-NN estimate at n = 64000, R = 8 (4 SE + 2.5%): tanh, and linear σ (closed form) as the estimator's calibration", () => {
  for (const [act, eta] of [["linear", 0.3], ["tanh", 0.7], ["tanh", 1.0]] as const) {
    const p = makeProblem({
      model: { D: 6, activation: act }, data: { generator: "teacher", dIn: 1, dOut: 1, N: 2, seed: 3, nonlinearity: "tanh" },
      train: { steps: 3, etaU: eta, etaV: eta }, seed: 5,
    });
    const t = solve(p, meanOde({ record: ["kl"], ...(act === "tanh" ? { expectation: { points: 16384, randomizations: 8 } } : {}) }));
    const slots = t.klProfile!.shape[1];
    for (const node of [0, (slots - 1) >> 1]) {
      const kl = t.klProfile!.get(2, node);
      const n = 64000, R = 8;
      const est = Array.from({ length: R }, (_, rep) => {
        const s = limitLawSamples(t, { step: 2, node, samples: n, seed: 20 + rep, problem: p, what: ["z", "xi"] });
        return knnKlToNormal(s.z!.data, s.xi!.data, n, s.z!.shape[1]);
      });
      const mean = est.reduce((a, b) => a + b) / R;
      const se = Math.sqrt(est.reduce((a, b) => a + (b - mean) ** 2, 0) / (R - 1) / R);
      console.log(`${act} η = ${eta} node ${node}: KL ${kl.toFixed(4)}, k-NN ${mean.toFixed(4)} ± ${se.toFixed(4)} (${(((mean - kl) / kl) * 100).toFixed(2)}%)${t.warnings ? " [" + t.warnings.length + " warning]" : ""}`);
      assert.ok(Math.abs(mean - kl) <= 4 * se + 0.025 * kl, `${act} node ${node}: ${kl} vs ${mean} ± ${se}`);
    }
  }
});
