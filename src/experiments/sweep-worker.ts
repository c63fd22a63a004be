/**
 * Worker-thread side of the sweep runner. Protocol (parentPort messages):
 *   in:  { type: "init", sweep, cwd }        → out: { type: "ready" } | { type: "fatal", message }
 *   in:  { type: "run", run }                → out: { type: "row", row }
 * Each run is independent (runOne), so a worker holds no state between runs
 * except task-level caches keyed by their inputs.
 */
import { parentPort } from "node:worker_threads";
import type { NormalizedSweep, RunSpec } from "./spec.ts";
import { loadTaskModules, resolveTask, runOne } from "./run.ts";
import type { Task } from "./tasks.ts";

if (!parentPort) throw new Error("sweep-worker.ts must run in a worker thread");
const port = parentPort;
let sweep: NormalizedSweep | null = null;
let task: Task | null = null;

port.on("message", async (msg: { type: "init"; sweep: NormalizedSweep; cwd: string } | { type: "run"; run: RunSpec }) => {
  try {
    if (msg.type === "init") {
      await loadTaskModules(msg.sweep.taskModules, msg.cwd);
      task = resolveTask(msg.sweep.task);
      sweep = msg.sweep;
      port.postMessage({ type: "ready" });
    } else if (msg.type === "run") {
      if (!sweep || !task) throw new Error("run before init");
      port.postMessage({ type: "row", row: await runOne(sweep, msg.run, task) });
    }
  } catch (e) {
    port.postMessage({ type: "fatal", message: e instanceof Error ? e.message : String(e) });
  }
});
