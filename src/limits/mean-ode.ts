/**
 * `meanOde({...})`: the L → ∞ limit at fixed D (MATH §2–3) as an algorithm
 * for `solve`. Two independent methods:
 *   - "skeleton" (default): the exact skeleton reduction in coefficient
 *     coordinates (src/meanode/skeleton-core.ts) with Gaussian expectations
 *     from an engine (src/skeleton/);
 *   - "particles": P particles from μ_0 shared by all depths
 *     (src/meanode/particles.ts).
 * The problem's L and M are ignored; D, the embeddings (seeded or explicit
 * init.WE, init.WU) and the data are used. Embeddings must be frozen.
 */
import { view } from "../core/arrays.ts";
import { ValidationError } from "../core/errors.ts";
import { requireSecondDerivative } from "../core/activations.ts";
import { isPlainObject, knownKeys, oneOf, positiveInt, show } from "../core/validate.ts";
import type { Algorithm } from "../problem/algorithm.ts";
import { embeddingsTrained, type Problem } from "../problem/problem.ts";
import { lossOf, type Trajectory } from "../problem/trajectory.ts";
import { initEmbeddings } from "../problem/embeddings.ts";
import { DepthGrid, richardson, type Scheme, SCHEMES } from "../depth/integrators.ts";
import { solveSkeletonCore, type SkeletonCoreResult } from "../skeleton/core.ts";
import { embeddingGram } from "../problem/embeddings.ts";
import { makeCoefficientProvider, resolveExpectationOptions, type ExpectationOptions } from "../skeleton/provider.ts";
import { solveParticleMeanOde } from "../particles/mean-ode.ts";

export interface MeanOdeOptions {
  method?: "skeleton" | "particles";
  /**
   * Depth scheme. Default: skeleton with sampled expectations — "rk4" on S = 3 steps,
   * no Richardson (discretisation error ≈ 5e-8, 3.7× fewer expectation calls than Heun
   * S = 8 + Richardson at a similar error; docs/meanode.md); otherwise "heun" with Richardson.
   */
  scheme?: Scheme;
  /**
   * Depth steps S of the (coarse) grid. Defaults: skeleton — 3 (RK4) with sampled
   * expectations, 16 (Heun + Richardson) with closed-form ones; 8 for a skeleton with
   * Heun + Richardson chosen explicitly; 32 otherwise.
   */
  depthSteps?: number;
  /** Richardson extrapolation over grids S and 2S (default: true for heun/rk4/euler, false for staggered-euler). */
  richardson?: boolean;
  /** Gaussian expectation engine of the skeleton method (default: closed form for linear σ, else scrambled Sobol). */
  expectation?: ExpectationOptions;
  /** Particle method: number of particles P (default 4096). */
  particles?: number;
  /** Particle method: seed of the particles (default problem.seed). */
  particleSeed?: number;
  /** Record depth profiles h, b (reconstructed in R^D) on the node grid. */
  record?: ("h" | "b")[];
  recordSteps?: number[];
}

const KEYS = ["method", "scheme", "depthSteps", "richardson", "expectation", "particles", "particleSeed", "record", "recordSteps"];

export interface ResolvedMeanOdeOptions {
  method: "skeleton" | "particles";
  scheme: Scheme;
  depthSteps: number;
  /** depthSteps was not given: the skeleton picks 16 for closed-form expectations. */
  depthStepsDefault?: boolean;
  /** scheme (and richardson) not given: a sampled skeleton switches to RK4, S = 3, no Richardson. */
  schemeDefault?: boolean;
  richardson: boolean;
  expectation?: ExpectationOptions;
  particles?: number;
  particleSeed?: number;
  record: ("h" | "b")[];
  recordSteps?: number[];
}

