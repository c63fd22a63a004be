/**
 * Reproducibility and the random streams (core/rng, resnet/weights).
 *
 * - Same seed → bit-identical trajectories (f, loss, h, b, p profiles).
 * - Layer streams are order-free: drawing layer ℓ alone from a fresh
 *   StreamFamily (layers in reverse or shuffled order) gives exactly the
 *   U_ℓ, V_ℓ of initWeights; W_E, W_U come from streams 0, 1.
 * - core/rng: uniform in [0,1), normal() ≡ fillNormal, normal moments and a
 *   Kolmogorov–Smirnov test against an accurate normal CDF, StreamFamily.get(i)
 *   independent of the order of calls.
 *
 * Statistical checks use fixed seeds, so they are deterministic; the stated
 * false-failure probabilities are over the choice of seed (i.e. the chance
 * that a correct generator would fail with some other seed).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  makeProblem, solve, finiteResNet, initWeights, StreamFamily, stream, ValidationError, type FiniteResNetTrajectory,
} from "../src/index.ts";
import { drawLayer } from "../src/resnet/weights.ts";
import { initEmbeddings } from "../src/problem/embeddings.ts";
import { normalCdfRef } from "./helpers/numeric.ts";

/** Bitwise equality of two Float64Arrays (distinguishes −0/+0 and NaN payloads). */
function bitEqual(a: Float64Array, b: Float64Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

const problemInput = (seed: number, L = 4, M = 3, D = 6) => ({
  model: { L, M, D, activation: "tanh", alpha: 1.3 },
  data: { generator: "teacher" as const, dIn: 3, dOut: 2, N: 5, seed: 11, nonlinearity: "tanh" as const },
  train: { steps: 5, etaU: 0.5, etaV: 0.4, etaE: 0.1, etaO: 0.2 },
  seed,
});

function run(seed: number): FiniteResNetTrajectory {
  return solve(makeProblem(problemInput(seed)), finiteResNet({ record: ["h", "b", "p"], returnWeights: true }));
}

test("same seed → bit-identical trajectories (f, loss, h, b, p, final weights)", () => {
  const a = run(2024), b = run(2024);
  assert.ok(bitEqual(a.f.data as Float64Array, b.f.data as Float64Array), "f differs");
  assert.ok(bitEqual(a.loss, b.loss), "loss differs");
  for (const k of ["h", "b", "p"] as const) {
    assert.ok(bitEqual(a.profiles![k]!.data as Float64Array, b.profiles![k]!.data as Float64Array), `profile ${k} differs`);
  }
  const wa = a.extras.weights!, wb = b.extras.weights!;
  for (const k of ["WE", "WU", "U", "V"] as const) assert.ok(bitEqual(wa[k], wb[k]), `final ${k} differs`);
  assert.equal(a.seed, 2024);
  // The loss actually moves (the trajectories are not trivially constant).
  assert.notEqual(a.loss[0], a.loss[4]);
});

test("different seeds → different weights and trajectories", () => {
  const p1 = makeProblem(problemInput(1)), p2 = makeProblem(problemInput(2));
  const w1 = initWeights(p1), w2 = initWeights(p2);
  for (const k of ["WE", "WU", "U", "V"] as const) {
    let same = 0;
    for (let i = 0; i < w1[k].length; i++) if (w1[k][i] === w2[k][i]) same++;
    assert.equal(same, 0, `${k}: ${same} identical entries across seeds 1 and 2`);
  }
  const a = run(1), b = run(2);
  assert.ok(!bitEqual(a.f.data as Float64Array, b.f.data as Float64Array));
  assert.notEqual(a.loss[0], b.loss[0]);
  // Seed 0 and the seed 2^32−1 are valid and differ from each other.
  const w0 = initWeights(makeProblem(problemInput(0))), wMax = initWeights(makeProblem(problemInput(0xffffffff)));
  assert.ok(!bitEqual(w0.U, wMax.U));
});

test("layer streams are order-free: drawLayer alone (reverse / shuffled order) = initWeights", () => {
  const L = 7, M = 5, D = 9;
  const problem = makeProblem(problemInput(99, L, M, D));
  const w = initWeights(problem);
  const sdU = Math.sqrt(D), sdV = Math.sqrt(D); // σ_u = σ_v = 1: N(0, σ² D)
  const orders = [
    Array.from({ length: L }, (_, l) => L - 1 - l),
    [3, 0, 6, 2, 5, 1, 4],
    [5], // one layer alone
  ];
  for (const order of orders) {
    const fam = new StreamFamily(99);
    const U = new Float64Array(L * M * D), V = new Float64Array(L * M * D);
    for (const l of order) drawLayer(fam, l, U, V, M, D, sdU, sdV);
    for (const l of order) {
      const sl = (a: Float64Array) => a.subarray(l * M * D, (l + 1) * M * D);
      assert.ok(bitEqual(sl(U), sl(w.U)), `U_${l + 1} differs (order ${order})`);
      assert.ok(bitEqual(sl(V), sl(w.V)), `V_${l + 1} differs (order ${order})`);
    }
  }
  // Layer ℓ alone from a family where nothing else was drawn, straight from stream 2+ℓ.
  const l = 4;
  const s = new StreamFamily(99).get(2 + l);
  const u = s.fillNormal(new Float64Array(M * D), sdU), v = s.fillNormal(new Float64Array(M * D), sdV);
  assert.ok(bitEqual(u, w.U.subarray(l * M * D, (l + 1) * M * D)));
  assert.ok(bitEqual(v, w.V.subarray(l * M * D, (l + 1) * M * D)));
  // Embeddings: streams 0 and 1, shared with initEmbeddings.
  const fam = new StreamFamily(99);
  assert.ok(bitEqual(fam.get(1).fillNormal(new Float64Array(D * 2)), w.WU));
  assert.ok(bitEqual(fam.get(0).fillNormal(new Float64Array(D * 3)), w.WE));
  const e = initEmbeddings(problem);
  assert.ok(bitEqual(e.WE, w.WE) && bitEqual(e.WU, w.WU));
  // A layer's weights depend on (seed, ℓ) only: a deeper model with the same M, D shares its first layers.
  const deeper = initWeights(makeProblem(problemInput(99, L + 3, M, D)));
  assert.ok(bitEqual(deeper.U.subarray(0, L * M * D), w.U));
  assert.ok(bitEqual(deeper.V.subarray(0, L * M * D), w.V));
  assert.ok(bitEqual(deeper.WE, w.WE));
});

test("StreamFamily.get(i) is independent of the order of calls, and get(i) twice gives the same stream", () => {
  const draws = (fam: StreamFamily, i: number) => {
    const s = fam.get(i);
    return [s.nextInt32(), s.uniform(), s.normal(), s.uniformOpen(), s.normal()];
  };
  const seq = new StreamFamily(5);
  const inOrder = Array.from({ length: 12 }, (_, i) => draws(seq, i));
  const shuffled = new StreamFamily(5);
  const order = [11, 3, 0, 7, 7, 1, 10, 2, 9, 4, 8, 6, 5];
  const got: unknown[] = [];
  for (const i of order) got[i] = draws(shuffled, i);
  for (let i = 0; i < 12; i++) assert.deepEqual(got[i], inOrder[i], `stream ${i}`);
  // Only index 11 requested on a fresh family.
  assert.deepEqual(draws(new StreamFamily(5), 11), inOrder[11]);
  // stream(seed, i) is the same stream.
  const s = stream(5, 3);
  assert.deepEqual([s.nextInt32(), s.uniform(), s.normal(), s.uniformOpen(), s.normal()], inOrder[3]);
  // Distinct indices give distinct streams.
  const firsts = new Set(inOrder.map((d) => d[0]));
  assert.equal(firsts.size, 12);
  // Drawing from a stream does not advance the family's copy.
  const fam = new StreamFamily(5);
  const a = fam.get(2);
  for (let i = 0; i < 100; i++) a.normal();
  assert.deepEqual(draws(fam, 2), inOrder[2]);
  // clone() is an independent copy of the current state.
  const b = fam.get(4);
  b.normal();
  const c = b.clone();
  assert.equal(b.normal(), c.normal());
  // Bad seeds and indices.
  assert.throws(() => new StreamFamily(-1), ValidationError);
  assert.throws(() => new StreamFamily(1.5), ValidationError);
  assert.throws(() => new StreamFamily(2 ** 32), ValidationError);
  assert.throws(() => fam.get(-1), ValidationError);
  assert.throws(() => fam.get(0.5), ValidationError);
});

test("normal() and fillNormal give the same sequence (including the ziggurat's rare paths)", () => {
  const n = 100_000;
  const a = stream(314, 0);
  const viaNormal = Float64Array.from({ length: n }, () => a.normal());
  const viaFill = stream(314, 0).fillNormal(new Float64Array(n));
  assert.ok(bitEqual(viaNormal, viaFill));
  // The rare paths (wedges and the tail |x| > R = 3.4426) were exercised.
  assert.ok(viaFill.some((x) => Math.abs(x) > 3.442619855899), "no tail draw in 1e5 normals");
  // The streams continue identically after fillNormal.
  assert.equal(a.normal(), (() => { const s = stream(314, 0); s.fillNormal(new Float64Array(n)); return s.normal(); })());
  // scale, offset and count.
  const out = new Float64Array(20).fill(7);
  stream(314, 0).fillNormal(out, 2.5, 5, 10);
  for (let i = 0; i < 20; i++) {
    if (i < 5 || i >= 15) assert.equal(out[i], 7, `entry ${i} outside [offset, offset+n) was written`);
    // fillNormal computes (scale·u)·x_b, normal() u·x_b: equal up to one rounding (not bitwise).
    else assert.ok(Math.abs(out[i] - 2.5 * viaNormal[i - 5]) <= 2.3e-16 * Math.abs(out[i]), `entry ${i}: ${out[i]} vs ${2.5 * viaNormal[i - 5]}`);
  }
  // Split fills continue the same sequence.
  const s = stream(314, 0), parts = new Float64Array(1000);
  s.fillNormal(parts, 1, 0, 333);
  s.fillNormal(parts, 1, 333, 667);
  assert.ok(bitEqual(parts, viaNormal.subarray(0, 1000)));
});

/** Kolmogorov–Smirnov statistic D_n = sup |F_n − F| of a sample against a CDF. */
function ksStatistic(sample: Float64Array, cdf: (x: number) => number): number {
  const xs = Float64Array.from(sample).sort();
  const n = xs.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = cdf(xs[i]);
    d = Math.max(d, (i + 1) / n - f, f - i / n);
  }
  return d;
}

