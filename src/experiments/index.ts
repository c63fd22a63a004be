/**
 * limitdyn/experiments — sweeps, errors against limits, rate fits, plots.
 * (docs/experiments.md)
 *
 * @module limitdyn/experiments
 */
export {
  type AxisValue, type Point, type SweepSpec, type NormalizedSweep, type RunSpec, type Shard,
  AXIS_ALIASES, canonicalAxis, normalizeSweep, expandSweep, runId, sweepRunSeed, parseShard, inShard, runInputs, loadSweepFile,
} from "./spec.ts";
/** @deprecated since 0.2: the seed of a sweep run is `sweepRunSeed` (one `runSeed`, in core/rng, for families of runs); this alias goes in the next version. */
export { sweepRunSeed as runSeed } from "./spec.ts";
export { type SweepRow, type ReadRowsResult, type MergeResult, RowFileError, readRows, rowKey, dedupeRows, mergeRowFiles } from "./rows.ts";
export { type RunSweepOptions, type SweepResult, SweepError, runSweep } from "./sweep.ts";
export { runOne, UnknownTaskError } from "./run.ts";
export {
  type Task, type TaskContext, type TaskValues, type LimitSolver, type LimitTaskConfig, type LimitTask,
  registerTask, getTask, listTasks, limitTask, referenceResNet, referenceSeed, finiteVsReference, syntheticRate,
  finiteVsMeanOde, finiteVsDmft, fixEmbeddings, dmftHidden,
} from "./tasks.ts";
export {
  type ShapeStats, type AggregateOptions,
  rms, rmsDiff, outputError, outputErrorRms, embeddingError, finalHidden, rowField, aggregateRows,
} from "./errors.ts";
export {
  type Shape, type RatePoint, type RateTerm, type RateFit, type RateFitOptions, type RateFitWithIntervals, type PowerFit,
  type PowerFitWithIntervals, type ShapeAxis, type BootstrapOptions, type BootstrapResult, type Interval, type Goodness,
  TERMS, ALL_SHAPES_TERMS, HIDDEN_WIDTH_TERMS, FitError, leastSquares, fitRates, fitPowerLaw, fitPowerLawAlong, shapeAxis,
  toRatePoints, bootstrap, fitRatesWithIntervals, fitPowerLawWithIntervals,
} from "../stats/fit.ts";
export {
  type VegaLiteSpec, type PlotResult, type PlotOptions, type ErrorPlotOptions, type Predictor, type LossCurve,
  type CoordinateSeries, type SampleSet, type DensityCurve,
  compileVegaLite, renderSvg, plotErrorVs, plotLossCurves, plotCoordinates, plotHistograms, histogram,
} from "./plot.ts";
export {
  type Scale, type PresetName, type PresetOptions, type PresetSummary, type AxisFit, type CoefficientFit, type Ladders,
  PRESET_NAMES, THEORY, LADDERS, PRESET_PROBLEM, EMBEDDING_SEED, runPreset, formatSummary,
} from "./presets/index.ts";
/** Exact W1 of two empirical laws (stats/distances.ts; formerly an approximate quantile version here). */
export { w1 } from "../stats/distances.ts";
export { type MimeBundle, VEGA_LITE_MIME, JUPYTER_DISPLAY, mimeBundle, displayable, display } from "./display.ts";
