/**
 * The skeleton solver as a Trajectory (MATH §3, "Factor form"): for a given embedding Gram
 * matrix E — the Mean ODE at finite D (E from W_E, W_U) and the DMFT limit
 * (E = diag(σ_in² I, σ_out² I)) are this one function — K GD steps of the skeleton Mean
 * ODE by the factor-form engine (factor.ts, factor-solve.ts), with an error estimate per
 * f_k and, with `tol`, refinement until the estimate is below it. Options arrive bound
 * (limits/: meanOde, dmft, largeWidth); requirements (frozen embeddings, σ″) were checked
 * by solve().
 *
 * With `embeddings`, recorded profiles are reconstructed in R^D; the extras hold the
 * coefficient vectors c^h, c^b on the depth grid (`SkeletonExtras`), which the limit-law
 * sampler, the DMFT coordinate sampler and the Gram profiles read.
 */
import { type F64, view } from "../core/arrays.ts";
import { ValidationError } from "../core/errors.ts";
import { profileRow } from "../core/layout.ts";
import { show } from "../core/validate.ts";
import { DepthGrid, type Scheme } from "../depth/grid.ts";
import { richardson, withRichardson } from "../depth/richardson.ts";
import type { Problem } from "../problem/problem.ts";
import { type DepthProfiles, makeTrajectory, type Trajectory } from "../problem/trajectory.ts";
import type { BoundFactorExpectation } from "./factor-options.ts";
import { type FactorErrorEstimate, factorModelOf, type FactorSolveOptions, type FactorSolveResult, type RandomizationRunner, solveFactor } from "./factor-solve.ts";
import { f64, requireResources } from "../core/resources.ts";
import { threadedRunner } from "./factor-parallel.ts";
import type { SkeletonParams } from "./maps.ts";

/** Bound options of one skeleton solve. */
export interface SkeletonSolveOptions {
  scheme: Scheme;
  depthSteps: number;
  /** Richardson extrapolation over grids S and 2S (every randomization solved on both). */
  richardson: boolean;
  expectation: BoundFactorExpectation;
  /** Refine until the largest error estimate of f is ≤ tol (null: one solve at the given sizes). */
  tol: number | null;
  /** Budget of the refinement: randomizations (added first), points per randomization, depth steps. */
  budget: { randomizations: number; points: number; depthSteps: number };
  /** Estimate the depth error by step doubling (one more solve, randomization 0, on 2S). */
  depthError: boolean;
  /** Profiles to reconstruct in R^D ("h", "b": need finite-D embeddings), and the diagnostics "gram", "kl" of MATH §8. */
  record?: ("h" | "b" | "gram" | "kl")[];
  recordSteps?: number[];
}

/** What every skeleton solve leaves (the G-space cross-check too): coefficient vectors on the grid. */
export interface SkeletonCoefficients {
  /** d = d_in + d_out (the length of a coefficient vector c = (c^E, c^U)). */
  r: number;
  /** Embedding Gram matrix (d × d) the solve used. */
  E: Float64Array;
  /** Constants of the skeleton maps: lets limitLawSamples (sampler.ts) draw the limit law from the trajectory alone. */
  skeletonParams: SkeletonParams;
  /** Depth of the nodes of the grid. */
  depthGrid: Float64Array;
  /** Coefficient vectors c^h, c^b on the grid: [K, nodes, N, d]. */
  coefficients: { h: F64; b: F64 };
  /** Field evaluations (forward + backward stages), summed over every solve that ran. */
  evaluations: number;
  /** max |f − f_fine| of the Richardson extrapolation (null without it). */
  richardsonCorrection: number | null;
  /** D of the embeddings (finite-D solves). */
  D?: number;
}

/** The error estimate of a factor-form solve (factor-solve.ts FactorErrorEstimate), its per-entry arrays shaped like f, [K, d_out, N]. */
export type SkeletonErrorEstimate = Omit<FactorErrorEstimate, "f" | "sampling" | "depth"> & {
  /** √(sampling² + depth²) per entry. */
  f: F64;
  sampling: F64;
  depth: F64;
};

export interface SkeletonExtras extends SkeletonCoefficients {
  error: SkeletonErrorEstimate;
  /** Standard error of each Gram entry over the randomizations, [K, d_out·N, d_out·N] (with record "gram"). */
  gramError?: F64;
  /** Standard error of KL_k over the randomizations (with record "kl"). */
  klError?: Float64Array;
  /** Standard error of fTest over the randomizations, [K, d_out, N_test] (with test points). */
  fTestError?: F64;
  /** Rank of E kept by the factor (= d unless D < d). */
  factorRank: number;
  /**
   * Dimension of the span V = span{R_inᵀ x_n, R_outᵀ e_o} the solve ran in (factor.ts spanFactor):
   * the expectations are 2·spanDimension-dimensional; ≤ min(factorRank, N + N_test + d_out).
   */
  spanDimension: number;
  /** Randomizations, points per randomization and depth steps of the final solve (≠ the bound ones after refinement). */
  solved: { randomizations: number; points: number; depthSteps: number };
}

