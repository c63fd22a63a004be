/**
 * Gaussian expectation engines for the skeleton coefficients (MATH §3).
 *
 * An engine is a value (`expectationEngine(options)`) that owns a cache of
 * standard point sets ξ per dimension, drawn once: every call in the same
 * dimension reuses the same ξ (common random numbers across depth, stages and
 * steps), mapped to G = R ξ with R the symmetric eigen square root of the
 * covariance (eigenvalues clipped at 0), so G moves smoothly with the covariance.
 *
 * kinds:
 *  - "closed-form": exact, linear σ only (used by the coefficient functions;
 *     generic integrands are not supported);
 *  - "mc": i.i.d. normals from `seed` (stream index = dimension), antithetic
 *     pairs (ξ, −ξ) by default; standard error from the (pair) means;
 *  - "qmc": `randomizations` independent scramblings (linear matrix scrambling +
 *     digital shift) of the first n Sobol points, n = samples/randomizations
 *     rounded to the nearest power of 2 (≥ 2); standard error across the
 *     randomizations;
 *  - "gauss-hermite": tensor product of `nodes` probabilists' Gauss–Hermite
 *     nodes per dimension (exact for polynomials of degree ≤ 2·nodes − 1 in each
 *     variable); no error estimate.
 */
import { ValidationError } from "../core/errors.ts";
import { StreamFamily } from "../core/rng.ts";
import { isPlainObject, knownKeys, oneOf, positiveInt, seedValue, show } from "../core/validate.ts";
import { EigenWorkspace, symEigen, symSqrtPsd } from "./linalg.ts";
import { normalQuantile, SOBOL_MAX_DIM, sobolIntegers } from "./qmc.ts";

export type EngineKind = "closed-form" | "mc" | "qmc" | "gauss-hermite";
export const ENGINE_KINDS: readonly EngineKind[] = ["closed-form", "mc", "qmc", "gauss-hermite"];

export interface EngineOptions {
  kind: EngineKind;
  /** mc: number of integrand evaluations (default 16384; rounded up to even with antithetic).
   *  qmc: total points over all randomizations (default 16384; per-randomization count rounded to a power of 2). */
  samples?: number;
  /** mc / qmc: integer seed in [0, 2^32) (default 1). */
  seed?: number;
  /** mc: use antithetic pairs (ξ, −ξ) (default true). */
  antithetic?: boolean;
  /** qmc: number of independent scramblings (default 8, ≥ 2 for an error estimate). */
  randomizations?: number;
  /** gauss-hermite: nodes per dimension (default 10, at most 64). */
  nodes?: number;
  /** gauss-hermite: refuse tensor grids with more points (default 2^18). */
  maxPoints?: number;
}

/** A cached standard point set in dimension `dim`. */
export interface PointSet {
  readonly dim: number;
  /** Number of stored points (base points; with `mirror` each is used as ξ and −ξ). */
  readonly count: number;
  /** count × dim row-major standard-normal points. */
  readonly xi: Float64Array;
  /** Per-point weights (sum 1), or null for equal weights. */
  readonly weights: Float64Array | null;
  /** Each stored point is evaluated at ξ and −ξ (antithetic). */
  readonly mirror: boolean;
  /** Consecutive stored points forming one independent replicate (error estimate across groups). */
  readonly groupSize: number;
  /** Integrand evaluations per expectation (count, or 2·count with mirror). */
  readonly evaluations: number;
}

export interface ExpectationEngine {
  readonly kind: EngineKind;
  readonly samples: number;
  readonly seed: number;
  readonly antithetic: boolean;
  readonly randomizations: number;
  readonly nodes: number;
  readonly maxPoints: number;
  /** The cached point set of dimension `dim` (built on first use). Throws for closed-form. */
  points(dim: number): PointSet;
  /** One-line description, e.g. `qmc(8×2048 Sobol points, seed 1)`. */
  describe(): string;
}

export interface ExpectationResult {
  mean: Float64Array;
  /** Standard error of each mean (MC/QMC), or null when the engine has no estimate. */
  stderr: Float64Array | null;
  /** Integrand evaluations used. */
  evaluations: number;
}

const DEFAULT_SAMPLES = 16384;

function checkBool(field: string, v: unknown): boolean {
  if (typeof v !== "boolean") throw new ValidationError(field, `must be true or false (got ${show(v)})`);
  return v;
}

