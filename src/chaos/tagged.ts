/**
 * Tagged particles (MATH §4): the dependence between two distinct units of
 * the same layer, measured across R independent runs (independent U, V; the
 * same embeddings and data).
 *
 * For a scalar functional φ of a unit at step k (see TAG_FUNCTIONALS), the
 * units φ_{ℓ1}, …, φ_{ℓM} of a layer are exchangeable. Propagation of chaos
 * says any two of them become independent as M → ∞; at finite M they interact
 * only through the shared fields h, b, whose fluctuations around the limit are
 * O(M^{-1/2}) (in variance O(1/M)), so Cov(φ_{ℓ0}, φ_{ℓ1}) = O(1/M).
 *
 * Estimators (per step k and layer ℓ; R runs r):
 *  - intraclass (all pairs):
 *        ρ̂ = mean_{j≠j'} Ĉov_r(φ_j, φ_{j'}) / mean_j V̂ar_r(φ_j)
 *           = [V̂ar_r(Σ_j φ_j) − Σ_j V̂ar_r(φ_j)] / [(M−1) Σ_j V̂ar_r(φ_j)]
 *    (unbiased sample covariances). It uses all M(M−1)/2 pairs; its noise is
 *    ≈ √(2/R)·(1 + (M−1)ρ)/(M−1), i.e. O(1/(M√R)) — the same order as the
 *    signal c/M, so the relative error ≈ √(2/R)/c does not grow with M.
 *  - disjoint pairs: the mean over pairs (0,1), (2,3), … of the sample
 *    correlation over runs; noise ≈ 1/√(R·M/2), larger than the signal c/M for
 *    large M (reported for comparison).
 *
 * Sums are accumulated around a shift (the first run's values), so the
 * variances do not suffer from cancellation.
 */
import { ValidationError } from "../core/errors.ts";
import { unitPoint, unitRow } from "../core/layout.ts";

/**
 * Scalar functionals of a unit (ℓ, j) at step k:
 *  - "displacement": |z_{ℓj,k} − z_{ℓj,0}|² / D (squared distance travelled in weight space);
 *  - "p2": (1/N) Σ_n p_{ℓj,n}² (preactivation energy at θ_k);
 *  - "p": (1/N) Σ_n p_{ℓj,n} — for odd σ (tanh, linear, sin) flipping one unit
 *    z_{ℓj} → −z_{ℓj} leaves h, b and every other unit unchanged and flips its
 *    p (by induction over steps), so Cov(p_{ℓ0}, p_{ℓ1}) = 0 EXACTLY at every
 *    k and M: it measures nothing but noise (reported as a check).
 */
export const TAG_FUNCTIONALS = ["displacement", "p2", "p"] as const;
export type TagFunctional = (typeof TAG_FUNCTIONALS)[number];

export interface TaggedEstimate {
  /** Intraclass (all-pairs) correlation per [k][ℓ] (flattened k-major), and averaged over layers per k. */
  intraclass: Float64Array;
  intraclassByStep: Float64Array;
  /** Mean over disjoint pairs of the sample correlation, per [k][ℓ], and averaged over layers per k. */
  pairs: Float64Array;
  pairsByStep: Float64Array;
  /** Mean over (j ≠ j') of the sample covariance per [k][ℓ]. */
  covariance: Float64Array;
}

/** Streaming accumulator over runs of one functional: values φ[k][ℓ][j]. */
export class TaggedAccumulator {
  readonly K: number; readonly L: number; readonly M: number;
  runs = 0;
  private readonly shift: Float64Array;   // K·L·M
  private readonly s1: Float64Array;      // Σ_r (φ − shift)
  private readonly s2: Float64Array;      // Σ_r (φ − shift)²
  private readonly shiftS: Float64Array;  // K·L
  private readonly t1: Float64Array;      // Σ_r (S − shiftS)
  private readonly t2: Float64Array;
  private readonly pxy: Float64Array;     // K·L·(M/2): Σ_r (x − sx)(y − sy)
  private readonly seen: Uint32Array;     // runs per (k, ℓ)

  constructor(K: number, L: number, M: number) {
    if (M < 2) throw new ValidationError("solver.widths", `must be at least 2 for the tagged-particle diagnostic (got M = ${M})`);
    this.K = K; this.L = L; this.M = M;
    this.shift = new Float64Array(K * L * M);
    this.s1 = new Float64Array(K * L * M);
    this.s2 = new Float64Array(K * L * M);
    this.shiftS = new Float64Array(K * L);
    this.t1 = new Float64Array(K * L);
    this.t2 = new Float64Array(K * L);
    this.pxy = new Float64Array(K * L * (M >> 1));
    this.seen = new Uint32Array(K * L);
  }

