/**
 * Task registry: the per-run work of a sweep, by name. Workers cannot receive
 * closures, so a task is a function registered under a name in a module that
 * every worker imports: this file (built-in tasks), or a module listed in the
 * sweep file's `taskModules`.
 *
 * A task is a pure function of (problem, options): the problem already has
 * the run's point applied and `seed` = the run seed, so all randomness must
 * come from `problem.seed` (or from `ctx.run.seed`). It returns the measured
 * values as a JSON-serialisable object (numbers, strings, arrays, typed
 * arrays, nested objects).
 *
 * Registering a task that compares the finite ResNet with a limit solver is
 * one line (`limit` returns a Trajectory of the same problem):
 *
 *   registerTask("finite-vs-meanode", limitTask((p, o) => solve(p, meanOde(o))));
 */
import { createHash } from "node:crypto";
import { mixSeed, StreamFamily } from "../core/rng.ts";
import { ValidationError } from "../core/errors.ts";
import { isPlainObject, knownKeys, positiveInt, show } from "../core/validate.ts";
import { type Problem, withChanges } from "../problem/problem.ts";
import { outputRms, type Trajectory } from "../problem/trajectory.ts";
import { forward, trainResNet } from "../resnet/solver.ts";
import type { ThreadsOption } from "../parallel/pool.ts";
import { initEmbeddings } from "../problem/embeddings.ts";
import { solve } from "../problem/algorithm.ts";
import { meanOde, type MeanOdeOptions } from "../limits/mean-ode.ts";
import { dmft, dmftCoordinates, rowsFromEmbeddings, type DmftOptions } from "../limits/dmft.ts";
import { canonicalJson, type RunSpec } from "./spec.ts";
import { embeddingError, finalHidden } from "./errors.ts";
import { paperGridTask, paperStandinTask } from "./paper-tasks.ts";

export type TaskValues = Record<string, unknown>;

export interface TaskContext {
  run: RunSpec;
  /** The sweep's `taskOptions` (with `taskOptions.*` axes applied). */
  options: Record<string, unknown>;
}

export type Task = (problem: Problem, ctx: TaskContext) => TaskValues | Promise<TaskValues>;

/**
 * One registry per process, whatever copy of this module registers or looks up a task: the
 * CLI runs a bundle, a user's task module imports "limitdyn/experiments" (dist/), tests import
 * the sources — three module instances that must see the same tasks.
 */
const REGISTRY = Symbol.for("limitdyn.taskRegistry");
const registry: Map<string, Task> = ((globalThis as Record<symbol, unknown>)[REGISTRY] ??= new Map<string, Task>()) as Map<string, Task>;

/** Register a task under a name (throws if the name is taken by a different function). */
export function registerTask(name: string, task: Task): void {
  const prev = registry.get(name);
  if (prev && prev !== task) throw new ValidationError("name", `${JSON.stringify(name)}: a different task is already registered under this name`);
  registry.set(name, task);
}

/** The built-in tasks: registered once per process (another copy of this module finds them there). */
function registerBuiltin(name: string, task: Task): void {
  if (!registry.has(name)) registry.set(name, task);
}

export function getTask(name: string): Task | undefined {
  return registry.get(name);
}

export function listTasks(): string[] {
  return [...registry.keys()].sort();
}

/** A limit solver: the limit Trajectory of a problem (same K, d_out, N as the finite model), from options given in taskOptions.limit. */
export type LimitSolver = (problem: Problem, options: Record<string, unknown>) => Trajectory | Promise<Trajectory>;

export interface LimitTaskConfig {
  /**
   * Cache key of the limit for a problem: runs with the same key (in one
   * worker) reuse one limit trajectory. E.g. a D → ∞ limit that ignores the
   * seed: `(p) => JSON.stringify([p.model.D, p.train])`; a fixed-D limit that
   * depends on the embeddings, in a sweep with `seedAxes: []` (one seed per
   * repetition, so W_E, W_U are shared by all shapes of a repetition):
   * `` (p) => `${p.seed}|${p.model.D}` ``.
   * Default: no cache.
   */
  cacheKey?: (problem: Problem, options: Record<string, unknown>) => string | undefined;
  /** Maximum number of cached limits per worker (default 64; oldest evicted first). */
  cacheSize?: number;
  /** Extra taskOptions keys the task accepts (read by `prepare`). */
  optionKeys?: string[];
  /** Transform the run's problem before both solves (e.g. fix the embeddings: see finite-vs-meanode). */
  prepare?: (problem: Problem, taskOptions: Record<string, unknown>) => Problem;
  /**
   * h of the limit at s = 1 and GD step `step`, N × D row-major, for `errEmbed`
   * (default: finalHidden(lim, step), which needs recorded h profiles; the DMFT
   * task maps its coefficient vectors through the run's W_E, W_U instead).
   */
  limitHidden?: (lim: Trajectory, problem: Problem, step: number) => Float64Array;
  /** Threads of the finite model (default "auto": within the thread budget, i.e. 1 on a sweep worker when the workers fill the cores). */
  threads?: ThreadsOption;
}

