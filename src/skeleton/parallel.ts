/**
 * Two-thread path of the sampled skeleton coefficients (coefficients.ts): the
 * QMC randomizations ("groups") of one coefficient call are shared between the
 * calling thread and ONE pooled worker thread. Each group's mean is computed by
 * the same code on whichever thread claims it and written to shared memory;
 * the calling thread then combines all group means in group order (Welford),
 * so the result is bit-identical to the single-thread path whoever computed
 * which group. MC, Gauss–Hermite and closed form stay single-threaded.
 *
 * Per call: the calling thread posts the job (small arrays, copied; the group
 * means and a fresh control block on SharedArrayBuffers) to the worker, then
 * both claim groups with Atomics.add on the call's NEXT word. A worker that is
 * still loading, or descheduled, just claims fewer groups (none: the calling
 * thread does them all). The calling thread waits only for groups the worker
 * holds, in bounded Atomics.wait slices, checking the worker's status word and
 * heartbeat (bumped per block of points): a worker that threw, failed to load
 * or went silent for `stallMs` is a thrown SkeletonWorkerError (the worker is
 * terminated; the next call starts a new one). Workers are unref'd and idle on
 * their event loop between calls (no spinning), so they never keep a process
 * alive nor steal CPU; `shutdownSkeletonPool()` terminates them.
 *
 * Under TypeScript sources (tsx / node --import tsx / bin/limitdyn.mjs) the
 * worker loads its entry (skeleton-worker.ts) through tsx's API from a
 * plain-JS bootstrap, as src/resnet/parallel.ts does.
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { type MessagePort, receiveMessageOnPort, Worker } from "node:worker_threads";
import { ValidationError } from "../core/errors.ts";
import { show } from "../core/validate.ts";
import { F_LOAD, S_FAILED, S_LOADING, spawnBootstrapped, ST_HB, ST_STATE, workerEntry } from "../parallel/bootstrap.ts";

export type ThreadsOption = 1 | 2 | "auto";

/** Work S·dimG of one call from which "auto" uses 2 threads (≈ 2^12 points in dimension 8). */
export const AUTO_MIN_WORK = 1 << 15;

// call control words (Int32Array, one fresh SharedArrayBuffer per call)
export const C_NEXT = 0; // next group to claim
export const C_DONE = 1; // groups done
export const C_MAIN_WAIT = 2; // the calling thread sleeps on DONE
export const CTL_LEN = 4;
// worker status words
export { ST_STATE, ST_HB, S_LOADING, S_FAILED } from "../parallel/bootstrap.ts";
export const S_READY = 2;
// test fault word: [kind, armed]
export { F_LOAD } from "../parallel/bootstrap.ts";
export const F_THROW = 2, F_HANG = 3;

const SLICE_MS = 20;

/** A skeleton worker thread failed to start, threw or stopped responding. */
export class SkeletonWorkerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SkeletonWorkerError";
  }
}

export function checkThreads(field: string, v: unknown): ThreadsOption {
  if (v === 1 || v === 2 || v === "auto") return v;
  throw new ValidationError(field, `must be 1, 2 or "auto" (got ${show(v)})`);
}

const envMs = (name: string, dflt: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : dflt;
};
const poolOptions = { stallMs: envMs("LIMITDYN_WORKER_STALL_MS", 30000), startMs: envMs("LIMITDYN_WORKER_START_MS", 120000) };

/** Stall / start limits (ms) of the skeleton worker; returns the previous ones. */
export function setSkeletonPoolOptions(o: Partial<typeof poolOptions>): typeof poolOptions {
  const prev = { ...poolOptions };
  if (o.stallMs !== undefined) poolOptions.stallMs = o.stallMs;
  if (o.startMs !== undefined) poolOptions.startMs = o.startMs;
  return prev;
}

const faultWord = new Int32Array(new SharedArrayBuffer(8));

/**
 * Test hook: "load" — workers spawned from now on fail to load their module;
 * "throw" / "hang" — the worker throws / spins without a heartbeat in the next
 * group it claims. While a fault is armed the calling thread lets the worker
 * claim first (so the fault is hit deterministically). null clears it.
 */
