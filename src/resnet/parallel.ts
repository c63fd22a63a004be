/**
 * Worker-thread path of the finite ResNet engine: the layer passes (and the
 * layer initialisation) split over worker threads by FIXED unit blocks
 * (kernels/resnet `unitBlocks`), on SharedArrayBuffer memory. The block
 * partials are reduced in block order, so results are bit-identical for any
 * number of threads (and to the single-thread engine, which uses the same
 * blocks).
 *
 * Scheduling: every task of a session (a block of a layer pass, a chunk of a
 * block reduction, one layer's initial draws) has a global TICKET number,
 * in the order the calling thread runs the passes. A thread claims the next
 * ticket (Atomics.add) and runs it once the phase that contains it is OPEN
 * (the tasks of one phase depend only on earlier phases); the calling thread
 * opens a phase once every ticket of the previous one is DONE. So the calling
 * thread never waits for a worker that holds no task: a worker that is slow
 * to start, descheduled or idle only costs its share of the work. The
 * calling thread claims and runs tickets too (it is "thread 0").
 *
 * Robustness (no wait is unbounded): every Atomics.wait has a timeout and
 * sits in a loop that re-checks its condition, the session's stop / failure
 * words and the workers' health (the pool's status words and heartbeats,
 * src/parallel/pool.ts; a worker bumps its heartbeat between tasks and on
 * every wait slice). A worker that failed to load, threw, exited, or stopped
 * beating is a thrown WorkerThreadError naming the worker and the cause; the
 * session is then broken (its workers are terminated) and the engine refuses
 * to go on.
 *
 * The session's workers are a lease of the one pool: they return to it when
 * the session is closed; `shutdownPool()` terminates them (an engine still
 * open then goes on single-threaded, with the same bits).
 */
import type { Activation } from "../core/activations.ts";
import { activationByKind } from "../core/activations.ts";
import { backwardBlock, blockCount, forwardBlock, type LayerArrays, reduceBlocks, unitBlocks } from "../kernels/resnet.ts";
import { StreamFamily } from "../core/rng.ts";
import {
  awaitReady, beat, deathOf, errorText, type Lease, maybeFault, release, reportFailure, serveWorker, SLICE_MS, StallWatch,
  ST_HB, takeWorkers, threadBudget, type ThreadsOption, type WorkerBoot, WorkerThreadError, getPoolOptions,
} from "../parallel/pool.ts";
import { drawLayer } from "./weights.ts";

// ------------------------------------------------------------ shared words

// session control words (Int32Array over a SharedArrayBuffer)
const OPEN = 0; // tickets < OPEN may run (the end of the open phase)
const DONE = 1; // number of tickets run
const TK = 2; // next ticket to claim
const WAITERS = 3; // workers sleeping on OPEN
const MAIN_WAIT = 4; // the calling thread sleeps on DONE
const STOP = 5; // 0 running, 1 closed, 2 aborted
const CMD = 6; // command of the tickets from BASE on
const BASE = 7; // first ticket of the current command
const FAILED = 8; // tid of a worker whose task threw (0: none)
const CTL_LEN = 16;
// params (Float64Array): c, ru, rv, seed, sdU, sdV
const P_C = 0, P_RU = 1, P_RV = 2, P_SEED = 3, P_SDU = 4, P_SDV = 5;
const CMD_FORWARD = 1, CMD_BACKWARD = 2, CMD_INIT = 3;
const CMD_NAMES = ["", "forward pass", "backward pass", "initialisation"];

/** Polls of a shared word before sleeping (a poll is a few ns). */
const SPIN_MAIN = 30000;
const SPIN_WORKER = 30000;

/** Work per layer (M·N·D) above which "auto" uses worker threads. */
export const AUTO_MIN_WORK = 65536;
/**
 * "auto" also uses worker threads for few data points when a layer has at
 * least AUTO_MIN_LAYER weights per matrix (M·D) and the model at least
 * AUTO_MIN_WEIGHTS (L·M·D): the passes then stream that many weights per
 * layer, and the initial draws (split over the threads while the workers
 * start) are long enough to hide the workers' start-up.
 */
export const AUTO_MIN_LAYER = 16384;
export const AUTO_MIN_WEIGHTS = 1 << 20;

/** The pooled workers of the finite engine run ./parallel-worker.ts. */
export const RESNET_WORKERS = { url: import.meta.url, name: "parallel-worker" };

// ------------------------------------------------------------ tasks

/** Everything a thread needs for a session (structured-clonable: typed arrays over SharedArrayBuffers). */
interface SessionData extends LayerArrays {
  ctl: Int32Array;
  params: Float64Array;
  L: number; M: number; D: number; N: number;
  actKind: number;
  T: number;
}

