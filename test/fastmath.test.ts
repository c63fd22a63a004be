import { test } from "node:test";
import assert from "node:assert/strict";
import { fastExp, fastTanh } from "../src/core/fastmath.ts";

/** Spacing of doubles at |v| (for v ≠ 0, normal). */
const ulp = (v: number) => 2 ** (Math.floor(Math.log2(Math.abs(v))) - 52);
/** A fixed-seed uniform stream (LCG; independent of the code under test). */
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

test("fastExp: within 2 ulp of Math.exp on [−708, 709] (grid and 10^5 random points), exact edges", () => {
  const u = lcg(7);
  let worst = 0;
  const check = (x: number) => {
    const e = Math.exp(x), f = fastExp(x);
    worst = Math.max(worst, Math.abs(e - f) / ulp(e));
  };
  for (let x = -708; x <= 709; x += 0.0137) check(x);
  for (let i = 0; i < 1e5; i++) check(-708 + 1417 * u());
  for (let i = 0; i < 1e5; i++) check((u() - 0.5) * 2e-3); // near 0: the reduction k = 0
  assert.ok(worst <= 2, `worst ${worst} ulp`);
  assert.equal(fastExp(0), 1);
  assert.ok(Number.isNaN(fastExp(NaN)));
  assert.equal(fastExp(Infinity), Infinity);
  assert.equal(fastExp(-Infinity), 0);
  assert.equal(fastExp(710), Infinity);
  assert.equal(fastExp(709.5), Math.exp(709.5));
  assert.equal(fastExp(-720), Math.exp(-720));
});

test("fastTanh: absolute error ≤ 4.5e-16 and relative ≤ 3e-14 against Math.tanh; special values", () => {
  const u = lcg(11);
  let abs = 0, rel = 0;
  const check = (x: number) => {
    const t = Math.tanh(x), f = fastTanh(x);
    abs = Math.max(abs, Math.abs(t - f));
    if (t !== 0) rel = Math.max(rel, Math.abs(t - f) / Math.abs(t));
  };
  for (let x = -25; x <= 25; x += 0.000731) check(x);
  for (let i = 0; i < 1e5; i++) check((u() - 0.5) * 0.05); // around the switch at 2^-6
  for (let i = 0; i < 1e5; i++) check((u() - 0.5) * 1e-8);
  assert.ok(abs <= 4.5e-16, `abs ${abs}`);
  assert.ok(rel <= 3e-14, `rel ${rel}`);
  assert.equal(fastTanh(0), 0);
  assert.ok(Object.is(fastTanh(-0), -0));
  assert.equal(fastTanh(Infinity), 1);
  assert.equal(fastTanh(-Infinity), -1);
  assert.equal(fastTanh(30), 1);
  assert.ok(Number.isNaN(fastTanh(NaN)));
  // odd symmetry holds exactly
  for (let i = 0; i < 1000; i++) { const x = (u() - 0.5) * 10; assert.equal(fastTanh(-x), -fastTanh(x)); }
});

// erf at 29 points from 0.01 to 6, both sides of fastErf's interval ends, by mpmath at 30 digits
// (python3 -c "import mpmath; mpmath.mp.dps = 30; print(mpmath.erf(x))"), rounded to 17 digits
const MP: [number, number][] = [[0.01, 0.011283415555849617], [0.0137, 0.015457827489944797], [0.018769, 0.021176061956398699], [0.025714, 0.029008748139012211], [0.035228, 0.039734103785948517], [0.048262, 0.054415583452707876], [0.066119, 0.074498723791306734], [0.090582, 0.10193197847667984], [0.124098, 0.13931407357387229], [0.170014, 0.19000780846534963], [0.232919, 0.2581445227086828], [0.3191, 0.34820903397587399], [0.437166, 0.46358686501245876], [0.598918, 0.60300374056126329], [0.820518, 0.75410900105378267], [0.84374, 0.76722012418324062], [0.84375, 0.76722566123234163], [1.124109, 0.88810436523418642], [1.24999, 0.92289776301566843], [1.25, 0.92290012825645823], [1.54003, 0.97058884910745162], [2.109841, 0.99715275344662033], [2.857142857142857, 0.99994668768861168], [2.857143, 0.99994668773454161], [2.890482, 0.99995644394292554], [3.95996, 0.99999997859313483], [5.425145, 0.99999999999998311], [5.9999, 0.99999999999999998], [7.432449, 1.0]];

test("fastErf (the package's erf): within 2.5e-16 of 30-digit erf values, odd, limits", async () => {
  const { erf } = await import("../src/core/activations.ts");
  const { fastErf } = await import("../src/core/fastmath.ts");
  assert.equal(erf, fastErf);
  for (const [x, v] of MP) {
    assert.ok(Math.abs(fastErf(x) - v) <= 2.5e-16, `erf(${x}) = ${fastErf(x)}, expected ${v}`);
  }
  const u = lcg(5);
  for (let i = 0; i < 1e4; i++) { const x = (u() - 0.5) * 14 * u(); assert.equal(fastErf(-x), -fastErf(x)); }
  // monotone across the interval ends (no jump where the approximations switch)
  for (const e of [0.84375, 1.25, 2.857142857142857, 6]) {
    const lo = fastErf(e * (1 - 2e-16)), hi = fastErf(e * (1 + 2e-16));
    assert.ok(hi >= lo && hi - lo < 1e-15, `at ${e}: ${lo} → ${hi}`);
  }
  assert.equal(fastErf(0), 0);
  assert.equal(fastErf(7), 1);
  assert.equal(fastErf(-Infinity), -1);
  assert.ok(Number.isNaN(fastErf(NaN)));
});
