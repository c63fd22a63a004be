/**
 * Divergence, per solver (issue 10): for the finite ResNet, the Mean ODE
 * (skeleton and particles), the DMFT, the M = ∞ ResNet (largeWidth) and the
 * chaos simulator, with linear and tanh activations and learning rates
 * η = 1e3 … 1e12, a run either throws a DivergenceError naming the step
 * (0 ≤ step < K) and the quantity — and the same run stopped before that
 * step is finite — or returns finite values only, with the documented
 * explosion warning when its loss grew by more than 1e12 (docs/robustness.md).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type Algorithm, chaosSimulator, DivergenceError, dmft, finiteResNet, largeWidth, makeProblem, meanOde, solve, type Trajectory,
} from "../src/index.ts";
import { EXPLOSION_FACTOR } from "../src/problem/trajectory.ts";

const K = 8;
const cheap = { rule: "sobol" as const, points: 64, randomizations: 2 };

function problem(activation: string, eta: number, steps = K) {
  return makeProblem({
    model: { L: 3, M: 4, D: 4, activation },
    data: { X: [[1, 0.5, -1], [0.5, -1, 0.8]], Y: [[0.3, -0.2, 0.5]] },
    train: { steps, etaU: eta, etaV: eta },
    seed: 3,
  });
}

/**
 * [name, algorithm, the algorithm of one computation whose steps are causal (for the check that the
 * run stopped before the failing step is finite; null: a composite solver — chaos solves the limit,
 * then the finite models, and each may fail at its own step)].
 */
const SOLVERS: [string, (act: string) => Algorithm, ((act: string) => Algorithm) | null][] = [
  ["finiteResNet", () => finiteResNet({ threads: 1 }), () => finiteResNet({ threads: 1 })],
  ["meanOde/skeleton", (act) => meanOde(act === "linear" ? {} : { expectation: cheap }), (act) => meanOde(act === "linear" ? { depthError: false } : { expectation: cheap, depthError: false })],
  ["meanOde/particles", () => meanOde({ method: "particles", particles: 64, depthSteps: 4, richardson: false }), () => meanOde({ method: "particles", particles: 64, depthSteps: 4, richardson: false })],
  ["dmft", (act) => dmft(act === "linear" ? {} : { expectation: cheap }), (act) => dmft(act === "linear" ? { depthError: false } : { expectation: cheap, depthError: false })],
  ["largeWidth", (act) => largeWidth(act === "linear" ? {} : { expectation: cheap }), (act) => largeWidth(act === "linear" ? {} : { expectation: cheap })],
  ["chaos", (act) => chaosSimulator({ R: 2, widths: [2, 4], lawSamples: 128, ...(act === "linear" ? {} : { expectation: cheap }) }), null],
];

function allFinite(t: Trajectory): boolean {
  return t.loss.every(Number.isFinite) && (t.f.data as Float64Array).every(Number.isFinite);
}

for (const [name, alg, single] of SOLVERS) {
  for (const act of ["linear", "tanh"]) {
    test(`divergence: ${name}, ${act}, η = 1e3 … 1e12 → DivergenceError naming the step, or finite values (with the explosion warning when the loss grew > 1e12)`, { timeout: 120_000 }, () => {
      const outcomes: string[] = [];
      for (const eta of [1e3, 1e6, 1e9, 1e12]) {
        let t: Trajectory | undefined;
        try {
          t = solve(problem(act, eta), alg(act));
        } catch (e) {
          assert.ok(e instanceof DivergenceError, `η = ${eta}: ${(e as Error).constructor.name}: ${(e as Error).message}`);
          assert.ok(Number.isInteger(e.step) && e.step >= 0 && e.step < K, `η = ${eta}: step ${e.step}`);
          assert.ok(e.quantity.length > 0 && e.message.includes(`step ${e.step}`), e.message);
          outcomes.push(`η=${eta}: step ${e.step} ${e.quantity}`);
          // one computation stopped before its failing step is finite
          if (single) {
            let err: DivergenceError | undefined;
            try {
              solve(problem(act, eta), single(act));
            } catch (x) {
              assert.ok(x instanceof DivergenceError, (x as Error).message);
              err = x;
            }
            if (err && err.step >= 1) {
              const before = solve(problem(act, eta, err.step), single(act));
              assert.ok(allFinite(before), `η = ${eta}: the run of ${err.step} steps is not finite`);
            }
          }
          continue;
        }
        assert.ok(allFinite(t), `η = ${eta}: non-finite values returned`);
        const growth = Math.max(...t.loss) / t.loss[0];
        if (growth > EXPLOSION_FACTOR) assert.ok(t.warnings?.some((w) => w.includes("explodes")), `η = ${eta}: the loss grew ×${growth} without a warning`);
        outcomes.push(`η=${eta}: finite${t.warnings?.length ? " (warned)" : ""}`);
      }
      // at least the largest rates diverge (or explode) for every solver
      assert.ok(outcomes.some((o) => o.includes("step") || o.includes("warned")), outcomes.join("; "));
    });
  }
}

test("the explosion warning: a finite run whose loss grows by more than 1e12 says so; a moderate one does not", () => {
  // a linear finite ResNet at a rate that makes the loss grow fast without overflowing within 3 steps
  let warned: Trajectory | undefined;
  for (const eta of [30, 100, 300, 1000, 3000]) {
    try {
      const t = solve(problem("linear", eta, 3), finiteResNet({ threads: 1 }));
      if (Math.max(...t.loss) / t.loss[0] > EXPLOSION_FACTOR) { warned = t; break; }
    } catch (e) {
      assert.ok(e instanceof DivergenceError);
    }
  }
  assert.ok(warned, "no rate gave a finite exploding run");
  assert.ok(warned.warnings!.some((w) => w.includes("explodes") && w.includes("step")), JSON.stringify(warned.warnings));
  const calm = solve(problem("tanh", 0.1, 3), finiteResNet({ threads: 1 }));
  assert.equal(calm.warnings, undefined);
});