const LIMIT_OPTION_KEYS = ["limit", "embedding", "fLast"];

/** A limit task, with counts of its limit solves and of the runs that reused a cached limit (per thread). */
export interface LimitTask extends Task {
  readonly stats: { solves: number; cached: number };
}

/**
 * Task comparing the finite ResNet of the run's problem with `limit(problem, taskOptions.limit ?? {})`.
 * Values: `errLast` (RMS over outputs and data points of f_{K−1} − f^lim_{K−1}),
 * `errAll` (same over all steps), `loss`, `limitLoss` (arrays over k), and,
 * with `taskOptions.embedding: true`, `errEmbed` = RMS over coordinates of
 * h_L − h^lim(1) at step K−1 (both solvers must record h there; the limit's
 * depth grid must end at s = 1). `taskOptions.fLast: true` adds the finite f_{K−1}.
 */
export function limitTask(limit: LimitSolver, config: LimitTaskConfig = {}): LimitTask {
  const cache = new Map<string, Trajectory>();
  const size = config.cacheSize ?? 64;
  const stats = { solves: 0, cached: 0 };
  const task: Task = async (problem, ctx) => {
    const o = ctx.options;
    knownKeys("taskOptions", o, [...LIMIT_OPTION_KEYS, ...(config.optionKeys ?? [])]);
    if (config.prepare) problem = config.prepare(problem, o);
    const limitOptions = (o.limit ?? {}) as Record<string, unknown>;
    if (!isPlainObject(limitOptions)) throw new ValidationError("taskOptions.limit", `must be an object (got ${show(limitOptions)})`);
    const K = problem.train.steps;
    const embed = o.embedding === true;
    const finOpts = config.threads === undefined ? {} : { threads: config.threads };
    const fin = trainResNet(problem, embed ? { ...finOpts, record: ["h"], recordSteps: [K - 1] } : finOpts);
    const key = config.cacheKey?.(problem, limitOptions);
    let lim = key === undefined ? undefined : cache.get(key);
    if (lim) stats.cached++;
    else {
      stats.solves++;
      lim = await limit(problem, limitOptions);
      if (key !== undefined) {
        cache.set(key, lim);
        if (cache.size > size) cache.delete(cache.keys().next().value as string);
      }
    }
    const values: TaskValues = {
      errLast: outputRms(fin, lim, K - 1),
      errAll: outputRms(fin, lim),
      loss: Array.from(fin.loss),
      limitLoss: Array.from(lim.loss),
    };
    if (embed) values.errEmbed = embeddingError(finalHidden(fin, K - 1), config.limitHidden ? config.limitHidden(lim, problem, K - 1) : finalHidden(lim, K - 1));
    if (o.fLast === true) values.fLast = Array.from(fin.f.data.subarray((K - 1) * fin.dOut * fin.N, K * fin.dOut * fin.N));
    return values;
  };
  return Object.assign(task, { stats });
}

/** Seed of the reference model's U, V: a fixed bijective mix of the run seed (independent of the run's own U, V streams). */
export function referenceSeed(seed: number): number {
  return mixSeed((seed ^ 0x5bd1e995) >>> 0);
}

/**
 * A large finite ResNet as a stand-in for a limit: the same problem with
 * model.L, model.M replaced, the SAME embeddings W_E, W_U as the run (so it
 * approximates the Mean ODE of that run's embeddings), and U, V drawn from
 * `referenceSeed(problem.seed)`.
 */
export function referenceResNet(problem: Problem, options: Record<string, unknown>): Trajectory {
  knownKeys("taskOptions.reference", options, ["L", "M", "record"]);
  const L = positiveInt("taskOptions.reference.L", options.L ?? problem.model.L);
  const M = positiveInt("taskOptions.reference.M", options.M ?? problem.model.M);
  const { WE, WU } = initEmbeddings(problem);
  const ref = { ...withChanges(problem, { model: { L, M }, seed: referenceSeed(problem.seed) }), init: { WE, WU } };
  return trainResNet(ref, options.record === "h" ? { record: ["h"], recordSteps: [problem.train.steps - 1] } : {});
}

/**
 * "finite-vs-reference": train the finite ResNet of the run and report
 * `loss` (all steps), `lossLast` and `fLast` (f at the last step, d_out × N
 * row-major, for errors against any limit computed later). With
 * `taskOptions.reference = { L, M }`, also train the reference ResNet
 * (`referenceResNet`) and report `errLast`, `errAll`, `refLossLast`; with
 * `taskOptions.embedding: true` also `errEmbed` (RMS over coordinates of h_L).
 */
