/**
 * Weights of the finite ResNet (MATH §1) and their initialisation.
 *
 * Internal layout: U, V are L × M × D (row (ℓ, j) = particle u_{ℓj} / v_{ℓj},
 * contiguous over d); W_E is D × d_in, W_U is D × d_out (row-major).
 * The problem-file layout `init.U[l][d][j]` (L × D × M) is converted on
 * import / export.
 *
 * Streams (core/rng): stream 0 draws W_E, stream 1 draws W_U, stream 2+ℓ
 * draws layer ℓ (U_ℓ then V_ℓ, in the internal order) — so a layer's
 * weights depend only on (seed, ℓ), whatever order layers are drawn in.
 */
import { ValidationError } from "../core/errors.ts";
import { StreamFamily } from "../core/rng.ts";
import { toNested, view, type F64 } from "../core/arrays.ts";
import { finiteArray, isPlainObject, knownKeys, show } from "../core/validate.ts";
import { f64, requireResources } from "../core/resources.ts";
import { transposeLayers } from "../core/layout.ts";
import { assertProblem, type Problem } from "../problem/problem.ts";
import { initEmbeddings } from "../problem/embeddings.ts";

export interface ResNetWeights {
  L: number;
  M: number;
  D: number;
  dIn: number;
  dOut: number;
  WE: Float64Array;
  WU: Float64Array;
  /** L × M × D. */
  U: Float64Array;
  /** L × M × D. */
  V: Float64Array;
}

/** L × D × M (JSON layout) → L × M × D (internal). */
export function layerMajorToInternal(src: Float64Array, L: number, D: number, M: number): Float64Array {
  return transposeLayers(src, L, D, M);
}

/** L × M × D (internal) → L × D × M (JSON layout). */
export function internalToLayerMajor(src: Float64Array, L: number, D: number, M: number): Float64Array {
  return transposeLayers(src, L, M, D);
}

/** Draw layer ℓ's U_ℓ, V_ℓ (internal layout) from its own stream into U, V. */
export function drawLayer(fam: StreamFamily, l: number, U: Float64Array, V: Float64Array, M: number, D: number, sdU: number, sdV: number): void {
  const s = fam.get(2 + l);
  const off = l * M * D;
  s.fillNormal(U, sdU, off, M * D);
  s.fillNormal(V, sdV, off, M * D);
}

/**
 * Initial weights of a problem: explicit `init` arrays where given, otherwise
 * drawn from `problem.seed` with (W_E)_{di} ~ N(0, σ_in²), (W_U)_{di} ~ N(0, σ_out²),
 * (U_ℓ)_{dj} ~ N(0, σ_u² D), (V_ℓ)_{dj} ~ N(0, σ_v² D).
 */
export function initWeights(problem: Problem): ResNetWeights {
  assertProblem(problem);
  const { L, M, D, sigmaU, sigmaV } = problem.model;
  const { dIn, dOut } = problem.data;
  requireResources({
    what: "the weights of the finite ResNet", drivers: [["model.L", L], ["model.M", M], ["model.D", D]],
    bytes: f64(2 * L * M * D + D * (dIn + dOut)), work: 20 * L * M * D, largest: L * M * D, detail: "U, V: 2·L·M·D numbers",
  });
  const fam = new StreamFamily(problem.seed);
  const { WE, WU } = initEmbeddings(problem);
  let U: Float64Array, V: Float64Array;
  if (problem.init.U && problem.init.V) {
    U = layerMajorToInternal(problem.init.U, L, D, M);
    V = layerMajorToInternal(problem.init.V, L, D, M);
  } else {
    if (problem.init.U || problem.init.V) throw new ValidationError("init", "must give both U and V, or neither");
    U = new Float64Array(L * M * D);
    V = new Float64Array(L * M * D);
    const sdU = sigmaU * Math.sqrt(D), sdV = sigmaV * Math.sqrt(D);
    for (let l = 0; l < L; l++) drawLayer(fam, l, U, V, M, D, sdU, sdV);
  }
  return { L, M, D, dIn, dOut, WE, WU, U, V };
}

