/**
 * Generic checkers for the lemmas of MATH §6.
 *
 * checkLipschitz   — property-based: |F(x) − F(y)| ≤ bound·|x − y| on pairs drawn
 *                    by a fast-check arbitrary; a failure comes back shrunk.
 * estimatePsi2     — empirical ψ₂ norm with a confidence interval whose lower
 *                    end is distribution-free (exact finite-sample guarantee).
 * checkSubGaussian — test of H0: ψ₂ ≤ proxy whose false-failure probability is
 *                    at most 1 − confidence for EVERY law satisfying H0.
 *
 * The statistics (see docs/verifying-a-lemma.md for the long form)
 * ----------------------------------------------------------------
 * Write A = |X|, S(x) = P(A > x), φ_t(x) = exp(x²/t²). Then
 *   E φ_t(A) = 1 + ∫₀^∞ S(x) dφ_t(x),
 * so a lower (upper) band on the survival function S gives a lower (upper)
 * bound on E exp(X²/t²) SIMULTANEOUSLY for all t, hence a bound on ψ₂.
 *
 * Band: for a fixed (data-independent) set of ranks k_1 < … < k_m, let b_j be
 * the k_j-th largest of the n samples of A. For any law, V = S(A) satisfies
 * P(V ≤ v) ≤ v, so the k-th smallest of the V_i is stochastically larger than
 * the k-th uniform order statistic ~ Beta(k, n−k+1):
 *   P(S(b_j) < q_j) ≤ P(Bin(n, q_j) ≥ k_j) = I_{q_j}(k_j, n−k_j+1) = δ/m,
 * with q_j the δ/m-quantile of Beta(k_j, n−k_j+1) (Clopper–Pearson). By the
 * union bound, with probability ≥ 1 − δ: S(x) ≥ q_j for every x < b_j and
 * every j. The lower band is the survival function of the discrete law with
 * mass q_1 at b_1, q_j − q_{j−1} at b_j, 1 − q_m at 0, and
 *   LB(t) = E_band φ_t ≤ E φ_t(A)   for all t (on that event),
 *   lower = inf{t : LB(t) ≤ 2} ≤ ψ₂.
 * This is exact and distribution-free: P(lower > ψ₂) ≤ δ for every law with
 * n i.i.d. samples — no moment or tail assumption (the expectation may even
 * be infinite, as for Student-t; then ψ₂ = ∞ and the bound is trivially true).
 * It dominates the exceedance/Markov test suggested by ψ₂ ≤ proxy ⇒
 * P(|X| ≥ x) ≤ 2 exp(−x²/proxy²): whenever q_j > 2 exp(−b_j²/proxy²),
 * LB(proxy) > 2 as well.
 *
 * Upper end: symmetrically S(x) ≤ r_j for x ≥ b_j with r_j the (1 − δ/m)
 * quantile of Beta(k_j, n−k_j+1) (valid for any law using W = P(A ≥ a)).
 * Beyond the largest sample nothing can be said without an assumption (a
 * tiny mass far out can make E φ_t infinite), so the top band mass r_1 is put
 * at `support` when the user knows |X| ≤ support a.s. — then the upper end is
 * distribution-free as well — and otherwise at the sample maximum: a
 * HEURISTIC upper end (it ignores the tail beyond the sample maximum); its
 * coverage is measured, not proved (test/verify-checkers.test.ts).
 *
 * The point estimate is the plug-in inf{t : (1/n) Σ exp(X_i²/t²) ≤ 2}. Note
 * that exp(X²/ψ₂²) has infinite variance already for Gaussians (tail index
 * 4/3), so the plug-in is biased low and CLT/bootstrap intervals are
 * unreliable — one reason for the order-statistic band above.
 */
import fc from "fast-check";
import { ValidationError } from "../core/errors.ts";
import { f64, requireResources, STEP_OVERHEAD } from "../core/resources.ts";
import { stream } from "../core/rng.ts";
import { dflt, finiteNumber, functionValue, isPlainObject, knownKeys, nonNegativeNumber, numberInRange, positiveInt, positiveNumber, seedValue, show } from "../core/validate.ts";
import { betaQuantile, psi2OfAtoms } from "../stats/exact.ts";
import type { Rng } from "./laws.ts";

