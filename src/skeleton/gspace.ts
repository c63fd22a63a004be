/**
 * The G-space skeleton solver (MATH §3 before the factor form: Jacobians of p, q with
 * respect to the whole Gaussian vector G, cost ∝ (kN)³ per sample). It is no longer a user
 * path — meanOde / dmft / largeWidth run the factor form (./solve.ts) — and stays as an
 * independent second algorithm for the tests: for a given embedding Gram matrix E, K GD
 * steps of the skeleton Mean ODE in coefficient coordinates (core.ts) with Gaussian
 * expectations (provider.ts), optionally Richardson-extrapolated over two depth grids.
 */
import { view } from "../core/arrays.ts";
import { ValidationError } from "../core/errors.ts";
import { DepthGrid, type Scheme } from "../depth/integrators.ts";
import { withRichardson } from "../depth/richardson.ts";
import type { Problem } from "../problem/problem.ts";
import { type DepthProfiles, makeTrajectory, type Trajectory } from "../problem/trajectory.ts";
import { solveSkeletonCore } from "./core.ts";
import { reconstructProfiles, type SkeletonCoefficients } from "./solve.ts";
import type { BoundExpectation } from "./options.ts";
import { makeCoefficientProvider } from "./provider.ts";

/** Bound options of one skeleton solve. */
export interface GspaceSolveOptions {
  scheme: Scheme;
  depthSteps: number;
  richardson: boolean;
  expectation: BoundExpectation;
  /** Profiles to reconstruct in R^D (needs finite-D embeddings; default none). */
  record?: ("h" | "b")[];
  recordSteps?: number[];
}

/** The G-space skeleton solver with embedding Gram matrix E (E from `embeddings` when given), as a Trajectory. */
export function gspaceTrajectory<O extends GspaceSolveOptions>(
  problem: Problem, E: Float64Array, options: O, algorithm = "skeleton/gspace",
  embeddings: { WE: Float64Array; WU: Float64Array; D: number } | null = null, t0 = performance.now(),
): Trajectory<SkeletonCoefficients, O> {
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
  const extras: SkeletonCoefficients = {
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
    profiles = reconstructProfiles(fine.ch, fine.cb, fineGrid, embeddings, dIn, dOut, N, options.record, options.recordSteps ?? []);
  }
  return makeTrajectory(problem, { algorithm, options, f: run.f, profiles, timings: { totalMs: performance.now() - t0 }, extras });
}