/** The skeleton coefficients of a trajectory, or a ValidationError naming `trajectory` when it has none. */
export function skeletonExtras(t: Trajectory): SkeletonCoefficients & Partial<SkeletonExtras> {
  const x = (t as Trajectory | undefined)?.extras as Partial<SkeletonExtras> | undefined;
  if (!x || !x.coefficients || !x.E || !x.r || !x.depthGrid) {
    throw new ValidationError("trajectory", `must come from the skeleton Mean ODE / largeWidth / DMFT solver (it has no coefficient vectors; algorithm ${show(t?.algorithm)})`);
  }
  return x as SkeletonCoefficients & Partial<SkeletonExtras>;
}

/** The factor solve options of bound skeleton options at depth steps S. */
function factorOptions(o: SkeletonSolveOptions, S: number, field: string): FactorSolveOptions {
  const e = o.expectation;
  return {
    scheme: o.scheme, depthSteps: S, rule: e.rule, points: e.points ?? 0, randomizations: e.randomizations ?? 1, seed: e.seed ?? 1, nodes: e.nodes ?? 0,
    estimator: e.estimator, controlVariate: e.controlVariate, depthError: o.depthError && !o.richardson, tol: o.tol,
    maxRandomizations: o.budget.randomizations, maxPoints: o.budget.points, maxDepthSteps: o.budget.depthSteps, field, concurrency: e.threads === 1 ? 1 : 2,
  };
}