// Asymptotic KS critical value at level 1e-3: K = √(−½ ln(1e-3/2)) = 1.9495, D_crit = K/√n.
const KS_K_1E3 = Math.sqrt(-0.5 * Math.log(1e-3 / 2));

test("normal CDF used by the KS test is accurate", () => {
  assert.ok(Math.abs(KS_K_1E3 - 1.94947) < 1e-5);
  // Reference values (Abramowitz–Stegun table 26.1 / high-precision tables).
  const ref: [number, number][] = [[0, 0.5], [1, 0.8413447460685429], [-1.96, 0.024997895148220435], [2.5, 0.9937903346742238], [-4, 3.167124183311992e-5]];
  for (const [x, p] of ref) assert.ok(Math.abs(normalCdfRef(x) - p) < 1e-15 + 1e-12 * p, `Φ(${x}) = ${normalCdfRef(x)} vs ${p}`);
});

test("normals pass a Kolmogorov–Smirnov test (n = 1e5, level 1e-3)", () => {
  // Under H0 P(√n D_n > 1.9495) ≈ 1e-3: that is the false-failure probability (over seeds).
  for (const [seed, idx] of [[1, 0], [123456789, 17]]) {
    const n = 100_000;
    const x = stream(seed, idx).fillNormal(new Float64Array(n));
    const d = ksStatistic(x, normalCdfRef);
    const crit = KS_K_1E3 / Math.sqrt(n); // 6.165e-3
    assert.ok(d < crit, `seed ${seed}/${idx}: KS D = ${d} ≥ critical ${crit}`);
  }
});

