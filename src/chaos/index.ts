/**
 * Large-M limit, coupled twins and propagation-of-chaos diagnostics (MATH §4; docs/chaos.md).
 *
 * @module limitdyn/chaos
 */
export {
  largeWidth, limitFields, resolveLargeWidthOptions, largeWidthMeanOdeOptions, rejectTrainedEmbeddings,
  type LargeWidthOptions, type LimitFields,
} from "./limit.ts";
export {
  CoupledSystem, coupledRun, chaosWeights, problemAtWidth, runSeed, twinPreactivations, twinUpdate,
  type CoupledRunResult,
} from "./coupling.ts";
export { TaggedAccumulator, tagFunctional, TAG_FUNCTIONALS, type TagFunctional, type TaggedEstimate } from "./tagged.ts";
export { w1Sorted, ksSorted, LimitLawReference, layerLawDistance } from "./laws.ts";
export {
  chaos, chaosToJSON, resolveChaosOptions, DIAGNOSTICS,
  type ChaosOptions, type ResolvedChaosOptions, type ChaosResult, type ChaosWidthDetail, type Diagnostic,
} from "./simulate.ts";
