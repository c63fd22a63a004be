/**
 * The fuzz campaign of issue 10, long version (`npm run verify`): the fast
 * campaign of test/fuzz.test.ts over 3 × 20000 cases with other seeds.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { runCampaign, summary } from "../helpers/fuzz-driver.ts";

const ENV = { LIMITDYN_MAX_MEMORY: "256M", LIMITDYN_MAX_WORK: "3e7" };
const MEMORY_BOUND = 768 * 2 ** 20;

for (const seed of [1, 2, 3]) {
  test(`fuzz (long), seed ${seed}: 20000 mutated inputs → finite output or a named library error; no hang, no slow case, no memory beyond the resource model`, { timeout: 1_800_000 }, async (t) => {
    const r = await runCampaign({ seed, cases: 20000, slowMs: 20_000, hangMs: 60_000, memoryBytes: MEMORY_BOUND, env: ENV });
    for (const line of summary(r).split("\n")) t.diagnostic(line);
    for (const f of r.failures.slice(0, 40)) t.diagnostic(`FAIL ${f.outcome} #${f.i} ${f.text} → ${f.detail}`);
    assert.deepEqual(r.failures.map((f) => `${f.outcome}: ${f.text} → ${f.detail}`), []);
    assert.ok(r.peakGrowth < MEMORY_BOUND, `peak memory growth ${r.peakGrowth}`);
  });
}