// ---------------------------------------------------------------- Lipschitz

export type NormName = "l2" | "l1" | "linf";
export type Norm = NormName | ((v: number[]) => number);

export function normOf(norm: Norm, field = "norm"): (v: number[]) => number {
  if (typeof norm === "function") {
    return (v) => {
      const r = norm(v);
      if (typeof r !== "number" || !(r >= 0) || !Number.isFinite(r)) throw new ValidationError(field, `(a function) must return a finite non-negative number (got ${show(r)} for a vector of length ${v.length})`);
      return r;
    };
  }
  switch (norm) {
    case "l2": return (v) => {
      // scaled to avoid overflow / underflow
      let m = 0;
      for (const x of v) m = Math.max(m, Math.abs(x));
      if (m === 0 || !Number.isFinite(m)) return m;
      let s = 0;
      for (const x of v) s += (x / m) ** 2;
      return m * Math.sqrt(s);
    };
    case "l1": return (v) => v.reduce((s, x) => s + Math.abs(x), 0);
    case "linf": return (v) => v.reduce((s, x) => Math.max(s, Math.abs(x)), 0);
    default: throw new ValidationError(field, `must be "l2", "l1", "linf" or a function (got ${show(norm)})`);
  }
}

export interface LipschitzCheckOptions<T extends number[] = number[]> {
  /** The map under test. A scalar result is treated as a 1-vector. */
  f: (x: T) => number[] | number;
  /** fast-check arbitrary of input pairs [x, y] (see vectorPairArb). */
  pairs: fc.Arbitrary<[T, T]>;
  /** The claimed constant: a number, or a function of the pair (local / data-dependent bounds). */
  bound: number | ((x: T, y: T) => number);
  /** Number of pairs drawn (default 200). */
  numRuns?: number;
  /** fast-check seed (default 1: reproducible). */
  seed?: number;
  /** Norm on inputs (default "l2"). */
  norm?: Norm;
  /** Norm on outputs (default: the input norm). */
  outNorm?: Norm;
  /** Relative slack on the bound for round-off (default 1e-12). */
  relTol?: number;
  /**
   * Absolute slack: the check is |F(x)−F(y)| ≤ bound·|x−y|·(1+relTol) + absTol.
   * Default 1e-12·(1 + max(|F(x)|, |F(y)|)) — round-off of F itself.
   */
  absTol?: number;
}

export interface LipschitzPairReport<T extends number[] = number[]> {
  x: T;
  y: T;
  /** |F(x) − F(y)| / |x − y| (Number.MAX_VALUE if F returned non-finite values, or when the ratio exceeds double precision). */
  ratio: number;
  /** The bound at this pair. */
  bound: number;
}

export interface LipschitzResult<T extends number[] = number[]> {
  ok: boolean;
  /**
   * max of |F(x)−F(y)|/|x−y| over every pair evaluated (drawn or tried while
   * shrinking) with x ≠ y and |F(x)−F(y)| above the absolute round-off slack
   * (below it the ratio is round-off, not a property of F).
   */
  worstRatio: number;
  /** The pair attaining worstRatio. */
  worstPair?: LipschitzPairReport<T>;
  /** max over evaluated pairs of ratio / bound (≤ 1 + slack when ok). */
  worstRatioOverBound: number;
  /** On failure: the SHRUNK counterexample (smallest failing pair fast-check found). */
  counterexample?: LipschitzPairReport<T>;
  /** Runs executed (on failure: up to and including the first failing one). */
  numRuns: number;
  numShrinks: number;
  /** Pairs evaluated in total (including shrinking). */
  evaluations: number;
  seed: number;
  /** fast-check replay path of the counterexample (pass with the seed to fc.check to replay). */
  path?: string;
}

/**
 * Check |F(x) − F(y)| ≤ bound·|x − y| on pairs drawn from `pairs` (x = y is
 * skipped). This is falsification, not proof: `ok` means no violation among
 * the `numRuns` pairs tried. On failure, fast-check shrinks the pair and the
 * result carries the shrunk counterexample.
 */
/** Work counted per evaluated pair of checkLipschitz (two calls of f whose cost is unknown). */
const PAIR_WORK = 10 * STEP_OVERHEAD;

