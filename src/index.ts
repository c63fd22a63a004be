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
  type ResNetWeights, initWeights, initEmbeddings, cloneWeights, weightsToJSON, weightViews, validateWeights,
} from "./resnet/weights.ts";
export { ResNetEngine } from "./resnet/engine.ts";
export {
  type FiniteResNetOptions, type ForwardResult, finiteResNet, trainResNet, forward, gradient, gdStep,
} from "./resnet/solver.ts";
