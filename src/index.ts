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
export { Stream, StreamFamily, stream } from "./core/rng.ts";
export {
  type Activation, type ActivationName, ACTIVATIONS, tanh, linear, gelu, sin, customActivation, resolveActivation,
} from "./core/activations.ts";
export { view, toNested, toFlat, type F64, type NdArray } from "./core/arrays.ts";
export {
  type Problem, type ProblemInput, type ModelSpec, type Dataset, type Schedule, type InitWeights, type TeacherDataSpec,
  makeProblem, parseProblem, loadProblem, teacherData, withChanges, embeddingsTrained,
} from "./problem/problem.ts";
export { type Trajectory, type DepthProfiles, trajectoryToJSON, outputRms, lossOf } from "./problem/trajectory.ts";
export { type Algorithm, solve } from "./problem/algorithm.ts";
export {
  type ResNetWeights, initWeights, initEmbeddings, cloneWeights, weightsToJSON, weightViews, validateWeights,
} from "./resnet/weights.ts";
export { ResNetEngine } from "./resnet/engine.ts";
export {
  type FiniteResNetOptions, type ForwardResult, finiteResNet, trainResNet, forward, gradient, gdStep,
} from "./resnet/solver.ts";

// ---- limit solvers (MATH §2–5)
export { DepthGrid, integrate, richardson, SCHEMES, SCHEME_ORDER, type Scheme } from "./meanode/integrators.ts";
export { meanOde, type MeanOdeOptions } from "./meanode/solver.ts";
export { solveParticleMeanOde, ParticleMeanOde, drawParticles, type ParticleMeanOdeOptions } from "./meanode/particles.ts";
export { embeddingGram, limitEmbeddingGram } from "./meanode/skeleton-core.ts";
export { dmft, dmftCoordinates, gramProfiles, sampleEmbeddingRows, rowsFromEmbeddings, type DmftOptions, type EmbeddingRows } from "./dmft/solver.ts";
export { limitLawSamples } from "./skeleton/sampler.ts";
export { largeWidth, chaos as chaosDiagnostics } from "./chaos/index.ts";

// ---- result files in and out (loadTrajectory, .npy / .npz / CSV export)
export * from "./problem/io.ts";
export { setProgressListener, type ProgressListener } from "./core/progress.ts";
export { packageVersion } from "./version.ts";

// ---- namespaces for the rest of each layer. The lemma checkers (MATH §6, fast-check) and the
// experiments (sweeps, fits, Vega-Lite plots, progress bars) are subpath entries only, so that
// the core entry loads none of those libraries:
//   import { checkLipschitz, estimatePsi2 } from "limitdyn/verify";
//   import { runSweep, plotErrorVs } from "limitdyn/experiments";
export * as skeleton from "./skeleton/index.ts";
export * as chaos from "./chaos/index.ts";