  /** Add one run's values φ_j (j < M, at phi[off + j]) for step k, layer l. */
  add(k: number, l: number, phi: Float64Array, off = 0): void {
    const { M } = this;
    const kl = k * this.L + l, base = kl * M;
    const first = this.seen[kl] === 0;
    let S = 0;
    for (let j = 0; j < M; j++) S += phi[off + j];
    if (first) {
      for (let j = 0; j < M; j++) this.shift[base + j] = phi[off + j];
      this.shiftS[kl] = S;
    }
    for (let j = 0; j < M; j++) {
      const x = phi[off + j] - this.shift[base + j];
      this.s1[base + j] += x;
      this.s2[base + j] += x * x;
    }
    const h = M >> 1, pb = kl * h;
    for (let i = 0; i < h; i++) {
      const x = phi[off + 2 * i] - this.shift[base + 2 * i], y = phi[off + 2 * i + 1] - this.shift[base + 2 * i + 1];
      this.pxy[pb + i] += x * y;
    }
    const t = S - this.shiftS[kl];
    this.t1[kl] += t;
    this.t2[kl] += t * t;
    this.seen[kl]++;
    this.runs = Math.max(this.runs, this.seen[kl]);
  }

  estimate(): TaggedEstimate {
    const { K, L, M } = this;
    const intraclass = new Float64Array(K * L).fill(NaN), pairs = new Float64Array(K * L).fill(NaN), covariance = new Float64Array(K * L).fill(NaN);
    const intraclassByStep = new Float64Array(K).fill(NaN), pairsByStep = new Float64Array(K).fill(NaN);
    const h = M >> 1;
    for (let k = 0; k < K; k++) {
      let ia = 0, pa = 0, ic = 0, pc = 0;
      for (let l = 0; l < L; l++) {
        const kl = k * L + l, R = this.seen[kl];
        if (R < 2) continue;
        const base = kl * M;
        const varOf = (j: number) => (this.s2[base + j] - this.s1[base + j] ** 2 / R) / (R - 1);
        let sumVar = 0;
        for (let j = 0; j < M; j++) sumVar += varOf(j);
        const varS = (this.t2[kl] - this.t1[kl] ** 2 / R) / (R - 1);
        const cov = (varS - sumVar) / (M * (M - 1));
        covariance[kl] = cov;
        if (sumVar > 0) {
          intraclass[kl] = cov / (sumVar / M);
          ia += intraclass[kl]; ic++;
        }
        let pr = 0, pn = 0;
        for (let i = 0; i < h; i++) {
          const vx = varOf(2 * i), vy = varOf(2 * i + 1);
          if (!(vx > 0 && vy > 0)) continue;
          const cxy = (this.pxy[kl * h + i] - (this.s1[base + 2 * i] * this.s1[base + 2 * i + 1]) / R) / (R - 1);
          pr += cxy / Math.sqrt(vx * vy);
          pn++;
        }
        if (pn > 0) { pairs[kl] = pr / pn; pa += pairs[kl]; pc++; }
      }
      if (ic > 0) intraclassByStep[k] = ia / ic;
      if (pc > 0) pairsByStep[k] = pa / pc;
    }
    return { intraclass, intraclassByStep, pairs, pairsByStep, covariance };
  }
}

/**
 * φ_j of every unit of layer l at the current step into out[0..M), from the
 * finite model's state: P (L × M × N), weights at θ_k and at init (L × M × D).
 */
export function tagFunctional(
  f: TagFunctional, l: number, M: number, D: number, N: number,
  P: Float64Array, Uk: Float64Array, Vk: Float64Array, U0: Float64Array, V0: Float64Array, out: Float64Array,
): void {
  if (f === "displacement") {
    const invD = 1 / D;
    for (let j = 0; j < M; j++) {
      const o = unitRow(M, D, l, j);
      let s = 0;
      for (let d = 0; d < D; d++) {
        const du = Uk[o + d] - U0[o + d], dv = Vk[o + d] - V0[o + d];
        s += du * du + dv * dv;
      }
      out[j] = s * invD;
    }
    return;
  }
  const sq = f === "p2";
  for (let j = 0; j < M; j++) {
    const o = unitPoint(M, N, l, j, 0);
    let s = 0;
    for (let n = 0; n < N; n++) s += sq ? P[o + n] * P[o + n] : P[o + n];
    out[j] = s / N;
  }
}
