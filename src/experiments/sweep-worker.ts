/**
 * Worker-thread side of the sweep runner (a pooled worker: src/parallel/pool.ts,
 * started by its bootstrap). Protocol (parentPort messages):
 *   in:  { type: "init", sweep, cwd, threads } → out: { type: "ready" } | { type: "fatal", message }
 *   in:  { type: "run", run }                  → out: { type: "row", row }
 * `threads` is this worker's thread budget (cores / sweep workers). Each run is
 * independent (runOne), so a worker holds no state between runs except
 * task-level caches keyed by their inputs.
 */
import { parentPort, workerData } from "node:worker_threads";
import { beat, serveWorker, setThreadBudget, type WorkerBoot } from "../parallel/pool.ts";
import type { NormalizedSweep, RunSpec } from "./spec.ts";
import { loadTaskModules, resolveTask, runOne } from "./run.ts";
import type { Task } from "./tasks.ts";
import { type ResourceLimits, setResourceLimits } from "../core/resources.ts";

if (!parentPort) throw new Error("sweep-worker.ts must run in a worker thread"); // not a library error: a packaging fault
const port = parentPort;
const boot = workerData as WorkerBoot;
let sweep: NormalizedSweep | null = null;
let task: Task | null = null;

type Msg = { type: "init"; sweep: NormalizedSweep; cwd: string; threads: number; limits?: Partial<ResourceLimits> } | { type: "run"; run: RunSpec };

serveWorker(port, boot, async (m) => {
  const msg = m as Msg;
  try {
    if (msg.type === "init") {
      setThreadBudget(msg.threads);
      if (msg.limits) setResourceLimits(msg.limits); // the calling thread's setResourceLimits (the environment is inherited)
      await loadTaskModules(msg.sweep.taskModules, msg.cwd);
      task = resolveTask(msg.sweep.task);
      sweep = msg.sweep;
      port.postMessage({ type: "ready" });
    } else if (msg.type === "run") {
      if (!sweep || !task) throw new Error("run before init");
      port.postMessage({ type: "row", row: await runOne(sweep, msg.run, task) });
      beat(boot);
    }
  } catch (e) {
    port.postMessage({ type: "fatal", message: e instanceof Error ? e.message : String(e) });
  }
});
