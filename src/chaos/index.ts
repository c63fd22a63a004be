/**
 * Large-M limit, coupled twins and propagation-of-chaos diagnostics (MATH §4; docs/chaos.md).
 *
 * @module limitdyn/chaos
 */
export { limitFields, type LimitFields } from "./limit.ts";
export { largeWidth, resolveLargeWidthOptions, largeWidthMeanOdeOptions, type LargeWidthOptions } from "../limits/large-width.ts";
export {
  CoupledSystem, coupledRun, chaosWeights, problemAtWidth, twinPreactivations, twinUpdate,
  type CoupledRunResult,
} from "./coupling.ts";
/** Seed of run r of a chaos experiment (independent of M): core/rng runSeed. */
export { runSeed } from "../core/rng.ts";
export { TaggedAccumulator, tagFunctional, TAG_FUNCTIONALS, type TagFunctional, type TaggedEstimate } from "./tagged.ts";
export { LimitLawReference, layerLawDistance } from "./laws.ts";
export { w1Sorted, ksSorted } from "../stats/distances.ts";
export {
  chaosDiagnostics, chaosSimulator, chaos, chaosToJSON, resolveChaosOptions, rejectTrainedEmbeddings, DIAGNOSTICS,
  type ChaosOptions, type ResolvedChaosOptions, type ChaosResult, type ChaosDiagnostics, type ChaosExtras, type ChaosBound,
  type ChaosWidthDetail, type Diagnostic,
} from "./simulate.ts";