export function resolveMeanOdeOptions(o: unknown, field = "solver"): ResolvedMeanOdeOptions {
  const opts = o === undefined ? {} : o;
  if (!isPlainObject(opts)) throw new ValidationError(field, `must be an object (got ${show(opts)})`);
  knownKeys(field, opts, KEYS);
  const method = oneOf(`${field}.method`, opts.method ?? "skeleton", ["skeleton", "particles"] as const);
  const scheme = oneOf(`${field}.scheme`, opts.scheme ?? "heun", SCHEMES);
  const rich = opts.richardson ?? (scheme !== "staggered-euler");
  if (typeof rich !== "boolean") throw new ValidationError(`${field}.richardson`, `must be true or false (got ${show(rich)})`);
  if (rich && scheme === "staggered-euler") throw new ValidationError(`${field}.richardson`, `is not supported with scheme "staggered-euler" (it is the exact M = ∞ ResNet at L = depthSteps; extrapolating it changes the object)`);
  const depthSteps = opts.depthSteps === undefined ? undefined : positiveInt(`${field}.depthSteps`, opts.depthSteps);
  const out: ResolvedMeanOdeOptions = { method, scheme, depthSteps: depthSteps ?? (method === "skeleton" && rich ? 8 : 32), richardson: rich, record: [] };
  if (depthSteps === undefined) out.depthStepsDefault = true;
  if (opts.scheme === undefined && opts.richardson === undefined) out.schemeDefault = true;
  if (method === "skeleton") {
    if (opts.particles !== undefined || opts.particleSeed !== undefined) throw new ValidationError(`${field}.particles`, `only applies to method "particles" (method is "skeleton")`);
    out.expectation = opts.expectation as ExpectationOptions | undefined;
  } else {
    if (opts.expectation !== undefined) throw new ValidationError(`${field}.expectation`, `only applies to method "skeleton" (method is "particles")`);
    out.particles = positiveInt(`${field}.particles`, opts.particles ?? 4096);
    if (opts.particleSeed !== undefined) out.particleSeed = opts.particleSeed as number;
  }
  if (opts.record !== undefined) {
    if (!Array.isArray(opts.record)) throw new ValidationError(`${field}.record`, `must be an array of "h", "b" (got ${show(opts.record)})`);
    opts.record.forEach((r, i) => { if (r !== "h" && r !== "b") throw new ValidationError(`${field}.record[${i}]`, `must be "h" or "b" (got ${show(r)})`); });
    out.record = opts.record as ("h" | "b")[];
  }
  if (opts.recordSteps !== undefined) out.recordSteps = opts.recordSteps as number[];
  return out;
}

/** The Mean ODE algorithm for `solve(problem, meanOde({...}))`. */
export function meanOde(options?: MeanOdeOptions, field = "options"): Algorithm {
  const opts = resolveMeanOdeOptions(options, field);
  return {
    name: `meanOde/${opts.method}`,
    options: { ...opts },
    run: (problem) => runMeanOde(problem, opts),
  };
}

function requireFrozen(problem: Problem): void {
  if (embeddingsTrained(problem)) {
    throw new ValidationError("train.etaE", `the Mean ODE / skeleton / DMFT solvers assume frozen embeddings (MATH §1); set train.etaE = train.etaO = 0 (got etaE = ${problem.train.etaE}, etaO = ${problem.train.etaO})`);
  }
}

export function runMeanOde(problem: Problem, opts: ResolvedMeanOdeOptions): Trajectory {
  const t0 = performance.now();
  if (opts.method === "particles") {
    requireFrozen(problem);
    const popts = { scheme: opts.scheme, depthSteps: opts.depthSteps, particles: opts.particles, particleSeed: opts.particleSeed, record: opts.record, recordSteps: opts.recordSteps };
    if (!opts.richardson) return solveParticleMeanOde(problem, popts);
    const coarse = solveParticleMeanOde(problem, { ...popts, record: [] });
    const fine = solveParticleMeanOde(problem, { ...popts, depthSteps: 2 * opts.depthSteps });
    return extrapolated(fine, coarse, new DepthGrid(opts.scheme, opts.depthSteps).order, problem, "meanOde/particles", { ...opts }, t0);
  }
  // the skeleton path checks frozen embeddings in skeletonTrajectory
  const { WE, WU } = initEmbeddings(problem);
  const { D } = problem.model;
  const { dIn, dOut } = problem.data;
  return skeletonTrajectory(problem, embeddingGram(WE, WU, D, dIn, dOut), opts, "meanOde/skeleton", { WE, WU, D }, t0);
}

/**
 * The skeleton solver for a given embedding Gram matrix E — the Mean ODE at
 * finite D (E from W_E, W_U) and the DMFT limit (E = diag(σ_in² I, σ_out² I))
 * are this one function. With `embeddings`, recorded profiles are
 * reconstructed in R^D; extras hold the coefficient vectors on the fine grid.
 */