test("normal moments (n = 1e6): mean, variance, skewness, excess kurtosis, tail mass", () => {
  const n = 1_000_000;
  const x = stream(42, 3).fillNormal(new Float64Array(n));
  let m1 = 0;
  for (const v of x) m1 += v;
  m1 /= n;
  let m2 = 0, m3 = 0, m4 = 0, tail = 0;
  for (const v of x) {
    const c = v - m1, c2 = c * c;
    m2 += c2; m3 += c2 * c; m4 += c2 * c2;
    if (Math.abs(v) > 3) tail++;
  }
  m2 /= n; m3 /= n; m4 /= n;
  const skew = m3 / m2 ** 1.5, exKurt = m4 / (m2 * m2) - 3;
  // Tolerances are 5 standard errors (SE: 1/√n, √(2/n), √(6/n), √(24/n)); P(|Z| > 5) = 5.7e-7 each,
  // so the false-failure probability of this test is < 3e-6.
  const se = (v: number) => 5 * Math.sqrt(v / n);
  assert.ok(Math.abs(m1) < se(1), `mean ${m1}`);
  assert.ok(Math.abs(m2 - 1) < se(2), `variance ${m2}`);
  assert.ok(Math.abs(skew) < se(6), `skewness ${skew}`);
  assert.ok(Math.abs(exKurt) < se(24), `excess kurtosis ${exKurt}`);
  // P(|Z| > 3) = 2(1 − Φ(3)) = 2.6998e-3: binomial SD √(n p (1−p)) ≈ 52; allow 5 SD.
  const p3 = 2 * (1 - normalCdfRef(3));
  assert.ok(Math.abs(tail - n * p3) < 5 * Math.sqrt(n * p3 * (1 - p3)), `tail count ${tail} vs ${n * p3}`);
});