export const finiteVsReference: Task = (problem, ctx) => {
  const o = ctx.options;
  knownKeys("taskOptions", o, ["reference", "embedding"]);
  const K = problem.train.steps;
  const embed = o.embedding === true;
  if (embed && o.reference === undefined) throw new ValidationError("taskOptions.embedding", "needs taskOptions.reference");
  const fin = trainResNet(problem, embed ? { record: ["h"], recordSteps: [K - 1] } : {});
  const per = fin.dOut * fin.N;
  const values: TaskValues = {
    lossLast: fin.loss[K - 1],
    loss: Array.from(fin.loss),
    fLast: Array.from(fin.f.data.subarray((K - 1) * per, K * per)),
  };
  if (o.reference !== undefined) {
    if (!isPlainObject(o.reference)) throw new ValidationError("taskOptions.reference", `must be an object { L, M } (got ${show(o.reference)})`);
    const ref = referenceResNet(problem, { ...o.reference, ...(embed ? { record: "h" } : {}) });
    values.errLast = outputRms(fin, ref, K - 1);
    values.errAll = outputRms(fin, ref);
    values.refLossLast = ref.loss[K - 1];
    if (embed) values.errEmbed = embeddingError(finalHidden(fin, K - 1), finalHidden(ref, K - 1));
  }
  return values;
};

/**
 * "synthetic-rate": no training; a synthetic error with a known law, for
 * tests and demos of the aggregation / fit / plot pipeline:
 * err = (a/L + b√(D/(LM)) + c/√D) · exp(τξ − τ²), ξ ~ N(0,1) from the run seed,
 * so that E[err²] = (a/L + b√(D/(LM)) + c/√D)² exactly (RMS over
 * repetitions estimates the law). Options a, b, c, tau (defaults 1, 1, 1, 0.3).
 */
export const syntheticRate: Task = (problem, ctx) => {
  const o = ctx.options;
  knownKeys("taskOptions", o, ["a", "b", "c", "tau"]);
  const num = (k: string, d: number) => {
    const v = o[k] ?? d;
    if (typeof v !== "number" || !Number.isFinite(v)) throw new ValidationError(`taskOptions.${k}`, `must be a finite number (got ${show(v)})`);
    return v;
  };
  const a = num("a", 1), b = num("b", 1), c = num("c", 1), tau = num("tau", 0.3);
  const { L, M, D } = problem.model;
  const law = a / L + b * Math.sqrt(D / (L * M)) + c / Math.sqrt(D);
  const xi = new StreamFamily(problem.seed).get(0).normal();
  return { err: law * Math.exp(tau * xi - tau * tau), law };
};

/** A short hash of arrays (for cache keys). */
function arraysHash(...arrays: ArrayLike<number>[]): string {
  const h = createHash("sha256");
  for (const a of arrays) h.update(Buffer.from(Float64Array.from(a).buffer));
  return h.digest("hex").slice(0, 16);
}

/** Everything a limit depends on except L, M (and D, W_E, W_U when `dropEmbeddings`): model, data, schedule, limit options. */
function limitKey(p: Problem, limitOptions: Record<string, unknown>, dropEmbeddings: boolean): string {
  const { L: _L, M: _M, activation, ...model } = p.model;
  const m: Record<string, unknown> = { ...model, activation: activation.name };
  if (dropEmbeddings) delete m.D;
  const parts: unknown[] = [m, p.train, arraysHash(p.data.X, p.data.Y), p.data.dIn, p.data.dOut, p.data.N, limitOptions];
  if (!dropEmbeddings) {
    const { WE, WU } = initEmbeddings(p);
    parts.push(arraysHash(WE, WU));
  }
  return canonicalJson(parts);
}

/**
 * `taskOptions.embeddingSeed`: draw W_E, W_U from this seed (streams 0, 1, as
 * for a problem with that seed) and pass them as explicit init.WE / init.WU,
 * so every run of a sweep shares its embeddings while U, V still come from the
 * run seed (explicit init.WE / init.WU of the problem win).
 */
export function fixEmbeddings(problem: Problem, taskOptions: Record<string, unknown>): Problem {
  const es = taskOptions.embeddingSeed;
  if (es === undefined || (problem.init.WE && problem.init.WU)) return problem;
  if (typeof es !== "number" || !Number.isInteger(es) || es < 0 || es > 0xffffffff) throw new ValidationError("taskOptions.embeddingSeed", `must be an integer seed in 0..2^32−1 (got ${show(es)})`);
  const { WE, WU } = initEmbeddings({ ...problem, seed: es });
  return { ...problem, init: { ...problem.init, WE: problem.init.WE ?? WE, WU: problem.init.WU ?? WU } };
}

