/**
 * The one worker pool of the engine: the finite ResNet's layer passes
 * (resnet/parallel.ts), the skeleton's sampled coefficient calls
 * (skeleton/parallel.ts) and sweeps (experiments/sweep.ts) take their worker
 * threads here. One bootstrap (./bootstrap.ts: load heartbeat, load-failure
 * report), one worker record, one health check (status word, heartbeat,
 * stall and start limits), one fault-injection hook, one options type
 * (`ThreadsOption`) and one thread budget that caps nested parallelism.
 *
 * A worker runs one entry module (its `WorkerKind`: the engine's own entry
 * file, which calls `serveWorker`); idle workers of a kind are reused. A
 * caller takes workers in a `Lease` and releases them (back to the pool) or
 * retires them (terminated: a failed worker, or a sweep's, which holds
 * caches). Workers are unref'd (they never keep a process alive);
 * `shutdownPool()` terminates them and tells their open leases (an engine
 * still open then goes on single-threaded, with the same bits).
 *
 * Robustness: no wait is unbounded. A worker that failed to load, threw,
 * exited, or stopped beating (no heartbeat for `stallMs`, default 30 s, env
 * LIMITDYN_WORKER_STALL_MS; a new worker gets `startMs`, default 120 s, env
 * LIMITDYN_WORKER_START_MS, to load its module) is found by `deathOf` /
 * `StallWatch` and becomes a thrown WorkerThreadError naming it and the cause.
 */
import { availableParallelism } from "node:os";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type MessagePort, receiveMessageOnPort, type Worker } from "node:worker_threads";
import { ValidationError } from "../core/errors.ts";
import { show } from "../core/validate.ts";
import { F_LOAD, S_FAILED, spawnBootstrapped, ST_HB, ST_STATE, workerEntry } from "./bootstrap.ts";

export { ST_HB, ST_STATE, S_FAILED } from "./bootstrap.ts";

/** Worker states (status word ST_STATE; 0 = spawned): the bootstrap writes loading / failed, serveWorker ready. */
export const S_READY = 2, S_EXITED = 4;
const STATE_NAMES = ["spawned", "loading", "ready", "failed", "exited"];

// ------------------------------------------------------------ options

/** Threads of a computation: a positive integer, or "auto" (the engine decides per call, within the thread budget). */
export type ThreadsOption = number | "auto";

/** Validate a threads option: a positive integer ≤ max, or "auto". */
export function checkThreads(field: string, v: unknown, max = Infinity): ThreadsOption {
  if (v === "auto" || (typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= max)) return v;
  const what = max === 2 ? "1, 2" : max < Infinity ? `an integer in 1..${max}` : "a positive integer";
  throw new ValidationError(field, `must be ${what} or "auto" (got ${show(v)})`);
}

let budget = 0;

/**
 * Threads this thread may use for one computation under "auto": the available
 * cores, or the share a sweep gave its worker (setThreadBudget), so that
 * sweep workers × inner threads ≤ cores.
 */
export function threadBudget(): number {
  return budget > 0 ? budget : availableParallelism();
}

/** Set this thread's budget (sweep workers: cores / workers); 0 = the available cores. */
export function setThreadBudget(n: number): void {
  if (!(Number.isInteger(n) && n >= 0)) throw new ValidationError("budget", `must be a non-negative integer (got ${n})`);
  budget = n;
}

const envMs = (name: string, dflt: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : dflt;
};
const poolOptions = { stallMs: envMs("LIMITDYN_WORKER_STALL_MS", 30000), startMs: envMs("LIMITDYN_WORKER_START_MS", 120000) };
export type PoolOptions = typeof poolOptions;

/**
 * Pool settings: `stallMs` is how long a running worker may show no sign of
 * life (heartbeat) while the calling thread waits for a task it holds;
 * `startMs` is how long a new worker may take to load its module (a load
 * error is reported at once; loading through tsx blocks the worker's event
 * loop, so it cannot beat meanwhile). Returns the previous settings.
 */