export function injectSkeletonWorkerFaultForTests(kind: "load" | "throw" | "hang" | null): void {
  Atomics.store(faultWord, 0, kind === null ? 0 : { load: F_LOAD, throw: F_THROW, hang: F_HANG }[kind]);
}

interface PoolWorker {
  id: number;
  w: Worker;
  status: Int32Array;
  port: MessagePort;
  error: string | null;
}
let worker: PoolWorker | null = null;
let nextId = 1;

function errorText(e: unknown): string {
  return e instanceof Error ? (e.stack ?? e.message) : String(e);
}

/** Whether a worker entry exists (a bundled build without it runs single-threaded under "auto"). */
let entryOk: boolean | null = null;
function entryAvailable(): boolean {
  if (entryOk === null) {
    try {
      entryOk = existsSync(fileURLToPath(workerEntry(import.meta.url, "skeleton-worker").target));
    } catch {
      entryOk = false;
    }
  }
  return entryOk;
}

function spawn(): PoolWorker {
  const { w, status, port: port1 } = spawnBootstrapped(import.meta.url, "skeleton-worker", faultWord);
  const p: PoolWorker = { id: nextId++, w, status, port: port1, error: null };
  w.on("error", (e) => {
    p.error ??= `error event: ${errorText(e)}`;
    Atomics.store(status, ST_STATE, S_FAILED);
    if (worker === p) worker = null;
  });
  w.on("exit", (code) => {
    p.error ??= `thread exited (code ${code})`;
    Atomics.store(status, ST_STATE, S_FAILED);
    if (worker === p) worker = null;
  });
  return p;
}

/** Why p is unusable, or null (drains its port: the first message is the cause). */
function deathOf(p: PoolWorker): string | null {
  if (Atomics.load(p.status, ST_STATE) !== S_FAILED) return null;
  const m = receiveMessageOnPort(p.port);
  if (m) p.error = String(m.message);
  return p.error ?? "thread failed";
}

function retire(p: PoolWorker): void {
  if (worker === p) worker = null;
  void p.w.terminate().catch(() => undefined);
}

/** Terminate the skeleton worker thread (it is unref'd anyway; this frees it now). */
export async function shutdownSkeletonPool(): Promise<void> {
  const p = worker;
  worker = null;
  if (p) await p.w.terminate().catch(() => undefined);
}

/** Pool state, for tests. */
export function skeletonPoolInfo(): { workers: number; state: string } {
  const p = worker;
  return { workers: p ? 1 : 0, state: p ? ["spawned", "loading", "ready", "failed"][Atomics.load(p.status, ST_STATE)] : "none" };
}

/** Threads for a call of S points, Gaussian dimension dimG, R groups. */
export function resolveSkeletonThreads(threads: ThreadsOption, S: number, dimG: number, R: number): 1 | 2 {
  if (threads === 1 || R < 2) return 1;
  if (threads === "auto") return S * dimG >= AUTO_MIN_WORK && availableParallelism() >= 2 && entryAvailable() ? 2 : 1;
  return 2;
}

let meansBuf: Float64Array<ArrayBufferLike> = new Float64Array(0);
/** A shared Float64Array of length n (reused across calls). */
export function sharedMeans(n: number): Float64Array {
  if (meansBuf.length < n) meansBuf = new Float64Array(new SharedArrayBuffer(8 * Math.max(n, 2 * meansBuf.length)));
  return meansBuf.subarray(0, n);
}

/**
 * Compute groups 0..R−1 with `local(gi)` on this thread and the worker (which
 * writes job.means itself); returns when every group is done. Throws a
 * SkeletonWorkerError (never hangs) if the worker fails.
 */
