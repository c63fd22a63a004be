/**
 * Fits of error rates (MATH §6 "Error rates").
 *
 *  - Linear laws: err ≈ Σ_t a_t g_t(L, M, D) by least squares, e.g. the
 *    All-Shapes law a/L + b√(D/(LM)) + c/√D, the Hidden-Width law
 *    a/L + b/√(LM) (fixed D); optionally with a_t ≥ 0 (exact NNLS by
 *    enumerating active sets: fine for the few terms of a rate law).
 *  - ℓ₂ combinations: err ≈ √(Σ_t (a_t g_t)²), fitted linearly as
 *    err² ≈ Σ_t β_t g_t² with β_t = a_t² ≥ 0.
 *  - Power laws along one axis: err ≈ C·x^e by least squares on (log x, log err).
 *  - Bootstrap percentile intervals: resample the repetitions within each
 *    shape (with replacement), recompute the per-shape RMS, refit.
 *
 * Goodness of fit: R² = 1 − Σ(err − fit)² / Σ(err − mean err)² (on the err
 * scale; on log err for power laws) and the relative RMS residual
 * √(mean ((err − fit)/err)²).
 */
import { ValidationError } from "../core/errors.ts";
import { createRequire } from "node:module";
import type * as MlMatrix from "ml-matrix";
import { StreamFamily } from "../core/rng.ts";

export interface Shape {
  L: number;
  M: number;
  D: number;
}

/** Statistics of one shape over repetitions (experiments' ShapeStats is one). */
export interface GroupStats extends Shape {
  /** Number of repetitions with a value. */
  n: number;
  /** sqrt(mean v²) over the repetitions. */
  rms: number;
  /** Per-repetition values. */
  values: number[];
}

/** RMS of values: sqrt(mean v²) (NaN for no values). */
export function rms(values: ArrayLike<number>): number {
  if (values.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i] * values[i];
  return Math.sqrt(s / values.length);
}

export interface RatePoint extends Shape {
  err: number;
}

/** A term of a rate law: a named function of the shape. */
export interface RateTerm {
  name: string;
  f: (s: Shape) => number;
}

/** Built-in terms by name. */
export const TERMS: Readonly<Record<string, RateTerm>> = {
  "1/L": { name: "1/L", f: (s) => 1 / s.L },
  "sqrt(D/(LM))": { name: "sqrt(D/(LM))", f: (s) => Math.sqrt(s.D / (s.L * s.M)) },
  "1/sqrt(D)": { name: "1/sqrt(D)", f: (s) => 1 / Math.sqrt(s.D) },
  "1/sqrt(LM)": { name: "1/sqrt(LM)", f: (s) => 1 / Math.sqrt(s.L * s.M) },
  "1/M": { name: "1/M", f: (s) => 1 / s.M },
  "1": { name: "1", f: () => 1 },
};

/** The All-Shapes law a/L + b√(D/(LM)) + c/√D. */
export const ALL_SHAPES_TERMS = ["1/L", "sqrt(D/(LM))", "1/sqrt(D)"];
/** The Hidden-Width law at fixed D: a/L + b/√(LM). */
export const HIDDEN_WIDTH_TERMS = ["1/L", "1/sqrt(LM)"];

function resolveTerm(t: string | RateTerm): RateTerm {
  if (typeof t !== "string") return t;
  const r = TERMS[t];
  if (!r) throw new ValidationError("terms", `names an unknown rate term ${JSON.stringify(t)} (known: ${Object.keys(TERMS).join(", ")}; or pass { name, f })`);
  return r;
}

export class FitError extends Error {}

// ml-matrix takes ≈ 30 ms to load: loaded on the first fit, not with the package entry.
let mlMatrix: typeof MlMatrix | null = null;
const ml = (): typeof MlMatrix => (mlMatrix ??= createRequire(import.meta.url)("ml-matrix") as typeof MlMatrix);

