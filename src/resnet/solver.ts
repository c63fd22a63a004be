/**
 * `finiteResNet(options)`: the finite ResNet trained by full-batch GD, as an
 * algorithm for `solve`. Also the functional notebook API: forward,
 * gradient, gdStep.
 */
import { view } from "../core/arrays.ts";
import { DivergenceError, ValidationError } from "../core/errors.ts";
import { assertFinite, booleanValue, firstNonFinite, isPlainObject, knownKeys, show } from "../core/validate.ts";
import { requireResources } from "../core/resources.ts";
import type { Algorithm } from "../problem/algorithm.ts";
import { assertProblem, embeddingsTrained, type Problem } from "../problem/problem.ts";
import { bindRecordSteps, recordSpec } from "../problem/record.ts";
import { type DepthProfiles, makeTrajectory, type Trajectory } from "../problem/trajectory.ts";
import { checkBackward, checkForward, finiteResNetNeed, ResNetEngine } from "./engine.ts";
import { FiniteGram, testProblem } from "./gram.ts";
import { resolveThreads, sharedF64 } from "./parallel.ts";
import { checkThreads, type ThreadsOption } from "../parallel/pool.ts";
import { cloneWeights, initWeights, type ResNetWeights, validateWeights, weightsToJSON } from "./weights.ts";
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
  const { record, recordSteps } = recordSpec(field, o, RECORDABLE, ["h", "b", "p"]);
  const threads = checkThreads(`${field}.threads`, o.threads === undefined ? "auto" : o.threads);
  const returnWeights = o.returnWeights === undefined ? false : booleanValue(`${field}.returnWeights`, o.returnWeights);
  const out: Omit<FiniteResNetBound, "recordSteps"> & { recordSteps?: number[] } = { record, returnWeights, threads };
  if (recordSteps) out.recordSteps = recordSteps;
  if (o.weights !== undefined) {
    if (!isPlainObject(o.weights)) throw new ValidationError(`${field}.weights`, `must be finite-ResNet weights { L, M, D, dIn, dOut, WE, WU, U, V } as initWeights returns (got ${show(o.weights)})`);
    out.weights = o.weights as unknown as ResNetWeights;
  }
  return out;
}

/** The finite ResNet trained by full-batch GD (MATH §1), for `solve(problem, finiteResNet({...}))`. */
export function finiteResNet(options?: FiniteResNetOptions, field = "options"): Algorithm<FiniteResNetBound, FiniteResNetExtras> {
  const given = checkOptions(options, field);
  return {
    name: "finiteResNet",
    requires: [],
    bind: (problem) => ({ ...given, recordSteps: bindRecordSteps(field, given.record.filter((r) => r !== "gram"), given.recordSteps, problem.train.steps) }),
    run: (problem, o) => runFinite(problem, o, field),
  };
}

/** Train the finite ResNet for `problem.train.steps` GD steps and return its Trajectory (solve without the algorithm value). */
export function trainResNet(problem: Problem, opts: FiniteResNetOptions = {}): FiniteResNetTrajectory {
  assertProblem(problem);
  const alg = finiteResNet(opts);
  return alg.run(problem, alg.bind(problem));
}