export function setPoolOptions(o: Partial<PoolOptions>): PoolOptions {
  const prev = { ...poolOptions };
  for (const k of ["stallMs", "startMs"] as const) {
    const v = o[k];
    if (v === undefined) continue;
    if (!(v > 0)) throw new ValidationError(k, `must be > 0 (got ${v})`);
    poolOptions[k] = v;
  }
  return prev;
}

export function getPoolOptions(): Readonly<PoolOptions> {
  return poolOptions;
}

// ------------------------------------------------------------ faults (tests)

const F_THROW = 2, F_HANG = 3, F_EXIT = 4;
const faultWord = new Int32Array(new SharedArrayBuffer(8));

/**
 * Test hook: make pooled workers fail. "load": workers spawned from now on
 * fail to load their module; "throw" / "hang" / "exit": the worker that runs
 * the (afterTasks+1)-th task from now throws, hangs without a heartbeat, or
 * exits its thread. null clears it.
 */
export function injectWorkerFaultForTests(kind: "load" | "throw" | "hang" | "exit" | null, afterTasks = 0): void {
  const k = kind === null ? 0 : { load: F_LOAD, throw: F_THROW, hang: F_HANG, exit: F_EXIT }[kind];
  Atomics.store(faultWord, 1, afterTasks);
  Atomics.store(faultWord, 0, k);
}

/** Whether a fault is armed (callers may then let a worker claim work first, so that it is hit deterministically). */
export function faultArmed(): boolean {
  return Atomics.load(faultWord, 0) !== 0;
}

/** Worker side, before each task: fire an armed fault whose countdown has run out. */
export function maybeFault(fault: Int32Array): void {
  if (Atomics.load(fault, 0) < F_THROW) return;
  if (Atomics.sub(fault, 1, 1) !== 0) return;
  const k = Atomics.exchange(fault, 0, 0);
  if (k === F_THROW) throw new Error("injected fault: a task threw");
  if (k === F_HANG) for (;;); // no heartbeat from here on
  if (k === F_EXIT) process.exit(3);
}

// ------------------------------------------------------------ errors

/** A worker thread failed to start, threw, exited or stopped responding. */
export class WorkerThreadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export function errorText(e: unknown): string {
  return e instanceof Error ? (e.stack ?? e.message) : String(e);
}

// ------------------------------------------------------------ worker side

/** What every pooled worker gets at spawn (workerData). */
export interface WorkerBoot {
  status: Int32Array;
  fault: Int32Array;
  port: MessagePort;
}

/** Report a failure of this worker: the cause on its port, state failed. */
export function reportFailure(boot: WorkerBoot, what: string): void {
  boot.port.postMessage(what);
  Atomics.store(boot.status, ST_STATE, S_FAILED);
  Atomics.notify(boot.status, ST_STATE);
}

/** Beat this worker's heartbeat. */
export function beat(boot: WorkerBoot): void {
  Atomics.add(boot.status, ST_HB, 1);
}

/**
 * Entry of a pooled worker (called by the engine's worker module once loaded):
 * serve messages with `onMessage`, mark the worker ready.
 */
export function serveWorker(parent: { on(ev: string, f: (m: unknown) => void): unknown }, boot: WorkerBoot, onMessage: (m: unknown) => void): void {
  parent.on("message", onMessage);
  parent.on("messageerror", (e) => reportFailure(boot, `could not receive a message: ${errorText(e)}`));
  beat(boot);
  Atomics.store(boot.status, ST_STATE, S_READY);
  Atomics.notify(boot.status, ST_STATE);
}

// ------------------------------------------------------------ pool (calling thread)

/** The entry module of a kind of worker: `<name>.ts` (tsx) or `<name>.js` (compiled) beside `url`. */
export interface WorkerKind {
  url: string;
  name: string;
}