/** Unconstrained weighted least squares min Σ w_i (y_i − X_i·β)², on column-scaled X (QR). */
function lsq(X: number[][], y: number[], w: number[] | undefined, cols: number[]): number[] {
  const n = X.length;
  const p = cols.length;
  const beta = new Array<number>(X[0]?.length ?? 0).fill(0);
  if (p === 0) return beta;
  if (n < p) throw new FitError(`${n} data points for ${p} coefficients`);
  const scale = cols.map((j) => Math.sqrt(X.reduce((s, row, i) => s + (w ? w[i] : 1) * row[j] * row[j], 0)) || 1);
  const { Matrix, QrDecomposition } = ml();
  const A = new Matrix(n, p);
  const b = new Matrix(n, 1);
  for (let i = 0; i < n; i++) {
    const sw = w ? Math.sqrt(w[i]) : 1;
    for (let c = 0; c < p; c++) A.set(i, c, (sw * X[i][cols[c]]) / scale[c]);
    b.set(i, 0, sw * y[i]);
  }
  const qr = new QrDecomposition(A);
  const Rm = qr.upperTriangularMatrix;
  const diag = Array.from({ length: p }, (_, j) => Math.abs(Rm.get(j, j)));
  // columns are scaled to unit norm, so |R_jj| is the distance of column j from the span of the others before it
  if (!qr.isFullRank() || Math.min(...diag) < 1e-9 * Math.max(...diag)) throw new FitError("the terms are linearly dependent on these shapes (e.g. at fixed D, √(D/(LM)) and 1/√(LM) are proportional): drop a term or vary more axes");
  const sol = qr.solve(b);
  cols.forEach((j, c) => (beta[j] = sol.get(c, 0) / scale[c]));
  return beta;
}

/**
 * Least squares min Σ w_i (y_i − X_i·β)², optionally with β ≥ 0 (exact: the
 * best feasible unconstrained solution over all subsets of free columns;
 * intended for p ≤ 10 columns).
 */
export function leastSquares(X: number[][], y: number[], opts: { weights?: number[]; nonNegative?: boolean } = {}): number[] {
  const p = X[0]?.length ?? 0;
  if (X.length !== y.length) throw new FitError(`X has ${X.length} rows but y has ${y.length}`);
  const all = Array.from({ length: p }, (_, j) => j);
  if (!opts.nonNegative) return lsq(X, y, opts.weights, all);
  if (p > 12) throw new FitError("nonNegative least squares by enumeration supports at most 12 terms");
  const ssr = (beta: number[]) => X.reduce((s, row, i) => {
    const r = y[i] - row.reduce((t, x, j) => t + x * beta[j], 0);
    return s + (opts.weights ? opts.weights[i] : 1) * r * r;
  }, 0);
  let best = new Array<number>(p).fill(0);
  let bestSsr = ssr(best);
  for (let mask = 1; mask < 1 << p; mask++) {
    const cols = all.filter((j) => mask & (1 << j));
    let beta: number[];
    try {
      beta = lsq(X, y, opts.weights, cols);
    } catch {
      continue;
    }
    if (cols.some((j) => beta[j] < 0)) continue;
    const s = ssr(beta);
    if (s < bestSsr) {
      bestSsr = s;
      best = beta;
    }
  }
  return best;
}

export interface Goodness {
  /** 1 − SS_res/SS_tot (on err; on log err for power laws). */
  r2: number;
  /** √(mean ((err − fit)/err)²). */
  relRms: number;
}

function goodness(y: number[], yhat: number[]): Goodness {
  const mean = y.reduce((a, b) => a + b, 0) / y.length;
  let res = 0, tot = 0, rel = 0;
  for (let i = 0; i < y.length; i++) {
    res += (y[i] - yhat[i]) ** 2;
    tot += (y[i] - mean) ** 2;
    rel += ((y[i] - yhat[i]) / y[i]) ** 2;
  }
  return { r2: tot > 0 ? 1 - res / tot : NaN, relRms: Math.sqrt(rel / y.length) };
}

