/**
 * Long check (`npm run verify`): the reproduction presets at
 * `--scale small` (≈ 1–1.5 min each on 2 cores), exponents against the theory
 * with tolerances tighter than the tiny-ladder test (test/experiments-presets.test.ts).
 * Measured values are in docs/presets/*.md.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runPreset } from "../../src/experiments/index.ts";

const dir = mkdtempSync(join(tmpdir(), "limitdyn-verify-presets-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const near = (x: number, t: number, tol: number, what: string) => assert.ok(Math.abs(x - t) <= tol, `${what}: ${x.toFixed(3)} vs ${t} ± ${tol}`);

test("all-shapes --scale small: L ≈ −1, M ≈ −1/2 (vs Mean ODE), D ≈ −1/2 (vs DMFT)", async () => {
  const s = await runPreset("all-shapes", { out: join(dir, "all-shapes"), log: null });
  near(s.exponents.L, -1, 0.08, "L");
  near(s.exponents.M, -0.5, 0.15, "M");
  near(s.exponents.D, -0.5, 0.2, "D");
  assert.ok(s.ci.L[0] <= -0.95 && s.ci.L[1] >= -1.1, `L interval ${s.ci.L}`);
  assert.ok(s.ci.M[0] <= -0.5 && s.ci.M[1] >= -0.5, `M interval ${s.ci.M} holds −1/2`);
  near(s.other!.exponents.M!, -0.5, 0.1, "M (embedding space)");
  assert.ok(existsSync(join(dir, "all-shapes", "err-vs-P.svg")));
});

test("hidden-width --scale small: L, M exponents; D: output error not growing like √D, embedding error ≈ +1/2", async () => {
  const s = await runPreset("hidden-width", { out: join(dir, "hidden-width"), log: null });
  near(s.exponents.L, -1, 0.08, "L");
  near(s.exponents.M, -0.5, 0.15, "M");
  assert.ok(s.exponents.D < 0.25, `output D exponent ${s.exponents.D} stays below the bound's +1/2`);
  near(s.other!.exponents.D!, 0.5, 0.15, "D (embedding space, √(D/(LM)) tight)");
});

test("trajectories --scale small: embedding-space exponents and figures", async () => {
  const s = await runPreset("trajectories", { out: join(dir, "trajectories"), log: null });
  near(s.exponents.M, -0.5, 0.12, "M (embedding)");
  near(s.exponents.D, -0.5, 0.2, "D (embedding)");
  assert.ok(s.exponents.L < -0.7, `L (embedding) ${s.exponents.L}`);
  for (const f of ["coordinates.svg", "coordinates-k0.svg", "preactivations.svg"]) assert.ok(existsSync(join(dir, "trajectories", f)), f);
});

test("chen --scale small: test error falls with n (exponent < 0, p < 0.05), realised rates match the first-order prediction, the limits' λ_min next to the finite ones, KL grows from 0", async () => {
  const s = await runPreset("chen", { out: join(dir, "chen"), log: null });
  assert.ok(!("error" in s.testError.fit), "OLS fit");
  if (!("error" in s.testError.fit)) {
    assert.ok(s.testError.fit.exponent < 0 && s.testError.fit.ci[1] < 0 && s.testError.fit.pValue < 0.05, `exponent ${s.testError.fit.exponent}, interval ${s.testError.fit.ci}, p ${s.testError.fit.pValue}`);
  }
  assert.ok(s.testError.sizes.length >= 6 && s.testError.reps >= 10);
  for (const c of s.convergence) {
    assert.ok(c.maxFirstOrderGap < 0.02, `${c.name}: first-order gap ${c.maxFirstOrderGap}`);
    assert.ok(c.realisedRate < 1, `${c.name}: the loss decreases`);
  }
  assert.equal(s.kl.meanOde[0], 0);
  assert.ok(s.kl.meanOde[s.gram.K - 1] > 0 && s.kl.dmft[s.gram.K - 1] > 0);
  // the widest, deepest finite model's λ_min at the last step is within a factor 3 of the Mean ODE's
  const last = (name: string) => s.gram.runs.find((r) => r.name.startsWith(name))!.lambdaMin[s.gram.K - 1];
  const ratio = last("finite L=32, M=256") / last("Mean ODE");
  assert.ok(ratio > 1 / 3 && ratio < 3, `λ_min ratio ${ratio}`);
  assert.ok(s.runtimeSec < 120, `runtime ${s.runtimeSec} s`);
});
