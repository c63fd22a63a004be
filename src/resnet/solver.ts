/**
 * `finiteResNet(options)`: the finite ResNet trained by full-batch GD, as an
 * algorithm for `solve`. Also the functional notebook API: forward,
 * gradient, gdStep.
 */
import { view } from "../core/arrays.ts";
import { DivergenceError, ValidationError } from "../core/errors.ts";
import { isPlainObject, knownKeys, show } from "../core/validate.ts";
import type { Algorithm } from "../problem/algorithm.ts";
import { embeddingsTrained, type Problem } from "../problem/problem.ts";
import { bindRecordSteps, recordOption, recordStepsOption } from "../problem/record.ts";
import { type DepthProfiles, makeTrajectory, type Trajectory } from "../problem/trajectory.ts";
import { assertFinite, ResNetEngine } from "./engine.ts";
import { FiniteGram, testProblem } from "./gram.ts";
import { resolveThreads, sharedF64 } from "./parallel.ts";
import { checkThreads, type ThreadsOption } from "../parallel/pool.ts";
import { cloneWeights, initWeights, type ResNetWeights, weightsToJSON } from "./weights.ts";
import { reportProgress } from "../core/progress.ts";

export type Recordable = "h" | "b" | "p" | "gram";
const RECORDABLE: readonly Recordable[] = ["h", "b", "p", "gram"];

export interface FiniteResNetOptions {
  /**
   * What to record: depth profiles h_ℓ, b_ℓ (ℓ = 0..L) and preactivations p_ℓ (at recordSteps), and the
   * tangent Gram matrix "gram" K_k of MATH §8 at every step (traj.gram, traj.gramLambdaMin).
   */
  record?: Recordable[];
  /** Steps at which to record the profiles (default: every step when a profile is recorded). */
  recordSteps?: number[];
  /** Start from these weights instead of the problem's init / seed (they are not modified). */
  weights?: ResNetWeights;
  /** Return the final weights (after K updates) in `extras.weights`. */
  returnWeights?: boolean;
  /**
   * Worker threads for the layer passes and the initialisation: a positive
   * integer, or "auto" (default: all cores when a layer is large enough).
   * Results are bit-identical whatever the number of threads.
   */
  threads?: ThreadsOption;
}

/** The options a finite ResNet run is bound to (every default filled in). */
export interface FiniteResNetBound {
  record: Recordable[];
  recordSteps: number[];
  returnWeights: boolean;
  threads: ThreadsOption;
  /** Supplied initial weights (absent: the problem's init / seed). */
  weights?: ResNetWeights;
}

export interface FiniteResNetExtras {
  L: number; M: number; D: number;
  embeddingsTrained: boolean;
  /** Final weights (after K updates), with returnWeights. */
  weights?: ResNetWeights;
}

export type FiniteResNetTrajectory = Trajectory<FiniteResNetExtras, FiniteResNetBound>;

const OPTION_KEYS = ["record", "recordSteps", "weights", "returnWeights", "threads"];

function checkOptions(o: unknown, field: string): Omit<FiniteResNetBound, "recordSteps"> & { recordSteps?: number[] } {
  if (o === undefined) o = {};
  if (!isPlainObject(o)) throw new ValidationError(field, `must be an object (got ${show(o)})`);
  knownKeys(field, o, OPTION_KEYS);
  if (Array.isArray(o.record)) o.record.forEach((r, i) => {
    if (r === "kl") throw new ValidationError(`${field}.record[${i}]`, `"kl" is not available for the finite ResNet: the KL of the trained law (MATH §8) is defined for the limit laws; record it with meanOde() or dmft() (the finite ResNet records "h", "b", "p" and "gram")`);
  });
  const record = recordOption(field, o.record, RECORDABLE);
  const recordSteps = recordStepsOption(field, o.recordSteps);
  const threads = checkThreads(`${field}.threads`, o.threads ?? "auto");
  if (o.returnWeights !== undefined && typeof o.returnWeights !== "boolean") throw new ValidationError(`${field}.returnWeights`, `must be true or false (got ${show(o.returnWeights)})`);
  const out: Omit<FiniteResNetBound, "recordSteps"> & { recordSteps?: number[] } = { record, returnWeights: o.returnWeights === true, threads };
  if (recordSteps) out.recordSteps = recordSteps;
  if (o.weights !== undefined) out.weights = o.weights as ResNetWeights;
  return out;
}