/** Build a validated engine. Unknown keys, and options that do not apply to the kind, are rejected. */
export function expectationEngine(options: EngineOptions | EngineKind): ExpectationEngine {
  const o: Record<string, unknown> = typeof options === "string" ? { kind: options } : (options as unknown as Record<string, unknown>);
  if (!isPlainObject(o)) throw new ValidationError("engine", `must be an options object or a kind name (got ${show(options)})`);
  knownKeys("engine", o, ["kind", "samples", "seed", "antithetic", "randomizations", "nodes", "maxPoints"]);
  const kind = oneOf("engine.kind", o.kind, ENGINE_KINDS);
  const applies: Record<EngineKind, string[]> = {
    "closed-form": [],
    mc: ["samples", "seed", "antithetic"],
    qmc: ["samples", "seed", "randomizations"],
    "gauss-hermite": ["nodes", "maxPoints"],
  };
  for (const key of ["samples", "seed", "antithetic", "randomizations", "nodes", "maxPoints"]) {
    if (o[key] !== undefined && !applies[kind].includes(key)) {
      throw new ValidationError(`engine.${key}`, `does not apply to engine kind "${kind}" (its options: ${applies[kind].join(", ") || "none"})`);
    }
  }
  const seed = o.seed === undefined ? 1 : seedValue("engine.seed", o.seed);
  let samples = o.samples === undefined ? DEFAULT_SAMPLES : positiveInt("engine.samples", o.samples);
  const antithetic = kind === "mc" ? (o.antithetic === undefined ? true : checkBool("engine.antithetic", o.antithetic)) : false;
  const randomizations = kind === "qmc" ? (o.randomizations === undefined ? 8 : positiveInt("engine.randomizations", o.randomizations)) : 1;
  const nodes = kind === "gauss-hermite" ? (o.nodes === undefined ? 10 : positiveInt("engine.nodes", o.nodes)) : 0;
  const maxPoints = kind === "gauss-hermite" ? (o.maxPoints === undefined ? 1 << 18 : positiveInt("engine.maxPoints", o.maxPoints)) : 0;
  if (nodes > 64) throw new ValidationError("engine.nodes", `must be at most 64 (got ${nodes})`);
  let perRandomization = 0;
  if (kind === "mc" && antithetic && samples % 2 === 1) samples += 1;
  if (kind === "mc" && antithetic && samples < 4) throw new ValidationError("engine.samples", `must be at least 4 with antithetic pairs (got ${samples})`);
  if (kind === "mc" && !antithetic && samples < 2) throw new ValidationError("engine.samples", `must be at least 2 for an error estimate (got ${samples})`);
  if (kind === "qmc") {
    perRandomization = Math.max(2, 2 ** Math.round(Math.log2(samples / randomizations)));
    if (perRandomization > 2 ** 24) throw new ValidationError("engine.samples", `gives ${perRandomization} points per randomization, more than the supported 2^24`);
    samples = perRandomization * randomizations;
  }
  if (kind === "closed-form" || kind === "gauss-hermite") samples = 0;

  const cache = new Map<number, PointSet>();
  const engine: ExpectationEngine = {
    kind, samples, seed, antithetic, randomizations, nodes, maxPoints,
    points(dim: number): PointSet {
      let ps = cache.get(dim);
      if (!ps) {
        ps = buildPoints(this, dim, perRandomization);
        cache.set(dim, ps);
      }
      return ps;
    },
    describe(): string {
      switch (kind) {
        case "closed-form": return "closed-form (exact, linear σ)";
        case "mc": return `mc(${samples} samples${antithetic ? ", antithetic" : ""}, seed ${seed})`;
        case "qmc": return `qmc(${randomizations}×${perRandomization} scrambled Sobol points, seed ${seed})`;
        default: return `gauss-hermite(${nodes} nodes per dimension)`;
      }
    },
  };
  return Object.freeze(engine);
}

