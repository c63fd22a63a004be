/**
 * Point sets in the 2r factor coordinates ξ = (ξ_u, ξ_v) of the factor-form engine
 * (MATH §3): each is `count × 2r` standard-normal points, row-major, ξ_u in the first
 * r columns and ξ_v in the last r, with optional weights (null = equal weights).
 *
 * Sobol dimensions are assigned in the order of decreasing variance: the factor's
 * columns come by decreasing eigenvalue of E, and the u and v coordinates of each
 * column are interleaved (Sobol dimension 2j → ξ_u[j], 2j+1 → ξ_v[j]), so the best
 * equidistributed low dimensions carry the largest directions.
 */
import { ValidationError } from "../core/errors.ts";
import { StreamFamily } from "../core/rng.ts";
import { gaussHermite } from "./expectation.ts";
import { normalQuantile, SOBOL_MAX_DIM, sobolIntegers } from "./qmc.ts";

export interface FactorPoints {
  count: number;
  /** count × 2r (row-major), or 2r × count with `columns`. */
  points: Float64Array;
  weights: Float64Array | null;
  /** The points are stored by coordinate (2r × count: the solver's own layout, read without a copy). */
  columns?: boolean;
}

const TWO_M32 = 2.3283064365386963e-10;

function sobolColumn(r: number, c: number): number {
  return c < r ? 2 * c : 2 * (c - r) + 1;
}

/**
 * `count` (a power of 2) scrambled Sobol points (Matoušek linear scrambling + digital
 * shift), randomization `index` of `seed`: independent across indices, so the spread
 * of solves over indices is an honest sampling-error estimate.
 */
export function sobolNormals(count: number, r: number, seed: number, index: number, columns = false): FactorPoints {
  const Q = 2 * r;
  if (Q > SOBOL_MAX_DIM) throw new ValidationError("expectation", `needs ${Q} Sobol dimensions (2r, r = ${r}) but the table has ${SOBOL_MAX_DIM}; use the mc rule`);
  if (!Number.isInteger(Math.log2(count))) throw new ValidationError("expectation.points", `must be a power of 2 for Sobol points (got ${count})`);
  const rng = new StreamFamily(seed >>> 0).get(index);
  const ints = sobolIntegers(count, Q, rng);
  const points = new Float64Array(count * Q);
  if (columns) {
    for (let c = 0; c < Q; c++) {
      const col = sobolColumn(r, c), o = c * count;
      for (let i = 0; i < count; i++) points[o + i] = normalQuantile((ints[i * Q + col] + 0.5) * TWO_M32);
    }
    return { count, points, weights: null, columns: true };
  }
  for (let i = 0; i < count; i++)
    for (let c = 0; c < Q; c++) points[i * Q + c] = normalQuantile((ints[i * Q + sobolColumn(r, c)] + 0.5) * TWO_M32);
  return { count, points, weights: null };
}

/** `count` i.i.d. standard normals (stream `index` of `seed`). */
export function mcNormals(count: number, r: number, seed: number, index: number): FactorPoints {
  const Q = 2 * r;
  const points = new StreamFamily(seed >>> 0).get(index).fillNormal(new Float64Array(count * Q));
  return { count, points, weights: null };
}

/** Tensor Gauss–Hermite rule with `nodes` points per axis in dimension 2r (exact for degree ≤ 2·nodes − 1 per axis). */
export function gaussHermiteTensor(nodes: number, r: number, maxPoints = 1 << 20): FactorPoints {
  const Q = 2 * r;
  const total = nodes ** Q;
  if (total > maxPoints) throw new ValidationError("expectation.nodes", `gives ${nodes}^${Q} = ${total} Gauss–Hermite points, more than ${maxPoints}`);
  const gh = gaussHermite(nodes);
  const points = new Float64Array(total * Q), weights = new Float64Array(total);
  for (let i = 0; i < total; i++) {
    let rest = i, w = 1;
    for (let c = Q - 1; c >= 0; c--) {
      const dgt = rest % nodes;
      rest = (rest - dgt) / nodes;
      points[i * Q + c] = gh.nodes[dgt];
      w *= gh.weights[dgt];
    }
    weights[i] = w;
  }
  return { count: total, points, weights };
}

/**
 * The fully symmetric degree-3 rule (Stroud 3-2): the 2Q points ±√Q e_i with equal
 * weights. Exact for every polynomial of total degree ≤ 3 — in particular for the
 * quadratic integrands of a linear activation, at 4r points instead of 2^{2r}.
 */
export function degree3Rule(r: number): FactorPoints {
  const Q = 2 * r;
  const points = new Float64Array(2 * Q * Q);
  const s = Math.sqrt(Q);
  for (let c = 0; c < Q; c++) {
    points[(2 * c) * Q + c] = s;
    points[(2 * c + 1) * Q + c] = -s;
  }
  return { count: 2 * Q, points, weights: null };
}
