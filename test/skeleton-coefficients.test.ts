/**
 * Coefficients C^H, C^B of MATH §3 from the engines, checked against independent computations:
 *  - linear σ: exact closed form vs the mc engine (within 4.5 standard errors);
 *  - tanh: the derivative terms via Gaussian integration by parts, which needs no Jacobian,
 *      α σ_v² E[∂σ(p_kn)/∂G^v] = α ΓB⁻¹ E[G^v σ(p_kn)],
 *     −α σ_u² E[∂(σ′(p_kn) q_kn)/∂G^u] = −α ΓH⁻¹ E[G^u σ′(p_kn) q_kn]     (invertible Grams),
 *    estimated by plain sample means with a different seed, vs the engine (within 5 combined
 *    standard errors);
 *  - tiny dimension: gauss-hermite vs qmc.
 * Fixed seeds: deterministic. With random seeds the false-failure probability of one |z| < 4.5
 * check would be 6.8e-6 and of one |z| < 5 check 5.7e-7 (≈ 300 checks: < 0.2% in total).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Matrix, inverse } from "ml-matrix";
import {
  backwardCoefficients, evaluateBatch, expectationEngine, forwardCoefficients, resolveParams,
  SkeletonBlock, skeletonGaussianSamples, type SkeletonParams,
} from "../src/skeleton/index.ts";
import { stream } from "../src/core/rng.ts";
import { ValidationError } from "../src/core/errors.ts";

const rng = stream(777, 2);

function spd(n: number, ridge = 0.15): Float64Array {
  const A = Float64Array.from({ length: n * n }, () => rng.normal());
  const S = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let t = 0;
    for (let l = 0; l < n; l++) t += A[i * n + l] * A[j * n + l];
    S[i * n + j] = t / n + (i === j ? ridge : 0);
  }
  return S;
}

/** The s = 0 situation: every step's block equal (rank N). */
function repeated(N: number, copies: number): Float64Array {
  const b = spd(N), n = N * copies, S = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) S[i * n + j] = b[(i % N) * N + (j % N)];
  return S;
}

test("linear σ: closed-form coefficients equal the mc engine's within 4.5 standard errors (incl. singular ΓH)", () => {
  const params: SkeletonParams = { etaU: 0.7, etaV: 0.9, alpha: 1.3, activation: "linear", sigmaU: 1.1, sigmaV: 0.8 };
  const cf = expectationEngine("closed-form");
  const mc = expectationEngine({ kind: "mc", samples: 1 << 15, seed: 11 });
  let checks = 0;
  for (const N of [1, 2]) for (let k = 1; k <= 3; k++) for (const singular of [false, true]) {
    const nU = (k + 1) * N;
    const GH = singular ? repeated(N, k + 1) : spd(nU);
    const GBf = spd(k * N), GBb = spd(nU);
    const pairs = [
      [forwardCoefficients(k, N, GH, GBf, params, cf), forwardCoefficients(k, N, GH, GBf, params, mc), "forward"],
      [backwardCoefficients(k, N, GH, GBb, params, cf), backwardCoefficients(k, N, GH, GBb, params, mc), "backward"],
    ] as const;
    for (const [exact, est, dir] of pairs) {
      assert.equal(exact.rows, N);
      assert.equal(exact.cols, dir === "forward" ? k * N : (k + 1) * N);
      assert.equal(exact.stderr, null);
      for (let i = 0; i < exact.C.length; i++) {
        const se = est.stderr![i], err = Math.abs(est.C[i] - exact.C[i]);
        assert.ok(err <= 4.5 * se + 1e-12, `${dir} k=${k} N=${N} singular=${singular} [${i}]: closed ${exact.C[i]} mc ${est.C[i]} ± ${se}`);
        checks++;
      }
    }
  }
  assert.ok(checks > 100);
});

