/**
 * The fuzz campaign of issue 10, fast version (test/verify/fuzz.verify.ts runs
 * the long one): valid inputs of every public entry mutated by fast-check
 * (fixed seed; test/helpers/fuzz.ts lists the entries and the mutations), run
 * in a child process under a watchdog with the resource limits set low
 * (LIMITDYN_MAX_MEMORY = 256M, LIMITDYN_MAX_WORK = 3e7). Every case must
 * return finite values or throw a library error that names its field (or a
 * DivergenceError naming its step and quantity); none may run longer than the
 * time bound, hang, or grow the process beyond the memory bound.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { runCampaign, summary } from "./helpers/fuzz-driver.ts";
import { ENTRIES } from "./helpers/fuzz.ts";

export const FUZZ_ENV = { LIMITDYN_MAX_MEMORY: "256M", LIMITDYN_MAX_WORK: "3e7" };
/** Memory bound: the limit plus the JavaScript heap's own working set. */
export const MEMORY_BOUND = 768 * 2 ** 20;

test("fuzz (fast): 6000 mutated inputs of every public entry → finite output or a named library error; no hang, no slow case, no memory beyond the resource model", { timeout: 300_000 }, async (t) => {
  const r = await runCampaign({ seed: 20260, cases: 6000, slowMs: 20_000, hangMs: 60_000, memoryBytes: MEMORY_BOUND, env: FUZZ_ENV });
  for (const line of summary(r).split("\n")) t.diagnostic(line);
  for (const f of r.failures.slice(0, 20)) t.diagnostic(`FAIL ${f.outcome} #${f.i} ${f.text} → ${f.detail}`);
  assert.equal(r.ran, r.planned);
  assert.deepEqual(r.failures.map((f) => `${f.outcome}: ${f.text} → ${f.detail}`), []);
  // every entry was exercised, and valid-input baselines returned
  for (const e of ENTRIES) assert.ok(r.byEntry[e.name], `entry ${e.name} never drawn`);
  assert.ok(r.counts.ok > 0 && r.counts.rejected > 0 && r.counts.refused > 0 && r.counts.diverged > 0, JSON.stringify(r.counts));
  assert.ok(r.peakGrowth < MEMORY_BOUND, `peak memory growth ${r.peakGrowth}`);
});