export interface RateFitOptions {
  /** Terms (names from TERMS or { name, f }); default the All-Shapes law. */
  terms?: (string | RateTerm)[];
  /** "sum": err ≈ Σ a_t g_t; "l2": err ≈ √(Σ (a_t g_t)²) (fit of a_t² on err²). Default "sum". */
  combine?: "sum" | "l2";
  /** Constrain coefficients to be ≥ 0 (default false for "sum"; always true for "l2"). */
  nonNegative?: boolean;
  /** "absolute": plain least squares (the papers'); "relative": weights 1/err² (1/err⁴ on err² for l2), i.e. relative residuals. Default "absolute". */
  weighting?: "absolute" | "relative";
}

export interface RateFit extends Goodness {
  terms: string[];
  combine: "sum" | "l2";
  /** Coefficients a_t by term name. */
  coef: Record<string, number>;
  /** For "l2": the fitted β_t = a_t². */
  coefSquared?: Record<string, number>;
  /** Prediction at a shape. */
  predict: (s: Shape) => number;
  /** err − fit, per point. */
  residuals: number[];
  n: number;
}

/** Fit a rate law to (shape, err) points. */
export function fitRates(points: RatePoint[], opts: RateFitOptions = {}): RateFit {
  const terms = (opts.terms ?? ALL_SHAPES_TERMS).map(resolveTerm);
  const combine = opts.combine ?? "sum";
  const pts = points.filter((p) => Number.isFinite(p.err));
  if (pts.length < terms.length) throw new FitError(`${pts.length} points for ${terms.length} terms`);
  const relative = opts.weighting === "relative";
  let coef: number[];
  let coefSq: number[] | undefined;
  if (combine === "sum") {
    const X = pts.map((p) => terms.map((t) => t.f(p)));
    coef = leastSquares(X, pts.map((p) => p.err), { nonNegative: opts.nonNegative, weights: relative ? pts.map((p) => 1 / (p.err * p.err)) : undefined });
  } else {
    const X = pts.map((p) => terms.map((t) => t.f(p) ** 2));
    coefSq = leastSquares(X, pts.map((p) => p.err * p.err), { nonNegative: true, weights: relative ? pts.map((p) => 1 / p.err ** 4) : undefined });
    coef = coefSq.map(Math.sqrt);
  }
  const predict = combine === "sum"
    ? (s: Shape) => terms.reduce((acc, t, j) => acc + coef[j] * t.f(s), 0)
    : (s: Shape) => Math.sqrt(terms.reduce((acc, t, j) => acc + coefSq![j] * t.f(s) ** 2, 0));
  const y = pts.map((p) => p.err);
  const yhat = pts.map(predict);
  const named = (v: number[]) => Object.fromEntries(terms.map((t, j) => [t.name, v[j]]));
  return {
    terms: terms.map((t) => t.name), combine, coef: named(coef), coefSquared: coefSq ? named(coefSq) : undefined,
    predict, residuals: y.map((v, i) => v - yhat[i]), n: pts.length, ...goodness(y, yhat),
  };
}

/** An axis of a shape: L, M, D, or the products LM, LD, MD, P = LMD. */
export type ShapeAxis = "L" | "M" | "D" | "LM" | "LD" | "MD" | "P";

export function shapeAxis(s: Shape, axis: ShapeAxis): number {
  switch (axis) {
    case "L": return s.L;
    case "M": return s.M;
    case "D": return s.D;
    case "LM": return s.L * s.M;
    case "LD": return s.L * s.D;
    case "MD": return s.M * s.D;
    case "P": return s.L * s.M * s.D;
  }
}

export interface PowerFit extends Goodness {
  C: number;
  exponent: number;
  predict: (x: number) => number;
  n: number;
}

