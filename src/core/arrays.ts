/**
 * Public array type: `ndarray` views over Float64Array (zero-copy), plus the
 * conversions to and from the nested-array JSON layout.
 */
import { createRequire } from "node:module";
import ndarray from "ndarray";
import type ops from "ndarray-ops";

// ndarray-ops compiles its kernels when it is loaded (≈ 10 ms): load it on first use only,
// so that processes that never copy a strided view (e.g. the benchmark runs) do not pay it.
let opsModule: typeof ops | null = null;
const loadOps = (): typeof ops => (opsModule ??= createRequire(import.meta.url)("ndarray-ops") as typeof ops);
import type { NdArray } from "ndarray";

export type { NdArray };
export type F64 = NdArray<Float64Array>;

/** A row-major view of `data` with the given shape (no copy). */
export function view(data: Float64Array, shape: number[]): F64 {
  return ndarray(data, shape);
}

/** Nested JS arrays (row-major) from a flat row-major buffer of the given shape. */
export function toNested(data: ArrayLike<number>, shape: readonly number[], offset = 0): unknown {
  if (shape.length === 0) return data[offset];
  if (shape.length === 1) return Array.from({ length: shape[0] }, (_, i) => data[offset + i]);
  const stride = shape.slice(1).reduce((a, b) => a * b, 1);
  return Array.from({ length: shape[0] }, (_, i) => toNested(data, shape.slice(1), offset + i * stride));
}

/** Copy an ndarray view (any strides) into a new contiguous row-major Float64Array (ndarray-ops assign). */
export function toFlat(a: NdArray<Float64Array | number[]>): Float64Array {
  const n = a.shape.reduce((x, y) => x * y, 1);
  const out = new Float64Array(n);
  if (n > 0) loadOps().assign(ndarray(out, a.shape.slice()), a as NdArray);
  return out;
}

export function isNdArray(v: unknown): v is NdArray<Float64Array | number[]> {
  return typeof v === "object" && v !== null && Array.isArray((v as NdArray).shape) && typeof (v as NdArray).get === "function" && "data" in (v as object);
}
