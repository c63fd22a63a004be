/**
 * Propagation of chaos (MATH §4; src/chaos/).
 *
 * 1. The M = ∞ system at fixed L is the staggered-Euler Mean ODE with S = L
 *    (largeWidth ≡ meanOde, same expectation samples, to round-off), and it
 *    converges to the converged Mean ODE at order 1 in 1/L.
 * 2. Rates over an M ladder at fixed L, D (tanh): coupling distance, p / q
 *    distances and output gap ∝ M^{-1/2} in RMS; W1 decreases with M;
 *    tagged-pair (intraclass) correlation ∝ M^{-1}; the odd functional p has
 *    correlation exactly 0 by symmetry (checked against its noise level).
 * 3. Twins are i.i.d.: a twin's trajectory depends only on its own initial
 *    value — bit-identical when the other particles are permuted or replaced.
 *    Twins pooled over runs follow the limit law of the particle sampler.
 * 4. Bad input.
 *
 * All tests use fixed seeds and are deterministic; each tolerance is stated
 * with the measured spread over other seeds (false-failure reasoning).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeProblem, type Problem, type ProblemInput } from "../src/problem/problem.ts";
import { solve } from "../src/problem/algorithm.ts";
import { meanOde } from "../src/limits/mean-ode.ts";
import {
  chaosDiagnostics, chaosWeights, coupledRun, largeWidth, limitFields, resolveChaosOptions, runSeed,
} from "../src/chaos/index.ts";
import { ksSorted } from "../src/stats/distances.ts";
import { limitLawSamples } from "../src/skeleton/sampler.ts";
import { ValidationError } from "../src/core/errors.ts";
import type { ResNetWeights } from "../src/resnet/weights.ts";
import { assertOrder, maxAbsDiff } from "./helpers/numeric.ts";


const tanhSpec = (L: number, K = 3): ProblemInput => ({
  model: { L, M: 8, D: 8, activation: "tanh" },
  data: { generator: "teacher", dIn: 2, dOut: 1, N: 4, seed: 1 },
  train: { steps: K, etaU: 1, etaV: 1 },
  seed: 1,
});
const qmc = { kind: "qmc" as const, samples: 4096 };

// ---------------------------------------------------------------- 1. the M = ∞ system

test("largeWidth ≡ staggered-Euler Mean ODE with S = L, no Richardson (skeleton and particles, same samples)", () => {
  for (const L of [3, 5]) {
    const p = makeProblem(tanhSpec(L));
    const a = solve(p, largeWidth({ expectation: qmc }));
    const b = solve(p, meanOde({ scheme: "staggered-euler", depthSteps: L, richardson: false, expectation: qmc }));
    assert.ok(maxAbsDiff(a.f.data, b.f.data) <= 1e-14, `L = ${L}: ${maxAbsDiff(a.f.data, b.f.data)}`);
    assert.equal(a.algorithm, "largeWidth/skeleton");
    assert.equal((a.extras as { depthGrid: Float64Array }).depthGrid.length, L + 1);
    const c = solve(p, largeWidth({ method: "particles", particles: 512 }));
    const d = solve(p, meanOde({ method: "particles", scheme: "staggered-euler", depthSteps: L, richardson: false, particles: 512 }));
    assert.ok(maxAbsDiff(c.f.data, d.f.data) <= 1e-14);
  }
});

test("M = ∞ limit at fixed L → converged Mean ODE at order 1 in 1/L (linear σ, closed form)", () => {
  const p = makeProblem({ ...tanhSpec(1), model: { D: 8, activation: "linear" }, train: { steps: 4, etaU: 0.4, etaV: 0.4 } });
  const ref = solve(p, meanOde({ scheme: "rk4", depthSteps: 32, richardson: false })).f.data;
  // closed-form expectations and an rk4 reference (error ≪ 1e-6): the only error is the
  // O(1/L) of staggered Euler, so the order is 1 up to O(1/L) corrections.
  assertOrder("largeWidth", [4, 8, 16, 32], (L) => maxAbsDiff(solve({ ...p, model: { ...p.model, L } }, largeWidth()).f.data, ref), 1, 0.1 * (1 - 1e-12)); // (the former test: |order − 1| < 0.1)
});

// ---------------------------------------------------------------- 2. rates over an M ladder

test("coupling distance, p/q distances and output gap ∝ M^(-1/2); W1 decreases with M (L = 2, D = 8, M = 16..1024)", () => {
  const p = makeProblem(tanhSpec(2));
  const r = chaosDiagnostics(p, { widths: [16, 64, 256, 1024], R: 24, seed: 1, diagnostics: ["coupling", "laws"], expectation: qmc, lawSamples: 16384 });
  // Measured over base seeds 1..6 (R = 16): coupling slope −0.49..−0.54, output gap −0.49..−0.58,
  // p −0.49..−0.52, q −0.49..−0.57. The output gap (4 outputs per run) is the noisiest:
  // sd ≈ 0.03 around ≈ −0.53, so ±0.1 is ≈ 3 sd (R = 24 here shrinks the spread further).
  const sl = r.slopes;
  for (const [name, v] of [["coupling", sl.coupling], ["outputGap", sl.outputGap], ["p", sl.p], ["q", sl.q]] as const) {
    assert.ok(v !== null && Math.abs(v + 0.5) <= 0.1, `${name} slope ${v}; coupling ${r.couplingRms.join(", ")}; gap ${r.outputGapRms.join(", ")}`);
  }
  // W1 (empirical law of the M units of a layer vs the limit law) decreases with M; it is
  // dominated by the i.i.d. sampling term c/√M, which the twins (exact i.i.d. samples of the
  // limit law) measure: finite and twin W1 agree within 15% (measured: within 4%).
  for (let i = 1; i < r.widths.length; i++) assert.ok(r.w1[i]! < r.w1[i - 1]!, `W1 ${r.w1.join(", ")}`);
  for (let i = 0; i < r.widths.length; i++) assert.ok(Math.abs(r.w1[i]! / r.w1Twins[i]! - 1) < 0.15, `W1 ${r.w1[i]} vs twins ${r.w1Twins[i]}`);
  assert.ok(Math.abs(sl.w1! + 0.5) < 0.1, `W1 slope ${sl.w1}`);
  // at step 0 the twins are the particles: weight distance exactly 0
  for (const d of r.detail) for (const v of d.couplingByStepLayer![0]) assert.equal(v, 0);
});

test("tagged particles: intraclass correlation of unit displacements ∝ M^(-1); odd functional p uncorrelated (L = 1)", () => {
  // L = 1: the correlation is ≈ c/(LM) (fields fluctuate by O((LM)^{-1/2})), largest at L = 1.
  const p = makeProblem(tanhSpec(1));
  const R = 256;
  const r = chaosDiagnostics(p, { widths: [16, 32, 64, 128, 256], R, seed: 1, diagnostics: ["tagged"], expectation: qmc });
  // Measured over base seeds 1..6: slopes −0.89..−1.02 (c = M·ρ ≈ 0.9–1.6, slightly growing
  // with M), sd ≈ 0.05: the tolerance ±0.25 is ≈ 5 sd.
  const s = r.slopes.tagCorrelation!;
  assert.ok(Math.abs(s + 1) <= 0.25, `slope ${s}; ρ ${r.tagCorrelation.join(", ")}`);
  for (const v of r.tagCorrelation) assert.ok(v! > 0);
  // "p" (odd in the unit: flipping z_j → −z_j flips p_j and leaves every field unchanged) has
  // correlation 0 exactly; the estimator's noise is ≈ √(2/(R−1))/(M−1). |z| < 4 for every width
  // (false failure ≈ 5 × 6e-5 if the z's are standard normal; measured |z| ≤ 2.3 over 6 seeds).
  for (const d of r.detail) {
    const z = d.tag!.p.intraclassByStep[2]! * (d.M - 1) / Math.sqrt(2 / (R - 1));
    assert.ok(Math.abs(z) < 4, `M = ${d.M}: p correlation z-score ${z}`);
  }
  // displacement is identically 0 at k = 0 (no correlation defined: null, never NaN)
  assert.equal(r.detail[0].tag!.displacement.intraclassByStep[0], null);
});

// ---------------------------------------------------------------- 3. twins are i.i.d.

function twinTrajectory(p: Problem, lim: ReturnType<typeof limitFields>, w: ResNetWeights, l: number, j: number): { twin: Float64Array; own: Float64Array } {
  const { D } = p.model;
  const K = lim.K, M = w.M;
  const twin = new Float64Array(K * 2 * D), own = new Float64Array(K * 2 * D);
  coupledRun(p, lim, w, {
    onStep: (sys) => {
      const o = (l * M + j) * D, k = sys.k;
      twin.set(sys.Ubar.subarray(o, o + D), k * 2 * D); twin.set(sys.Vbar.subarray(o, o + D), k * 2 * D + D);
      own.set(sys.Uk.subarray(o, o + D), k * 2 * D); own.set(sys.Vk.subarray(o, o + D), k * 2 * D + D);
    },
  });
  return { twin, own };
}

test("twins are i.i.d.: a twin's trajectory is bit-identical when the other particles are permuted or replaced", () => {
  const p = makeProblem(tanhSpec(3, 4));
  const lim = limitFields(p, { expectation: qmc });
  const { D } = p.model;
  const M = 9, l = 1, j = 4;
  const w = chaosWeights(p, M, 17);
  const ref = twinTrajectory(p, lim, w, l, j);
  // (a) permute the units of layer l: particle j moves to position 8 (the odd tail), others shuffled
  const perm = [3, 0, 7, 1, 8, 2, 6, 5, 4]; // new position i holds old unit perm[i]; old j = 4 → new 8
  const w2: ResNetWeights = { ...w, U: Float64Array.from(w.U), V: Float64Array.from(w.V) };
  for (let i = 0; i < M; i++) {
    w2.U.set(w.U.subarray((l * M + perm[i]) * D, (l * M + perm[i] + 1) * D), (l * M + i) * D);
    w2.V.set(w.V.subarray((l * M + perm[i]) * D, (l * M + perm[i] + 1) * D), (l * M + i) * D);
  }
  const a = twinTrajectory(p, lim, w2, l, 8);
  assert.deepEqual(Array.from(a.twin), Array.from(ref.twin));
  // (b) replace every other particle of every layer (another seed), keep particle (l, j)
  const w3 = chaosWeights(p, M, 99);
  w3.U.set(w.U.subarray((l * M + j) * D, (l * M + j + 1) * D), (l * M + j) * D);
  w3.V.set(w.V.subarray((l * M + j) * D, (l * M + j + 1) * D), (l * M + j) * D);
  const b = twinTrajectory(p, lim, w3, l, j);
  assert.deepEqual(Array.from(b.twin), Array.from(ref.twin));
  // the particle itself does feel the others (the coupling is not trivial)
  assert.ok(maxAbsDiff(b.own, ref.own) > 1e-6);
  // and its twin moved: after k ≥ 1 updates it differs from the initial value
  assert.ok(maxAbsDiff(ref.twin.subarray(3 * 2 * D), ref.twin.subarray(0, 2 * D)) > 1e-3);
});

test("twins pooled over runs follow the limit law of the particle sampler (hNode = ℓ−1, bNode = ℓ)", () => {
  const p = makeProblem(tanhSpec(2));
  const lim = limitFields(p, { expectation: { kind: "qmc", samples: 16384 } });
  const M = 256, R = 32, N = p.data.N, L = 2, k = 2;
  const pool = Array.from({ length: L * N }, () => new Float64Array(M * R));
  for (let r = 0; r < R; r++) {
    coupledRun(p, lim, chaosWeights(p, M, runSeed(5, r)), {
      onStep: (sys) => {
        if (sys.k !== k) return;
        for (let l = 0; l < L; l++) for (let jj = 0; jj < M; jj++) for (let n = 0; n < N; n++) pool[l * N + n][r * M + jj] = sys.Pbar[(l * M + jj) * N + n];
      },
    });
  }
  const Sn = 1 << 15, nT = M * R;
  // two-sample KS, α = 1e-3: 1.95 √(1/nT + 1/Sn) ≈ 0.028 (8 comparisons: family-wise false failure ≈ 8e-3;
  // the twins of one run are exactly i.i.d., runs are independent)
  const crit = 1.95 * Math.sqrt(1 / nT + 1 / Sn);
  for (let l = 0; l < L; l++) {
    const smp = limitLawSamples(lim.traj, { step: k, hNode: l, bNode: l + 1, samples: Sn, seed: 3 + l });
    for (let n = 0; n < N; n++) {
      const a = pool[l * N + n].slice().sort();
      const b = Float64Array.from({ length: Sn }, (_, t) => smp.p!.data[t * N + n]).sort();
      const ks = ksSorted(a, nT, b, Sn);
      assert.ok(ks < crit, `layer ${l + 1}, n = ${n}: KS ${ks.toFixed(4)} vs ${crit.toFixed(4)}`);
    }
  }
});

// ---------------------------------------------------------------- 4. bad input

test("chaos / largeWidth: bad input names the field", () => {
  const p = makeProblem(tanhSpec(2));
  const bad = (o: unknown, field: string, prob: Problem = p) =>
    assert.throws(() => resolveChaosOptions(prob, o), (e: unknown) => e instanceof ValidationError && e.field === field, field);
  bad({ Rr: 3 }, "solver.Rr");
  bad({ R: 0 }, "solver.R");
  bad({ R: 1 }, "solver.R");
  bad({ R: 1.5 }, "solver.R");
  bad({ widths: [] }, "solver.widths");
  bad({ widths: "16" }, "solver.widths");
  bad({ widths: [16, 8] }, "solver.widths");
  bad({ widths: [16, 0] }, "solver.widths[1]");
  bad({ widths: [1, 4] }, "solver.widths[0]");
  bad({ steps: 0 }, "solver.steps");
  bad({ diagnostics: [] }, "solver.diagnostics");
  bad({ diagnostics: ["coupling", "chaos"] }, "solver.diagnostics[1]");
  bad({ diagnostics: ["laws", "laws"] }, "solver.diagnostics");
  bad({ method: "monte-carlo" }, "solver.method");
  bad({ method: "particles" }, "solver.method"); // laws need the skeleton sampler
  bad({ lawSamples: -1 }, "solver.lawSamples");
  bad({ tagFunctional: "q" }, "solver.tagFunctional");
  bad({ seed: -1 }, "solver.seed");
  bad("fast", "solver");
  bad({}, "train.etaE", makeProblem({ ...tanhSpec(2), train: { steps: 3, etaU: 1, etaV: 1, etaE: 0.1 } }));
  bad({}, "train.etaO", makeProblem({ ...tanhSpec(2), train: { steps: 3, etaU: 1, etaV: 1, etaO: 0.1 } }));
  // R = 1 is fine without the tagged diagnostic; particles without laws are fine
  assert.equal(resolveChaosOptions(p, { R: 1, diagnostics: ["coupling"] }).R, 1);
  assert.equal(resolveChaosOptions(p, { method: "particles", diagnostics: ["coupling", "tagged"] }).limit.method, "particles");
  // largeWidth
  assert.throws(() => largeWidth({ scheme: "heun" } as never), (e: unknown) => e instanceof ValidationError && e.field === "options.scheme");
  assert.throws(() => largeWidth({ method: "particles", expectation: qmc }), (e: unknown) => e instanceof ValidationError && e.field === "options.expectation");
  const trained = makeProblem({ ...tanhSpec(2), train: { steps: 3, etaU: 1, etaV: 1, etaE: 0.1 } });
  assert.throws(() => solve(trained, largeWidth()), (e: unknown) => e instanceof ValidationError && e.field === "train.etaE");
  // coupled runs need a limit of the same shape
  const lim = limitFields(p, { expectation: qmc });
  const p3 = makeProblem(tanhSpec(3));
  assert.throws(() => coupledRun(p3, lim, chaosWeights(p3, 4, 1)), (e: unknown) => e instanceof ValidationError && e.field === "limit");
  assert.throws(() => coupledRun(p, lim, chaosWeights(p, 4, 1), { steps: 4 }), (e: unknown) => e instanceof ValidationError && e.field === "steps");
});