export function checkLipschitz<T extends number[] = number[]>(opts: LipschitzCheckOptions<T>): LipschitzResult<T> {
  if (!isPlainObject(opts)) throw new ValidationError("options", `must be an object { f, pairs, bound, numRuns?, seed?, norm?, outNorm?, relTol?, absTol? } (got ${show(opts)})`);
  knownKeys("options", opts as unknown as Record<string, unknown>, ["f", "pairs", "bound", "numRuns", "seed", "norm", "outNorm", "relTol", "absTol"]);
  const f = functionValue<(x: T) => number[] | number>("options.f", opts.f);
  const pairs = opts.pairs;
  if (!(pairs instanceof fc.Arbitrary)) throw new ValidationError("options.pairs", `must be a fast-check arbitrary of pairs [x, y] such as vectorPairArb(dim) (got ${show(pairs)})`);
  const numRuns = positiveInt("options.numRuns", dflt(opts.numRuns, 200));
  requireResources({ what: "checkLipschitz", drivers: [["options.numRuns", numRuns]], bytes: 0, work: numRuns * PAIR_WORK });
  const seed = seedValue("options.seed", dflt(opts.seed, 1));
  const nIn = normOf(dflt(opts.norm, "l2") as Norm, "options.norm");
  const nOut = opts.outNorm === undefined ? nIn : normOf(opts.outNorm, "options.outNorm");
  const relTol = nonNegativeNumber("options.relTol", dflt(opts.relTol, 1e-12));
  const absTol = opts.absTol === undefined ? undefined : nonNegativeNumber("options.absTol", opts.absTol);
  if (typeof opts.bound !== "function") nonNegativeNumber("options.bound", opts.bound);
  const boundAt = (x: T, y: T): number => {
    const b = typeof opts.bound === "function" ? opts.bound(x, y) : (opts.bound as number);
    if (typeof b !== "number" || !(b >= 0) || !Number.isFinite(b)) throw new ValidationError("options.bound", `(a function) must return a finite non-negative number (got ${show(b)})`);
    return b;
  };
  const asVec = (v: number[] | number, x: T): number[] => {
    const out = typeof v === "number" ? [v] : v;
    if (!Array.isArray(out) && !ArrayBuffer.isView(out)) throw new ValidationError("options.f", `must return a number or an array of numbers (got ${show(v)})`);
    for (let i = 0; i < out.length; i++) {
      if (typeof out[i] !== "number") throw new ValidationError("options.f", `must return numbers (got ${show(out[i])} at entry ${i} for x = [${Array.from(x).slice(0, 8).join(", ")}${x.length > 8 ? ", …" : ""}])`);
    }
    return Array.from(out);
  };
  const asInput = (v: unknown): T => {
    if (!Array.isArray(v)) throw new ValidationError("options.pairs", `must draw pairs of arrays of numbers (got ${show(v)})`);
    for (let i = 0; i < v.length; i++) if (typeof v[i] !== "number" || !Number.isFinite(v[i])) throw new ValidationError("options.pairs", `drew a non-finite input ${show(v[i])} (entry ${i})`);
    return v as T;
  };

  let worstRatio = 0, worstOver = 0, evaluations = 0;
  let worstPair: LipschitzPairReport<T> | undefined;
  const evaluate = (x0: T, y0: T): { violated: boolean; report: LipschitzPairReport<T> } | null => {
    const x = asInput(x0), y = asInput(y0);
    if (x.length !== y.length) throw new ValidationError("options.pairs", `drew vectors of different lengths (${x.length}, ${y.length})`);
    const dx = nIn(x.map((xi, i) => xi - y[i]));
    if (dx === 0) return null;
    evaluations++;
    const fx = asVec(f(x), x), fy = asVec(f(y), y);
    if (fx.length !== fy.length) throw new ValidationError("options.f", `returned vectors of different lengths (${fx.length}, ${fy.length})`);
    const df = nOut(fx.map((v, i) => v - fy[i]));
    const B = boundAt(x, y);
    const finite = Number.isFinite(df) && fx.every(Number.isFinite) && fy.every(Number.isFinite);
    // a non-finite output, or a ratio beyond double precision (dx ≈ 0), is a violation of any finite bound: the ratio saturates at Number.MAX_VALUE
    const ratio = !finite ? Number.MAX_VALUE : Math.min(Number.MAX_VALUE, df / dx);
    const abs = absTol ?? 1e-12 * (1 + Math.max(finite ? nOut(fx) : 0, finite ? nOut(fy) : 0));
    const report = { x, y, ratio, bound: B };
    const violated = !finite || !(df <= B * dx * (1 + relTol) + abs);
    // pairs whose output difference is below the round-off slack do not resolve a ratio: left out of worstRatio
    if (violated || df > abs) {
      if (ratio > worstRatio || worstPair === undefined) { worstRatio = Math.max(worstRatio, ratio); worstPair = report; }
      const over = B > 0 ? Math.min(Number.MAX_VALUE, ratio / B) : ratio > 0 ? Number.MAX_VALUE : 0;
      if (over > worstOver) worstOver = over;
    }
    return { violated, report };
  };

  const prop = fc.property(pairs, ([x, y]) => {
    const r = evaluate(x, y);
    return r === null || !r.violated;
  });
  const run = fc.check(prop, { numRuns, seed });
  const out: LipschitzResult<T> = {
    ok: !run.failed,
    worstRatio,
    worstPair,
    worstRatioOverBound: worstOver,
    numRuns: run.numRuns,
    numShrinks: run.numShrinks,
    evaluations,
    seed: run.seed,
  };
  if (run.failed && run.counterexample) {
    const [x, y] = run.counterexample[0];
    // re-evaluate: if f (or bound) threw on this pair, the error propagates here instead of posing as a violation
    const r = evaluate(x, y)!;
    out.counterexample = r.report;
    out.path = run.counterexamplePath ?? undefined;
  }
  return out;
}