export function runGroupsParallel(job: object, R: number, local: (gi: number) => void): void {
  if (!entryAvailable()) throw new SkeletonWorkerError(`the skeleton worker entry ${workerEntry(import.meta.url, "skeleton-worker").target} is missing: use threads: 1`);
  let p = worker;
  if (p && deathOf(p) !== null) { retire(p); p = null; }
  if (!p) p = worker = spawn();
  const ctl = new Int32Array(new SharedArrayBuffer(4 * CTL_LEN));
  p.w.postMessage({ job, ctl, R });
  const what = (pp: PoolWorker) => `limitdyn skeleton worker thread #${pp.id}`;
  const fail = (msg: string): never => {
    Atomics.store(ctl, C_NEXT, R); // the worker claims nothing more
    meansBuf = new Float64Array(0); // a stalled worker may still write the old buffer
    retire(p!);
    throw new SkeletonWorkerError(msg);
  };
  const stall = { hb: Atomics.load(p.status, ST_HB), since: performance.now(), polls: 0 };
  const checkHealth = (limit: number, doing: string) => {
    const why = deathOf(p!);
    if (why !== null) fail(`${what(p!)} failed ${doing}: ${why}`);
    const hb = Atomics.load(p!.status, ST_HB), now = performance.now();
    if (hb !== stall.hb) { stall.hb = hb; stall.since = now; stall.polls = 0; }
    else if (++stall.polls >= 5 && now - stall.since > limit) {
      fail(`${what(p!)} stopped responding ${doing}: no heartbeat for ${((now - stall.since) / 1000).toFixed(1)} s (stallMs = ${limit})`);
    }
  };
  // test faults: let the worker claim first
  if (Atomics.load(faultWord, 0) !== 0) {
    while (Atomics.load(ctl, C_NEXT) === 0) {
      checkHealth(poolOptions.startMs, "to start");
      Atomics.wait(ctl, C_NEXT, 0, SLICE_MS);
    }
  }
  try {
    for (;;) {
      const gi = Atomics.add(ctl, C_NEXT, 1);
      if (gi >= R) break;
      local(gi);
      Atomics.add(ctl, C_DONE, 1);
    }
  } catch (e) {
    Atomics.store(ctl, C_NEXT, R);
    meansBuf = new Float64Array(0);
    throw e;
  }
  if (Atomics.load(ctl, C_DONE) < R) {
    stall.hb = Atomics.load(p.status, ST_HB); stall.since = performance.now(); stall.polls = 0;
    for (;;) {
      const d = Atomics.load(ctl, C_DONE);
      if (d >= R) break;
      checkHealth(poolOptions.stallMs, "during a skeleton coefficient call");
      Atomics.store(ctl, C_MAIN_WAIT, 1);
      Atomics.wait(ctl, C_DONE, d, SLICE_MS);
      Atomics.store(ctl, C_MAIN_WAIT, 0);
    }
  }
  // a worker that died without holding a group (e.g. failed to load) is reported too
  const why = deathOf(p);
  if (why !== null) fail(`${what(p)} failed: ${why}`);
}

/** Worker side: serve jobs (called by skeleton-worker.ts once its modules are loaded). */
export function skeletonWorkerMain(
  parent: { on(ev: string, f: (m: unknown) => void): unknown },
  boot: { status: Int32Array; fault: Int32Array; port: MessagePort },
  runner: (job: never, beat: () => void) => (gi: number) => void,
): void {
  const { status, fault, port } = boot;
  const beat = () => { Atomics.add(status, ST_HB, 1); };
  parent.on("message", (m) => {
    const { job, ctl, R } = m as { job: never; ctl: Int32Array; R: number };
    try {
      if (Atomics.load(ctl, C_NEXT) >= R) return; // the calling thread did it all
      const run = runner(job, beat);
      for (;;) {
        const gi = Atomics.add(ctl, C_NEXT, 1);
        if (gi >= R) break;
        if (Atomics.load(ctl, C_NEXT) === 1) Atomics.notify(ctl, C_NEXT); // (test faults: the calling thread waits for this claim)
        const f = Atomics.load(fault, 0);
        if (f === F_THROW) { Atomics.store(fault, 0, 0); throw new Error("injected fault: a group threw"); }
        if (f === F_HANG) { Atomics.store(fault, 0, 0); for (;;); }
        run(gi);
        beat();
        Atomics.add(ctl, C_DONE, 1);
        if (Atomics.load(ctl, C_MAIN_WAIT) !== 0) Atomics.notify(ctl, C_DONE);
      }
    } catch (e) {
      port.postMessage(`a group threw: ${errorText(e)}`);
      Atomics.store(status, ST_STATE, S_FAILED);
      Atomics.notify(ctl, C_DONE);
    }
  });
  beat();
  Atomics.store(status, ST_STATE, S_READY);
}
