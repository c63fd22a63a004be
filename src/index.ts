/**
 * limitdyn — public API.
 *
 *   import { makeProblem, solve, finiteResNet } from "limitdyn";
 *   const traj = solve(makeProblem({...}), finiteResNet());
 *
 * Subpath entries: limitdyn/experiments, limitdyn/verify, limitdyn/skeleton, limitdyn/chaos.
 *
 * @module limitdyn
 */
export { ValidationError, DivergenceError, LimitdynError } from "./core/errors.ts";
export { ResourceError, type ResourceLimits, resourceLimits, setResourceLimits } from "./core/resources.ts";
export { Stream, StreamFamily, stream } from "./core/rng.ts";
export {
  type Activation, type ActivationName, ACTIVATIONS, tanh, linear, gelu, sin, customActivation, resolveActivation,
} from "./core/activations.ts";
export { view, toNested, toFlat, type F64, type NdArray } from "./core/arrays.ts";
export {
  type Problem, type ProblemInput, type ModelSpec, type Dataset, type Schedule, type InitWeights, type TeacherDataSpec,
  makeProblem, parseProblem, loadProblem, teacherData, withChanges, embeddingsTrained,
} from "./problem/problem.ts";
export { twoSpiralsData, type TwoSpiralsSpec } from "./problem/spirals.ts";
export { initEmbeddings, embeddingGram, limitEmbeddingGram } from "./problem/embeddings.ts";
export {
  type Trajectory, type TrajectoryParts, type DepthProfiles, makeTrajectory, trajectoryToJSON, outputRms, lossOf,
} from "./problem/trajectory.ts";
export { type Algorithm, type Requirement, solve, checkRequirements } from "./problem/algorithm.ts";

// ---- the finite ResNet (MATH §1)
export {
  type ResNetWeights, initWeights, cloneWeights, weightsToJSON, weightViews, validateWeights,
} from "./resnet/weights.ts";
export { ResNetEngine } from "./resnet/engine.ts";
export {
  type FiniteResNetOptions, type FiniteResNetBound, type FiniteResNetExtras, type FiniteResNetTrajectory, type ForwardResult,
  finiteResNet, trainResNet, forward, gradient, gdStep,
} from "./resnet/solver.ts";

// ---- limit solvers (MATH §2–5)
export { DepthGrid, SCHEMES, SCHEME_ORDER, type Scheme } from "./depth/grid.ts";
export { integrate } from "./depth/integrate.ts";
export { SCHEME_DEFS, type SchemeDef } from "./depth/schemes.ts";
export { richardson, withRichardson } from "./depth/richardson.ts";
export {
  meanOde, type MeanOdeOptions, type MeanOdeBound, type MeanOdeExtras, type SkeletonMeanOdeBound, type ParticleMeanOdeBound,
} from "./limits/mean-ode.ts";
export {
  solveParticleMeanOde, ParticleMeanOde, drawParticles, type ParticleMeanOdeOptions, type ParticleBound, type ParticleExtras,
} from "./particles/mean-ode.ts";
export {
  dmft, dmftCoordinates, gramProfiles, sampleEmbeddingRows, rowsFromEmbeddings,
  type DmftOptions, type DmftBound, type DmftExtras, type EmbeddingRows,
} from "./limits/dmft.ts";
export { largeWidth, type LargeWidthOptions, type LargeWidthExtras } from "./limits/large-width.ts";
export { lazy, kernelGD, type LazyOptions, type LazyBound, type LazyExtras, type LazyTrajectory, type LazyLimit } from "./limits/lazy.ts";
export { type SkeletonExtras, skeletonExtras } from "./skeleton/solve.ts";
export { limitLawSamples } from "./skeleton/sampler.ts";

// ---- the large-M limit and propagation of chaos (MATH §4)
export { chaosDiagnostics, chaosSimulator, type ChaosOptions, type ChaosExtras, type ChaosResult } from "./chaos/simulate.ts";

// ---- result files in and out (loadTrajectory, .npy / .npz / CSV export)
export * from "./problem/io.ts";
export { setProgressListener, type ProgressListener } from "./core/progress.ts";
export { packageVersion } from "./core/version.ts";

// ---- namespaces for the rest of each layer. The lemma checkers (MATH §6, fast-check) and the
// experiments (sweeps, fits, Vega-Lite plots, progress bars) are subpath entries only, so that
// the core entry loads none of those libraries:
//   import { checkLipschitz, estimatePsi2 } from "limitdyn/verify";
//   import { runSweep, plotErrorVs } from "limitdyn/experiments";
export * as skeleton from "./skeleton/index.ts";
/** The chaos layer (its simulator function is chaosDiagnostics; `chaos.chaos` is a deprecated alias of it). */
export * as chaos from "./chaos/index.ts";
