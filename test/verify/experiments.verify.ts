/**
 * Long check (`npm run verify`): the three reproduction presets at
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
