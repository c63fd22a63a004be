/**
 * Gaussian expectation engines (MATH §3): the symmetric eigen square root, Sobol points and
 * the inverse normal CDF against independent references, and every engine on Gaussian
 * integrals with known closed forms, including singular covariances.
 *
 * Statistical checks use fixed seeds, so the tests are deterministic. Had the seeds been
 * random, the false-failure probability of one |z| < 4.5 check (MC, ~normal z) would be
 * 6.8e-6, and of one |t| < 6 check (QMC, t with 7 degrees of freedom from 8 randomizations)
 * 5.4e-4; with the ≈ 60 MC and ≈ 20 QMC checks below, < 1.5% in total.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { EigenvalueDecomposition, Matrix } from "ml-matrix";
import {
  EigenWorkspace, expect, expectationEngine, gaussHermite, normalCdf, normalQuantile, SOBOL_MAX_DIM,
  sobolIntegers, sobolUniforms, symSqrtPsd, type ExpectationEngine,
} from "../src/skeleton/index.ts";
import { SOBOL_M, SOBOL_POLY } from "../src/skeleton/sobol-data.ts";
import { stream } from "../src/core/rng.ts";
import { ValidationError } from "../src/core/errors.ts";

const rng = stream(99, 1);

function matmul(A: Float64Array, B: Float64Array, n: number): Float64Array {
  const C = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let t = 0;
    for (let l = 0; l < n; l++) t += A[i * n + l] * B[l * n + j];
    C[i * n + j] = t;
  }
  return C;
}
const maxAbs = (a: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i])); return m; };
const diff = (a: ArrayLike<number>, b: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i])); return m; };

/** Σ = F Fᵀ with F n×r: PSD of rank r. */
function lowRank(n: number, r: number): Float64Array {
  const F = new Float64Array(n * r);
  for (let i = 0; i < F.length; i++) F[i] = rng.normal();
  const S = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let t = 0;
    for (let l = 0; l < r; l++) t += F[i * r + l] * F[j * r + l];
    S[i * n + j] = t / r;
  }
  return S;
}

/** The s = 0 structure: k+1 identical blocks (every h_{k,n}(0) = W_E x_n) → rank N. */
function repeatedBlocks(N: number, copies: number): Float64Array {
  const base = lowRank(N, N);
  const n = N * copies, S = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) S[i * n + j] = base[(i % N) * N + (j % N)];
  return S;
}

function sqrtOf(S: Float64Array, n: number) {
  const ws = new EigenWorkspace(n), R = new Float64Array(n * n);
  symSqrtPsd(S, R, ws);
  return R;
}

test("symmetric square root: R symmetric, R R = Σ (also singular Σ), same as ml-matrix's eigen route", () => {
  for (const [n, S] of [[6, lowRank(6, 6)], [6, lowRank(6, 2)], [8, repeatedBlocks(2, 4)], [10, lowRank(10, 1)], [3, new Float64Array(9)]] as const) {
    const R = sqrtOf(S, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) assert.equal(R[i * n + j], R[j * n + i]);
    const err = diff(matmul(R, R, n), S);
    assert.ok(err <= 1e-12 * Math.max(1, maxAbs(S)), `n=${n}: |RR − Σ| = ${err}`);
    // independent route: ml-matrix eigen decomposition
    const evd = new EigenvalueDecomposition(new Matrix(Array.from({ length: n }, (_, i) => Array.from(S.subarray(i * n, (i + 1) * n)))), { assumeSymmetric: true });
    const V = evd.eigenvectorMatrix, w = evd.realEigenvalues.map((x) => Math.sqrt(Math.max(0, x)));
    const R2 = V.mmul(Matrix.diag(w)).mmul(V.transpose());
    assert.ok(diff(R, Float64Array.from(R2.to1DArray())) < 1e-7 * Math.max(1, Math.sqrt(maxAbs(S))), `n=${n}: Jacobi vs ml-matrix`);
  }
});