export function skeletonTrajectory(problem: Problem, E: Float64Array, opts: ResolvedMeanOdeOptions, algorithm: string, embeddings: { WE: Float64Array; WU: Float64Array; D: number } | null, t0 = performance.now()): Trajectory {
  requireFrozen(problem);
  const { dIn, dOut, N, Y } = problem.data;
  const K = problem.train.steps;
  const closedForm = resolveExpectationOptions(problem.model.activation, opts.expectation).kind === "closed-form";
  if (closedForm && opts.depthStepsDefault && opts.richardson) opts = { ...opts, depthSteps: 16 };
  if (!closedForm && opts.schemeDefault) opts = { ...opts, scheme: "rk4", richardson: false, depthSteps: opts.depthStepsDefault ? 3 : opts.depthSteps };
  const Sfine = opts.richardson ? 2 * opts.depthSteps : opts.depthSteps;
  const fineGrid = new DepthGrid(opts.scheme, Sfine);
  const order = fineGrid.order;
  const fine = skeletonRun(problem, E, opts, Sfine);
  const coarse = opts.richardson ? skeletonRun(problem, E, opts, opts.depthSteps) : null;
  const f = coarse ? richardson(coarse.f, fine.f, order) : fine.f;
  const loss = new Float64Array(K);
  for (let k = 0; k < K; k++) loss[k] = lossOf(f, Y, dOut, N, k * dOut * N);
  const traj: Trajectory = {
    algorithm,
    options: { ...opts, expectation: resolveExpectationOptions(problem.model.activation, opts.expectation) },
    seed: problem.seed,
    K, dOut, N,
    f: view(f, [K, dOut, N]),
    loss,
    timings: { totalMs: performance.now() - t0 },
    extras: {
      r: dIn + dOut,
      E,
      // constants of the skeleton maps: lets limitLawSamples (src/skeleton/sampler.ts) draw the limit law
      skeletonParams: { etaU: problem.train.etaU, etaV: problem.train.etaV, alpha: problem.model.alpha, activation: problem.model.activation, sigmaU: problem.model.sigmaU, sigmaV: problem.model.sigmaV },
      depthGrid: fineGrid.nodeDepths(),
      coefficients: { h: view(fine.ch, [K, fine.nodes, N, fine.r]), b: view(fine.cb, [K, fine.nodes, N, fine.r]) },
      evaluations: fine.evaluations + (coarse?.evaluations ?? 0),
      richardsonCorrection: coarse ? maxAbsDiff(f, fine.f) : null,
    },
  };
  if (embeddings) (traj.extras as Record<string, unknown>).D = embeddings.D;
  if (opts.record.length > 0) {
    if (!embeddings) throw new ValidationError("options.record", "needs finite-D embeddings; in the DMFT limit use the coordinate sampler instead");
    traj.profiles = reconstructProfiles(fine, fineGrid, embeddings.WE, embeddings.WU, embeddings.D, dIn, dOut, N, K, opts);
  }
  return traj;
}

function skeletonRun(problem: Problem, E: Float64Array, opts: ResolvedMeanOdeOptions, S: number): SkeletonCoreResult {
  const { activation } = problem.model;
  requireSecondDerivative(activation);
  const provider = makeCoefficientProvider(problem, opts.expectation);
  return solveSkeletonCore({ ...problem.data, K: problem.train.steps, E, grid: new DepthGrid(opts.scheme, S), provider });
}

function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** h_{k,n}(s) = W c^h_{k,n}(s) in R^D on the node grid (and b likewise). */
function reconstructProfiles(res: SkeletonCoreResult, grid: DepthGrid, WE: Float64Array, WU: Float64Array, D: number, dIn: number, dOut: number, N: number, K: number, opts: ResolvedMeanOdeOptions) {
  const steps = opts.recordSteps ?? Array.from({ length: K }, (_, k) => k);
  steps.forEach((k, i) => { if (!Number.isInteger(k) || k < 0 || k >= K) throw new ValidationError(`options.recordSteps[${i}]`, `must be a step in 0..${K - 1} (got ${show(k)})`); });
  const nodes = res.nodes, r = res.r;
  const build = (c: Float64Array) => {
    const out = new Float64Array(steps.length * nodes * N * D);
    steps.forEach((k, i) => {
      for (let node = 0; node < nodes; node++)
        for (let n = 0; n < N; n++) {
          const co = ((k * nodes + node) * N + n) * r;
          const oo = ((i * nodes + node) * N + n) * D;
          for (let d = 0; d < D; d++) {
            let s = 0;
            for (let t = 0; t < dIn; t++) s += WE[d * dIn + t] * c[co + t];
            for (let t = 0; t < dOut; t++) s += WU[d * dOut + t] * c[co + dIn + t];
            out[oo + d] = s;
          }
        }
    });
    return view(out, [steps.length, nodes, N, D]);
  };
  return {
    steps,
    s: grid.nodeDepths(),
    h: opts.record.includes("h") ? build(res.ch) : undefined,
    b: opts.record.includes("b") ? build(res.cb) : undefined,
  };
}

/** Richardson-extrapolated trajectory from runs on grids 2S (fine) and S (coarse). */
function extrapolated(fine: Trajectory, coarse: Trajectory, order: number, problem: Problem, algorithm: string, options: Record<string, unknown>, t0: number): Trajectory {
  const { dOut, N, Y } = problem.data;
  const f = richardson(coarse.f.data, fine.f.data, order);
  const loss = new Float64Array(fine.K);
  for (let k = 0; k < fine.K; k++) loss[k] = lossOf(f, Y, dOut, N, k * dOut * N);
  return {
    ...fine,
    algorithm,
    options,
    f: view(f, [fine.K, dOut, N]),
    loss,
    timings: { totalMs: performance.now() - t0 },
    extras: { ...fine.extras, richardsonCorrection: maxAbsDiff(f, fine.f.data) },
  };
}
