/**
 * The DMFT limit D → ∞ (MATH §5): the skeleton Mean ODE (src/skeleton/solve.ts,
 * configured as in ./mean-ode.ts) with the embedding Gram matrix E replaced by its
 * limit diag(σ_in² I_{d_in}, σ_out² I_{d_out}) — the same solver, not a fork.
 *
 * Every coordinate d of h_a(s), b_a(s) is linear in the embedding rows
 * e = (W_E)_{d,:}, o = (W_U)_{d,:}:
 *   h_a(s) = eᵀ c^{hE}_a(s) + oᵀ c^{hU}_a(s),   b_a(s) = eᵀ c^{bE}_a(s) + oᵀ c^{bU}_a(s),
 * and Γ^H_{aa'} = c^h_a · E c^h_{a'} (Γ^B, Λ = hᵀb/D likewise), f_{k,n} = σ_out² c^{hU}_{k,n}(1).
 */
import { view, type F64 } from "../core/arrays.ts";
import { ValidationError } from "../core/errors.ts";
import { profileRow } from "../core/layout.ts";
import { StreamFamily } from "../core/rng.ts";
import { isPlainObject, knownKeys, numberInRange, positiveInt, seedValue, show } from "../core/validate.ts";
import { f64, requireResources } from "../core/resources.ts";
import { DepthGrid } from "../depth/grid.ts";
import { MAX_SCALE, MIN_SCALE } from "../problem/problem.ts";
import { gramForms } from "../kernels/gram.ts";
import type { Algorithm } from "../problem/algorithm.ts";
import { limitEmbeddingGram } from "../problem/embeddings.ts";
import type { Trajectory } from "../problem/trajectory.ts";
import { type SkeletonExtras, skeletonExtras, type SkeletonSolveOptions, skeletonTrajectory } from "../skeleton/solve.ts";
import { bindSkeletonMeanOde, checkMeanOdeOptions, type MeanOdeOptions } from "./mean-ode.ts";

export type DmftOptions = Omit<MeanOdeOptions, "method" | "particles" | "particleSeed" | "record" | "recordSteps"> & {
  /** "gram" (tangent Gram matrix) and "kl" (KL of the trained law), MATH §8; coordinates come from dmftCoordinates. */
  record?: ("gram" | "kl")[];
};

/** Bound options of the DMFT: the skeleton method's, without profiles (coordinates come from dmftCoordinates). */
export type DmftBound = Omit<SkeletonSolveOptions, "record" | "recordSteps"> & { record: ("gram" | "kl")[] };

/** Gram profiles over all index pairs on the depth grid (gramProfiles). */
export interface GramProfiles { s: Float64Array; H: F64; B: F64; Lambda: F64 }

export interface DmftExtras extends SkeletonExtras {
  grams: GramProfiles;
}

/** The DMFT algorithm for `solve(problem, dmft({...}))`. D, L, M of the problem are ignored. */
export function dmft(options?: DmftOptions, field = "options"): Algorithm<DmftBound, DmftExtras> {
  const o: unknown = options === undefined ? {} : options;
  if (isPlainObject(o)) {
    if (Array.isArray(o.record)) o.record.forEach((r, i) => {
      if (r === "h" || r === "b") throw new ValidationError(`${field}.record[${i}]`, `"${r}" does not apply to the DMFT solver (its coordinates are i.i.d. processes: use dmftCoordinates); it records "gram" and "kl"`);
    });
    for (const k of ["method", "particles", "particleSeed", "recordSteps"]) {
      if (o[k] !== undefined) throw new ValidationError(`${field}.${k}`, `does not apply to the DMFT solver (it is the skeleton method in the D → ∞ limit; use dmftCoordinates for coordinate trajectories)`);
    }
  }
  const given = checkMeanOdeOptions(isPlainObject(o) ? { ...o, method: "skeleton" } : o, field);
  return {
    name: "dmft",
    requires: ["frozenEmbeddings", "secondDerivative"],
    bind: (problem) => {
      const { scheme, depthSteps, richardson, expectation, tol, budget, depthError, record } = bindSkeletonMeanOde(problem, given, field);
      return { scheme, depthSteps, richardson, expectation, tol, budget, depthError, record: record as ("gram" | "kl")[] };
    },
    run: (problem, bound) => {
      const t0 = performance.now();
      const { dIn, dOut, N } = problem.data;
      // the Gram profiles of the extras: 3 × nodes × (KN)², checked before the solve
      const nodes = new DepthGrid(bound.scheme, bound.depthSteps * (bound.richardson ? 2 : 1), field).nodes;
      requireResources(gramProfilesNeed(problem.train.steps, N, nodes, dIn + dOut, field));
      const E = limitEmbeddingGram(dIn, dOut, problem.model.sigmaIn, problem.model.sigmaOut);
      const t = skeletonTrajectory(problem, E, bound, "dmft", null, t0, undefined, field);
      return { ...t, extras: { ...t.extras, grams: gramProfiles(t) } };
    },
  };
}