// ---------------------------------------------------------------- ψ₂ estimation

/** Default band ranks: 1, 2, 3, 4, 6, 9, 13, … (ratio ~1.5) up to n. */
export function defaultRanks(n: number): number[] {
  const ks: number[] = [];
  let k = 1;
  while (k <= n) {
    ks.push(k);
    k = Math.max(k + 1, Math.round(k * 1.5));
  }
  if (ks[ks.length - 1] !== n) ks.push(n);
  return ks;
}

export interface Psi2BandOptions {
  /** Ranks of the order-statistic band (data-independent; default defaultRanks(n)). */
  ranks?: number[];
  /** Known a.s. bound on |X|: makes the upper end distribution-free too. */
  support?: number;
}

/** Distribution-free lower bound on ψ₂ at level δ (P(lower > ψ₂) ≤ δ) from sorted |samples|. */
function lowerFromSorted(a: Float64Array, delta: number, ranks: number[]): number {
  const n = a.length;
  const m = ranks.length;
  const b: number[] = [], w: number[] = [];
  let prev = 0;
  for (const k of ranks) {
    const q = Math.max(prev, betaQuantile(delta / m, k, n - k + 1, "low"));
    b.push(a[n - k]); w.push(q - prev);
    prev = q;
  }
  b.push(0); w.push(1 - prev);
  return psi2OfAtoms(b, w);
}

/** Upper end at level δ: distribution-free when `top` is an a.s. bound on |X|, heuristic when it is the sample maximum. */
function upperFromSorted(a: Float64Array, delta: number, ranks: number[], top: number): number {
  const n = a.length;
  const m = ranks.length;
  const b: number[] = [], w: number[] = [];
  let prev = 0;
  let at = top;
  for (const k of ranks) {
    const r = Math.min(1, Math.max(prev, betaQuantile(1 - delta / m, k, n - k + 1, "high")));
    b.push(at); w.push(r - prev);
    prev = r;
    at = a[n - k];
  }
  b.push(at); w.push(1 - prev);
  return psi2OfAtoms(b, w);
}

/** Plug-in empirical ψ₂: inf{t : (1/n) Σ exp(x_i²/t²) ≤ 2}. */
export function empiricalPsi2(samples: ArrayLike<number>): number {
  const n = samples.length;
  return psi2OfAtoms(samples, new Float64Array(n).fill(1 / n));
}

