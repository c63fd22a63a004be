/**
 * Sweep workers start behind the shared bootstrap (src/parallel/bootstrap.ts): a worker
 * that cannot load its entry, or does not get ready within the start-up limit, ends the
 * sweep with a SweepError naming the cause — never a hang (the Deno hang of issue 14:
 * under Deno the sources' worker entry loads without tsx, see workerEntry).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { injectSweepWorkerFaultForTests, runSweep, SweepError, sweepPoolOptions } from "../src/experiments/sweep.ts";
import type { SweepSpec } from "../src/experiments/spec.ts";
import { workerEntry } from "../src/parallel/bootstrap.ts";

const spec: SweepSpec = {
  problem: { model: { D: 4 }, data: { generator: "teacher", dIn: 2, dOut: 1, N: 2, seed: 1 }, train: { steps: 2, etaU: 0.2, etaV: 0.2 }, seed: 3 },
  grid: { L: [2, 3] },
  repetitions: 2,
  task: "finite-vs-reference",
  taskOptions: { reference: { L: 4, M: 4 } },
};

test("a sweep worker that cannot load its entry is a SweepError naming the file", async () => {
  injectSweepWorkerFaultForTests("load");
  try {
    await assert.rejects(runSweep(spec, { workers: 2 }), (e: Error) => e instanceof SweepError && /failed to start: could not load .*sweep-worker-missing\.ts/.test(e.message));
  } finally {
    injectSweepWorkerFaultForTests(null);
  }
  const ok = await runSweep(spec, { workers: 2 });
  assert.equal(ok.rows.length, 4);
});

test("a sweep worker that does not get ready within the start-up limit is a SweepError", async () => {
  const saved = sweepPoolOptions.startMs;
  sweepPoolOptions.startMs = 1;
  try {
    await assert.rejects(runSweep(spec, { workers: 2 }), (e: Error) => e instanceof SweepError && /did not start within/.test(e.message));
  } finally {
    sweepPoolOptions.startMs = saved;
  }
});

test("worker entries: compiled .js beside the caller; .ts through tsx from the sources", () => {
  assert.deepEqual(workerEntry("file:///p/dist/experiments/sweep.js", "sweep-worker"), { target: "file:///p/dist/experiments/sweep-worker.js", api: null });
  const src = workerEntry("file:///p/src/experiments/sweep.ts", "sweep-worker");
  assert.equal(src.target, "file:///p/src/experiments/sweep-worker.ts");
  assert.match(src.api!, /tsx/); // Node: tsx's API; Deno / Bun: null (they run TypeScript)
});