/** The finite ResNet trained by full-batch GD (MATH §1), for `solve(problem, finiteResNet({...}))`. */
export function finiteResNet(options?: FiniteResNetOptions, field = "options"): Algorithm<FiniteResNetBound, FiniteResNetExtras> {
  const given = checkOptions(options, field);
  return {
    name: "finiteResNet",
    requires: [],
    bind: (problem) => ({ ...given, recordSteps: bindRecordSteps(field, given.record.filter((r) => r !== "gram"), given.recordSteps, problem.train.steps) }),
    run: runFinite,
  };
}

/** Train the finite ResNet for `problem.train.steps` GD steps and return its Trajectory (solve without the algorithm value). */
export function trainResNet(problem: Problem, opts: FiniteResNetOptions = {}): FiniteResNetTrajectory {
  const alg = finiteResNet(opts);
  return alg.run(problem, alg.bind(problem));
}

function runFinite(problem: Problem, opts: FiniteResNetBound): FiniteResNetTrajectory {
  const t0 = performance.now();
  const threads = opts.threads;
  const { L: L0, M: M0, D: D0, sigmaU, sigmaV, activation } = problem.model;
  // Parallel initialisation: draw the layers in the engine's threads (same streams, same draws).
  const drawInThreads = !opts.weights && !problem.init.U && !problem.init.V && resolveThreads(threads, M0, D0, problem.data.N, activation, L0) > 1;
  let w: ResNetWeights;
  if (opts.weights) w = cloneWeights(opts.weights);
  else if (drawInThreads) {
    const p0 = { ...problem, model: { ...problem.model, L: 1, M: 1 } }; // W_E, W_U only (streams 0, 1)
    const w0 = initWeights(p0);
    w = { ...w0, L: L0, M: M0, U: sharedF64(L0 * M0 * D0), V: sharedF64(L0 * M0 * D0) };
  } else w = initWeights(problem);
  const eng = new ResNetEngine(problem, w, { threads, drawnLayers: !opts.weights && !problem.init.U });
  try {
    if (drawInThreads) eng.initLayers(problem.seed, sigmaU * Math.sqrt(D0), sigmaV * Math.sqrt(D0));
    return runTraining(problem, opts, eng, w, t0);
  } finally {
    eng.close();
  }
}

function runTraining(problem: Problem, opts: FiniteResNetBound, eng: ResNetEngine, w: ResNetWeights, t0: number): FiniteResNetTrajectory {
  const tInit = performance.now();
  const { L, M, D, N, dOut } = eng;
  const K = problem.train.steps;
  const { record, recordSteps: recSteps } = opts;
  const recIndex = new Map<number, number>();
  recSteps.forEach((k, i) => recIndex.set(k, i));
  const R = recSteps.length;
  const ND = N * D;
  const hRec = record.includes("h") ? new Float64Array(R * (L + 1) * ND) : null;
  const bRec = record.includes("b") ? new Float64Array(R * (L + 1) * ND) : null;
  const pRec = record.includes("p") ? new Float64Array(R * L * M * N) : null;

  const f = new Float64Array(K * dOut * N);
  const loss = new Float64Array(K);
  // MATH §8 diagnostics, on the calling thread between the forward pass and the update
  const gramWs = record.includes("gram") ? new FiniteGram(eng) : null;
  const dN = dOut * N;
  const gram = gramWs ? new Float64Array(K * dN * dN) : null;
  const tp = testProblem(problem);
  const testEng = tp ? new ResNetEngine(tp, eng.w, { threads: 1, drawnLayers: true }) : null;
  const NT = tp ? tp.data.N : 0;
  const fTest = testEng ? new Float64Array(K * dOut * NT) : null;
  for (let k = 0; k < K; k++) {
    const l = eng.forward();
    if (!Number.isFinite(l)) {
      assertFinite(k, "hidden state h", eng.H); // names h when the state itself blew up
      throw new DivergenceError(k, "loss", `loss = ${l}`);
    }
    loss[k] = l;
    f.set(eng.F, k * dOut * N);
    if (gramWs) {
      gramWs.compute(gram!, k * dN * dN);
      assertFinite(k, "tangent Gram matrix", gram!, dN * dN, k * dN * dN);
    }
    if (testEng) {
      testEng.forward();
      assertFinite(k, "test output fTest", testEng.F);
      fTest!.set(testEng.F, k * dOut * NT);
    }
    eng.backwardAndUpdate();
    const r = recIndex.get(k);
    if (r !== undefined) {
      if (hRec) hRec.set(eng.H, r * (L + 1) * ND);
      if (bRec) bRec.set(eng.B, r * (L + 1) * ND);
      if (pRec) pRec.set(eng.P, r * L * M * N);
    }
    reportProgress(k + 1, K, "GD steps (finite ResNet)");
  }
  const tEnd = performance.now();
  let profiles: DepthProfiles | undefined;
  if (R > 0) {
    profiles = { steps: recSteps, s: Float64Array.from({ length: L + 1 }, (_, l) => l / L) };
    if (hRec) profiles.h = view(hRec, [R, L + 1, N, D]);
    if (bRec) profiles.b = view(bRec, [R, L + 1, N, D]);
    if (pRec) profiles.p = view(pRec, [R, L, M, N]);
  }
  const extras: FiniteResNetExtras = { L, M, D, embeddingsTrained: embeddingsTrained(problem) };
  if (opts.returnWeights) extras.weights = w;
  return makeTrajectory(problem, {
    algorithm: "finiteResNet", options: opts, f, loss, profiles, fTest: fTest ?? undefined, gram: gram ?? undefined,
    timings: { totalMs: tEnd - t0, initMs: tInit - t0, trainMs: tEnd - tInit },
    extras,
  });
}

