/**
 * limitdyn — public API.
 *
 *   import { makeProblem, solve, finiteResNet } from "limitdyn";
 *   const traj = solve(makeProblem({...}), finiteResNet());
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
  type ResNetWeights, initWeights, cloneWeights, weightsToJSON, weightViews, validateWeights,
} from "./resnet/weights.ts";
export { ResNetEngine } from "./resnet/engine.ts";
export {
  type FiniteResNetOptions, type ForwardResult, finiteResNet, trainResNet, forward, gradient, gdStep,
} from "./resnet/solver.ts";

// ---- limit solvers (MATH §2–5)
export { DepthGrid, integrate, richardson, SCHEMES, SCHEME_ORDER, type Scheme } from "./depth/integrators.ts";
export { meanOde, type MeanOdeOptions } from "./limits/mean-ode.ts";
export { solveParticleMeanOde, ParticleMeanOde, drawParticles, type ParticleMeanOdeOptions } from "./particles/mean-ode.ts";
export { initEmbeddings, embeddingGram, limitEmbeddingGram } from "./problem/embeddings.ts";
export { dmft, dmftCoordinates, gramProfiles, sampleEmbeddingRows, rowsFromEmbeddings, type DmftOptions, type EmbeddingRows } from "./limits/dmft.ts";
export { limitLawSamples } from "./skeleton/sampler.ts";
export { largeWidth, chaos as chaosDiagnostics } from "./chaos/index.ts";

// ---- lemma checks (MATH §6)
export { checkLipschitz, estimatePsi2, checkSubGaussian } from "./verify/index.ts";

// ---- namespaces for the rest of each layer
export * as skeleton from "./skeleton/index.ts";
export * as chaos from "./chaos/index.ts";
export * as verify from "./verify/index.ts";
export * as experiments from "./experiments/index.ts";