export interface PoolWorker {
  id: number;
  kind: string;
  w: Worker;
  status: Int32Array;
  port: MessagePort;
  busy: boolean;
  /** Why it died, once known (from its port or its 'error' / 'exit' events). */
  error: string | null;
}

/** Workers held by one user of the pool (an engine session, a coefficient call, a sweep). */
export interface Lease {
  readonly workers: PoolWorker[];
  /** Called when the pool is shut down under the lease (its workers are being terminated). */
  onShutdown?: () => void;
}

const pool: PoolWorker[] = [];
const leases = new Set<Lease>();
let nextWorkerId = 1;
const kindKey = (k: WorkerKind) => `${k.url}#${k.name}`;

function spawnWorker(kind: WorkerKind): PoolWorker {
  const { w, status, port } = spawnBootstrapped(kind.url, kind.name, faultWord);
  const p: PoolWorker = { id: nextWorkerId++, kind: kindKey(kind), w, status, port, busy: false, error: null };
  const drop = () => {
    const i = pool.indexOf(p);
    if (i >= 0) pool.splice(i, 1);
  };
  w.on("error", (e) => {
    p.error ??= `error event: ${errorText(e)}`;
    Atomics.store(status, ST_STATE, S_FAILED);
    drop();
  });
  w.on("exit", (code) => {
    p.error ??= `thread exited (code ${code})`;
    if (Atomics.load(status, ST_STATE) !== S_FAILED) Atomics.store(status, ST_STATE, S_EXITED);
    drop();
  });
  pool.push(p);
  return p;
}

/** Why worker p is unusable, or null if it is (drains its port: the first message is the cause). */
export function deathOf(p: PoolWorker): string | null {
  const st = Atomics.load(p.status, ST_STATE);
  if (st !== S_FAILED && st !== S_EXITED) return null;
  const m = receiveMessageOnPort(p.port);
  if (m) p.error = String(m.message);
  return p.error ?? `thread ${STATE_NAMES[st]}`;
}

/** Terminate a worker (it leaves the pool); resolves when it has exited (callers need not wait). */
export function retire(p: PoolWorker): Promise<void> {
  const i = pool.indexOf(p);
  if (i >= 0) pool.splice(i, 1);
  p.busy = true;
  return p.w.terminate().then(() => undefined, () => undefined);
}

/** Whether the entry module of a kind exists (a bundled build without it cannot start such workers). */
const entryCache = new Map<string, boolean>();
export function entryAvailable(kind: WorkerKind): boolean {
  const key = kindKey(kind);
  let ok = entryCache.get(key);
  if (ok === undefined) {
    try {
      ok = existsSync(fileURLToPath(workerEntry(kind.url, kind.name).target));
    } catch {
      ok = false;
    }
    entryCache.set(key, ok);
  }
  return ok;
}

/** n idle, live workers of a kind (spawning new ones), marked busy, in a lease. */
export function takeWorkers(kind: WorkerKind, n: number): Lease {
  const key = kindKey(kind);
  const out: PoolWorker[] = [];
  for (const p of pool.slice()) {
    if (out.length >= n) break;
    if (p.busy || p.kind !== key) continue;
    if (deathOf(p) !== null) { void retire(p); continue; }
    out.push(p);
  }
  while (out.length < n) out.push(spawnWorker(kind));
  for (const p of out) p.busy = true;
  const lease: Lease = { workers: out };
  leases.add(lease);
  return lease;
}

/**
 * End a lease: its live workers go back to the pool (or are terminated with
 * `retireAll`); resolves when the terminated ones have exited (callers need not wait).
 */
export function release(lease: Lease, retireAll = false): Promise<void> {
  if (!leases.delete(lease)) return Promise.resolve();
  const gone: Promise<void>[] = [];
  for (const p of lease.workers) {
    if (retireAll || deathOf(p) !== null) gone.push(retire(p));
    else p.busy = false;
  }
  return Promise.all(gone).then(() => undefined);
}

