/**
 * Worker-thread path of the finite ResNet engine: the layer passes (and the
 * layer initialisation) split over worker threads by FIXED unit blocks
 * (core/kernels `unitBlocks`), on SharedArrayBuffer memory, with Atomics
 * barriers. Threads just take blocks (dynamic tickets); the block partials
 * are reduced in block order, so results are bit-identical for any number of
 * threads (and to the single-thread engine, which uses the same blocks).
 *
 * The calling thread works as thread 0; T−1 pooled workers join it. Workers
 * are unref'd (they never keep a process alive) and return to the pool when a
 * session is closed; `shutdownPool()` terminates them.
 */
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { Activation } from "../core/activations.ts";
import { activationByKind, backwardBlock, forwardBlock, type LayerArrays, reduceBlocks, unitBlocks } from "../core/kernels.ts";
import { StreamFamily } from "../core/rng.ts";
import { drawLayer } from "./weights.ts";

// control words (Int32Array over a SharedArrayBuffer)
const GEN = 0, COUNT = 1, WAITERS = 2, TASK = 3, CMD = 4;
const CTL_LEN = 8;
// params (Float64Array): c, ru, rv, seed, sdU, sdV
const P_C = 0, P_RU = 1, P_RV = 2, P_SEED = 3, P_SDU = 4, P_SDV = 5;
const CMD_FORWARD = 1, CMD_BACKWARD = 2, CMD_INIT = 3, CMD_EXIT = 4;
const SPIN = 20000;

/** Work per layer (M·N·D) above which "auto" uses worker threads. */
export const AUTO_MIN_WORK = 65536;

export type ThreadsOption = number | "auto";

/** Everything a thread needs for a session (structured-clonable: typed arrays over SharedArrayBuffers). */
interface SessionData extends LayerArrays {
  ctl: Int32Array;
  params: Float64Array;
  L: number; M: number; D: number; N: number;
  actKind: number;
  T: number;
}

function barrier(ctl: Int32Array, T: number): void {
  const gen = Atomics.load(ctl, GEN);
  if (Atomics.add(ctl, COUNT, 1) === T - 1) {
    Atomics.store(ctl, COUNT, 0);
    Atomics.store(ctl, TASK, 0);
    Atomics.add(ctl, GEN, 1);
    if (Atomics.load(ctl, WAITERS) > 0) Atomics.notify(ctl, GEN);
    return;
  }
  for (let i = 0; i < SPIN; i++) if (Atomics.load(ctl, GEN) !== gen) return;
  Atomics.add(ctl, WAITERS, 1);
  while (Atomics.load(ctl, GEN) === gen) Atomics.wait(ctl, GEN, gen);
  Atomics.sub(ctl, WAITERS, 1);
}

/** Run one command's share on thread `tid` (between the start and the end barrier). */
function runCommand(s: SessionData, act: Activation | null, blocks: Int32Array, fam: { f: StreamFamily | null }, tid: number): number {
  const { ctl, params, L, M, D, N, T } = s;
  const cmd = Atomics.load(ctl, CMD);
  const nb = blocks.length - 1;
  const ND = N * D;
  const chunk = Math.ceil(ND / T);
  const i0 = Math.min(ND, tid * chunk), i1 = Math.min(ND, i0 + chunk);
  const c = params[P_C];
  if (cmd === CMD_FORWARD) {
    for (let l = 0; l < L; l++) {
      for (let t = Atomics.add(ctl, TASK, 1); t < nb; t = Atomics.add(ctl, TASK, 1)) forwardBlock(s, act!, l, blocks, t, M, D, N, c);
      barrier(ctl, T);
      if (nb > 1) {
        reduceBlocks(s.H, (l + 1) * ND, s.H, l * ND, s.parts, nb, ND, i0, i1, c);
        barrier(ctl, T);
      }
    }
  } else if (cmd === CMD_BACKWARD) {
    const ru = params[P_RU], rv = params[P_RV];
    for (let l = L - 1; l >= 0; l--) {
      for (let t = Atomics.add(ctl, TASK, 1); t < nb; t = Atomics.add(ctl, TASK, 1)) backwardBlock(s, l, blocks, t, M, D, N, c, ru, rv);
      barrier(ctl, T);
      if (nb > 1) {
        reduceBlocks(s.B, l * ND, s.B, (l + 1) * ND, s.parts, nb, ND, i0, i1, c);
        barrier(ctl, T);
      }
    }
  } else if (cmd === CMD_INIT) {
    if (!fam.f) fam.f = new StreamFamily(params[P_SEED]);
    const sdU = params[P_SDU], sdV = params[P_SDV];
    for (let l = Atomics.add(ctl, TASK, 1); l < L; l = Atomics.add(ctl, TASK, 1)) drawLayer(fam.f, l, s.U, s.V, M, D, sdU, sdV);
  }
  return cmd;
}