/** Per-thread task context of a session. */
interface TaskCtx {
  s: SessionData;
  act: Activation;
  blocks: Int32Array;
  nb: number;
  /** Reduction chunks per layer (0 with a single block) and their length. */
  nr: number;
  chunk: number;
  fam: StreamFamily | null;
}

/** Reduction chunks of a layer: enough for T threads, none below ~8k flops. */
function reduceChunks(nb: number, ND: number, T: number): number {
  if (nb < 2) return 0;
  return Math.max(1, Math.min(2 * T, Math.floor((nb * ND) / 8192), ND));
}

function taskCtx(s: SessionData, act: Activation): TaskCtx {
  const blocks = unitBlocks(s.M, s.D);
  const nb = blocks.length - 1;
  const ND = s.N * s.D;
  const nr = reduceChunks(nb, ND, s.T);
  return { s, act, blocks, nb, nr, chunk: nr > 0 ? Math.ceil(ND / nr) : 0, fam: null };
}

/** Run task `off` (ticket − BASE) of command `cmd`. */
function runTask(x: TaskCtx, cmd: number, off: number): void {
  const s = x.s;
  const { L, M, D, N } = s;
  if (cmd === CMD_INIT) {
    const seed = s.params[P_SEED];
    if (!x.fam || x.fam.seed !== seed) x.fam = new StreamFamily(seed);
    drawLayer(x.fam, off, s.U, s.V, M, D, s.params[P_SDU], s.params[P_SDV]);
    return;
  }
  const { nb, nr } = x;
  const per = nb + nr;
  const li = Math.floor(off / per), r = off - li * per;
  const ND = N * D;
  const c = s.params[P_C];
  if (cmd === CMD_FORWARD) {
    if (r < nb) forwardBlock(s, x.act, li, x.blocks, r, M, D, N, c);
    else {
      const i0 = Math.min(ND, (r - nb) * x.chunk), i1 = Math.min(ND, i0 + x.chunk);
      reduceBlocks(s.H, (li + 1) * ND, s.H, li * ND, s.parts, nb, ND, i0, i1, c);
    }
  } else {
    const l = L - 1 - li;
    if (r < nb) backwardBlock(s, l, x.blocks, r, M, D, N, c, s.params[P_RU], s.params[P_RV]);
    else {
      const i0 = Math.min(ND, (r - nb) * x.chunk), i1 = Math.min(ND, i0 + x.chunk);
      reduceBlocks(s.B, l * ND, s.B, (l + 1) * ND, s.parts, nb, ND, i0, i1, c);
    }
  }
}

// ------------------------------------------------------------ worker side

/** Sleep until ticket h is open (true) or the session stops (false); bounded slices, heartbeat on each. */
function waitOpen(ctl: Int32Array, h: number, status: Int32Array): boolean {
  for (let i = 0; i < SPIN_WORKER; i++) {
    if (h < Atomics.load(ctl, OPEN)) return true;
    if (Atomics.load(ctl, STOP) !== 0) return false;
  }
  for (;;) {
    Atomics.add(ctl, WAITERS, 1);
    const o = Atomics.load(ctl, OPEN);
    if (h >= o && Atomics.load(ctl, STOP) === 0) Atomics.wait(ctl, OPEN, o, SLICE_MS);
    Atomics.sub(ctl, WAITERS, 1);
    Atomics.add(status, ST_HB, 1);
    if (h < Atomics.load(ctl, OPEN)) return true;
    if (Atomics.load(ctl, STOP) !== 0) return false;
  }
}

/** Worker side of one session: claim tickets and run them until the session stops. */
function workerSession(s: SessionData, tid: number, boot: WorkerBoot): void {
  const { ctl } = s;
  const { status, fault } = boot;
  try {
    const act = activationByKind(s.actKind);
    if (!act) throw new Error(`unknown activation kind ${s.actKind}`);
    const x = taskCtx(s, act);
    for (;;) {
      const h = Atomics.add(ctl, TK, 1);
      if (!waitOpen(ctl, h, status)) return;
      // the command containing h is published (OPEN > h), and cannot move on before h is done
      const cmd = Atomics.load(ctl, CMD), base = Atomics.load(ctl, BASE);
      maybeFault(fault);
      runTask(x, cmd, h - base);
      beat(boot);
      Atomics.add(ctl, DONE, 1);
      if (Atomics.load(ctl, MAIN_WAIT) !== 0) Atomics.notify(ctl, DONE);
    }
  } catch (e) {
    reportFailure(boot, `task threw: ${errorText(e)}`);
    Atomics.store(ctl, FAILED, tid);
    Atomics.notify(ctl, DONE);
  }
}

