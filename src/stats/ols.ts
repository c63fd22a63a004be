/**
 * Ordinary least squares of y on x (one regressor and an intercept) with the classical
 * normal-theory inference: standard error of the slope, Student-t confidence interval and the
 * two-sided p-value of a zero slope (Chen et al. fit log test error on log n this way).
 * Student t through the regularised incomplete beta of ./exact.ts:
 *   P(|T_ν| > t) = I_{ν/(ν+t²)}(ν/2, 1/2).
 */
import { betaCdf } from "./exact.ts";

export interface OlsFit {
  slope: number;
  intercept: number;
  /** Standard error of the slope (residual variance with n − 2 degrees of freedom). */
  se: number;
  /** Confidence interval of the slope at `level` (Student t, n − 2 degrees of freedom). */
  ci: [number, number];
  level: number;
  /** Two-sided p-value of the null hypothesis slope = 0. */
  pValue: number;
  r2: number;
  n: number;
  df: number;
}

/** Two-sided tail P(|T_ν| > t) of Student's t. */
export function studentTwoSided(t: number, df: number): number {
  if (!Number.isFinite(t)) return Number.isNaN(t) ? NaN : 0;
  return betaCdf(df / (df + t * t), df / 2, 0.5);
}

/** The two-sided critical value t with P(|T_ν| > t) = 1 − level (bisection). */
export function studentCritical(level: number, df: number): number {
  const alpha = 1 - level;
  let lo = 0, hi = 1;
  while (studentTwoSided(hi, df) > alpha) hi *= 2;
  for (let i = 0; i < 200; i++) {
    const mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    if (studentTwoSided(mid, df) > alpha) lo = mid; else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/** OLS fit of y = intercept + slope·x with its t-based interval (default 95%) and p-value. Needs n ≥ 3 points with distinct x. */
export function ols(x: ArrayLike<number>, y: ArrayLike<number>, level = 0.95): OlsFit {
  const n = x.length;
  if (y.length !== n) throw new RangeError(`x has ${n} values but y has ${y.length}`);
  if (n < 3) throw new RangeError(`OLS with inference needs at least 3 points (got ${n})`);
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) { mx += x[i]; my += y[i]; }
  mx /= n; my /= n;
  let sxx = 0, sxy = 0, syy = 0;
  for (let i = 0; i < n; i++) { sxx += (x[i] - mx) ** 2; sxy += (x[i] - mx) * (y[i] - my); syy += (y[i] - my) ** 2; }
  if (!(sxx > 0)) throw new RangeError("OLS needs at least two distinct x values");
  const slope = sxy / sxx, intercept = my - slope * mx;
  let rss = 0;
  for (let i = 0; i < n; i++) rss += (y[i] - intercept - slope * x[i]) ** 2;
  const df = n - 2;
  const se = Math.sqrt(rss / df / sxx);
  const tc = studentCritical(level, df);
  const pValue = se > 0 ? studentTwoSided(slope / se, df) : slope === 0 ? 1 : 0;
  return { slope, intercept, se, ci: [slope - tc * se, slope + tc * se], level, pValue, r2: syy > 0 ? 1 - rss / syy : 1, n, df };
}