/**
 * Gram matrices on the depth grid over all index pairs a = (k, n) (index k·N + n):
 * Γ^H_{aa'}(s) = h_aᵀh_{a'}/D, Γ^B_{aa'}(s) = b_aᵀb_{a'}/D, Λ_{aa'}(s) = h_aᵀb_{a'}/D,
 * each of shape [nodes, KN, KN].
 */
export function gramProfiles(t: Trajectory): GramProfiles {
  const { r, E, depthGrid, coefficients } = skeletonExtras(t);
  const [K, nodes, N] = coefficients.h.shape;
  requireResources(gramProfilesNeed(K, N, nodes, r));
  const ch = coefficients.h.data, cb = coefficients.b.data;
  const KN = K * N;
  const H = new Float64Array(nodes * KN * KN), B = new Float64Array(nodes * KN * KN), Lam = new Float64Array(nodes * KN * KN);
  const scratch = new Float64Array(KN * r);
  for (let node = 0; node < nodes; node++) {
    const at = (a: number) => profileRow(nodes, N, r, (a / N) | 0, node, a % N);
    const o = node * KN * KN;
    gramForms(E, r, ch, at, KN, ch, at, KN, H, o, false, scratch);
    gramForms(E, r, cb, at, KN, cb, at, KN, B, o, false, scratch);
    gramForms(E, r, ch, at, KN, cb, at, KN, Lam, o, false, scratch);
  }
  return { s: depthGrid, H: view(H, [nodes, KN, KN]), B: view(B, [nodes, KN, KN]), Lambda: view(Lam, [nodes, KN, KN]) };
}

/** Resource estimate of gramProfiles: Γ^H, Γ^B, Λ on every node over all (KN)² index pairs. */
function gramProfilesNeed(K: number, N: number, nodes: number, r: number, field = "options") {
  const KN = K * N;
  return {
    what: "the DMFT Gram profiles (extras.grams: Γ^H, Γ^B, Λ on every depth node over all (K·N)² index pairs)",
    drivers: [["train.steps", K], ["data.N", N], [`${field}.depthSteps`, nodes]] as [string, number][],
    bytes: f64(3 * nodes * KN * KN + KN * r), work: 3 * nodes * KN * KN * (2 * r + 2), largest: nodes * KN * KN,
  };
}

/** Embedding rows: e (R × d_in), o (R × d_out), row-major. A finite model's W_E, W_U are such rows (R = D). */
export interface EmbeddingRows {
  R: number;
  e: Float64Array;
  o: Float64Array;
}

/** Draw R i.i.d. rows e ~ N(0, σ_in² I), o ~ N(0, σ_out² I) (streams 0 and 1 of `seed`, as W_E, W_U of a finite model). */
export function sampleEmbeddingRows(R: number, dIn: number, dOut: number, sigmaIn: number, sigmaOut: number, seed: number): EmbeddingRows {
  positiveInt("R", R);
  positiveInt("dIn", dIn);
  positiveInt("dOut", dOut);
  numberInRange("sigmaIn", sigmaIn, MIN_SCALE, MAX_SCALE);
  numberInRange("sigmaOut", sigmaOut, MIN_SCALE, MAX_SCALE);
  seedValue("seed", seed);
  requireResources({ what: "the embedding rows", drivers: [["R", R], ["dIn", dIn], ["dOut", dOut]], bytes: f64(R * (dIn + dOut)), work: 20 * R * (dIn + dOut), largest: R * Math.max(dIn, dOut) });
  const fam = new StreamFamily(seed);
  return { R, e: fam.get(0).fillNormal(new Float64Array(R * dIn), sigmaIn), o: fam.get(1).fillNormal(new Float64Array(R * dOut), sigmaOut) };
}