/** Cholesky with diagonal pivoting (largest remaining diagonal first), L with P Σ Pᵀ = L Lᵀ, returned as Pᵀ L. */
function pivotedCholesky(S: Float64Array, n: number): Float64Array {
  const A = S.slice(), perm = Array.from({ length: n }, (_, i) => i), L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let best = j;
    for (let i = j + 1; i < n; i++) if (A[perm[i] * n + perm[i]] > A[perm[best] * n + perm[best]]) best = i;
    [perm[j], perm[best]] = [perm[best], perm[j]];
    const pj = perm[j], d = A[pj * n + pj];
    if (d <= 1e-14) break;
    const sd = Math.sqrt(d);
    for (let i = j; i < n; i++) {
      const pi = perm[i];
      L[pi * n + j] = A[pi * n + pj] / sd;
    }
    for (let i = j + 1; i < n; i++) for (let l = j + 1; l < n; l++) A[perm[i] * n + perm[l]] -= L[perm[i] * n + j] * L[perm[l] * n + j];
  }
  return L;
}

test("symmetric square root is continuous in Σ (‖ΔR‖ ≤ ‖ΔΣ‖^{1/2}), unlike pivoted Cholesky", () => {
  // Σ(ε) = diag(1 + ε, 1 − ε) rotated: the pivot of pivoted Cholesky flips at ε = 0.
  const n = 2, c = Math.cos(0.3), s = Math.sin(0.3);
  const sigma = (eps: number) => {
    const d = [1 + eps, 1 - eps], S = new Float64Array(4);
    const U = [c, -s, s, c];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) S[i * 2 + j] = U[i * 2] * d[0] * U[j * 2] + U[i * 2 + 1] * d[1] * U[j * 2 + 1];
    return S;
  };
  const eps = 1e-6;
  const Rp = sqrtOf(sigma(eps), n), Rm = sqrtOf(sigma(-eps), n);
  assert.ok(diff(Rp, Rm) < 1e-5, `eigen root jump ${diff(Rp, Rm)}`);
  const Lp = pivotedCholesky(sigma(eps), n), Lm = pivotedCholesky(sigma(-eps), n);
  assert.ok(diff(Lp, Lm) > 0.1, `pivoted Cholesky should jump (got ${diff(Lp, Lm)})`); // the reason MATH §3 avoids it
  // at a singular Σ (the s = 0 case) the root is Hölder-1/2: ‖ΔR‖ ≤ ‖ΔΣ‖^{1/2} (operator norm ≤ max-entry·n)
  const S0 = repeatedBlocks(2, 3), m = 6;
  const R0 = sqrtOf(S0, m);
  for (const e of [1e-4, 1e-8]) {
    const P = lowRank(m, 6);
    const S1 = S0.map((x, i) => x + e * P[i]);
    const dS = maxAbs(P) * e * m;
    assert.ok(diff(sqrtOf(S1, m), R0) <= Math.sqrt(dS) + 1e-12, `perturbation ${e}`);
  }
});

test("Sobol points equal an independent implementation's (Joe–Kuo new-joe-kuo-6.21201) and the table is well formed", () => {
  // reference values: unscrambled points from SciPy 1.17 scipy.stats.qmc.Sobol(126, scramble=False)
  const dims = [0, 1, 2, 62, 63, 100, 125];
  const ref: Record<number, number[]> = {
    1: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
    2: [0.75, 0.25, 0.25, 0.75, 0.75, 0.25, 0.25],
    1000: [0.2197265625, 0.0966796875, 0.5185546875, 0.2587890625, 0.4462890625, 0.7685546875, 0.6748046875],
    1023: [0.0009765625, 0.7529296875, 0.6123046875, 0.7900390625, 0.0400390625, 0.2373046875, 0.5810546875],
  };
  assert.equal(SOBOL_MAX_DIM, 126);
  const ints = sobolIntegers(1024, SOBOL_MAX_DIM, null);
  for (const [i, vals] of Object.entries(ref)) dims.forEach((d, l) => assert.equal(ints[Number(i) * SOBOL_MAX_DIM + d] / 2 ** 32, vals[l], `point ${i} dim ${d + 1}`));
  for (let d = 1; d < SOBOL_MAX_DIM; d++) {
    const m = SOBOL_M[d - 1], s = Math.floor(Math.log2(SOBOL_POLY[d]));
    assert.equal(m.length, s, `dimension ${d + 1}: degree`);
    m.forEach((mi, i) => assert.ok(mi % 2 === 1 && mi < 2 ** (i + 1), `dimension ${d + 1}: m_${i + 1} = ${mi}`));
  }
});

