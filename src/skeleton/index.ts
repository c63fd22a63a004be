/**
 * Skeleton maps, Gaussian expectation engines, the Mean ODE coefficients, the depth core and the skeleton solve (MATH §3; docs/skeleton.md).
 *
 * @module limitdyn/skeleton
 */
export {
  SkeletonMap, SkeletonBlock, skeletonMaps, evaluateBatch, resolveParams, checkGram,
  type SkeletonParams, type ResolvedParams, type JacobianMode, type SkeletonSample, type BatchOutput,
} from "./maps.ts";
export {
  expectationEngine, expect, gaussHermite, GroupAccumulator, ENGINE_KINDS, PSD_TOL,
  type EngineKind, type EngineOptions, type ExpectationEngine, type ExpectationResult, type PointSet,
} from "./expectation.ts";
export {
  forwardCoefficients, backwardCoefficients, coefficientDim, skeletonGaussianSamples, clearCoefficientWorkspaces,
  type CoefficientResult, type CoefficientOutput, type CovarianceFactors,
} from "./coefficients.ts";
export { EigenWorkspace, symEigen, symSqrtPsd } from "./linalg.ts";
export { normalQuantile, normalCdf, erfc, sobolIntegers, sobolUniforms, sobolDirections, SOBOL_MAX_DIM } from "./qmc.ts";
export {
  skeletonTrajectory, skeletonExtras, type SkeletonExtras, type SkeletonSolveOptions,
} from "./solve.ts";
export { bindExpectation, engineOptionsOf, DEFAULT_QMC, type ExpectationOptions, type BoundExpectation, type Factor } from "./options.ts";
export { solveSkeletonCore, type CoefficientProvider, type GramFactors, type SkeletonCoreResult } from "./core.ts";
export { limitLawSamples, gramAtNode, type LimitLawOptions, type LimitLawSamples } from "./sampler.ts";
