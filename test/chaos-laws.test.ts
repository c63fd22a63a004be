/**
 * 1-d distances of src/stats/distances.ts: exact values on small cases, and the three
 * implementations (merge W1 / KS, fused merge, binary search against a reference
 * with prefix sums) agree on 2000 random pairs of samples, with and without ties.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { distancesToReference, ksSorted, prefixSums, w1KsSorted, w1Sorted } from "../src/stats/distances.ts";
import { StreamFamily } from "../src/core/rng.ts";

test("W1 and KS: exact small cases", () => {
  const A = Float64Array.of(0), B = Float64Array.of(1);
  assert.equal(w1Sorted(A, 1, B, 1), 1);
  assert.equal(ksSorted(A, 1, B, 1), 1);
  // a shift by c moves W1 by exactly c
  const a = Float64Array.of(-1, 0, 0.5, 2), b = a.map((x) => x + 0.25);
  assert.ok(Math.abs(w1Sorted(a, 4, b, 4) - 0.25) < 1e-15);
  // {0, 1} vs {0}: W1 = 1/2, KS = 1/2
  assert.equal(w1Sorted(Float64Array.of(0, 1), 2, Float64Array.of(0), 1), 0.5);
  assert.equal(ksSorted(Float64Array.of(0, 1), 2, Float64Array.of(0), 1), 0.5);
  // identical samples
  assert.equal(w1Sorted(a, 4, a, 4), 0);
  assert.equal(ksSorted(a, 4, a, 4), 0);
});

test("merge, fused merge and binary search against a reference agree (random samples, with ties)", () => {
  const s = new StreamFamily(3).get(0);
  let dw = 0, dk = 0;
  for (let t = 0; t < 2000; t++) {
    const na = 1 + Math.floor(s.uniform() * 40), nb = 1 + Math.floor(s.uniform() * 300);
    const round = t % 2 === 0; // half the cases on a grid of step 1/4: many ties within and across samples
    const gen = (n: number, shift: number) => Float64Array.from({ length: n }, () => { const v = s.normal() + shift; return round ? Math.round(v * 4) / 4 : v; }).sort();
    const a = gen(na, s.uniform() - 0.5), b = gen(nb, 0);
    const w = w1Sorted(a, na, b, nb), k = ksSorted(a, na, b, nb);
    const f = w1KsSorted(a, na, b, nb);
    const r = distancesToReference(a, na, b, nb, prefixSums(b, nb));
    assert.ok(Math.abs(f.w1 - w) <= 1e-12 * (1 + w) && f.ks === k);
    dw = Math.max(dw, Math.abs(r.w1 - w));
    dk = Math.max(dk, Math.abs(r.ks - k));
  }
  // prefix-sum round-off only (values O(1), ≤ 300 terms)
  assert.ok(dw < 1e-12, `max |ΔW1| = ${dw}`);
  assert.ok(dk < 1e-15, `max |ΔKS| = ${dk}`);
});
