/**
 * Large-M limit, coupled twins and propagation-of-chaos diagnostics (MATH §4; docs/chaos.md).
 *
 * @module limitdyn/chaos
 */
export { limitFields, type LimitFields } from "./limit.ts";
export { largeWidth, resolveLargeWidthOptions, largeWidthMeanOdeOptions, type LargeWidthOptions } from "../limits/large-width.ts";
export {
  CoupledSystem, coupledRun, chaosWeights, problemAtWidth, runSeed, twinPreactivations, twinUpdate,
  type CoupledRunResult,
} from "./coupling.ts";
export { TaggedAccumulator, tagFunctional, TAG_FUNCTIONALS, type TagFunctional, type TaggedEstimate } from "./tagged.ts";
export { LimitLawReference, layerLawDistance } from "./laws.ts";
export { w1Sorted, ksSorted } from "../stats/distances.ts";
export {
  chaosDiagnostics, chaosSimulator, chaos, chaosToJSON, resolveChaosOptions, rejectTrainedEmbeddings, DIAGNOSTICS,
  type ChaosOptions, type ResolvedChaosOptions, type ChaosResult, type ChaosDiagnostics, type ChaosExtras, type ChaosBound,
  type ChaosWidthDetail, type Diagnostic,
} from "./simulate.ts";