/** err ≈ C·x^e by least squares on (log x, log y). R² is on log y; relRms on y. */
export function fitPowerLaw(x: number[], y: number[]): PowerFit {
  if (x.length !== y.length) throw new FitError(`x has ${x.length} values but y has ${y.length}`);
  const idx = x.map((_, i) => i).filter((i) => x[i] > 0 && y[i] > 0 && Number.isFinite(x[i]) && Number.isFinite(y[i]));
  if (idx.length < 2 || new Set(idx.map((i) => x[i])).size < 2) throw new FitError("a power law needs at least two distinct positive x values with positive y");
  const lx = idx.map((i) => Math.log(x[i])), ly = idx.map((i) => Math.log(y[i]));
  const mx = lx.reduce((a, b) => a + b, 0) / lx.length, my = ly.reduce((a, b) => a + b, 0) / ly.length;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < lx.length; i++) {
    sxy += (lx[i] - mx) * (ly[i] - my);
    sxx += (lx[i] - mx) ** 2;
  }
  const exponent = sxy / sxx;
  const logC = my - exponent * mx;
  const C = Math.exp(logC);
  const predict = (v: number) => C * v ** exponent;
  const g = goodness(ly, lx.map((v) => logC + exponent * v));
  const yy = idx.map((i) => y[i]);
  const rel = goodness(yy, idx.map((i) => predict(x[i]))).relRms;
  return { C, exponent, predict, n: idx.length, r2: g.r2, relRms: rel };
}

/** Per-shape RMS points of a table (groups without values are dropped). */
export function toRatePoints(table: GroupStats[]): RatePoint[] {
  return table.filter((g) => g.n > 0).map((g) => ({ L: g.L, M: g.M, D: g.D, err: g.rms }));
}

/** Power law of the per-shape RMS along one axis of a table. */
export function fitPowerLawAlong(table: GroupStats[], axis: ShapeAxis): PowerFit {
  const pts = toRatePoints(table);
  return fitPowerLaw(pts.map((p) => shapeAxis(p, axis)), pts.map((p) => p.err));
}

export interface BootstrapOptions {
  /** Bootstrap resamples (default 1000). */
  B?: number;
  /** Two-sided level of the percentile intervals (default 0.9). */
  level?: number;
  /** Seed of the resampling (default 0). */
  seed?: number;
  /**
   * Inflate each resampled group RMS around the observed one by √(n/(n−1))
   * (n = repetitions of the group), undoing the (n−1)/n shrinkage of the
   * bootstrap variance. Default true; it matters for n ≲ 20 (measured: with
   * n = 10 the plain percentile interval's spread is ~13% too small).
   */
  inflate?: boolean;
  /**
   * Resample the SAME repetition indices in every group (requires equal
   * counts, values ordered by repetition). Use it when repetitions are
   * shared across shapes (sweeps with `seedAxes: []`: common random numbers),
   * where groups are correlated and independent resampling would be wrong.
   */
  paired?: boolean;
}

export interface Interval {
  estimate: number;
  lo: number;
  hi: number;
  /** Bootstrap standard deviation. */
  se: number;
}

export interface BootstrapResult {
  /** Parameters of the fit on the data. */
  estimate: number[];
  intervals: Interval[];
  /** Resampled parameter vectors (B' × p; failed refits dropped). */
  samples: number[][];
  /** Resamples whose refit failed (e.g. a degenerate design). */
  failed: number;
  level: number;
}

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const i = Math.floor(pos);
  const f = pos - i;
  return i + 1 < sorted.length ? sorted[i] * (1 - f) + sorted[i + 1] * f : sorted[i];
}

/**
 * Bootstrap over repetitions: for b = 1..B, resample each group's per-run
 * values with replacement (same count), recompute the group RMS, and refit
 * with `fit` (a function of rate points returning a parameter vector).
 * Percentile intervals at `level`. Deterministic in `seed`.
 */