export function cloneWeights(w: ResNetWeights): ResNetWeights {
  checkWeightArrays(w, "weights");
  return { ...w, WE: Float64Array.from(w.WE), WU: Float64Array.from(w.WU), U: Float64Array.from(w.U), V: Float64Array.from(w.V) };
}

/** Weights are an object {L, M, D, dIn, dOut, WE, WU, U, V} with Float64Array arrays (as initWeights returns). */
const WEIGHT_KEYS = ["L", "M", "D", "dIn", "dOut", "WE", "WU", "U", "V"];

function checkWeightArrays(w: unknown, field: string): asserts w is ResNetWeights {
  if (!isPlainObject(w)) throw new ValidationError(field, `must be finite-ResNet weights { L, M, D, dIn, dOut, WE, WU, U, V } as initWeights returns (got ${show(w)})`);
  // an unknown key would be carried through a GD step untouched (and unchecked): refused, named
  knownKeys(field, w, WEIGHT_KEYS);
  for (const k of ["WE", "WU", "U", "V"] as const) {
    if (!(w[k] instanceof Float64Array)) throw new ValidationError(`${field}.${k}`, `must be a Float64Array (got ${show(w[k])})`);
  }
}

/** Check that weights fit a problem's shape and are finite. */
export function validateWeights(w: ResNetWeights, problem: Problem, field = "weights"): void {
  checkWeightArrays(w, field);
  const { L, M, D } = problem.model;
  const { dIn, dOut } = problem.data;
  const dims: [string, number, number][] = [["L", w.L, L], ["M", w.M, M], ["D", w.D, D], ["dIn", w.dIn, dIn], ["dOut", w.dOut, dOut]];
  for (const [k, got, want] of dims) {
    if (got !== want) throw new ValidationError(`${field}.${k}`, `is ${show(got)} but the problem has ${want} (weights were made for another shape)`);
  }
  const expect: [string, number, number][] = [
    ["WE", w.WE?.length, D * dIn], ["WU", w.WU?.length, D * dOut], ["U", w.U?.length, L * M * D], ["V", w.V?.length, L * M * D],
  ];
  for (const [k, got, want] of expect) {
    if (got !== want) throw new ValidationError(`${field}.${k}`, `has length ${got} but the problem (L=${L}, M=${M}, D=${D}, d_in=${dIn}, d_out=${dOut}) needs ${want}`);
  }
  finiteArray(`${field}.WE`, w.WE); finiteArray(`${field}.WU`, w.WU); finiteArray(`${field}.U`, w.U); finiteArray(`${field}.V`, w.V);
}

/** Weights in the problem-file layout (nested arrays), ready for `init` of a problem file. */
export function weightsToJSON(w: ResNetWeights): { WE: unknown; WU: unknown; U: unknown; V: unknown } {
  return {
    WE: toNested(w.WE, [w.D, w.dIn]),
    WU: toNested(w.WU, [w.D, w.dOut]),
    U: toNested(internalToLayerMajor(w.U, w.L, w.D, w.M), [w.L, w.D, w.M]),
    V: toNested(internalToLayerMajor(w.V, w.L, w.D, w.M), [w.L, w.D, w.M]),
  };
}

/** ndarray views of the weights in the MATH layout: U, V as [L, D, M] (strided views, zero-copy). */
export function weightViews(w: ResNetWeights): { WE: F64; WU: F64; U: F64; V: F64 } {
  const uv = (a: Float64Array) => view(a, [w.L, w.M, w.D]).transpose(0, 2, 1) as F64;
  return { WE: view(w.WE, [w.D, w.dIn]), WU: view(w.WU, [w.D, w.dOut]), U: uv(w.U), V: uv(w.V) };
}