/** Independent estimate of C^H or C^B for a nonlinear σ by Gaussian integration by parts. */
function steinEstimate(direction: "forward" | "backward", k: number, N: number, GH: Float64Array, GB: Float64Array, params: SkeletonParams, seed: number) {
  const rp = resolveParams(params);
  const nB = direction === "forward" ? k : k + 1;
  const samples = 1 << 16;
  const { G, count, dimG } = skeletonGaussianSamples(k, N, nB, GH, GB, params, expectationEngine({ kind: "mc", samples, seed, antithetic: false }));
  const block = new SkeletonBlock(k, N, nB, "none", 256);
  block.setup(GH, GB, rp);
  const nU = (k + 1) * N, nV = nB * N;
  const out = { p: new Float64Array(count * nU), q: new Float64Array(count * nV), s: new Float64Array(count * nU), ds: new Float64Array(count * nU) };
  evaluateBatch(block, G, count, out);
  const cols = direction === "forward" ? k * N : (k + 1) * N, kN = k * N;
  const Ginv = inverse(new Matrix(Array.from({ length: cols }, (_, i) => Array.from((direction === "forward" ? GB : GH).subarray(i * cols, (i + 1) * cols)))));
  // per-sample integrand X_t (rows × cols), then mean and standard error
  const sum = new Float64Array(N * cols), sum2 = new Float64Array(N * cols), x = new Float64Array(cols);
  for (let t = 0; t < count; t++) {
    for (let n = 0; n < N; n++) {
      const r = kN + n;
      const F = direction === "forward" ? out.s[t * nU + r] : out.ds[t * nU + r] * out.q[t * nV + r];
      // Gaussian part of the sample: G^v (forward) or G^u (backward)
      for (let c = 0; c < cols; c++) x[c] = (direction === "forward" ? G[t * dimG + nU + c] : G[t * dimG + c]) * F;
      for (let c = 0; c < cols; c++) {
        let v = 0;
        for (let l = 0; l < cols; l++) v += Ginv.get(c, l) * x[l];
        let val: number;
        if (direction === "forward") val = rp.alpha * v - (rp.etaV / N) * out.s[t * nU + c] * out.s[t * nU + r];
        else val = -rp.alpha * v + (c < kN ? (rp.etaU / N) * out.ds[t * nU + c] * out.q[t * nV + c] * F : 0);
        sum[n * cols + c] += val;
        sum2[n * cols + c] += val * val;
      }
    }
  }
  const mean = sum.map((s) => s / count);
  const se = sum2.map((s2, i) => Math.sqrt(Math.max(0, s2 / count - mean[i] ** 2) / (count - 1)));
  return { mean, se };
}

test("tanh: engine coefficients (exact Jacobians) equal an integration-by-parts estimate (no Jacobians) within 5 standard errors", () => {
  const params: SkeletonParams = { etaU: 1.2, etaV: 0.8, alpha: 1, activation: "tanh" };
  for (const [k, N] of [[1, 2], [2, 2], [3, 1]] as const) {
    const nU = (k + 1) * N;
    const GH = spd(nU), GBf = spd(k * N), GBb = spd(nU);
    for (const [dir, GB] of [["forward", GBf], ["backward", GBb]] as const) {
      for (const engine of [expectationEngine({ kind: "mc", samples: 1 << 15, seed: 5 }), expectationEngine({ kind: "qmc", samples: 1 << 14, seed: 5 })]) {
        const res = dir === "forward" ? forwardCoefficients(k, N, GH, GB, params, engine) : backwardCoefficients(k, N, GH, GB, params, engine);
        const ind = steinEstimate(dir, k, N, GH, GB, params, 1000 + k);
        for (let i = 0; i < res.C.length; i++) {
          const se = Math.hypot(res.stderr![i], ind.se[i]);
          assert.ok(Math.abs(res.C[i] - ind.mean[i]) <= 5 * se, `${dir} k=${k} N=${N} ${engine.kind} [${i}]: ${res.C[i]} vs IBP ${ind.mean[i]} (se ${se})`);
        }
      }
    }
  }
});

test("tiny dimension: gauss-hermite coefficients equal qmc's within 6 standard errors", () => {
  const params: SkeletonParams = { etaU: 1, etaV: 1, alpha: 1, activation: "gelu" };
  const k = 1, N = 1;
  const GH = spd(2), GBf = spd(1), GBb = spd(2);
  const gh = expectationEngine({ kind: "gauss-hermite", nodes: 12 }); // 12^4 = 20736 points for the backward ones
  const qmc = expectationEngine({ kind: "qmc", samples: 1 << 15, seed: 2 });
  for (const [a, b] of [
    [forwardCoefficients(k, N, GH, GBf, params, gh), forwardCoefficients(k, N, GH, GBf, params, qmc)],
    [backwardCoefficients(k, N, GH, GBb, params, gh), backwardCoefficients(k, N, GH, GBb, params, qmc)],
  ]) {
    assert.equal(a.stderr, null);
    for (let i = 0; i < a.C.length; i++) assert.ok(Math.abs(a.C[i] - b.C[i]) <= 6 * b.stderr![i] + 1e-9, `[${i}] GH ${a.C[i]} vs qmc ${b.C[i]} ± ${b.stderr![i]}`);
  }
});