/** Tracks the heartbeats of a set of workers while the calling thread waits on them. */
export class StallWatch {
  private last: number[] = [];
  private since: number[] = [];
  private polls: number[] = [];
  constructor(private readonly ws: PoolWorker[]) {
    this.reset();
  }
  reset(): void {
    const now = performance.now();
    this.last = this.ws.map((p) => Atomics.load(p.status, ST_HB));
    this.since = this.ws.map(() => now);
    this.polls = this.ws.map(() => 0);
  }
  /** Index of a worker with no heartbeat for `limit` ms (and seen so on ≥ 5 polls: not just this thread descheduled), or -1. */
  stalled(limit = poolOptions.stallMs): number {
    const now = performance.now();
    for (let i = 0; i < this.ws.length; i++) {
      const hb = Atomics.load(this.ws[i].status, ST_HB);
      // a worker still loading (it may not beat meanwhile, see poolOptions) gets startMs
      const lim = Atomics.load(this.ws[i].status, ST_STATE) < S_READY ? Math.max(limit, poolOptions.startMs) : limit;
      if (hb !== this.last[i]) {
        this.last[i] = hb; this.since[i] = now; this.polls[i] = 0;
      } else if (++this.polls[i] >= 5 && now - this.since[i] > lim) return i;
    }
    return -1;
  }
  quietFor(i: number): number {
    return performance.now() - this.since[i];
  }
}

/** Length of one bounded Atomics.wait (ms). */
export const SLICE_MS = 20;

/**
 * Wait (bounded) until the workers have loaded their module. A worker that
 * failed to load, or showed no sign of life for startMs, is a WorkerThreadError
 * (`name` names the workers in the message).
 */
export function awaitReady(ws: PoolWorker[], name = "limitdyn worker thread"): void {
  const watch = new StallWatch(ws);
  for (;;) {
    let pending = -1;
    for (let i = 0; i < ws.length; i++) {
      const why = deathOf(ws[i]);
      if (why !== null) throw new WorkerThreadError(`${name} #${ws[i].id} failed to start: ${why}`);
      if (Atomics.load(ws[i].status, ST_STATE) < S_READY) pending = i;
    }
    if (pending < 0) return;
    const k = watch.stalled(poolOptions.startMs);
    if (k >= 0) {
      const st = Atomics.load(ws[k].status, ST_STATE);
      throw new WorkerThreadError(`${name} #${ws[k].id} did not start: still ${STATE_NAMES[st]} with no sign of life for ${(watch.quietFor(k) / 1000).toFixed(1)} s (startMs = ${poolOptions.startMs})`);
    }
    Atomics.wait(ws[pending].status, ST_STATE, Atomics.load(ws[pending].status, ST_STATE), SLICE_MS);
  }
}

/**
 * Terminate pooled worker threads (all, or those of one kind; they are unref'd
 * anyway, this frees them now). Open leases are told first.
 */
export async function shutdownPool(kind?: WorkerKind): Promise<void> {
  const key = kind ? kindKey(kind) : null;
  for (const l of [...leases]) {
    if (key !== null && !l.workers.some((p) => p.kind === key)) continue;
    leases.delete(l);
    l.onShutdown?.();
  }
  const ws = pool.filter((p) => key === null || p.kind === key);
  for (const p of ws) pool.splice(pool.indexOf(p), 1);
  await Promise.all(ws.map((p) => p.w.terminate().catch(() => undefined)));
}

/** Pool state (all workers, or those of one kind), for tests and diagnostics. */
export function poolInfo(kind?: WorkerKind): { workers: number; busy: number; openSessions: number; states: string[] } {
  const key = kind ? kindKey(kind) : null;
  const ws = pool.filter((p) => key === null || p.kind === key);
  return {
    workers: ws.length,
    busy: ws.filter((p) => p.busy).length,
    openSessions: [...leases].filter((l) => key === null || l.workers.some((p) => p.kind === key)).length,
    states: ws.map((p) => STATE_NAMES[Atomics.load(p.status, ST_STATE)]),
  };
}
