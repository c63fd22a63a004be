/**
 * Small exact-statistics toolkit for the verification checkers: log-gamma,
 * the regularised incomplete beta function, binomial tails and Beta
 * quantiles (the distribution of uniform order statistics), plus the
 * numerical root finder used for ψ₂ norms.
 *
 * Accuracy: lgamma ~1e-15 relative (Lanczos g = 7, 9 terms); the incomplete
 * beta by Lentz's continued fraction to 1e-15; quantiles by bisection, always
 * returned on the conservative side of the bracket (see betaQuantile).
 */
import { ValidationError } from "../core/errors.ts";

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
  -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
  1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0. */
export function lgamma(x: number): number {
  if (!(x > 0)) throw new ValidationError("x", `must be > 0 for lgamma (got ${x})`);
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lgamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta (Numerical Recipes `betacf`, modified Lentz). */
function betacf(a: number, b: number, x: number): number {
  const FPMIN = 1e-300, EPS = 1e-15;
  const qab = a + b, qap = a + 1, qam = a - 1;
  let c = 1, d = 1 - (qab * x) / qap;
  if (Math.abs(d) < FPMIN) d = FPMIN;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 100000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d; if (Math.abs(d) < FPMIN) d = FPMIN;
    c = 1 + aa / c; if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d; h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d; if (Math.abs(d) < FPMIN) d = FPMIN;
    c = 1 + aa / c; if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) return h;
  }
  return h; // not reached for the parameters used here (a, b ≤ 1e6)
}

/** Regularised incomplete beta I_x(a, b) = P(Beta(a, b) ≤ x). */
export function betaCdf(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  const bt = Math.exp(lbt);
  if (x < (a + 1) / (a + b + 2)) return (bt * betacf(a, b, x)) / a;
  return 1 - (bt * betacf(b, a, 1 - x)) / b;
}

/** P(Bin(n, p) ≥ k) = I_p(k, n − k + 1) (k ≥ 1; 1 for k ≤ 0, 0 for k > n). */
export function binomialUpperTail(n: number, p: number, k: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  return betaCdf(p, k, n - k + 1);
}

/** P(Bin(n, p) ≤ k). */
export function binomialCdf(n: number, p: number, k: number): number {
  return 1 - binomialUpperTail(n, p, k + 1);
}

const quantileCache = new Map<string, number>();

/**
 * The `level`-quantile of Beta(a, b) by bisection (200 halvings or exact
 * bracket collapse). `side` chooses which end of the final bracket is
 * returned: "low" gives q with I_q ≤ level (a conservative lower bound),
 * "high" gives q with I_q ≥ level (a conservative upper bound).
 */
export function betaQuantile(level: number, a: number, b: number, side: "low" | "high" = "low"): number {
  const key = `${level}|${a}|${b}|${side}`;
  const hit = quantileCache.get(key);
  if (hit !== undefined) return hit;
  let lo = 0, hi = 1;
  for (let i = 0; i < 200; i++) {
    const mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    if (betaCdf(mid, a, b) < level) lo = mid; else hi = mid;
  }
  const q = side === "low" ? lo : hi;
  if (quantileCache.size > 20000) quantileCache.clear();
  quantileCache.set(key, q);
  return q;
}

/**
 * ψ₂ norm of a finite measure Σ w_i δ_{b_i} (w_i ≥ 0, Σ w_i = 1):
 * inf{t > 0 : Σ w_i exp(b_i²/t²) ≤ 2}. The map t ↦ Σ w_i exp(b_i²/t²) is
 * decreasing, so this is bisection on log t with log-sum-exp evaluation
 * (no overflow for any finite b). Returns 0 when no mass sits away from 0.
 */
export function psi2OfAtoms(b: ArrayLike<number>, w: ArrayLike<number>): number {
  let bmax = 0;
  for (let i = 0; i < b.length; i++) if (w[i] > 0 && Math.abs(b[i]) > bmax) bmax = Math.abs(b[i]);
  if (bmax === 0) return 0;
  const b2: number[] = [], lw: number[] = [];
  for (let i = 0; i < b.length; i++) if (w[i] > 0) { b2.push(b[i] * b[i]); lw.push(Math.log(w[i])); }
  // G(u) = log Σ w_i exp(b_i² e^{-2u}) − log 2, decreasing in u = log t
  const G = (u: number): number => {
    const s = Math.exp(-2 * u);
    let m = -Infinity;
    for (let i = 0; i < b2.length; i++) { const e = lw[i] + b2[i] * s; if (e > m) m = e; }
    if (m === Infinity) return Infinity;
    let acc = 0;
    for (let i = 0; i < b2.length; i++) acc += Math.exp(lw[i] + b2[i] * s - m);
    return m + Math.log(acc) - Math.LN2;
  };
  return Math.exp(decreasingRoot(G, Math.log(bmax / Math.sqrt(Math.LN2))));
}

/**
 * Root of a decreasing function G of u, given a point uHi with G(uHi) ≤ 0:
 * steps down until G > 0, then bisects to relative width 1e-14. Returns the
 * upper end of the final bracket (G ≤ 0 there).
 */
export function decreasingRoot(G: (u: number) => number, uHi: number): number {
  let hi = uHi;
  if (G(hi) > 0) {
    // should not happen for a valid bracket; walk up
    let step = 1;
    while (G(hi) > 0 && step < 1e6) { hi += step; step *= 2; }
  }
  let lo = hi - 1, step = 1;
  while (!(G(lo) > 0)) {
    lo -= step; step *= 2;
    if (step > 1e4) return lo; // G ≤ 0 everywhere down to e^{-1e4}: the norm is 0 to double precision
  }
  for (let i = 0; i < 200 && hi - lo > 1e-14; i++) {
    const mid = 0.5 * (lo + hi);
    if (G(mid) > 0) lo = mid; else hi = mid;
  }
  return hi;
}
