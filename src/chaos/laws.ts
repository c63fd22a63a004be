/**
 * Empirical law vs limit law (MATH §4): 1-d distances between the empirical
 * law of the M preactivations p_{ℓj,n} (j = 1..M) of a layer and the limit
 * law of p_{k,n} at the layer's nodes (hNode = ℓ−1, bNode = ℓ), represented
 * by a large i.i.d. sample from the particle sampler (src/skeleton/sampler.ts).
 *
 *   W1(μ, ν) = ∫ |F_μ(x) − F_ν(x)| dx          (exact for two empirical laws, by merging sorted samples)
 *   KS(μ, ν) = sup_x |F_μ(x) − F_ν(x)|
 *
 * Both are computed per data point n and averaged over n. With a reference
 * sample of size R_ref the distances carry a floor of order R_ref^{-1/2}; an
 * i.i.d. sample of size M from the limit law itself has E W1 ≈ c/√M, so the
 * empirical law of the M units is compared against the same quantity for
 * their twins (i.i.d. by construction), reported alongside.
 */
import type { Trajectory } from "../problem/trajectory.ts";
import { distancesToReference, prefixSums, w1KsSorted } from "../stats/distances.ts";
import { limitLawSamples } from "../skeleton/sampler.ts";

/** Sorted reference samples of the limit law of p_{k,n} per (step k, layer ℓ, data point n). */
export class LimitLawReference {
  readonly K: number; readonly L: number; readonly N: number; readonly size: number;
  /** K × L × N × size, each run of `size` sorted ascending. */
  readonly sorted: Float64Array;
  /** Prefix sums of each sorted run: K × L × N × (size + 1). */
  readonly prefix: Float64Array;

  /** From a largeWidth (skeleton) trajectory: layer ℓ (1-based) reads hNode = ℓ−1, bNode = ℓ. */
  constructor(traj: Trajectory, L: number, K: number, size: number, seed: number) {
    this.K = K; this.L = L; this.N = traj.N; this.size = size;
    const N = traj.N;
    this.sorted = new Float64Array(K * L * N * size);
    this.prefix = new Float64Array(K * L * N * (size + 1));
    const col = new Float64Array(size);
    for (let k = 0; k < K; k++)
      for (let l = 0; l < L; l++) {
        const s = limitLawSamples(traj, { step: k, hNode: l, bNode: l + 1, samples: size, seed: (seed + 7919 * (k * L + l)) >>> 0, what: ["p"] });
        const p = s.p!.data;
        for (let n = 0; n < N; n++) {
          for (let t = 0; t < size; t++) col[t] = p[t * N + n];
          col.sort();
          this.sorted.set(col, ((k * L + l) * N + n) * size);
          prefixSums(col, size, this.prefix.subarray(((k * L + l) * N + n) * (size + 1), ((k * L + l) * N + n + 1) * (size + 1)));
        }
      }
  }

  /** Offset of the sorted sample of (k, ℓ (0-based layer index l), n). */
  offset(k: number, l: number, n: number): number {
    return ((k * this.L + l) * this.N + n) * this.size;
  }
}

/**
 * W1 and KS (averaged over n) between the empirical law of p[l·M·N + j·N + n] (j < M)
 * and the reference of (k, l); `scratch` has length ≥ M.
 */
export function layerLawDistance(ref: LimitLawReference, k: number, l: number, P: Float64Array, M: number, scratch: Float64Array): { w1: number; ks: number } {
  const N = ref.N;
  let w = 0, s = 0;
  const col = scratch.subarray(0, M);
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < M; j++) col[j] = P[(l * M + j) * N + n];
    col.sort();
    const o = ref.offset(k, l, n);
    const r = ref.sorted.subarray(o, o + ref.size);
    const po = ((k * ref.L + l) * N + n) * (ref.size + 1);
    // binary searches cost ≈ 6 log2(size) per unit, a merge ≈ M + size in total: take the cheaper
    if (6 * M * Math.log2(ref.size) < M + ref.size) {
      const d = distancesToReference(col, M, r, ref.size, ref.prefix.subarray(po, po + ref.size + 1));
      w += d.w1;
      s += d.ks;
    } else {
      const d = w1KsSorted(col, M, r, ref.size);
      w += d.w1;
      s += d.ks;
    }
  }
  return { w1: w / N, ks: s / N };
}
