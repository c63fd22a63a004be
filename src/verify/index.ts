/**
 * Property-based verification of the lemmas (MATH §6): arbitraries, laws
 * with known ψ₂ norms, and the generic checkers. Guide:
 * docs/verifying-a-lemma.md.
 *
 * @module limitdyn/verify
 */
export {
  type Size, type SimpleNumberOptions, type EntryOptions, type PairOptions, type ModelSpecInput, type ModelSpecArbOptions,
  type DatasetArbOptions, type ScheduleArbOptions, type ProblemArbOptions, type LawKind, type LawArbOptions,
  type ParticlesArbOptions, type DepthProfileArbOptions,
  sizeArb, simpleNumber, entryArb, matrixArb, vectorArb, vectorPairArb, modelSpecArb, datasetArb, scheduleArb,
  problemInputArb, problemArb, lawArb, particlesArb, depthProfileArb, stepSizeBound, sourceOf,
} from "./arbitraries.ts";
export {
  type Rng, type SubGaussianLaw, gaussian, rademacher, uniform, mixture, scaled, withVarianceProxy, irwinHall, studentT,
  normalFrom, psi2FromLogMgfSq, logUniformMgfSq, UNIFORM_PSI2_CONSTANT,
} from "./laws.ts";
export {
  type Norm, type NormName, type LipschitzCheckOptions, type LipschitzPairReport, type LipschitzResult,
  type Psi2BandOptions, type Psi2Estimate, type SubGaussianCheckOptions, type SubGaussianResult,
  checkLipschitz, estimatePsi2, empiricalPsi2, checkSubGaussian, defaultRanks, normOf,
} from "./checkers.ts";
export { lgamma, betaCdf, betaQuantile, binomialUpperTail, binomialCdf, psi2OfAtoms } from "../stats/exact.ts";
export {
  type FieldLipschitz, type FlowBound, type ResNetForwardBound, type SkeletonBoundInput, type SkeletonLipschitzBound,
  type SkeletonPsi2Bounds, type GdMapBound,
  opNorm, topSingular, supAbsDfOnInterval, particleFieldLipschitz, stepStages, stepFactor, discreteGronwall,
  meanOdeFlowBound, meanOdeFlowBoundForPair, resnetForwardBound, skeletonLipschitzBound, skeletonLipschitzOnSegment,
  skeletonPsi2Bounds, weightMovementPsi2Bound, gaussianLipschitzPsi2, isOddActivation, gdMapLipschitzBound,
} from "./bounds.ts";