test("scrambled Sobol: every coordinate of 2^m points is stratified (one point per interval of length 2^-m)", () => {
  const n = 256, dim = 40;
  const u = sobolUniforms(n, dim, stream(5, 0));
  for (let d = 0; d < dim; d++) {
    const seen = new Uint8Array(n);
    for (let i = 0; i < n; i++) seen[Math.floor(u[i * dim + d] * n)]++;
    assert.ok(seen.every((c) => c === 1), `dimension ${d}`);
  }
  // and 2-D projections of consecutive dimensions: with t ≤ few, each of the 2^(m-t) boxes …: check the (0,m,2)-net property of dims 1–2 at m = 8 on 16×16 boxes
  const boxes = new Uint8Array(256);
  for (let i = 0; i < n; i++) boxes[Math.floor(u[i * dim] * 16) * 16 + Math.floor(u[i * dim + 1] * 16)]++;
  assert.ok(boxes.every((c) => c === 1));
});

test("normalQuantile matches reference values (SciPy ndtri; mpmath in the far tail) to 1e-15 and inverts normalCdf", () => {
  const ref: [number, number][] = [
    [1e-10, -6.361340902404056], [1e-5, -4.264890793922825], [0.02, -2.053748910631823], [0.3, -0.5244005127080409],
    [0.5, 0], [0.7, 0.5244005127080407], [0.975, 1.959963984540054], [1 - 1e-7, 5.199337582290661],
    // AS 241's third range (p < 1.4e-11): root of erfc(−x/√2)/2 = p by mpmath at 50 digits
    [1e-12, -7.0344838253011319], [1e-20, -9.2623400897984076], [1e-100, -21.273453560965324], [1e-300, -37.047096299361199],
  ];
  for (const [p, x] of ref) assert.ok(Math.abs(normalQuantile(p) - x) <= 1e-15 * Math.max(1, Math.abs(x)), `p = ${p}: ${normalQuantile(p)} vs ${x}`);
  for (let i = 1; i < 1000; i++) {
    const p = i / 1000;
    assert.ok(Math.abs(normalCdf(normalQuantile(p)) - p) < 2e-16 * 8, `p = ${p}`);
  }
});

test("Gauss–Hermite: weights sum to 1 and the rule is exact for moments of degree ≤ 2n−1", () => {
  for (const n of [1, 2, 5, 10, 20]) {
    const { nodes, weights } = gaussHermite(n);
    let tot = 0;
    for (const w of weights) tot += w;
    assert.ok(Math.abs(tot - 1) < 1e-14);
    for (let deg = 0; deg <= 2 * n - 1 && deg <= 30; deg++) {
      let m = 0, mag = 0;
      for (let i = 0; i < n; i++) { m += weights[i] * nodes[i] ** deg; mag += weights[i] * Math.abs(nodes[i]) ** deg; }
      let exact = deg % 2 === 1 ? 0 : 1;
      if (deg % 2 === 0) for (let j = deg - 1; j > 0; j -= 2) exact *= j; // (deg−1)!!
      assert.ok(Math.abs(m - exact) <= 1e-12 * mag + 1e-14, `n=${n}, E[x^${deg}] = ${m} vs ${exact}`);
    }
  }
});

/** Known Gaussian integrals for G ~ N(0, Σ): outputs and exact values. */
function integrals(S: Float64Array, n: number, a: Float64Array) {
  let q = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) q += a[i] * S[i * n + j] * a[j];
  const pairs: [number, number][] = [[0, 0], [0, 1], [1, 2], [2, n - 1]];
  const exact = [
    ...pairs.map(([i, j]) => S[i * n + j]),                                               // E[G_i G_j]
    Math.exp(q / 2),                                                                      // E[exp(aᵀG)]
    Math.exp(-q / 2),                                                                     // E[cos(aᵀG)]
    ...pairs.map(([i, j]) => S[i * n + i] * S[j * n + j] + 2 * S[i * n + j] ** 2),        // E[G_i² G_j²]
  ];
  const f = (g: Float64Array, out: Float64Array) => {
    let ag = 0;
    for (let i = 0; i < n; i++) ag += a[i] * g[i];
    pairs.forEach(([i, j], l) => { out[l] = g[i] * g[j]; out[6 + l] = g[i] * g[i] * g[j] * g[j]; });
    out[4] = Math.exp(ag);
    out[5] = Math.cos(ag);
  };
  return { exact, f, nOut: 10 };
}