/**
 * The coordinate sampler (MATH §5): for each embedding row (e, o), the limit
 * coordinate processes h_{k,n}(s) = eᵀc^{hE}_{k,n}(s) + oᵀc^{hU}_{k,n}(s) and b likewise,
 * on the solver's depth grid. Shapes [R, K, nodes, N]. Rows taken from a
 * finite model's W_E, W_U couple the limit to that model coordinate by coordinate.
 */
export function dmftCoordinates(t: Trajectory, rows: EmbeddingRows): { s: Float64Array; h: F64; b: F64 } {
  const { r, depthGrid, coefficients } = skeletonExtras(t);
  const [K, nodes, N] = coefficients.h.shape;
  const dOut = t.dOut, dIn = r - dOut;
  if (!isPlainObject(rows)) throw new ValidationError("rows", `must be embedding rows { R, e, o } (sampleEmbeddingRows, rowsFromEmbeddings; got ${show(rows)})`);
  knownKeys("rows", rows as unknown as Record<string, unknown>, ["R", "e", "o"]);
  positiveInt("rows.R", rows.R);
  for (const k of ["e", "o"] as const) {
    const a = rows[k] as unknown;
    if (!(a instanceof Float64Array)) throw new ValidationError(`rows.${k}`, `must be a Float64Array (R × ${k === "e" ? "d_in" : "d_out"}, row-major; got ${show(a)})`);
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) throw new ValidationError(`rows.${k}[${i}]`, `must be finite (got ${a[i]})`);
  }
  if (rows.e.length !== rows.R * dIn || rows.o.length !== rows.R * dOut) {
    throw new ValidationError("rows", `must hold R × d_in and R × d_out entries (R = ${rows.R}, d_in = ${dIn}, d_out = ${dOut}; got ${rows.e.length} and ${rows.o.length})`);
  }
  requireResources({
    what: "the DMFT coordinate processes", drivers: [["rows.R", rows.R], ["train.steps", K], ["data.N", N]],
    bytes: f64(2 * rows.R * K * nodes * N), work: 4 * rows.R * K * nodes * N * r, largest: rows.R * K * nodes * N,
  });
  const ch = coefficients.h.data, cb = coefficients.b.data;
  const h = new Float64Array(rows.R * K * nodes * N), b = new Float64Array(rows.R * K * nodes * N);
  for (let d = 0; d < rows.R; d++)
    for (let i = 0; i < K * nodes * N; i++) { // i = row (k, node, n) of the coefficient arrays
      let sh = 0, sb = 0;
      for (let t2 = 0; t2 < dIn; t2++) { const e = rows.e[d * dIn + t2]; sh += e * ch[i * r + t2]; sb += e * cb[i * r + t2]; }
      for (let t2 = 0; t2 < dOut; t2++) { const o = rows.o[d * dOut + t2]; sh += o * ch[i * r + dIn + t2]; sb += o * cb[i * r + dIn + t2]; }
      h[d * K * nodes * N + i] = sh;
      b[d * K * nodes * N + i] = sb;
    }
  for (const a of [h, b]) for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new ValidationError("rows", `give coordinates that overflow double precision (entry ${i} of ${a === h ? "h" : "b"} is ${a[i]}): the rows are too large for this trajectory`);
  }
  return { s: depthGrid, h: view(h, [rows.R, K, nodes, N]), b: view(b, [rows.R, K, nodes, N]) };
}

/** Rows of a finite model's embeddings W_E (D × d_in), W_U (D × d_out). */
export function rowsFromEmbeddings(WE: Float64Array, WU: Float64Array, D: number): EmbeddingRows {
  return { R: D, e: WE, o: WU };
}
