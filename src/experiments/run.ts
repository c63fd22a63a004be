/**
 * One run of a sweep: a pure function of (sweep, run) — the same code in the
 * calling thread (workers: 0) and in worker threads, so rows do not depend on
 * where or in which order runs execute.
 */
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ValidationError } from "../core/errors.ts";
import { firstNonFiniteIn } from "../problem/trajectory.ts";
import { makeProblem } from "../problem/problem.ts";
import type { SweepRow } from "./rows.ts";
import { type NormalizedSweep, type RunSpec, runInputs } from "./spec.ts";
import { getTask, listTasks, type Task } from "./tasks.ts";

/** A task that is not registered, or a task module that cannot be imported: a ValidationError naming sweep.task / sweep.taskModules. */
export class UnknownTaskError extends ValidationError {}

/** Import the sweep's task modules (paths relative to `cwd`, or URLs / package names). */
export async function loadTaskModules(modules: string[], cwd = process.cwd()): Promise<void> {
  for (const m of modules) {
    const spec = m.startsWith("file:") || m.startsWith("node:") ? m
      : m.startsWith(".") || isAbsolute(m) ? pathToFileURL(resolve(cwd, m)).href : m;
    try {
      await import(spec);
    } catch (e) {
      throw new UnknownTaskError("sweep.taskModules", `lists ${JSON.stringify(m)}, which cannot be imported: ${(e as Error).message?.split("\n")[0] ?? String(e)}`);
    }
  }
}

export function resolveTask(name: string): Task {
  const t = getTask(name);
  if (!t) throw new UnknownTaskError("sweep.task", `names an unknown task ${JSON.stringify(name)} (registered: ${listTasks().join(", ")}; register it in src/experiments/tasks.ts or in a module listed in the sweep's taskModules)`);
  return t;
}

/** Plain JSON form of task values (typed arrays → arrays). */
function plain(v: unknown): unknown {
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === "object") {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = plain(x);
    return o;
  }
  return v;
}

/**
 * Run one point × repetition and return its row (already in plain-JSON form:
 * JSON.parse(JSON.stringify(row)) gives back the same row). Errors thrown by
 * the task (divergence, bad options) are recorded in `row.error`.
 */
export async function runOne(s: NormalizedSweep, run: RunSpec, task: Task = resolveTask(s.task)): Promise<SweepRow> {
  const t0 = performance.now();
  const { problem: input, taskOptions } = runInputs(s, run);
  const row: SweepRow = {
    id: run.id, index: run.index, point: run.point, rep: run.rep, seed: run.seed, task: s.task, sweep: s.fingerprint,
    shape: { L: 0, M: 0, D: 0, N: 0, steps: 0 },
  };
  try {
    const problem = makeProblem(input);
    row.shape = { L: problem.model.L, M: problem.model.M, D: problem.model.D, N: problem.data.N, steps: problem.train.steps };
    const values = plain(await task(problem, { run, options: taskOptions })) as Record<string, unknown>;
    // a row file is JSON: a non-finite value would silently become null there
    const bad = firstNonFiniteIn(values, "values");
    if (bad) throw new ValidationError(bad.path, `is ${bad.value}: task ${JSON.stringify(s.task)} returned a non-finite value (a row holds finite numbers only, never null for a number)`);
    row.values = values;
  } catch (e) {
    row.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
  row.meta = { ms: Math.round((performance.now() - t0) * 1000) / 1000 };
  return JSON.parse(JSON.stringify(row)) as SweepRow;
}