test("mc and qmc engines: Gaussian integrals with known values, full-rank and singular Σ, within 4.5 (mc) / 6 (qmc) standard errors", () => {
  const cases: [string, number, Float64Array][] = [["full rank", 5, lowRank(5, 5)], ["rank 2", 5, lowRank(5, 2)], ["s = 0 blocks", 6, repeatedBlocks(2, 3)]];
  for (const [name, n, S] of cases) {
    const a = Float64Array.from({ length: n }, () => 0.4 * rng.normal());
    const { exact, f, nOut } = integrals(S, n, a);
    for (const [engine, zmax] of [[expectationEngine({ kind: "mc", samples: 1 << 15, seed: 3 }), 4.5], [expectationEngine({ kind: "mc", samples: 1 << 15, seed: 4, antithetic: false }), 4.5], [expectationEngine({ kind: "qmc", samples: 1 << 14, seed: 3 }), 6]] as [ExpectationEngine, number][]) {
      const r = expect(engine, S, n, nOut, f);
      assert.ok(r.stderr);
      for (let o = 0; o < nOut; o++) {
        const se = r.stderr[o], err = Math.abs(r.mean[o] - exact[o]);
        // antithetic pairs integrate odd parts exactly: E[G_i G_j] etc. are even, so se > 0 there
        assert.ok(err <= zmax * se + 1e-12 * Math.abs(exact[o]), `${name} ${engine.describe()} output ${o}: ${r.mean[o]} vs ${exact[o]} (se ${se})`);
      }
    }
  }
});

test("gauss-hermite engine is exact for polynomial integrands through a singular square root", () => {
  const n = 3, S = lowRank(3, 2);
  const e = expectationEngine({ kind: "gauss-hermite", nodes: 4 }); // exact up to degree 7 per variable
  const r = expect(e, S, n, 4, (g, out) => {
    out[0] = g[0] * g[1];
    out[1] = g[0] * g[0] * g[2] * g[2];
    out[2] = g[1] ** 6;
    out[3] = g[0] * g[1] * g[2] * g[2];
  });
  assert.equal(r.stderr, null);
  const ex = [S[1], S[0] * S[8] + 2 * S[2] ** 2, 15 * S[4] ** 3, S[1] * S[8] + 2 * S[2] * S[5]];
  ex.forEach((x, i) => assert.ok(Math.abs(r.mean[i] - x) < 1e-12 * Math.max(1, Math.abs(x)), `output ${i}: ${r.mean[i]} vs ${x}`));
});

test("qmc beats mc at equal samples on smooth integrands (measured RMS errors)", () => {
  // dimension 10, Σ = F Fᵀ/n full rank, aᵀΣa = 0.356; E[cos(aᵀG)] and E[exp(aᵀG)], RMS error over
  // 8 seeds at 2^12 evaluations each. Measured (deterministic given these seeds):
  //   cos: mc (antithetic) 6.6e-3, qmc (8 × 512 Sobol) 6.5e-4  → 10× smaller
  //   exp: mc (antithetic) 9.6e-3, qmc (8 × 512 Sobol) 1.5e-3  → 6.4× smaller
  const own = stream(4242, 0);
  const n = 10, F = Float64Array.from({ length: n * n }, () => own.normal());
  const S = matmul(F, Float64Array.from({ length: n * n }, (_, i) => F[(i % n) * n + Math.floor(i / n)] / n), n); // F Fᵀ / n
  const a = Float64Array.from({ length: n }, () => 0.3 * own.normal());
  let q = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) q += a[i] * S[i * n + j] * a[j];
  const exact = [Math.exp(-q / 2), Math.exp(q / 2)];
  const f = (g: Float64Array, out: Float64Array) => {
    let ag = 0;
    for (let i = 0; i < n; i++) ag += a[i] * g[i];
    out[0] = Math.cos(ag);
    out[1] = Math.exp(ag);
  };
  const rms = (kind: "mc" | "qmc") => {
    const s2 = [0, 0];
    for (let seed = 1; seed <= 8; seed++) {
      const r = expect(expectationEngine({ kind, samples: 1 << 12, seed }), S, n, 2, f);
      for (let o = 0; o < 2; o++) s2[o] += (r.mean[o] - exact[o]) ** 2 / 8;
    }
    return s2.map(Math.sqrt);
  };
  const mc = rms("mc"), qmc = rms("qmc");
  for (let o = 0; o < 2; o++) assert.ok(qmc[o] < 0.5 * mc[o], `output ${o}: qmc RMS ${qmc[o]} vs mc RMS ${mc[o]}`);
});

