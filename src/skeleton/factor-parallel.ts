/**
 * Randomizations of a factor-form solve on two threads (the calling thread and one worker of
 * the pool, src/parallel/pool.ts, through parallel.ts's claim-and-wait protocol): each
 * randomization ρ is an independent, deterministic solve (factor-solve.ts runRandomization);
 * whichever thread claims it writes its outputs to shared memory, and the calling thread
 * combines them in the order of ρ — so the result is bit-identical to one thread.
 *
 * A randomization that throws a library error on the worker (a DivergenceError, say) is
 * flagged, not a worker failure: the calling thread reruns that ρ itself, which throws the
 * same typed error (the solve is deterministic). Custom activations cannot cross threads
 * (functions do not serialize): "auto" then runs on one thread.
 */
import { activationByKind } from "../core/activations.ts";
import { LimitdynError, ValidationError } from "../core/errors.ts";
import { entryAvailable, threadBudget } from "../parallel/pool.ts";
import { DepthGrid } from "../depth/grid.ts";
import type { EmbeddingFactor, FactorModel, FactorRunResult } from "./factor.ts";
import { type FactorExtras, type FactorSolveOptions, type FineRun, type RandomizationRunner, runFine, runRandomization, serialRunner } from "./factor-solve.ts";
import type { ThreadsChoice } from "./factor-options.ts";
import { runGroupsParallel, SKELETON_WORKERS } from "./parallel.ts";

/**
 * Work (points × K × N × r × (S + 1) per randomization) from which "auto" uses two threads.
 * Measured (tanh, 8 randomizations of 4096 points, 2 cores): at 2^16.6 one and two threads tie,
 * at 2^18.2 two are 1.2× faster, at 2^18.9 1.5× (the former 2^20 kept the small cases of
 * docs/performance.md, ≈ 2^19.9, on one thread: 1.6× slower than two).
 */
export const FACTOR_AUTO_MIN_WORK = 1 << 18;

interface Buffers {
  f: Float64Array; ah: Float64Array; ab: Float64Array;
  abo: Float64Array | null; gram: Float64Array | null;
  kl: Float64Array | null; klProfile: Float64Array | null; klInvalid: Float64Array | null;
  fTest: Float64Array | null;
  evaluations: Float64Array;
  /** 1 where the randomization threw on the worker (the calling thread reruns it). */
  failed: Int32Array;
  /** The depth-doubling runs' f (fine; coarse, when run on a subset of the points) and evaluations (fine, coarse), and 1 if one threw on the worker (null without them). */
  fineF: Float64Array | null;
  fineCoarseF: Float64Array | null;
  fineEval: Float64Array | null;
  fineFailed: Int32Array | null;
}

interface FactorJob {
  type: "factor";
  model: Omit<FactorModel, "activation"> & { actKind: number };
  factor: EmbeddingFactor;
  o: FactorSolveOptions;
  S: number;
  /** Randomization of the first randomization group (group gi is randomization start + gi − (fineS ? 1 : 0)). */
  start: number;
  /** Depth steps of the depth-doubling run (group 0 when > 0; randomization 0, no extras), or 0. */
  fineS: number;
  /** Points of the depth-doubling runs (factor-solve.ts depthErrorPoints). */
  finePoints: number;
  extras: FactorExtras;
  bufs: Buffers;
}

const shared = (n: number) => new Float64Array(new SharedArrayBuffer(8 * Math.max(1, n)));

function sizes(model: FactorModel, factor: EmbeddingFactor, S: number, o: FactorSolveOptions) {
  const grid = new DepthGrid(o.scheme, S);
  const { K, N, dOut } = model;
  const r = factor.r, nodes = grid.nodes;
  return { f: K * dOut * N, a: K * nodes * N * r, abo: K * nodes * N * dOut * r, gram: K * (dOut * N) ** 2, slots: K * grid.slots, fTest: K * dOut * (model.NTest ?? 0) };
}

function allocate(model: FactorModel, factor: EmbeddingFactor, S: number, o: FactorSolveOptions, R: number, extras: FactorExtras, fine: boolean): Buffers {
  const z = sizes(model, factor, S, o);
  return {
    fineF: fine ? shared(z.f) : null, fineCoarseF: fine ? shared(z.f) : null, fineEval: fine ? shared(2) : null, fineFailed: fine ? new Int32Array(new SharedArrayBuffer(4)) : null,
    f: shared(R * z.f), ah: shared(R * z.a), ab: shared(R * z.a),
    abo: extras.gram ? shared(R * z.abo) : null, gram: extras.gram ? shared(R * z.gram) : null,
    kl: extras.kl ? shared(R * model.K) : null, klProfile: extras.kl ? shared(R * z.slots) : null, klInvalid: extras.kl ? shared(R * model.K) : null,
    fTest: model.XTest && model.NTest ? shared(R * z.fTest) : null,
    evaluations: shared(R),
    failed: new Int32Array(new SharedArrayBuffer(4 * Math.max(1, R))),
  };
}

function store(b: Buffers, rho: number, res: FactorRunResult): void {
  const put = (dst: Float64Array | null, src: ArrayLike<number> | undefined) => {
    if (dst && src) dst.set(src as ArrayLike<number>, rho * src.length);
  };
  put(b.f, res.f); put(b.ah, res.ah); put(b.ab, res.ab);
  put(b.abo, res.abo); put(b.gram, res.gram);
  put(b.kl, res.kl); put(b.klProfile, res.klProfile); put(b.klInvalid, res.klInvalid ? Float64Array.from(res.klInvalid) : undefined);
  put(b.fTest, res.fTest);
  b.evaluations[rho] = res.evaluations;
}