function runFinite(problem: Problem, opts: FiniteResNetBound, field = "options"): FiniteResNetTrajectory {
  const t0 = performance.now();
  assertProblem(problem);
  const threads = opts.threads;
  const { L: L0, M: M0, D: D0, sigmaU, sigmaV, activation } = problem.model;
  const R = opts.recordSteps.length;
  requireResources(finiteResNetNeed(problem, {
    steps: problem.train.steps, outputs: true, weightCopies: (opts.weights ? 1 : 0) + (opts.returnWeights ? 0 : 0),
    gram: opts.record.includes("gram"), nTest: problem.data.XTest ? problem.data.NTest ?? 0 : 0,
    recH: opts.record.includes("h") ? R : 0, recB: opts.record.includes("b") ? R : 0, recP: opts.record.includes("p") ? R : 0,
    threads: resolveThreads(threads, M0, D0, problem.data.N, activation, L0),
  }, "the finite ResNet", field));
  if (opts.weights) validateWeights(opts.weights, problem, `${field}.weights`);
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
    checkForward(eng, k, l); // names h_ℓ when the state itself blew up, else the loss
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
    checkBackward(eng, k);
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
  if (opts.returnWeights) {
    checkWeights(w, K - 1, "(after the update of the last step)");
    extras.weights = w;
  }
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

/** Throw a DivergenceError when updated weights left double precision. */
function checkWeights(w: ResNetWeights, step: number, when: string): void {
  for (const k of ["U", "V", "WE", "WU"] as const) {
    const i = firstNonFinite(w[k]);
    if (i >= 0) throw new DivergenceError(step, `weights ${k} ${when}`, `entry ${i} is ${w[k][i]}`);
  }
}

/** max |x| over an array. */
function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/**
 * The ValidationError of a pass that leaves double precision at the given weights: names the
 * array (weights.WE / WU / U / V or data.X) with the largest entries, and the quantity that overflowed.
 */
function overflowAt(problem: Problem, w: ResNetWeights, field: string, quantity: string): ValidationError {
  const cands: [string, number][] = [[`${field}.U`, maxAbs(w.U)], [`${field}.V`, maxAbs(w.V)], [`${field}.WE`, maxAbs(w.WE)], [`${field}.WU`, maxAbs(w.WU)], ["data.X", maxAbs(problem.data.X)], ["data.Y", maxAbs(problem.data.Y)]];
  cands.sort((a, b) => b[1] - a[1]);
  const [name, m] = cands[0];
  return new ValidationError(name, `has entries up to ${m.toExponential(2)}: the pass overflows double precision at these weights (${quantity} is not finite)`);
}

/** The engine's state after a forward pass at user weights: finite, or an error naming the weights. */
function checkPass(problem: Problem, eng: ResNetEngine, w: ResNetWeights, loss: number, field: string): void {
  try {
    checkForward(eng, 0, loss);
  } catch (e) {
    if (e instanceof DivergenceError) throw overflowAt(problem, w, field, e.quantity);
    throw e;
  }
  // preactivations can overflow while a saturating σ keeps h finite
  const i = firstNonFinite(eng.P);
  if (i >= 0) throw overflowAt(problem, w, field, `the preactivation p of layer ${Math.floor(i / (eng.M * eng.N)) + 1}`);
}

/** One forward pass at `weights` (default: the problem's initial weights). */
export function forward(problem: Problem, weights?: ResNetWeights): ForwardResult {
  assertProblem(problem);
  const w = weights === undefined ? initWeights(problem) : weights;
  const eng = new ResNetEngine(problem, w);
  const loss = eng.forward();
  checkPass(problem, eng, w, loss, "weights");
  const { L, M, N, D, dOut } = eng;
  return { loss, f: view(Float64Array.from(eng.F), [dOut, N]), h: view(Float64Array.from(eng.H), [L + 1, N, D]), p: view(Float64Array.from(eng.P), [L, M, N]) };
}

/**
 * One GD step in place on `weights` (rates from problem.train); returns the loss before the step.
 * A non-finite loss at the given weights, or weights that leave double precision in the update,
 * are a DivergenceError at step 0 (this call); the weights are then left as the update made them.
 */
export function gdStep(problem: Problem, weights: ResNetWeights): number {
  assertProblem(problem);
  const eng = new ResNetEngine(problem, weights);
  const loss = eng.forward();
  try {
    checkForward(eng, 0, loss);
  } catch (e) {
    if (e instanceof DivergenceError) throw new DivergenceError(0, e.quantity, `at the given weights (gdStep: step 0 = this call)${e.detail ? `; ${e.detail}` : ""}`);
    throw e;
  }
  eng.backwardAndUpdate();
  checkBackward(eng, 0);
  checkWeights(weights, 0, "(after this gdStep update)");
  return loss;
}

/**
 * Exact gradient ∂𝓛/∂θ of the loss at `weights` (same layouts as the weights),
 * from the backward pass: a unit-rate step gives Δθ = −(LMD/α²)·∂𝓛/∂θ for
 * U, V and Δθ = −(D/α)·∂𝓛/∂θ for W_E, W_U (MATH §1), so ∂𝓛/∂θ = −Δθ·scale.
 */
export function gradient(problem: Problem, weights?: ResNetWeights): { loss: number; WE: Float64Array; WU: Float64Array; U: Float64Array; V: Float64Array } {
  assertProblem(problem);
  const w0 = weights === undefined ? initWeights(problem) : weights;
  validateWeights(w0, problem);
  requireResources(finiteResNetNeed(problem, { steps: 1, weightCopies: 2 }, "the gradient of the finite ResNet"));
  weights = w0;
  const w = cloneWeights(weights);
  const eng = new ResNetEngine(problem, w);
  const loss = eng.forward();
  checkPass(problem, eng, w, loss, "weights");
  eng.backwardAndUpdate(1, 1, 1, 1);
  const { L, M, D } = eng;
  const a2 = problem.model.alpha ** 2;
  const diff = (after: Float64Array, before: Float64Array, scale: number) => after.map((x, i) => -(x - before[i]) * scale);
  const out = {
    loss,
    U: diff(w.U, w0.U, a2 / (L * M * D)),
    V: diff(w.V, w0.V, a2 / (L * M * D)),
    WE: diff(w.WE, w0.WE, problem.model.alpha / D),
    WU: diff(w.WU, w0.WU, problem.model.alpha / D),
  };
  for (const k of ["U", "V", "WE", "WU"] as const) {
    const i = firstNonFinite(out[k]);
    if (i >= 0) throw overflowAt(problem, w0, "weights", `the gradient ∂𝓛/∂${k} (entry ${i})`);
  }
  return out;
}

export { weightsToJSON };
