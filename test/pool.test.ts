/**
 * The one worker pool (src/parallel/pool.ts) as the finite engine, the
 * skeleton and sweeps use it: one options type, one thread budget that caps
 * nested parallelism (sweep workers × inner threads ≤ cores by default), one
 * fault hook and load-failure report for every kind of worker (a sweep worker
 * that cannot load is a SweepError naming the cause, never a hang).
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { ValidationError } from "../src/core/errors.ts";
import { tanh } from "../src/core/activations.ts";
import {
  checkThreads, injectWorkerFaultForTests, poolInfo, setThreadBudget, shutdownPool, threadBudget,
} from "../src/parallel/pool.ts";
import { resolveThreads } from "../src/resnet/parallel.ts";
import { resolveSkeletonThreads } from "../src/skeleton/parallel.ts";
import { runSweep, SweepError } from "../src/experiments/sweep.ts";
import type { SweepSpec } from "../src/experiments/spec.ts";

const dir = mkdtempSync(join(tmpdir(), "limitdyn-pool-"));
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await shutdownPool();
});

test("one threads option type: positive integers (≤ max) or \"auto\", the error names the field", () => {
  assert.equal(checkThreads("x.threads", "auto"), "auto");
  assert.equal(checkThreads("x.threads", 3), 3);
  for (const bad of [0, 1.5, -1, "2", null]) assert.throws(() => checkThreads("x.threads", bad), (e: unknown) => e instanceof ValidationError && e.field === "x.threads");
  assert.throws(() => checkThreads("s.threads", 3, 2), /must be 1, 2 or "auto"/);
});

test("the thread budget caps \"auto\" in the finite engine and the skeleton", () => {
  const cores = availableParallelism();
  assert.equal(threadBudget(), cores);
  try {
    setThreadBudget(1);
    assert.equal(resolveThreads("auto", 4096, 64, 8, tanh, 4), 1);
    assert.equal(resolveSkeletonThreads("auto", 1 << 16, 16, 8), 1);
    assert.equal(resolveThreads(2, 4096, 64, 8, tanh, 4), 2, "an explicit count is not capped");
    setThreadBudget(2);
    assert.equal(resolveThreads("auto", 4096, 64, 8, tanh, 4), 2);
  } finally {
    setThreadBudget(0);
  }
  assert.equal(threadBudget(), cores);
});

const problem = {
  model: { L: 1, M: 1, D: 2 },
  data: { generator: "teacher", dIn: 1, dOut: 1, N: 1, seed: 1 },
  train: { steps: 1, etaU: 0.1, etaV: 0.1 },
};

test("sweep workers get cores / workers threads each (nested parallelism capped by default)", async () => {
  const mod = join(dir, "budget-task.mts");
  const poolUrl = new URL("../src/parallel/pool.ts", import.meta.url).href;
  const tasksUrl = new URL("../src/experiments/tasks.ts", import.meta.url).href;
  writeFileSync(mod, `import { registerTask } from ${JSON.stringify(tasksUrl)};
import { threadBudget } from ${JSON.stringify(poolUrl)};
registerTask("thread-budget", () => ({ budget: threadBudget() }));\n`);
  const spec: SweepSpec = { problem, grid: { L: [1, 2, 3, 4] }, task: "thread-budget", taskModules: [mod] };
  const cores = availableParallelism();
  for (const workers of [0, 1, 2]) {
    const r = await runSweep(spec, { workers });
    const budgets = r.rows.map((row) => row.values!.budget as number);
    const want = workers === 0 ? cores : Math.max(1, Math.floor(cores / workers));
    assert.deepEqual(budgets, [want, want, want, want], `workers = ${workers}`);
    if (workers > 0) assert.ok(want * workers <= Math.max(cores, workers), `workers × budget = ${want * workers} > cores = ${cores}`);
  }
  assert.equal(poolInfo().openSessions, 0, "the sweep released its lease");
});

test("a sweep worker that cannot load is a SweepError naming the cause, not a hang", async () => {
  const spec: SweepSpec = { problem, grid: { L: [1, 2] }, task: "synthetic-rate" };
  injectWorkerFaultForTests("load");
  try {
    await assert.rejects(runSweep(spec, { workers: 1 }), (e: unknown) => e instanceof SweepError && /could not load .*sweep-worker-missing/.test((e as Error).message));
  } finally {
    injectWorkerFaultForTests(null);
  }
  const ok = await runSweep(spec, { workers: 1 });
  assert.equal(ok.rows.length, 2);
  assert.equal(poolInfo().openSessions, 0);
});