/** Worker side: run commands until CMD_EXIT (called from parallel-worker.ts). */
export function workerSession(s: SessionData, tid: number): void {
  const act = activationByKind(s.actKind);
  const blocks = unitBlocks(s.M, s.D);
  const fam = { f: null as StreamFamily | null };
  for (;;) {
    barrier(s.ctl, s.T); // start
    const cmd = runCommand(s, act, blocks, fam, tid);
    barrier(s.ctl, s.T); // end
    if (cmd === CMD_EXIT) return;
  }
}

// ---------------------------------------------------------------- pool (calling thread)

interface PoolWorker { w: Worker; busy: boolean }
const pool: PoolWorker[] = [];

function spawnWorker(): Worker {
  const self = import.meta.url;
  if (!self.endsWith(".ts")) return new Worker(new URL("./parallel-worker.js", self));
  // Running from TypeScript sources (tsx, or node --import tsx): load the
  // worker entry through tsx's API inside the new thread (`--import tsx` in a
  // worker's execArgv does not apply its hooks to the worker entry on Node 20).
  const api = typeof import.meta.resolve === "function"
    ? import.meta.resolve("tsx/esm/api")
    : new URL("./esm/api/index.mjs", pathToFileURL(createRequire(self).resolve("tsx"))).href; // when loaded as CommonJS
  const target = new URL("./parallel-worker.ts", self).href;
  const code = `import(${JSON.stringify(api)}).then((m) => m.tsImport(${JSON.stringify(target)}, ${JSON.stringify(target)}))`;
  return new Worker(code, { eval: true });
}

function takeWorkers(n: number): PoolWorker[] {
  const out: PoolWorker[] = [];
  for (const p of pool) if (!p.busy && out.length < n) out.push(p);
  while (out.length < n) {
    const w = spawnWorker();
    w.unref();
    const p: PoolWorker = { w, busy: false };
    w.on("error", (e) => {
      // a crashed worker would leave the session waiting at a barrier forever: fail loudly
      process.emitWarning(`limitdyn worker thread failed: ${(e as Error).message}`);
      p.busy = true;
    });
    pool.push(p);
    out.push(p);
  }
  for (const p of out) p.busy = true;
  return out;
}

/** Terminate all pooled worker threads (they are unref'd anyway; this frees them now). */
export async function shutdownPool(): Promise<void> {
  const ws = pool.splice(0, pool.length);
  await Promise.all(ws.map((p) => p.w.terminate()));
}

/** Number of threads to use for a layer shape: `threads` resolved ("auto" → all cores when the work is large enough). */
export function resolveThreads(threads: ThreadsOption | undefined, M: number, D: number, N: number, act: Activation): number {
  if (threads === undefined || threads === 1) return 1;
  if (activationByKind(act.kind) === null) return 1; // custom σ: closures cannot cross threads
  const nb = unitBlocks(M, D).length - 1;
  if (threads === "auto") {
    if (nb < 2 || M * N * D < AUTO_MIN_WORK) return 1;
    return Math.max(1, Math.min(nb, availableParallelism()));
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
  private readonly act: Activation;
  private readonly blocks: Int32Array;
  private readonly fam = { f: null as StreamFamily | null };
  private workers: PoolWorker[];
  private open = true;

  constructor(arrays: LayerArrays, L: number, M: number, D: number, N: number, act: Activation, T: number) {
    this.T = T;
    this.act = act;
    this.blocks = unitBlocks(M, D);
    const ctl = new Int32Array(new SharedArrayBuffer(4 * CTL_LEN));
    const params = new Float64Array(new SharedArrayBuffer(8 * 8));
    const { U, V, H, B, P, S, dS, G, parts } = arrays;
    this.s = { U, V, H, B, P, S, dS, G, parts, ctl, params, L, M, D, N, actKind: act.kind, T };
    this.workers = takeWorkers(T - 1);
    this.workers.forEach((p, i) => p.w.postMessage({ session: this.s, tid: i + 1 }));
  }

  private run(cmd: number): void {
    if (!this.open) throw new Error("ParallelSession is closed");
    Atomics.store(this.s.ctl, CMD, cmd);
    barrier(this.s.ctl, this.T);
    runCommand(this.s, this.act, this.blocks, this.fam, 0);
    barrier(this.s.ctl, this.T);
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

  /** Release the workers back to the pool. */
  close(): void {
    if (!this.open) return;
    this.run(CMD_EXIT);
    this.open = false;
    for (const p of this.workers) p.busy = false;
    this.workers = [];
  }
}
