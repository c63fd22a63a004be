/**
 * Two-thread path of the sampled skeleton coefficients (coefficients.ts): the
 * QMC randomizations ("groups") of one coefficient call are shared between the
 * calling thread and ONE worker of the pool (src/parallel/pool.ts). Each
 * group's mean is computed by the same code on whichever thread claims it and
 * written to shared memory; the calling thread then combines all group means
 * in group order (Welford), so the result is bit-identical to the
 * single-thread path whoever computed which group. MC, Gauss–Hermite and
 * closed form stay single-threaded.
 *
 * Per call: the calling thread leases a skeleton worker, posts the job (small
 * arrays, copied; the group means and a fresh control block on
 * SharedArrayBuffers), then both claim groups with Atomics.add on the call's
 * NEXT word. A worker that is still loading, or descheduled, just claims fewer
 * groups (none: the calling thread does them all). The calling thread waits
 * only for groups the worker holds, in bounded Atomics.wait slices, checking
 * the worker's status word and heartbeat (bumped per block of points): a
 * worker that threw, failed to load or went silent for `stallMs` is a thrown
 * SkeletonWorkerError (the worker is retired; the next call takes a new one).
 * Workers idle on their event loop between calls (no spinning), so they never
 * steal CPU.
 */
import {
  beat, checkThreads as checkPoolThreads, deathOf, entryAvailable, errorText, faultArmed, getPoolOptions, maybeFault,
  type PoolWorker, release, reportFailure, serveWorker, SLICE_MS, ST_HB, takeWorkers, threadBudget, type WorkerBoot, WorkerThreadError,
} from "../parallel/pool.ts";
import { workerEntry } from "../parallel/bootstrap.ts";

/** Threads of a coefficient call: 1, 2 or "auto" (the pool's ThreadsOption, at most 2). */
export type ThreadsOption = 1 | 2 | "auto";

/** Work S·dimG of one call from which "auto" uses 2 threads (≈ 2^12 points in dimension 8). */
export const AUTO_MIN_WORK = 1 << 15;

/** The skeleton's pooled workers run ./skeleton-worker.ts. */
export const SKELETON_WORKERS = { url: import.meta.url, name: "skeleton-worker" };

// call control words (Int32Array, one fresh SharedArrayBuffer per call)
const C_NEXT = 0; // next group to claim
const C_DONE = 1; // groups done
const C_MAIN_WAIT = 2; // the calling thread sleeps on DONE
const CTL_LEN = 4;

/** A skeleton worker thread failed to start, threw or stopped responding. */
export class SkeletonWorkerError extends WorkerThreadError {}

export function checkThreads(field: string, v: unknown): ThreadsOption {
  return checkPoolThreads(field, v, 2) as ThreadsOption;
}

/** Threads for a call of S points, Gaussian dimension dimG, R groups ("auto": 2 for large calls within the thread budget). */
export function resolveSkeletonThreads(threads: ThreadsOption, S: number, dimG: number, R: number): 1 | 2 {
  if (threads === 1 || R < 2) return 1;
  if (threads === "auto") return S * dimG >= AUTO_MIN_WORK && threadBudget() >= 2 && entryAvailable(SKELETON_WORKERS) ? 2 : 1;
  return 2;
}

let meansBuf: Float64Array<ArrayBufferLike> = new Float64Array(0);
/** A shared Float64Array of length n (reused across calls). */
export function sharedMeans(n: number): Float64Array {
  if (meansBuf.length < n) meansBuf = new Float64Array(new SharedArrayBuffer(8 * Math.max(n, 2 * meansBuf.length)));
  return meansBuf.subarray(0, n);
}

/**
 * Compute groups 0..R−1 with `local(gi)` on this thread and a pooled worker
 * (which writes job.means itself); returns when every group is done. Throws a
 * SkeletonWorkerError (never hangs) if the worker fails.
 */
