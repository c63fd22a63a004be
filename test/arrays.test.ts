/** core/arrays: toFlat of strided views equals an element-by-element copy; toNested round-trips. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { toFlat, toNested, view } from "../src/core/arrays.ts";

test("toFlat copies transposed / sliced / stepped views in row-major order", () => {
  const base = view(Float64Array.from({ length: 60 }, (_, i) => i * 1.5 - 7), [3, 4, 5]);
  const views = [base, base.transpose(2, 0, 1), base.transpose(1, 2, 0), base.hi(2, 3, 4).lo(1, 1, 1), base.step(1, -1, 2), base.pick(1, null, null)];
  for (const v of views) {
    const flat = toFlat(v);
    const shape = v.shape;
    const expected: number[] = [];
    const idx = new Array(shape.length).fill(0);
    const total = shape.reduce((a, b) => a * b, 1);
    for (let c = 0; c < total; c++) {
      expected.push(v.get(...idx));
      for (let d = shape.length - 1; d >= 0; d--) { if (++idx[d] < shape[d]) break; idx[d] = 0; }
    }
    assert.deepEqual(Array.from(flat), expected, `shape ${shape.join("×")}`);
  }
  const nested = toNested(toFlat(base.transpose(1, 0, 2)), [4, 3, 5]) as number[][][];
  assert.equal(nested[2][1][3], base.get(1, 2, 3));
});