function load(b: Buffers, rho: number, model: FactorModel, factor: EmbeddingFactor, S: number, o: FactorSolveOptions): FactorRunResult {
  const z = sizes(model, factor, S, o);
  const take = (src: Float64Array, n: number) => src.slice(rho * n, (rho + 1) * n);
  const out: FactorRunResult = { f: take(b.f, z.f), loss: new Float64Array(0), ah: take(b.ah, z.a), ab: take(b.ab, z.a), evaluations: b.evaluations[rho] };
  if (b.abo) out.abo = take(b.abo, z.abo);
  if (b.gram) out.gram = take(b.gram, z.gram);
  if (b.kl) { out.kl = take(b.kl, model.K); out.klProfile = take(b.klProfile!, z.slots); out.klInvalid = Int32Array.from(take(b.klInvalid!, model.K)); }
  if (b.fTest) out.fTest = take(b.fTest, z.fTest);
  return out;
}

/** Threads a factor solve uses for `threads` (1 | 2 | "auto"). */
export function factorThreads(threads: ThreadsChoice, model: FactorModel, o: FactorSolveOptions, r: number, count = o.randomizations): 1 | 2 {
  if (threads === 1 || count < 2) return 1;
  const portable = model.activation.kind >= 0;
  if (threads === 2) {
    if (!portable) throw new ValidationError("options.expectation.threads", `2 needs a built-in activation (a custom activation's functions cannot cross threads); use threads 1 or "auto"`);
    return 2;
  }
  const work = o.points * model.K * model.N * r * (o.depthSteps + 1);
  return portable && work >= FACTOR_AUTO_MIN_WORK && threadBudget() >= 2 && entryAvailable(SKELETON_WORKERS) ? 2 : 1;
}

/**
 * A RandomizationRunner on `threads` threads (bit-identical to serialRunner). The depth-doubling
 * run, when asked for, is group 0 (the longest task first), the randomizations groups 1….
 */
export function threadedRunner(threads: ThreadsChoice): RandomizationRunner {
  return (model, factor, o, S, start, R, extras, fine) => {
    const tasks = R + (fine ? 1 : 0);
    if (factorThreads(threads, model, o, factor.r, tasks) === 1) return serialRunner(model, factor, o, S, start, R, extras, fine);
    const bufs = allocate(model, factor, S, o, R, extras, fine !== undefined);
    const { activation, ...rest } = model;
    const fineS = fine ? fine.S : 0, finePoints = fine ? fine.points : 0, off = fine ? 1 : 0;
    const job: FactorJob = { type: "factor", model: { ...rest, actKind: activation.kind }, factor, o, S, start, fineS, finePoints, extras, bufs };
    runGroupsParallel(job, tasks, (gi) => {
      if (gi < off) runFine(model, factor, o, fine!);
      else store(bufs, gi - off, runRandomization(model, factor, o, start + gi - off, S, extras));
    });
    if (fine && fine.result === undefined && fine.error === undefined) {
      // the worker ran it: its f, or (it threw) the same typed error rerun here
      const empty = new Float64Array(0);
      if (bufs.fineFailed![0]) runFine(model, factor, o, fine);
      else {
        fine.result = { f: bufs.fineF!.slice(), loss: empty, ah: empty, ab: empty, evaluations: bufs.fineEval![0] };
        if (fine.points < o.points) fine.coarse = { f: bufs.fineCoarseF!.slice(), loss: empty, ah: empty, ab: empty, evaluations: bufs.fineEval![1] };
      }
    }
    const out: FactorRunResult[] = [];
    for (let gi = 0; gi < R; gi++) {
      // a randomization that threw on the worker throws the same typed error here
      out.push(bufs.failed[gi] ? runRandomization(model, factor, o, start + gi, S, extras) : load(bufs, gi, model, factor, S, o));
    }
    return out;
  };
}

/** Worker side of a factor job (dispatched by skeleton-worker.ts). */
export function factorJobRunner(job: FactorJob, beat?: () => void): (rho: number) => void {
  const activation = activationByKind(job.model.actKind);
  if (!activation) throw new Error(`unknown activation kind ${job.model.actKind}`);
  const model: FactorModel = { ...job.model, activation };
  const off = job.fineS > 0 ? 1 : 0;
  return (gi) => {
    if (gi < off) {
      const fine: FineRun = { S: job.fineS, points: job.finePoints };
      runFine(model, job.factor, job.o, fine, beat);
      if (fine.result) {
        job.bufs.fineF!.set(fine.result.f); job.bufs.fineEval![0] = fine.result.evaluations;
        if (fine.coarse) { job.bufs.fineCoarseF!.set(fine.coarse.f); job.bufs.fineEval![1] = fine.coarse.evaluations; }
      } else job.bufs.fineFailed![0] = 1;
      return;
    }
    try {
      store(job.bufs, gi - off, runRandomization(model, job.factor, job.o, job.start + gi - off, job.S, job.extras, beat));
    } catch (e) {
      if (!(e instanceof LimitdynError)) throw e;
      job.bufs.failed[gi - off] = 1;
    }
  };
}

/** Whether a posted job is a factor job. */
export function isFactorJob(job: unknown): job is FactorJob {
  return typeof job === "object" && job !== null && (job as { type?: unknown }).type === "factor";
}