/** Result of one forward pass: outputs, loss, and all hidden states / preactivations. */
export interface ForwardResult {
  loss: number;
  /** d_out × N. */
  f: ReturnType<typeof view>;
  /** h_ℓ, ℓ = 0..L: [L+1, N, D]. */
  h: ReturnType<typeof view>;
  /** p_ℓ: [L, M, N]. */
  p: ReturnType<typeof view>;
}

/** One forward pass at `weights` (default: the problem's initial weights). */
export function forward(problem: Problem, weights: ResNetWeights = initWeights(problem)): ForwardResult {
  const eng = new ResNetEngine(problem, weights);
  const loss = eng.forward();
  const { L, M, N, D, dOut } = eng;
  return { loss, f: view(Float64Array.from(eng.F), [dOut, N]), h: view(Float64Array.from(eng.H), [L + 1, N, D]), p: view(Float64Array.from(eng.P), [L, M, N]) };
}

/** One GD step in place on `weights` (rates from problem.train); returns the loss before the step. */
export function gdStep(problem: Problem, weights: ResNetWeights): number {
  const eng = new ResNetEngine(problem, weights);
  const loss = eng.forward();
  if (!Number.isFinite(loss)) throw new DivergenceError(0, "loss", "at the given weights (gdStep: step 0 = this call)");
  eng.backwardAndUpdate();
  return loss;
}

/**
 * Exact gradient ∂𝓛/∂θ of the loss at `weights` (same layouts as the weights),
 * from the backward pass: a unit-rate step gives Δθ = −(LMD/α²)·∂𝓛/∂θ for
 * U, V and Δθ = −(D/α)·∂𝓛/∂θ for W_E, W_U (MATH §1), so ∂𝓛/∂θ = −Δθ·scale.
 */
export function gradient(problem: Problem, weights: ResNetWeights = initWeights(problem)): { loss: number; WE: Float64Array; WU: Float64Array; U: Float64Array; V: Float64Array } {
  const w = cloneWeights(weights);
  const eng = new ResNetEngine(problem, w);
  const loss = eng.forward();
  eng.backwardAndUpdate(1, 1, 1, 1);
  const { L, M, D } = eng;
  const a2 = problem.model.alpha ** 2;
  const diff = (after: Float64Array, before: Float64Array, scale: number) => after.map((x, i) => -(x - before[i]) * scale);
  return {
    loss,
    U: diff(w.U, weights.U, a2 / (L * M * D)),
    V: diff(w.V, weights.V, a2 / (L * M * D)),
    WE: diff(w.WE, weights.WE, problem.model.alpha / D),
    WU: diff(w.WU, weights.WU, problem.model.alpha / D),
  };
}

export { weightsToJSON };
