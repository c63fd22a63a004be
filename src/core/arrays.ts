/**
 * Public array type: `ndarray` views over Float64Array (zero-copy), plus the
 * conversions to and from the nested-array JSON layout.
 */
import ndarray from "ndarray";
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

/** Copy an ndarray view (any strides) into a new contiguous row-major Float64Array. */
export function toFlat(a: NdArray<Float64Array | number[]>): Float64Array {
  const shape = a.shape;
  const n = shape.reduce((x, y) => x * y, 1);
  const out = new Float64Array(n);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    out[i] = a.get(...idx);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

export function isNdArray(v: unknown): v is NdArray<Float64Array | number[]> {
  return typeof v === "object" && v !== null && Array.isArray((v as NdArray).shape) && typeof (v as NdArray).get === "function" && "data" in (v as object);
}