/** Entry of a pooled worker thread (called by parallel-worker.ts once its modules are loaded). */
export function workerMain(parent: { on(ev: string, f: (m: unknown) => void): unknown }, boot: WorkerBoot): void {
  serveWorker(parent, boot, (m) => {
    const { session, tid } = m as { session: SessionData; tid: number };
    workerSession(session, tid, boot);
  });
}

/**
 * Number of threads to use for a model shape: `threads` resolved ("auto" →
 * the thread budget (parallel/pool.ts: all cores, or a sweep worker's share)
 * when the work is large enough: M·N·D ≥ AUTO_MIN_WORK, or M·D ≥
 * AUTO_MIN_LAYER and L·M·D ≥ AUTO_MIN_WEIGHTS).
 */
export function resolveThreads(threads: ThreadsOption | undefined, M: number, D: number, N: number, act: Activation, L = 1): number {
  if (threads === undefined || threads === 1) return 1;
  if (activationByKind(act.kind) === null) return 1; // custom σ: closures cannot cross threads
  const nb = blockCount(M, D);
  if (threads === "auto") {
    const big = M * N * D >= AUTO_MIN_WORK || (M * D >= AUTO_MIN_LAYER && L * M * D >= AUTO_MIN_WEIGHTS);
    if (nb < 2 || !big) return 1;
    return Math.max(1, Math.min(nb, threadBudget()));
  }
  return Math.max(1, Math.min(threads, nb));
}

/** Allocate a Float64Array on shared memory (a copy of `src` if given). */
export function sharedF64(n: number, src?: Float64Array): Float64Array {
  const a = new Float64Array(new SharedArrayBuffer(8 * Math.max(1, n)), 0, n);
  if (src) a.set(src);
  return a;
}

/** A session: the calling thread plus T−1 workers bound to one engine's shared arrays. */
export class ParallelSession {
  readonly T: number;
  private readonly s: SessionData;
  private readonly x: TaskCtx;
  private lease: Lease | null;
  private readonly watch: StallWatch;
  /** First ticket of the next command. */
  private next = 0;
  /** A ticket the calling thread claimed for a later phase (−1: none). */
  private held = -1;
  private state: "open" | "closed" | "detached" | "broken" = "open";
  private brokenBy = "";
  /** Whether every worker was seen ready (checked once, before the first layer pass). */
  private ready = false;

  constructor(arrays: LayerArrays, L: number, M: number, D: number, N: number, act: Activation, T: number) {
    this.T = T;
    const ctl = new Int32Array(new SharedArrayBuffer(4 * CTL_LEN));
    const params = new Float64Array(new SharedArrayBuffer(8 * 8));
    const { U, V, H, B, P, Sig, dSig, Gq, parts } = arrays;
    this.s = { U, V, H, B, P, Sig, dSig, Gq, parts, ctl, params, L, M, D, N, actKind: act.kind, T };
    this.x = taskCtx(this.s, act);
    // The workers are NOT awaited here: the session is posted at once (a
    // worker still loading its module receives it when its listener is set
    // up) and each worker joins the ticket queue when it is ready, so a
    // command run meanwhile (the initial draws) proceeds on the threads that
    // are there. A worker that holds no ticket is never waited for. The first
    // forward / backward pass checks that every worker did load (bounded:
    // awaitReady), so a worker that cannot start is still an error.
    this.lease = takeWorkers(RESNET_WORKERS, T - 1);
    this.lease.onShutdown = () => this.detach();
    this.watch = new StallWatch(this.workers);
    this.workers.forEach((p, i) => p.w.postMessage({ session: this.s, tid: i + 1 }));
  }

  private get workers() {
    return this.lease?.workers ?? [];
  }

  private ensureReady(): void {
    try {
      awaitReady(this.workers);
    } catch (e) {
      this.fail(e instanceof Error ? e.message : String(e));
    }
    this.ready = true;
  }

  /** False once the pool was shut down under this session (the engine then runs single-threaded). */
  get usable(): boolean {
    if (this.state === "broken") throw new WorkerThreadError(`this engine's worker threads failed earlier: ${this.brokenBy}`);
    return this.state === "open";
  }

  private fail(msg: string): never {
    this.state = "broken";
    this.brokenBy = msg;
    Atomics.store(this.s.ctl, STOP, 2);
    Atomics.notify(this.s.ctl, OPEN);
    if (this.lease) void release(this.lease, true);
    this.lease = null;
    throw new WorkerThreadError(msg);
  }