function sortedAbs(samples: ArrayLike<number>, field: string): Float64Array {
  if (!Array.isArray(samples) && !(ArrayBuffer.isView(samples) && !(samples instanceof DataView))) throw new ValidationError(field, `must be an array or typed array of numbers (got ${show(samples)})`);
  const n = samples.length;
  if (n < 1) throw new ValidationError(field, "needs at least one sample (got an empty array)");
  requireResources({ what: "the sorted samples", drivers: [[`${field} (length)`, n]], bytes: f64(2 * n), work: n * 40 });
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = samples[i];
    if (typeof x !== "number" || !Number.isFinite(x)) throw new ValidationError(`${field}[${i}]`, `is not finite (got ${show(x)}): every sample must be a finite number`);
    a[i] = Math.abs(x);
  }
  return a.sort();
}

function checkRanks(ranks: unknown, n: number, field = "options.ranks"): number[] {
  if (!Array.isArray(ranks)) throw new ValidationError(field, `must be an array of integers in 1..n = ${n} (got ${show(ranks)})`);
  const r = [...new Set(ranks)].sort((x, y) => x - y);
  for (const k of r) if (!(Number.isInteger(k) && k >= 1 && k <= n)) throw new ValidationError(field, `must hold integers in 1..n = ${n} (got ${show(k)})`);
  if (r.length === 0) throw new ValidationError(field, "must not be empty");
  return r;
}

/** A confidence level in (0, 1). */
function confidenceOf(field: string, v: unknown, d: number): number {
  return numberInRange(field, dflt(v, d), 0, 1, { min: true, max: true });
}

/** A ψ₂ norm of the checkers' outputs: finite, or the samples were too large for double precision. */
function finitePsi2(name: string, v: number): number {
  if (!Number.isFinite(v)) throw new ValidationError("samples", `give a ${name} ψ₂ bound of ${v}: the samples are too large for double precision (scale them down)`);
  return v;
}

export interface Psi2Estimate {
  /** Plug-in empirical ψ₂. */
  estimate: number;
  /** P(lower > ψ₂) ≤ (1 − confidence)/2 for every law (distribution-free, finite n). */
  lower: number;
  /** P(upper < ψ₂) ≤ (1 − confidence)/2 when `support` bounds |X|; otherwise heuristic (tail beyond the sample max ignored). */
  upper: number;
  /** Whether `upper` carries the guarantee (a `support` was given). */
  upperGuaranteed: boolean;
  n: number;
  confidence: number;
}

/**
 * Empirical ψ₂ norm of i.i.d. samples with a two-sided interval at level
 * `confidence` (default 0.95; (1 − confidence)/2 on each side).
 */
export function estimatePsi2(samples: ArrayLike<number>, options: { confidence?: number } & Psi2BandOptions = {}): Psi2Estimate {
  if (options === undefined) options = {};
  if (!isPlainObject(options as unknown)) throw new ValidationError("options", `must be an object { confidence?, ranks?, support? } (got ${show(options)})`);
  knownKeys("options", options as Record<string, unknown>, ["confidence", "ranks", "support"]);
  const confidence = confidenceOf("options.confidence", options.confidence, 0.95);
  if (options.support !== undefined) positiveNumber("options.support", options.support);
  const a = sortedAbs(samples, "samples");
  const n = a.length;
  const ranks = checkRanks(dflt(options.ranks, defaultRanks(n)), n);
  const delta = (1 - confidence) / 2;
  if (options.support !== undefined && !(a[n - 1] <= options.support)) {
    throw new ValidationError("options.support", `= ${options.support} is exceeded by a sample (|x| = ${a[n - 1]})`);
  }
  const top = options.support ?? a[n - 1];
  const estimate = empiricalPsi2(a);
  // lower ≤ estimate ≤ upper holds exactly (the bands sit below / above the empirical survival
  // function); min / max only remove root-finding round-off, in the conservative direction
  return {
    estimate: finitePsi2("plug-in", estimate),
    lower: finitePsi2("lower", Math.min(estimate, lowerFromSorted(a, delta, ranks))),
    upper: finitePsi2("upper", Math.max(estimate, upperFromSorted(a, delta, ranks, top))),
    upperGuaranteed: options.support !== undefined,
    n,
    confidence,
  };
}

// ---------------------------------------------------------------- sub-gaussian test

