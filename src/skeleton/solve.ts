/**
 * The skeleton solver as a Trajectory (MATH §3): for a given embedding Gram
 * matrix E — the Mean ODE at finite D (E from W_E, W_U) and the DMFT limit
 * (E = diag(σ_in² I, σ_out² I)) are this one function — K GD steps of the
 * skeleton Mean ODE in coefficient coordinates (core.ts) with Gaussian
 * expectations (provider.ts), optionally Richardson-extrapolated over two
 * depth grids. Options arrive bound (limits/: meanOde, dmft, largeWidth);
 * requirements (frozen embeddings, σ″) were checked by solve().
 *
 * With `embeddings`, recorded profiles are reconstructed in R^D; the extras
 * hold the coefficient vectors on the fine grid (`SkeletonExtras`), which the
 * limit-law sampler, the DMFT coordinate sampler and the Gram profiles read.
 */
import { type F64, view } from "../core/arrays.ts";
import { ValidationError } from "../core/errors.ts";
import { profileRow } from "../core/layout.ts";
import { show } from "../core/validate.ts";
import { DepthGrid, type Scheme } from "../depth/integrators.ts";
import { withRichardson } from "../depth/richardson.ts";
import type { Problem } from "../problem/problem.ts";
import { type DepthProfiles, makeTrajectory, type Trajectory } from "../problem/trajectory.ts";
import { solveSkeletonCore, type SkeletonCoreResult } from "./core.ts";
import type { SkeletonParams } from "./maps.ts";
import type { BoundExpectation } from "./options.ts";
import { makeCoefficientProvider } from "./provider.ts";

/** Bound options of one skeleton solve. */
export interface SkeletonSolveOptions {
  scheme: Scheme;
  depthSteps: number;
  richardson: boolean;
  expectation: BoundExpectation;
  /** Profiles to reconstruct in R^D (needs finite-D embeddings; default none). */
  record?: ("h" | "b")[];
  recordSteps?: number[];
}

/** What a skeleton solve leaves besides f and loss. */
export interface SkeletonExtras {
  /** r = d_in + d_out. */
  r: number;
  /** Embedding Gram matrix (r × r) the solve used. */
  E: Float64Array;
  /** Constants of the skeleton maps: lets limitLawSamples (sampler.ts) draw the limit law from the trajectory alone. */
  skeletonParams: SkeletonParams;
  /** Depth of the nodes of the (fine) grid. */
  depthGrid: Float64Array;
  /** Coefficient vectors c^h, c^b on the fine grid: [K, nodes, N, r]. */
  coefficients: { h: F64; b: F64 };
  /** Coefficient evaluations (forward + backward stages, both grids). */
  evaluations: number;
  /** max |f − f_fine| of the Richardson extrapolation (null without it). */
  richardsonCorrection: number | null;
  /** D of the embeddings (finite-D solves). */
  D?: number;
}

/** The skeleton extras of a trajectory, or a ValidationError naming `trajectory` when it has none. */
export function skeletonExtras(t: Trajectory): SkeletonExtras {
  const x = (t as Trajectory | undefined)?.extras as Partial<SkeletonExtras> | undefined;
  if (!x || !x.coefficients || !x.E || !x.r || !x.depthGrid) {
    throw new ValidationError("trajectory", `must come from the skeleton Mean ODE / largeWidth / DMFT solver (it has no coefficient vectors; algorithm ${show(t?.algorithm)})`);
  }
  return x as SkeletonExtras;
}

/** The skeleton solver with embedding Gram matrix E, as a Trajectory named `algorithm` whose options are `options`. */
export function skeletonTrajectory<O extends SkeletonSolveOptions>(
  problem: Problem, E: Float64Array, options: O, algorithm: string,
  embeddings: { WE: Float64Array; WU: Float64Array; D: number } | null, t0 = performance.now(),
): Trajectory<SkeletonExtras, O> {
  const { dIn, dOut, N } = problem.data;
  const K = problem.train.steps;
  const run = withRichardson(options.depthSteps, new DepthGrid(options.scheme, options.depthSteps).order, options.richardson, (S) => {
    const provider = makeCoefficientProvider(problem, options.expectation);
    return solveSkeletonCore({ ...problem.data, K, E, grid: new DepthGrid(options.scheme, S), provider });
  }, (r) => r.f);
  const fine = run.fine;
  const fineGrid = new DepthGrid(options.scheme, run.coarse ? 2 * options.depthSteps : options.depthSteps);
  const { etaU, etaV } = problem.train;
  const { alpha, activation, sigmaU, sigmaV } = problem.model;
  const extras: SkeletonExtras = {
    r: dIn + dOut,
    E,
    skeletonParams: { etaU, etaV, alpha, activation, sigmaU, sigmaV },
    depthGrid: fineGrid.nodeDepths(),
    coefficients: { h: view(fine.ch, [K, fine.nodes, N, fine.r]), b: view(fine.cb, [K, fine.nodes, N, fine.r]) },
    evaluations: fine.evaluations + (run.coarse?.evaluations ?? 0),
    richardsonCorrection: run.correction,
  };
  if (embeddings) extras.D = embeddings.D;
  let profiles: DepthProfiles | undefined;
  if (options.record && options.record.length > 0) {
    if (!embeddings) throw new ValidationError("options.record", "needs finite-D embeddings; in the DMFT limit use the coordinate sampler instead");
    profiles = reconstructProfiles(fine, fineGrid, embeddings, dIn, dOut, N, options);
  }
  return makeTrajectory(problem, { algorithm, options, f: run.f, profiles, timings: { totalMs: performance.now() - t0 }, extras });
}

/** h_{k,n}(s) = W c^h_{k,n}(s) in R^D on the node grid (and b likewise). */
function reconstructProfiles(res: SkeletonCoreResult, grid: DepthGrid, emb: { WE: Float64Array; WU: Float64Array; D: number }, dIn: number, dOut: number, N: number, opts: SkeletonSolveOptions): DepthProfiles {
  const { WE, WU, D } = emb;
  const steps = opts.recordSteps ?? [];
  const nodes = res.nodes, r = res.r;
  const build = (c: Float64Array) => {
    const out = new Float64Array(steps.length * nodes * N * D);
    steps.forEach((k, i) => {
      for (let node = 0; node < nodes; node++)
        for (let n = 0; n < N; n++) {
          const co = profileRow(nodes, N, r, k, node, n);
          const oo = profileRow(nodes, N, D, i, node, n);
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
  const profiles: DepthProfiles = { steps, s: grid.nodeDepths() };
  if (opts.record?.includes("h")) profiles.h = build(res.ch);
  if (opts.record?.includes("b")) profiles.b = build(res.cb);
  return profiles;
}