export function bootstrap(table: GroupStats[], fit: (points: RatePoint[]) => number[], opts: BootstrapOptions = {}): BootstrapResult {
  const B = opts.B ?? 1000;
  const level = opts.level ?? 0.9;
  const inflate = opts.inflate ?? true;
  const groups = table.filter((g) => g.n > 0);
  const estimate = fit(toRatePoints(groups));
  const rng = new StreamFamily(opts.seed ?? 0).get(0);
  const samples: number[][] = [];
  let failed = 0;
  const buf: number[] = [];
  const paired = opts.paired ?? false;
  const nPaired = groups[0]?.values.length ?? 0;
  if (paired && groups.some((g) => g.values.length !== nPaired)) throw new FitError("paired bootstrap needs the same number of values (repetitions) in every group");
  const idx: number[] = [];
  for (let b = 0; b < B; b++) {
    if (paired) for (let i = 0; i < nPaired; i++) idx[i] = Math.floor(rng.uniform() * nPaired);
    const pts: RatePoint[] = groups.map((g) => {
      buf.length = g.values.length;
      const n = g.values.length;
      for (let i = 0; i < n; i++) buf[i] = g.values[paired ? idx[i] : Math.floor(rng.uniform() * n)];
      const r = rms(buf);
      return { L: g.L, M: g.M, D: g.D, err: inflate && n > 1 ? g.rms + Math.sqrt(n / (n - 1)) * (r - g.rms) : r };
    });
    try {
      const p = fit(pts);
      if (p.every(Number.isFinite)) samples.push(p);
      else failed++;
    } catch {
      failed++;
    }
  }
  if (samples.length === 0) throw new FitError("every bootstrap refit failed");
  const intervals = estimate.map((est, j) => {
    const col = samples.map((s) => s[j]).sort((a, b) => a - b);
    const mean = col.reduce((a, b) => a + b, 0) / col.length;
    const se = Math.sqrt(col.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, col.length - 1));
    return { estimate: est, lo: quantile(col, (1 - level) / 2), hi: quantile(col, (1 + level) / 2), se };
  });
  return { estimate, intervals, samples, failed, level };
}

export interface RateFitWithIntervals extends RateFit {
  /** Bootstrap percentile intervals of the coefficients, by term name. */
  intervals: Record<string, Interval>;
  bootstrap: BootstrapResult;
}

/** fitRates on the table's per-shape RMS, with bootstrap intervals of the coefficients (resampling repetitions). */
export function fitRatesWithIntervals(table: GroupStats[], fitOpts: RateFitOptions = {}, bootOpts: BootstrapOptions = {}): RateFitWithIntervals {
  const fit = fitRates(toRatePoints(table), fitOpts);
  const boot = bootstrap(table, (pts) => {
    const f = fitRates(pts, fitOpts);
    return f.terms.map((t) => f.coef[t]);
  }, bootOpts);
  return { ...fit, intervals: Object.fromEntries(fit.terms.map((t, j) => [t, boot.intervals[j]])), bootstrap: boot };
}

export interface PowerFitWithIntervals extends PowerFit {
  intervals: { exponent: Interval; C: Interval };
  bootstrap: BootstrapResult;
}

/** Power law along an axis with bootstrap intervals of exponent and prefactor (resampling repetitions). */
export function fitPowerLawWithIntervals(table: GroupStats[], axis: ShapeAxis, bootOpts: BootstrapOptions = {}): PowerFitWithIntervals {
  const fit = fitPowerLawAlong(table, axis);
  const boot = bootstrap(table, (pts) => {
    const f = fitPowerLaw(pts.map((p) => shapeAxis(p, axis)), pts.map((p) => p.err));
    return [f.exponent, f.C];
  }, bootOpts);
  return { ...fit, intervals: { exponent: boot.intervals[0], C: boot.intervals[1] }, bootstrap: boot };
}