function buildPoints(e: ExpectationEngine, dim: number, perRandomization: number): PointSet {
  if (!Number.isInteger(dim) || dim < 0) throw new ValidationError("dim", `must be a non-negative integer (got ${show(dim)})`);
  switch (e.kind) {
    case "closed-form":
      throw new ValidationError("engine.kind", `"closed-form" has no point set: it only computes the skeleton coefficients of a linear activation; use "mc", "qmc" or "gauss-hermite" for other integrands`);
    case "mc": {
      const count = e.antithetic ? e.samples / 2 : e.samples;
      const xi = new Float64Array(count * dim);
      if (dim > 0) new StreamFamily(e.seed).get(dim).fillNormal(xi);
      return Object.freeze({ dim, count, xi, weights: null, mirror: e.antithetic, groupSize: 1, evaluations: e.samples });
    }
    case "qmc": {
      if (dim > SOBOL_MAX_DIM) throw new ValidationError("dim", `is ${dim} but the qmc engine supports at most ${SOBOL_MAX_DIM} dimensions (Sobol table); use the mc engine`);
      const n = perRandomization, R = e.randomizations;
      const xi = new Float64Array(n * R * dim);
      const rng = new StreamFamily((e.seed ^ 0x5b0b01) >>> 0).get(dim);
      const ints = new Uint32Array(n * dim);
      for (let r = 0; r < R; r++) {
        sobolIntegers(n, dim, rng, ints);
        const off = r * n * dim;
        for (let i = 0; i < n * dim; i++) xi[off + i] = normalQuantile((ints[i] + 0.5) * 2.3283064365386963e-10);
      }
      return Object.freeze({ dim, count: n * R, xi, weights: null, mirror: false, groupSize: n, evaluations: n * R });
    }
    default: {
      const nn = e.nodes;
      const total = nn ** dim;
      if (total > e.maxPoints) {
        throw new ValidationError("engine.nodes", `gauss-hermite with ${nn} nodes in dimension ${dim} needs ${nn}^${dim} = ${total} points, more than maxPoints = ${e.maxPoints}; use fewer nodes, raise maxPoints, or the mc / qmc engine`);
      }
      const { nodes, weights } = gaussHermite(nn);
      const xi = new Float64Array(total * dim), w = new Float64Array(total);
      for (let i = 0; i < total; i++) {
        let rest = i, wt = 1;
        for (let d = dim - 1; d >= 0; d--) {
          const digit = rest % nn;
          rest = (rest - digit) / nn;
          xi[i * dim + d] = nodes[digit];
          wt *= weights[digit];
        }
        w[i] = wt;
      }
      return Object.freeze({ dim, count: total, xi, weights: w, mirror: false, groupSize: total, evaluations: total });
    }
  }
}

const ghCache = new Map<number, { nodes: Float64Array; weights: Float64Array }>();

/**
 * Probabilists' Gauss–Hermite rule with n nodes: ∫ f(x) φ(x) dx ≈ Σ w_i f(x_i), exact for
 * polynomials of degree ≤ 2n−1, weights summing to 1. Golub–Welsch (eigenvalues of the
 * Jacobi matrix, off-diagonal √i) for the starting nodes, then Newton on the orthonormal
 * Hermite polynomial ψ_n, and Christoffel weights w_i = 1 / Σ_{j<n} ψ_j(x_i)².
 */
export function gaussHermite(n: number): { nodes: Float64Array; weights: Float64Array } {
  positiveInt("nodes", n);
  const hit = ghCache.get(n);
  if (hit) return { nodes: hit.nodes.slice(), weights: hit.weights.slice() };
  const J = new Float64Array(n * n);
  for (let i = 1; i < n; i++) {
    J[(i - 1) * n + i] = Math.sqrt(i);
    J[i * n + i - 1] = Math.sqrt(i);
  }
  const ws = new EigenWorkspace(n);
  symEigen(J, ws);
  const x = Float64Array.from(ws.w).sort();
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let xi = x[i];
    for (let it = 0; it < 10; it++) {
      // ψ_0 = 1, ψ_{j+1} = (x ψ_j − √j ψ_{j−1}) / √(j+1); ψ_n′ = √n ψ_{n−1}
      let pm = 0, pc = 1;
      for (let j = 0; j < n; j++) {
        const pn = (xi * pc - Math.sqrt(j) * pm) / Math.sqrt(j + 1);
        pm = pc; pc = pn;
      }
      const step = pc / (Math.sqrt(n) * pm);
      xi -= step;
      if (Math.abs(step) < 1e-15 * Math.max(1, Math.abs(xi))) break;
    }
    x[i] = xi;
    let pm = 0, pc = 1, sum = 1;
    for (let j = 0; j < n - 1; j++) {
      const pn = (xi * pc - Math.sqrt(j) * pm) / Math.sqrt(j + 1);
      pm = pc; pc = pn;
      sum += pc * pc;
    }
    w[i] = 1 / sum;
  }
  let tot = 0;
  for (let i = 0; i < n; i++) tot += w[i];
  for (let i = 0; i < n; i++) w[i] /= tot;
  ghCache.set(n, { nodes: x, weights: w });
  return { nodes: x.slice(), weights: w.slice() };
}

/**
 * Mean and standard error over replicate groups (Welford across group means).
 * All engines give groups of equal total weight, so the mean is the average of
 * the group means. Reusable: call reset() before each expectation.
 */