  /** Throw if a worker of the session failed, exited or stalled (called only on the slow path of a wait). */
  private checkHealth(cmd: number): void {
    const what = `during the ${CMD_NAMES[cmd]}`;
    const f = Atomics.load(this.s.ctl, FAILED);
    if (f !== 0) {
      const p = this.workers[f - 1];
      this.fail(`limitdyn worker thread #${p.id} (thread ${f} of ${this.T}) failed ${what}: ${deathOf(p) ?? "task threw"}`);
    }
    for (let i = 0; i < this.workers.length; i++) {
      const why = deathOf(this.workers[i]);
      if (why !== null) this.fail(`limitdyn worker thread #${this.workers[i].id} (thread ${i + 1} of ${this.T}) died ${what}: ${why}`);
    }
    const k = this.watch.stalled();
    if (k >= 0) {
      this.fail(`limitdyn worker thread #${this.workers[k].id} (thread ${k + 1} of ${this.T}) stopped responding ${what}: no heartbeat for ${(this.watch.quietFor(k) / 1000).toFixed(1)} s while the calling thread waited for its task (stallMs = ${getPoolOptions().stallMs})`);
    }
  }

  private open(end: number): void {
    const ctl = this.s.ctl;
    Atomics.store(ctl, OPEN, end);
    if (Atomics.load(ctl, WAITERS) > 0) Atomics.notify(ctl, OPEN);
  }

  /** Run open tickets < end on the calling thread; keep a claimed later ticket for later. */
  private work(cmd: number, base: number, end: number): void {
    const ctl = this.s.ctl;
    for (;;) {
      if (this.held < 0) this.held = Atomics.add(ctl, TK, 1);
      if (this.held >= end) return;
      runTask(this.x, cmd, this.held - base);
      this.held = -1;
      Atomics.add(ctl, DONE, 1);
    }
  }

  /** Wait until every ticket < end is done: spin, then bounded sleeps with health checks. */
  private waitDone(end: number, cmd: number): void {
    const ctl = this.s.ctl;
    for (let i = 0; i < SPIN_MAIN; i++) if (Atomics.load(ctl, DONE) >= end) return;
    this.watch.reset();
    for (;;) {
      if (Atomics.load(ctl, DONE) >= end) return;
      this.checkHealth(cmd);
      Atomics.store(ctl, MAIN_WAIT, 1);
      const d = Atomics.load(ctl, DONE);
      if (d < end) Atomics.wait(ctl, DONE, d, SLICE_MS);
      Atomics.store(ctl, MAIN_WAIT, 0);
    }
  }

  private run(cmd: number): void {
    if (this.state !== "open") throw new Error(`ParallelSession is ${this.state}`);
    if (!this.ready && cmd !== CMD_INIT) this.ensureReady();
    const ctl = this.s.ctl;
    const base = this.next;
    Atomics.store(ctl, CMD, cmd);
    Atomics.store(ctl, BASE, base);
    const x = this.x;
    const phases = cmd === CMD_INIT ? 1 : x.nr > 0 ? 2 * this.s.L : this.s.L;
    let end = base;
    try {
      for (let ph = 0; ph < phases; ph++) {
        end += cmd === CMD_INIT ? this.s.L : ph % 2 === 0 || x.nr === 0 ? x.nb : x.nr;
        this.open(end);
        this.work(cmd, base, end);
        this.waitDone(end, cmd);
      }
    } catch (e) {
      if (this.state === "open") this.fail(`limitdyn ${CMD_NAMES[cmd]} failed on the calling thread: ${errorText(e)}`);
      throw e;
    }
    this.next = end;
  }

  forward(c: number): void {
    this.s.params[P_C] = c;
    this.run(CMD_FORWARD);
  }

  backward(c: number, ru: number, rv: number): void {
    this.s.params[P_C] = c; this.s.params[P_RU] = ru; this.s.params[P_RV] = rv;
    this.run(CMD_BACKWARD);
  }

  /** Draw every layer's U_ℓ, V_ℓ from stream 2+ℓ of `seed` (same draws as weights.initWeights). */
  initLayers(seed: number, sdU: number, sdV: number): void {
    const p = this.s.params;
    p[P_SEED] = seed; p[P_SDU] = sdU; p[P_SDV] = sdV;
    this.run(CMD_INIT);
  }

  /** Stop the session without waiting for the workers (they leave at their next poll). */
  private stop(code: number): void {
    Atomics.store(this.s.ctl, STOP, code);
    Atomics.notify(this.s.ctl, OPEN);
  }

  /** Release the workers back to the pool (idempotent; never waits). */
  close(): void {
    if (this.state !== "open") return;
    this.state = "closed";
    this.stop(1);
    if (this.lease) void release(this.lease);
    this.lease = null;
  }

  /** The pool is being shut down under this session: stop using the workers (the engine goes on single-threaded). */
  detach(): void {
    if (this.state !== "open") return;
    this.state = "detached";
    this.stop(2);
    this.lease = null;
  }
}