test("engines: common random numbers — the point set is cached per dimension and results are reproducible", () => {
  const e = expectationEngine({ kind: "mc", samples: 1000, seed: 7 });
  assert.equal(e.points(4), e.points(4));
  const S = lowRank(4, 3);
  const f = (g: Float64Array, out: Float64Array) => { out[0] = Math.tanh(g[0] + g[3]) ** 2 + 0.1 * g[1]; };
  const r1 = expect(e, S, 4, 1, f), r2 = expect(expectationEngine({ kind: "mc", samples: 1000, seed: 7 }), S, 4, 1, f);
  assert.equal(r1.mean[0], r2.mean[0]);
  const r3 = expect(expectationEngine({ kind: "mc", samples: 1000, seed: 8 }), S, 4, 1, f);
  assert.notEqual(r1.mean[0], r3.mean[0]);
  // smooth in Σ with common random numbers: a tiny change of Σ moves the estimate by a tiny amount
  const S2 = S.map((x) => x * (1 + 1e-9));
  const r4 = expect(e, S2, 4, 1, f);
  assert.ok(Math.abs(r4.mean[0] - r1.mean[0]) < 1e-8);
  // qmc sample counts: per randomization rounded to a power of 2
  assert.equal(expectationEngine({ kind: "qmc", samples: 1000 }).samples, 1024);
  assert.equal(expectationEngine({ kind: "qmc", samples: 1000, randomizations: 4 }).samples, 1024);
  assert.equal(expectationEngine({ kind: "mc", samples: 1001 }).samples, 1002);
});

test("engines: bad options and inputs give ValidationError naming the field", () => {
  const bad = (f: () => unknown, field: string) => assert.throws(f, (e: unknown) => e instanceof ValidationError && e.field === field, `expected error on ${field}`);
  bad(() => expectationEngine({ kind: "sobol" as never }), "engine.kind");
  bad(() => expectationEngine("bogus" as never), "engine.kind");
  bad(() => expectationEngine({ kind: "mc", samples: 0 }), "engine.samples");
  bad(() => expectationEngine({ kind: "mc", samples: -5 }), "engine.samples");
  bad(() => expectationEngine({ kind: "qmc", samples: 2.5 }), "engine.samples");
  bad(() => expectationEngine({ kind: "mc", seed: -1 }), "engine.seed");
  bad(() => expectationEngine({ kind: "mc", nodes: 5 }), "engine.nodes");
  bad(() => expectationEngine({ kind: "qmc", antithetic: true }), "engine.antithetic");
  bad(() => expectationEngine({ kind: "mc", antithetic: "yes" as never }), "engine.antithetic");
  bad(() => expectationEngine({ kind: "gauss-hermite", nodes: 0 }), "engine.nodes");
  bad(() => expectationEngine({ kind: "qmc", randomizations: 0 }), "engine.randomizations");
  bad(() => expectationEngine({ kind: "mc", sample: 10 } as never), "engine.sample");
  const gh = expectationEngine({ kind: "gauss-hermite", nodes: 10 });
  bad(() => gh.points(7), "engine.nodes"); // 10^7 points > maxPoints
  bad(() => expectationEngine({ kind: "qmc" }).points(SOBOL_MAX_DIM + 1), "dim");
  const mc = expectationEngine("mc");
  bad(() => expect(expectationEngine("closed-form"), new Float64Array(4), 2, 1, () => {}), "engine.kind");
  bad(() => expect(mc, new Float64Array(9), 2, 1, () => {}), "cov");
  bad(() => expect(mc, [1, 0, 0, NaN], 2, 1, () => {}), "cov[1][1]");
  bad(() => expect(mc, [1, 0, 0, -1], 2, 1, () => {}), "cov");
  bad(() => expect(mc, [1, 0, 0, 1], 2, 0, () => {}), "nOut");
});