export class GroupAccumulator {
  readonly nOut: number;
  private readonly gsum: Float64Array;
  private gw = 0;
  private groups = 0;
  readonly mean: Float64Array;
  private readonly m2: Float64Array;
  constructor(nOut: number) {
    this.nOut = nOut;
    this.gsum = new Float64Array(nOut);
    this.mean = new Float64Array(nOut);
    this.m2 = new Float64Array(nOut);
  }
  reset(): void {
    this.gsum.fill(0); this.mean.fill(0); this.m2.fill(0);
    this.gw = 0; this.groups = 0;
  }
  add(vals: ArrayLike<number>, w: number): void {
    const g = this.gsum;
    for (let o = 0; o < this.nOut; o++) g[o] += w * vals[o];
    this.gw += w;
  }
  endGroup(): void {
    const g = this.gsum, mean = this.mean, m2 = this.m2;
    const inv = 1 / this.gw;
    const n = ++this.groups;
    for (let o = 0; o < this.nOut; o++) {
      const x = g[o] * inv;
      const d = x - mean[o];
      mean[o] += d / n;
      m2[o] += d * (x - mean[o]);
      g[o] = 0;
    }
    this.gw = 0;
  }
  get groupCount(): number {
    return this.groups;
  }
  /** Write the standard errors (null if fewer than 2 groups). */
  stderr(out: Float64Array): Float64Array | null {
    const n = this.groups;
    if (n < 2) return null;
    for (let o = 0; o < this.nOut; o++) out[o] = Math.sqrt(Math.max(0, this.m2[o]) / (n * (n - 1)));
    return out;
  }
}

/** The tolerance of the PSD check: eigenvalues below −PSD_TOL·max(λ_max, tiny) are rejected. */
export const PSD_TOL = 1e-8;

export function checkPsd(field: string, ws: EigenWorkspace): void {
  const scale = Math.max(ws.maxEig, 1e-300);
  if (ws.minEig < -PSD_TOL * scale) {
    throw new ValidationError(field, `is not positive semi-definite (smallest eigenvalue ${ws.minEig.toExponential(3)}, largest ${ws.maxEig.toExponential(3)})`);
  }
}

/**
 * E[f(G)] for G ~ N(0, cov) (cov: dim×dim row-major, symmetric PSD, possibly singular),
 * with f written by `integrand(g, out)` into out[0..nOut). G = R ξ, R = cov^{1/2}
 * (symmetric eigen root, eigenvalues clipped at 0), ξ the engine's cached points.
 * `g` is a reused buffer: copy it if you keep it.
 */
export function expect(
  engine: ExpectationEngine,
  cov: Float64Array | number[],
  dim: number,
  nOut: number,
  integrand: (g: Float64Array, out: Float64Array) => void,
): ExpectationResult {
  if (!engine || typeof (engine as ExpectationEngine).points !== "function") throw new ValidationError("engine", `must be an engine from expectationEngine() (got ${show(engine)})`);
  positiveInt("dim", dim);
  positiveInt("nOut", nOut);
  if (typeof integrand !== "function") throw new ValidationError("integrand", "must be a function (g, out) => void");
  if (engine.kind === "closed-form") {
    throw new ValidationError("engine.kind", `"closed-form" only computes the skeleton coefficients of a linear activation; use "mc", "qmc" or "gauss-hermite" for a generic integrand`);
  }
  const c = cov instanceof Float64Array ? cov : Float64Array.from(cov);
  if (c.length !== dim * dim) throw new ValidationError("cov", `has length ${c.length} but ${dim}×${dim} = ${dim * dim} was expected`);
  for (let i = 0; i < c.length; i++) if (!Number.isFinite(c[i])) throw new ValidationError(`cov[${Math.floor(i / dim)}][${i % dim}]`, `must be finite (got ${c[i]})`);
  const ws = new EigenWorkspace(dim);
  const R = new Float64Array(dim * dim);
  symSqrtPsd(c, R, ws);
  checkPsd("cov", ws);
  const ps = engine.points(dim);
  const acc = new GroupAccumulator(nOut);
  acc.reset();
  const g = new Float64Array(dim), gb = new Float64Array(dim), vals = new Float64Array(nOut);
  const { xi, weights, mirror, groupSize, count } = ps;
  for (let b = 0; b < count; b++) {
    const off = b * dim;
    for (let i = 0; i < dim; i++) {
      let s = 0;
      for (let l = 0; l < dim; l++) s += R[i * dim + l] * xi[off + l];
      gb[i] = s;
      g[i] = s;
    }
    const w = weights ? weights[b] : 1;
    vals.fill(0);
    integrand(g, vals);
    acc.add(vals, w);
    if (mirror) {
      for (let i = 0; i < dim; i++) g[i] = -gb[i];
      vals.fill(0);
      integrand(g, vals);
      acc.add(vals, w);
    }
    if ((b + 1) % groupSize === 0) acc.endGroup();
  }
  const stderr = acc.stderr(new Float64Array(nOut));
  return { mean: acc.mean.slice(), stderr, evaluations: ps.evaluations };
}