/**
 * "finite-vs-meanode": finite ResNet vs the skeleton Mean ODE (L → ∞, MATH
 * §2–3) at the same D and the same W_E, W_U. `taskOptions.limit` = meanOde
 * options (e.g. `{ scheme: "staggered-euler", depthSteps: L, richardson: false }`
 * for the M = ∞ ResNet at depth L); `taskOptions.embeddingSeed` fixes the
 * embeddings across runs (see fixEmbeddings). The limit is cached per
 * (model but L, M; data; schedule; W_E, W_U; limit options).
 */
export const finiteVsMeanOde: LimitTask = limitTask(
  (p, o) => solve(p, meanOde({ ...(o as MeanOdeOptions), record: ["h"], recordSteps: [p.train.steps - 1] }, "taskOptions.limit")),
  { cacheKey: (p, o) => limitKey(p, o, false), optionKeys: ["embeddingSeed"], prepare: fixEmbeddings },
);

/**
 * h(1) of the DMFT coupled to a finite model: the coordinate processes
 * (dmftCoordinates) of the rows of the model's own W_E, W_U, at s = 1 and
 * GD step `step`, N × D row-major.
 */
export function dmftHidden(lim: Trajectory, problem: Problem, step: number): Float64Array {
  const { WE, WU } = initEmbeddings(problem);
  const D = problem.model.D;
  const c = dmftCoordinates(lim, rowsFromEmbeddings(WE, WU, D));
  const [, , nodes, N] = c.h.shape;
  if (Math.abs(c.s[nodes - 1] - 1) > 1e-12) throw new ValidationError("trajectory", `its DMFT depth grid ends at s = ${c.s[nodes - 1]}, not 1`);
  const out = new Float64Array(N * D);
  for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) out[n * D + d] = c.h.get(d, step, nodes - 1, n);
  return out;
}

/**
 * "finite-vs-dmft": finite ResNet vs the DMFT limit (D → ∞, MATH §5). The
 * DMFT does not depend on D or the embeddings: one solve per (model but
 * L, M, D; data; schedule; options) and worker. `errEmbed` compares h_L with
 * the DMFT coordinates driven by the run's own embedding rows (coupled).
 */
export const finiteVsDmft: LimitTask = limitTask(
  (p, o) => solve(p, dmft(o as DmftOptions, "taskOptions.limit")),
  { cacheKey: (p, o) => limitKey(p, o, true), optionKeys: ["embeddingSeed"], prepare: fixEmbeddings, limitHidden: dmftHidden },
);

/**
 * "finite-test-error": train the finite ResNet of the run on its training data and evaluate
 * the trained model (the weights after the K updates) on the problem's test points
 * (data.XTest, data.YTest, e.g. a two-spirals generator with NTest and a fixed testSeed):
 * `testError` = fraction of test outputs whose sign differs from the target's (0-1 error of
 * sign f, every output), `trainError` likewise on the training points at the last recorded step,
 * `lossLast`, `testLoss`, `N`. No options.
 */
export const finiteTestError: Task = (problem, ctx) => {
  knownKeys("taskOptions", ctx.options, []);
  const { XTest, YTest, NTest, dIn, dOut, N, Y } = problem.data;
  if (!XTest || !YTest || !NTest) throw new ValidationError("data.YTest", "is required by the finite-test-error task (give data.XTest and data.YTest, or a generator with NTest)");
  // train without the test points (their forward pass at every step is not needed), evaluate once at the end
  const train = { ...problem, data: { dIn, dOut, N, X: problem.data.X, Y } };
  const t = trainResNet(train, { returnWeights: true });
  const K = problem.train.steps;
  const test = { ...problem, data: { dIn, dOut, N: NTest, X: XTest, Y: YTest } };
  const f = forward(test, t.extras.weights!);
  const signErr = (F: ArrayLike<number>, T: ArrayLike<number>, off = 0) => {
    let e = 0;
    for (let i = 0; i < T.length; i++) if (Math.sign(F[off + i]) !== Math.sign(T[i])) e++;
    return e / T.length;
  };
  return { N, testError: signErr(f.f.data, YTest), testLoss: f.loss, trainError: signErr(t.f.data, Y, (K - 1) * dOut * N), lossLast: t.loss[K - 1] };
};

registerBuiltin("finite-test-error", finiteTestError);
registerBuiltin("finite-vs-reference", finiteVsReference);
registerBuiltin("synthetic-rate", syntheticRate);
registerBuiltin("finite-vs-meanode", finiteVsMeanOde);
registerBuiltin("finite-vs-dmft", finiteVsDmft);

// the All Shapes paper reproduction (presets/all-shapes-paper.ts)
registerBuiltin("all-shapes-paper/standin", paperStandinTask);
registerBuiltin("all-shapes-paper", paperGridTask);
