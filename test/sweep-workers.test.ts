/**
 * Sweep workers never leave a sweep waiting: a worker that does not get ready within the
 * pool's start limit ends the sweep with a SweepError (load failures: test/pool.test.ts).
 * The Deno hang of issue 14 (tsx registered in a Deno worker never finished) is gone at
 * its root: on a runtime that runs TypeScript itself, worker entries load without tsx.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { runSweep, SweepError } from "../src/experiments/sweep.ts";
import type { SweepSpec } from "../src/experiments/spec.ts";
import { getPoolOptions, setPoolOptions, shutdownPool } from "../src/parallel/pool.ts";
import { NATIVE_TS, workerEntry } from "../src/parallel/bootstrap.ts";

const spec: SweepSpec = {
  problem: { model: { D: 4 }, data: { generator: "teacher", dIn: 2, dOut: 1, N: 2, seed: 1 }, train: { steps: 2, etaU: 0.2, etaV: 0.2 }, seed: 3 },
  grid: { L: [2, 3] },
  repetitions: 2,
  task: "finite-vs-reference",
  taskOptions: { reference: { L: 4, M: 4 } },
};

test("a sweep worker that does not get ready within the start limit is a SweepError, not a hang", async () => {
  const saved = getPoolOptions().startMs;
  setPoolOptions({ startMs: 1 });
  try {
    await assert.rejects(runSweep(spec, { workers: 2 }), (e: Error) => e instanceof SweepError && /did not get ready within/.test(e.message));
  } finally {
    setPoolOptions({ startMs: saved });
    await shutdownPool();
  }
  const ok = await runSweep(spec, { workers: 2 });
  assert.equal(ok.rows.length, 4);
});

test("worker entries: compiled .js beside the caller; .ts through tsx from the sources (directly under Deno / Bun)", () => {
  assert.deepEqual(workerEntry("file:///p/dist/experiments/sweep.js", "sweep-worker"), { target: "file:///p/dist/experiments/sweep-worker.js", api: null });
  const src = workerEntry("file:///p/src/experiments/sweep.ts", "sweep-worker");
  assert.equal(src.target, "file:///p/src/experiments/sweep-worker.ts");
  assert.equal(NATIVE_TS, false, "this is Node");
  assert.match(src.api!, /tsx/);
});
