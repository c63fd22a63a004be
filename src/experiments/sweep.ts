/**
 * The sweep runner: expand a sweep, keep this shard's runs, skip the runs the
 * output file already holds (resume), run the rest in the calling thread
 * (`workers: 0`) or on worker threads, and append one JSON line per finished
 * run (flushed). Each run is a pure function of (sweep, run) — see run.ts —
 * so rows do not depend on the number of workers or on the execution order;
 * only the order of lines in the file does (merge / readRows + sort by index
 * give the canonical order).
 */
import type { Worker } from "node:worker_threads";
import { deathOf, getPoolOptions, release, takeWorkers, threadBudget } from "../parallel/pool.ts";
import { LimitdynError, ValidationError } from "../core/errors.ts";
import { isPlainObject, show } from "../core/validate.ts";
import { resourceLimits, resourceOverride } from "../core/resources.ts";
import { Progress, type ProgressMode } from "./progress.ts";
import { dedupeRows, prepareResume, RowLock, RowWriter, type SweepRow } from "./rows.ts";
import { loadTaskModules, resolveTask, runOne } from "./run.ts";
import { makeProblem } from "../problem/problem.ts";
import { expandSweep, inShard, normalizeSweep, type NormalizedSweep, parseShard, type RunSpec, runInputs, type Shard, type SweepSpec } from "./spec.ts";

export interface RunSweepOptions {
  /** Output .jsonl file: rows are appended as runs finish; existing rows are kept and their runs skipped (resume). */
  out?: string;
  /** Worker threads (0 = run in the calling thread; default 0). */
  workers?: number;
  /** Run only shard i of n (`"i/n"`, 1-based): runs with index mod n = i − 1. */
  shard?: Shard | string;
  /** Run at most this many new runs, then stop (the rest is left for a later resume). */
  maxRuns?: number;
  /** Abort: stop dispatching, terminate workers; rows already written stay (runs in flight are redone on resume). */
  signal?: AbortSignal;
  /** Progress on stderr (default "none" in the API; the CLI uses "auto": a bar on a TTY, lines otherwise). */
  progress?: ProgressMode;
  /** fsync after each row (default true). */
  fsync?: boolean;
  /** Called with each new row, after it is written. */
  onRow?: (row: SweepRow) => void;
}

export interface SweepResult {
  /** All rows of this shard's planned runs (previously written and new), ordered by run index. */
  rows: SweepRow[];
  /** Runs planned for this shard. */
  planned: number;
  /** Planned runs found in the output file and skipped. */
  skipped: number;
  /** Runs executed now. */
  ran: number;
  /** Rows (old or new) whose task failed (`row.error`). */
  failed: number;
  /** Every planned run has a row. */
  complete: boolean;
}

export class SweepError extends LimitdynError {}

/** Sweep workers run ./sweep-worker.ts (pool workers of their own kind: they hold task caches, so a sweep retires them at its end). */
export const SWEEP_WORKERS = { url: import.meta.url, name: "sweep-worker" };

/**
 * Run on `n` pooled worker threads. Each gets the thread budget cores / n
 * (at least 1) for its own inner parallelism (finite-engine and skeleton
 * "auto" threads), so sweep workers × inner threads ≤ cores.
 */
async function runOnWorkers(s: NormalizedSweep, runs: RunSpec[], n: number, onRow: (row: SweepRow) => void, signal?: AbortSignal): Promise<void> {
  const count = Math.min(n, runs.length);
  if (count === 0) return;
  const threads = Math.max(1, Math.floor(threadBudget() / count));
  // the workers run at the same time: each gets its share of the memory limit (the work limit is per run)
  const limits = { ...resourceOverride(), memory: resourceLimits().memory / count };
  const lease = takeWorkers(SWEEP_WORKERS, count);
  try {
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      let inFlight = 0;
      let finished = false;
      let watchdog: ReturnType<typeof setInterval> | undefined;
      const finish = (err?: Error) => {
        if (finished) return;
        finished = true;
        if (watchdog !== undefined) clearInterval(watchdog);
        signal?.removeEventListener("abort", onAbort);
        if (err) reject(err); else resolve();
      };
      const onAbort = () => finish();
      const dispatch = (w: Worker) => {
        if (finished) return;
        if (signal?.aborted || next >= runs.length) {
          if (inFlight === 0) finish();
          return;
        }
        inFlight++;
        w.postMessage({ type: "run", run: runs[next++] });
      };
      signal?.addEventListener("abort", onAbort);
      // a worker that never gets ready (its entry or the task modules hang while loading: e.g. tsx
      // registered in a Deno worker, issue 14) ends the sweep after the pool's start limit
      const notReady = new Set(lease.workers.map((p) => p.w));
      const t0 = Date.now();
      const { startMs } = getPoolOptions();
      watchdog = setInterval(() => {
        if (finished || notReady.size === 0) return clearInterval(watchdog);
        if (Date.now() - t0 > startMs) finish(new SweepError(`${notReady.size} sweep worker thread${notReady.size > 1 ? "s" : ""} did not get ready within ${startMs / 1000} s (startMs, LIMITDYN_WORKER_START_MS); use workers: 0`));
      }, Math.max(1, Math.min(250, startMs)));
      for (const p of lease.workers) {
        const w = p.w;
        w.ref(); // pooled workers are unref'd: the sweep waits for their messages, so they must keep the process alive meanwhile
        const name = `sweep worker thread #${p.id}`;
        w.on("message", (m: { type: string; row?: SweepRow; message?: string }) => {
          if (finished) return;
          if (m.type === "ready") {
            notReady.delete(w);
            dispatch(w);
          }
          else if (m.type === "row") {
            inFlight--;
            try {
              onRow(m.row!);
            } catch (e) {
              finish(e as Error);
              return;
            }
            dispatch(w);
          } else if (m.type === "fatal") finish(new SweepError(`worker: ${m.message}`));
        });
        w.on("error", (e) => finish(new SweepError(`${name} failed: ${deathOf(p) ?? e.message}`)));
        w.on("exit", (code) => finish(new SweepError(`${name} exited unexpectedly (code ${code})${deathOf(p)?.startsWith("could not load") ? `: ${deathOf(p)}` : ""}`)));
        w.postMessage({ type: "init", sweep: s, cwd: process.cwd(), threads, limits });
      }
    });
  } finally {
    await release(lease, true);
  }
}