export interface SubGaussianCheckOptions extends Psi2BandOptions {
  /** One draw from a uniform generator on [0, 1). Either `sample` or `samples`. */
  sample?: (rng: Rng) => number;
  /** Pre-drawn i.i.d. samples (e.g. the particles of a limit solver). */
  samples?: ArrayLike<number>;
  /** The claimed ψ₂ bound. */
  proxy: number;
  /** Number of draws from `sample` (default 20000). */
  n?: number;
  /** 1 − (false-failure probability); default 1 − 1e-3. */
  confidence?: number;
  /** Seed of the uniform stream fed to `sample` (core/rng stream(seed).uniform; default 1). */
  seed?: number;
}

export interface SubGaussianResult {
  /** false only when the distribution-free lower confidence bound on ψ₂ exceeds proxy. */
  ok: boolean;
  proxy: number;
  /** Plug-in empirical ψ₂. */
  psi2: number;
  /** One-sided lower bound at level 1 − falseFailureProbability (distribution-free). */
  lower: number;
  /** One-sided upper end at the same level (heuristic unless `support` was given). */
  upper: number;
  n: number;
  /** Guaranteed bound on P(ok = false) for any law with ψ₂ ≤ proxy: 1 − confidence. */
  falseFailureProbability: number;
  seed?: number;
}

/**
 * Test of H0: ‖X‖_ψ₂ ≤ proxy from n i.i.d. draws. Fails iff the
 * distribution-free lower confidence bound on ψ₂ exceeds proxy, so
 * P(fail | H0) ≤ 1 − confidence for every law satisfying H0, at every n.
 */
export function checkSubGaussian(opts: SubGaussianCheckOptions): SubGaussianResult {
  if (!isPlainObject(opts)) throw new ValidationError("options", `must be an object { proxy, sample | samples, n?, confidence?, seed?, ranks?, support? } (got ${show(opts)})`);
  knownKeys("options", opts as unknown as Record<string, unknown>, ["sample", "samples", "proxy", "n", "confidence", "seed", "ranks", "support"]);
  const proxy = positiveNumber("options.proxy", opts.proxy);
  const confidence = confidenceOf("options.confidence", opts.confidence, 1 - 1e-3);
  if (opts.support !== undefined) positiveNumber("options.support", opts.support);
  let samples: ArrayLike<number>;
  let seed: number | undefined;
  if (opts.samples !== undefined) {
    if (opts.sample !== undefined) throw new ValidationError("options.samples", "give either sample or samples, not both");
    if (opts.n !== undefined || opts.seed !== undefined) throw new ValidationError(opts.n !== undefined ? "options.n" : "options.seed", "only applies with a sampler `sample` (samples are given)");
    samples = opts.samples;
  } else {
    if (typeof opts.sample !== "function") throw new ValidationError("options.sample", `is required: a sampler sample(rng), or an array options.samples (got ${show(opts.sample)})`);
    const n = positiveInt("options.n", dflt(opts.n, 20000));
    requireResources({ what: "checkSubGaussian", drivers: [["options.n", n]], bytes: f64(3 * n), work: n * (40 + STEP_OVERHEAD / 10) });
    seed = seedValue("options.seed", dflt(opts.seed, 1));
    const s = stream(seed);
    const rng: Rng = () => s.uniform();
    const xs = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const x = opts.sample(rng);
      if (typeof x !== "number" || !Number.isFinite(x)) throw new ValidationError("options.sample", `returned ${show(x)} (draw ${i}): it must return finite numbers`);
      xs[i] = x;
    }
    samples = xs;
  }
  const a = sortedAbs(samples, "options.samples");
  const n = a.length;
  const ranks = checkRanks(dflt(opts.ranks, defaultRanks(n)), n);
  const delta = 1 - confidence;
  const psi2 = empiricalPsi2(a);
  const lower = Math.min(psi2, lowerFromSorted(a, delta, ranks));
  const top = opts.support ?? a[n - 1];
  if (opts.support !== undefined && !(a[n - 1] <= opts.support)) throw new ValidationError("options.support", `= ${opts.support} is exceeded by a sample (|x| = ${a[n - 1]})`);
  return {
    ok: !(lower > proxy),
    proxy,
    psi2: finitePsi2("plug-in", psi2),
    lower: finitePsi2("lower", lower),
    upper: finitePsi2("upper", Math.max(psi2, upperFromSorted(a, delta, ranks, top))),
    n,
    falseFailureProbability: delta,
    seed,
  };
}