export function runGroupsParallel(job: object, R: number, local: (gi: number) => void): void {
  if (!entryAvailable(SKELETON_WORKERS)) throw new SkeletonWorkerError(`the skeleton worker entry ${workerEntry(SKELETON_WORKERS.url, SKELETON_WORKERS.name).target} is missing: use threads: 1`);
  const lease = takeWorkers(SKELETON_WORKERS, 1);
  const p: PoolWorker = lease.workers[0];
  const ctl = new Int32Array(new SharedArrayBuffer(4 * CTL_LEN));
  p.w.postMessage({ job, ctl, R });
  const what = `limitdyn skeleton worker thread #${p.id}`;
  const fail = (msg: string): never => {
    Atomics.store(ctl, C_NEXT, R); // the worker claims nothing more
    meansBuf = new Float64Array(0); // a stalled worker may still write the old buffer
    void release(lease, true);
    throw new SkeletonWorkerError(msg);
  };
  const stall = { hb: Atomics.load(p.status, ST_HB), since: performance.now(), polls: 0 };
  const checkHealth = (limit: number, doing: string) => {
    const why = deathOf(p);
    if (why !== null) fail(`${what} failed ${doing}: ${why}`);
    const hb = Atomics.load(p.status, ST_HB), now = performance.now();
    if (hb !== stall.hb) { stall.hb = hb; stall.since = now; stall.polls = 0; }
    else if (++stall.polls >= 5 && now - stall.since > limit) {
      fail(`${what} stopped responding ${doing}: no heartbeat for ${((now - stall.since) / 1000).toFixed(1)} s (stallMs = ${limit})`);
    }
  };
  // test faults: let the worker claim first
  if (faultArmed()) {
    while (Atomics.load(ctl, C_NEXT) === 0) {
      checkHealth(getPoolOptions().startMs, "to start");
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
    void release(lease);
    throw e;
  }
  if (Atomics.load(ctl, C_DONE) < R) {
    stall.hb = Atomics.load(p.status, ST_HB); stall.since = performance.now(); stall.polls = 0;
    for (;;) {
      const d = Atomics.load(ctl, C_DONE);
      if (d >= R) break;
      checkHealth(getPoolOptions().stallMs, "during a skeleton coefficient call");
      Atomics.store(ctl, C_MAIN_WAIT, 1);
      Atomics.wait(ctl, C_DONE, d, SLICE_MS);
      Atomics.store(ctl, C_MAIN_WAIT, 0);
    }
  }
  // a worker that died without holding a group (e.g. failed to load) is reported too
  const why = deathOf(p);
  if (why !== null) fail(`${what} failed: ${why}`);
  void release(lease);
}

/** Worker side: serve jobs (called by skeleton-worker.ts once its modules are loaded). */
export function skeletonWorkerMain(
  parent: { on(ev: string, f: (m: unknown) => void): unknown },
  boot: WorkerBoot,
  runner: (job: never, beat: () => void) => (gi: number) => void,
): void {
  const beatHere = () => beat(boot);
  serveWorker(parent, boot, (m) => {
    const { job, ctl, R } = m as { job: never; ctl: Int32Array; R: number };
    try {
      if (Atomics.load(ctl, C_NEXT) >= R) return; // the calling thread did it all
      const run = runner(job, beatHere);
      for (;;) {
        const gi = Atomics.add(ctl, C_NEXT, 1);
        if (gi >= R) break;
        if (Atomics.load(ctl, C_NEXT) === 1) Atomics.notify(ctl, C_NEXT); // (test faults: the calling thread waits for this claim)
        maybeFault(boot.fault);
        run(gi);
        beatHere();
        Atomics.add(ctl, C_DONE, 1);
        if (Atomics.load(ctl, C_MAIN_WAIT) !== 0) Atomics.notify(ctl, C_DONE);
      }
    } catch (e) {
      reportFailure(boot, `a group threw: ${errorText(e)}`);
      Atomics.notify(ctl, C_DONE);
    }
  });
}