/** The skeleton solver with embedding Gram matrix E, as a Trajectory named `algorithm` whose options are `options`. */
export function skeletonTrajectory<O extends SkeletonSolveOptions>(
  problem: Problem, E: Float64Array, options: O, algorithm: string,
  embeddings: { WE: Float64Array; WU: Float64Array; D: number } | null, t0 = performance.now(),
  runner: RandomizationRunner = threadedRunner(options.expectation.threads), field = "options",
): Trajectory<SkeletonExtras, O> {
  const { dIn, dOut, N } = problem.data;
  const K = problem.train.steps;
  const model = factorModelOf(problem);
  const record = options.record ?? [];
  const diag = { gram: record.includes("gram"), kl: record.includes("kl") };
  const profs = record.filter((r) => r === "h" || r === "b").length;
  if (profs > 0 && embeddings) {
    const steps = (options.recordSteps ?? []).length, nodes = new DepthGrid(options.scheme, options.depthSteps * (options.richardson ? 2 : 1), field).nodes;
    requireResources({
      what: "the recorded profiles h, b in R^D", drivers: [["model.D", embeddings.D], [`${field}.recordSteps (recorded steps)`, steps], [`${field}.depthSteps`, options.depthSteps], ["data.N", N]],
      bytes: f64(profs * steps * nodes * N * embeddings.D), work: profs * steps * nodes * N * embeddings.D * (dIn + dOut) * 2, largest: steps * nodes * N * embeddings.D,
    });
  }
  const run = withRichardson(options.depthSteps, new DepthGrid(options.scheme, options.depthSteps, field).order, options.richardson, (S, isFine) =>
    solveFactor(model, E, factorOptions(options, S, field), isFine ? diag : {}, runner), (r) => r.f);
  const fine: FactorSolveResult = run.fine;
  const fineGrid = fine.grid;
  const { etaU, etaV } = problem.train;
  const { alpha, activation, sigmaU, sigmaV } = problem.model;
  const d = dIn + dOut, nodes = fineGrid.nodes;
  const shape = [K, dOut, N];
  const err = fine.error;
  let depth = err.depth, combined = err.f;
  if (run.coarse) {
    // Richardson: the correction itself bounds the depth error of the extrapolated value
    depth = new Float64Array(run.f.length);
    combined = new Float64Array(run.f.length);
    for (let i = 0; i < depth.length; i++) { depth[i] = Math.abs(run.f[i] - fine.f[i]); combined[i] = Math.hypot(err.samplingFactor * err.sampling[i], depth[i]); }
  }
  let max = 0, maxDepth = 0;
  const perStep = new Float64Array(K);
  for (let i = 0; i < combined.length; i++) {
    max = Math.max(max, combined[i]); maxDepth = Math.max(maxDepth, depth[i]);
    const k = (i / (dOut * N)) | 0;
    perStep[k] = Math.max(perStep[k], combined[i]);
  }
  const extras: SkeletonExtras = {
    r: d,
    E,
    skeletonParams: { etaU, etaV, alpha, activation, sigmaU, sigmaV },
    depthGrid: fineGrid.nodeDepths(),
    coefficients: { h: view(fine.ch, [K, nodes, N, d]), b: view(fine.cb, [K, nodes, N, d]) },
    evaluations: fine.evaluations + (run.coarse?.evaluations ?? 0),
    richardsonCorrection: run.correction,
    error: {
      f: view(combined, shape), sampling: view(err.sampling, shape), depth: view(depth, shape),
      max, maxSampling: err.maxSampling, samplingFactor: err.samplingFactor, maxDepth, perStep,
      tolReached: err.tolReached === null ? null : max <= (options.tol ?? Infinity),
      refinements: err.refinements,
    },
    factorRank: fine.factor.rankE ?? fine.factor.r,
    spanDimension: fine.factor.r,
    solved: { randomizations: fine.options.randomizations, points: fine.options.points, depthSteps: fine.options.depthSteps },
  };
  if (embeddings) extras.D = embeddings.D;
  let profiles: DepthProfiles | undefined;
  const prof = record.filter((r): r is "h" | "b" => r === "h" || r === "b");
  if (prof.length > 0) {
    if (!embeddings) throw new ValidationError("options.record", "needs finite-D embeddings for \"h\", \"b\"; in the DMFT limit use the coordinate sampler instead");
    profiles = reconstructProfiles(fine.ch, fine.cb, fineGrid, embeddings, dIn, dOut, N, prof, options.recordSteps ?? []);
  }
  const warnings: string[] = [];
  const dN = dOut * N;
  if (fine.gramError) extras.gramError = view(fine.gramError, [K, dN, dN]);
  if (fine.klError) extras.klError = fine.klError;
  if (fine.fTestError && problem.data.NTest) extras.fTestError = view(fine.fTestError, [K, dOut, problem.data.NTest]);
  if (fine.klInvalid) {
    const bad = Array.from(fine.klInvalid).reduce((a, b) => a + b, 0);
    if (bad > 0) warnings.push(`KL of the trained law: ${bad} sample(s) over the steps have det ∇T ≤ 0 (the map ξ ↦ T(ξ) is not injective there, MATH §8); they are left out of the KL estimate, which is then not the KL of ρ_k`);
  }
  if (tolGiven(options) && extras.error.tolReached === false) {
    warnings.push(fine.limitedBy
      ? `tol = ${options.tol} not reached: ${fine.limitedBy}; largest error estimate ${max.toExponential(2)}`
      : `tol = ${options.tol} not reached within the budget (${options.budget.randomizations} randomizations, ${options.budget.points} points each, ${options.budget.depthSteps} depth steps): largest error estimate ${max.toExponential(2)}`);
  }
  return makeTrajectory(problem, {
    algorithm, options, f: run.f, profiles, timings: { totalMs: performance.now() - t0 }, extras,
    // with Richardson the test outputs are extrapolated like f (a test point equal to a training input then gives its f)
    fTest: run.coarse && fine.fTest && run.coarse.fTest ? richardson(run.coarse.fTest, fine.fTest, fineGrid.order) : fine.fTest,
    gram: fine.gram, kl: fine.kl, klProfile: fine.klProfile, klSlots: fineGrid.slots, warnings,
  });
}

function tolGiven(o: SkeletonSolveOptions): boolean {
  return o.tol !== null;
}

/** h_{k,n}(s) = W c^h_{k,n}(s) in R^D on the node grid (and b likewise). */
export function reconstructProfiles(ch: Float64Array, cb: Float64Array, grid: DepthGrid, emb: { WE: Float64Array; WU: Float64Array; D: number }, dIn: number, dOut: number, N: number, record: readonly ("h" | "b")[], steps: number[]): DepthProfiles {
  const { WE, WU, D } = emb;
  const nodes = grid.nodes, r = dIn + dOut;
  const build = (c: Float64Array) => {
    const out = new Float64Array(steps.length * nodes * N * D);
    steps.forEach((k, i) => {
      for (let node = 0; node < nodes; node++)
        for (let n = 0; n < N; n++) {
          const co = profileRow(nodes, N, r, k, node, n);
          const oo = profileRow(nodes, N, D, i, node, n);
          for (let dd = 0; dd < D; dd++) {
            let s = 0;
            for (let t = 0; t < dIn; t++) s += WE[dd * dIn + t] * c[co + t];
            for (let t = 0; t < dOut; t++) s += WU[dd * dOut + t] * c[co + dIn + t];
            out[oo + dd] = s;
          }
        }
    });
    return view(out, [steps.length, nodes, N, D]);
  };
  const profiles: DepthProfiles = { steps, s: grid.nodeDepths() };
  if (record.includes("h")) profiles.h = build(ch);
  if (record.includes("b")) profiles.b = build(cb);
  return profiles;
}