test("uniform() lies in [0, 1), uniformOpen() in (0, 1); both pass mean and KS checks", () => {
  const n = 100_000;
  const s = stream(8, 1);
  const u = Float64Array.from({ length: n }, () => s.uniform());
  const uo = Float64Array.from({ length: n }, () => s.uniformOpen());
  for (let i = 0; i < n; i++) {
    assert.ok(u[i] >= 0 && u[i] < 1, `uniform() = ${u[i]}`);
    assert.ok(uo[i] > 0 && uo[i] < 1, `uniformOpen() = ${uo[i]}`);
  }
  // 53-bit resolution: uniform() values are multiples of 2^-53, and not all of 2^-32.
  assert.ok(u.every((v) => Number.isInteger(v * 2 ** 53)));
  assert.ok(u.some((v) => !Number.isInteger(v * 2 ** 32)));
  // Mean within 5 SE (SE = 1/√(12n)); KS at level 1e-3 as above.
  for (const [name, a] of [["uniform", u], ["uniformOpen", uo]] as const) {
    const mean = a.reduce((x, y) => x + y, 0) / n;
    assert.ok(Math.abs(mean - 0.5) < 5 / Math.sqrt(12 * n), `${name} mean ${mean}`);
    const d = ksStatistic(a, (t) => Math.min(1, Math.max(0, t)));
    assert.ok(d < KS_K_1E3 / Math.sqrt(n), `${name} KS D = ${d}`);
  }
  // Successive uniforms are uncorrelated (lag-1 correlation within 5/√n).
  let c = 0;
  for (let i = 1; i < n; i++) c += (u[i] - 0.5) * (u[i - 1] - 0.5);
  assert.ok(Math.abs((12 * c) / (n - 1)) < 5 / Math.sqrt(n), `lag-1 correlation ${(12 * c) / (n - 1)}`);
});