/** Run (or resume) a sweep. */
export async function runSweep(spec: SweepSpec | NormalizedSweep, opts: RunSweepOptions = {}): Promise<SweepResult> {
  const s = isPlainObject(spec) && "fingerprint" in spec ? (spec as NormalizedSweep) : normalizeSweep(spec);
  if (!isPlainObject(opts as unknown)) throw new ValidationError("options", `must be an object of sweep options (got ${show(opts)})`);
  const shard = typeof opts.shard === "string" ? parseShard(opts.shard) : opts.shard;
  const workers = opts.workers ?? 0;
  if (!Number.isInteger(workers) || workers < 0) throw new ValidationError("options.workers", `must be a non-negative integer (got ${show(workers)})`);
  await loadTaskModules(s.taskModules);
  const task = resolveTask(s.task); // fail early on an unknown task

  const planned = expandSweep(s).filter((r) => inShard(r, shard));
  const plannedById = new Map(planned.map((r) => [r.id, r]));
  const old = new Map<string, SweepRow>();
  // one writer per row file: a second sweep on it is refused, a killed one's lock is taken over
  const lock = opts.out !== undefined ? new RowLock(opts.out) : null;
  try {
    return await runLocked(s, opts, task, planned, plannedById, old);
  } finally {
    lock?.release();
  }
}

async function runLocked(s: NormalizedSweep, opts: RunSweepOptions, task: ReturnType<typeof resolveTask>, planned: RunSpec[], plannedById: Map<string, RunSpec>, old: Map<string, SweepRow>): Promise<SweepResult> {
  const workers = opts.workers ?? 0;
  if (opts.out !== undefined) {
    const existing = prepareResume(opts.out);
    for (const row of dedupeRows(existing.rows)) {
      if (row.sweep !== s.fingerprint) {
        throw new SweepError(`${opts.out} holds rows of a different sweep (fingerprint ${row.sweep}, this sweep ${s.fingerprint}: problem, task, task options or seeds differ); use another --out`);
      }
      const r = plannedById.get(row.id);
      if (!r) continue; // another shard's row, or a point no longer in the grid: kept in the file, ignored here
      if (r.index !== row.index || r.seed !== row.seed) throw new SweepError(`${opts.out}: run ${row.id} has index ${row.index} / seed ${row.seed} but the sweep now gives ${r.index} / ${r.seed} (the grid changed order); use another --out`);
      old.set(row.id, row);
    }
  }
  let pending = planned.filter((r) => !old.has(r.id));
  if (opts.maxRuns !== undefined) {
    if (!Number.isInteger(opts.maxRuns) || opts.maxRuns < 0) throw new ValidationError("options.maxRuns", `must be a non-negative integer (got ${show(opts.maxRuns)})`);
    pending = pending.slice(0, opts.maxRuns);
  }
  // a typo in an axis or a bad value fails now, naming the field, instead of giving one error row per run
  const checked = new Set<string>();
  for (const run of pending) {
    const key = run.id.slice(0, run.id.lastIndexOf("#"));
    if (checked.has(key)) continue;
    checked.add(key);
    try {
      makeProblem(runInputs(s, run).problem);
    } catch (e) {
      // the field of the problem (or of the axis that set it), with the point: a ValidationError like any bad input
      if (e instanceof ValidationError) throw new ValidationError(e.field, `${e.message.slice(e.field.length + 1)} (at sweep point ${key || "(base problem)"})`);
      throw new SweepError(`point ${key || "(base problem)"}: ${(e as Error).message}`);
    }
  }

  const writer = opts.out !== undefined ? new RowWriter(opts.out, opts.fsync ?? true) : null;
  const progress = new Progress(pending.length, old.size, opts.progress ?? "none");
  const fresh: SweepRow[] = [];
  const onRow = (row: SweepRow) => {
    writer?.write(row);
    fresh.push(row);
    progress.tick(row.error !== undefined);
    opts.onRow?.(row);
  };
  try {
    if (workers === 0) {
      for (const run of pending) {
        if (opts.signal?.aborted) break;
        onRow(await runOne(s, run, task));
        await new Promise((r) => setImmediate(r)); // let abort signals and timers through
      }
    } else {
      await runOnWorkers(s, pending, workers, onRow, opts.signal);
    }
  } finally {
    writer?.close();
    progress.stop();
  }
  const rows = [...old.values(), ...fresh].sort((a, b) => a.index - b.index);
  return {
    rows,
    planned: planned.length,
    skipped: old.size,
    ran: fresh.length,
    failed: rows.filter((r) => r.error !== undefined).length,
    complete: rows.length === planned.length,
  };
}