test("k = 0: forward coefficients are empty, backward ones exactly 0; repeated calls are identical and can write into given buffers", () => {
  const params: SkeletonParams = { etaU: 1, etaV: 1, alpha: 1, activation: "tanh" };
  const e = expectationEngine({ kind: "qmc", samples: 4096 });
  const f0 = forwardCoefficients(0, 3, spd(3), new Float64Array(0), params, e);
  assert.equal(f0.C.length, 0);
  assert.equal(f0.cols, 0);
  const b0 = backwardCoefficients(0, 3, spd(3), spd(3), params, e);
  assert.equal(b0.C.length, 9);
  assert.ok(b0.C.every((x) => x === 0));
  const GH = spd(6), GB = spd(6);
  const r1 = backwardCoefficients(2, 2, GH, GB, params, e);
  const C = new Float64Array(12), se = new Float64Array(12);
  const r2 = backwardCoefficients(2, 2, GH, GB, params, e, { C, stderr: se });
  assert.equal(r2.C, C);
  assert.equal(r2.stderr, se);
  assert.deepEqual(Array.from(C), Array.from(r1.C));
  assert.equal(r2.evaluations, 4096);
});

test("coefficients: bad input gives ValidationError naming the field", () => {
  const ok: SkeletonParams = { etaU: 1, etaV: 1, alpha: 1, activation: "tanh" };
  const mc = expectationEngine({ kind: "mc", samples: 64 });
  const GH = spd(4), GB = spd(2), GBb = spd(4);
  const bad = (f: () => unknown, field: string) => assert.throws(f, (e: unknown) => e instanceof ValidationError && e.field === field, `expected error on ${field}`);
  bad(() => forwardCoefficients(1, 2, GH, GB, ok, expectationEngine("closed-form")), "engine.kind");
  bad(() => backwardCoefficients(1, 2, GH, GBb, { ...ok, activation: "gelu" }, expectationEngine("closed-form")), "engine.kind");
  const noD2 = { name: "soft", f: Math.tanh, df: (x: number) => 1 - Math.tanh(x) ** 2 };
  bad(() => backwardCoefficients(1, 2, GH, GBb, { ...ok, activation: noD2 as never }, mc), "params.activation");
  bad(() => forwardCoefficients(1, 2, GH, GB, { ...ok, activation: noD2 as never }, mc), "params.activation");
  const nan = GH.slice(); nan[1] = Infinity;
  bad(() => forwardCoefficients(1, 2, nan, GB, ok, mc), "gammaH[0][1]");
  bad(() => forwardCoefficients(1, 2, GH, GBb, ok, mc), "gammaB");       // forward ΓB is kN × kN
  bad(() => backwardCoefficients(1, 2, GH, GB, ok, mc), "gammaB");       // backward ΓB is (k+1)N square
  bad(() => backwardCoefficients(1, 2, spd(3), GBb, ok, mc), "gammaH");
  const asym = GH.slice(); asym[1] += 0.5;
  bad(() => forwardCoefficients(1, 2, asym, GB, ok, mc), "gammaH");
  bad(() => forwardCoefficients(1, 2, GH, [1, 0, 0, -1], ok, mc), "gammaB"); // not PSD
  bad(() => forwardCoefficients(1, 2, GH, GB, ok, {} as never), "engine");
  bad(() => forwardCoefficients(1.5, 2, GH, GB, ok, mc), "k");
  bad(() => forwardCoefficients(1, 0, GH, GB, ok, mc), "N");
  bad(() => forwardCoefficients(1, 2, GH, GB, { ...ok, alpha: -1 }, mc), "params.alpha");
  bad(() => forwardCoefficients(1, 2, GH, GB, { ...ok, sigmaV: 0 }, mc), "params.sigmaV");
  bad(() => forwardCoefficients(1, 2, GH, GB, ok, mc, { C: new Float64Array(1) }), "out.C");
});
