/**
 * The finite ResNet engine against an independent plain-loop re-implementation
 * of MATH §1, written with nested number[][] arrays straight from the
 * equations (no kernels, no flat buffers, no shared code with src/ beyond the
 * public API used to build problems and read results).
 *
 * Agreement is required to 1e-12 relative in the max norm of each compared
 * array (|engine − ref|_∞ ≤ 1e-12 · max(|ref|_∞, 1e-300)): summation orders
 * differ (the kernels use paired accumulators), so bit equality is not
 * expected, but the differences are a few ulps of the largest entry.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  makeProblem, solve, finiteResNet, trainResNet, initWeights, weightsToJSON, ACTIVATIONS,
  type Trajectory, type ResNetWeights,
} from "../src/index.ts";
import { normalCdfRef } from "./helpers/numeric.ts";

type Mat = number[][];

/** Deterministic pseudo-normal numbers from a small LCG + Box–Muller, independent of core/rng. */
function lcgNormals(seed: number): () => number {
  let s = BigInt(seed) * 6364136223846793005n + 1442695040888963407n;
  const mask = (1n << 64n) - 1n;
  const u = () => {
    s = (s * 6364136223846793005n + 1442695040888963407n) & mask;
    return (Number(s >> 11n) + 0.5) / 2 ** 53;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

const zeros = (r: number, c: number): Mat => Array.from({ length: r }, () => new Array<number>(c).fill(0));
const randMat = (g: () => number, r: number, c: number, sd: number): Mat => Array.from({ length: r }, () => Array.from({ length: c }, () => sd * g()));

interface RefWeights { WE: Mat; WU: Mat; U: Mat[]; V: Mat[] } // U[l][d][j]
interface RefSpec {
  L: number; M: number; D: number; alpha: number;
  sigma: (x: number) => number; dsigma: (x: number) => number;
  X: Mat; Y: Mat; // d_in × N, d_out × N
  etaU: number; etaV: number; etaE: number; etaO: number; steps: number;
}
interface RefResult {
  f: number[][][]; // [k][o][n]
  loss: number[];
  h: number[][][][]; // [k][l][n][d], l = 0..L
  b: number[][][][];
  p: number[][][][]; // [k][l][j][n], l = 0..L-1
  final: RefWeights;
}

const clone = (w: RefWeights): RefWeights => ({
  WE: w.WE.map((r) => [...r]), WU: w.WU.map((r) => [...r]),
  U: w.U.map((m) => m.map((r) => [...r])), V: w.V.map((m) => m.map((r) => [...r])),
});

/** MATH §1, literally: per data point forward and backward, then a full-batch GD step. */
function reference(spec: RefSpec, w0: RefWeights): RefResult {
  const { L, M, D, alpha, sigma, dsigma, X, Y } = spec;
  const dIn = X.length, dOut = Y.length, N = X[0].length;
  const w = clone(w0);
  const res: RefResult = { f: [], loss: [], h: [], b: [], p: [], final: w };
  const c = alpha / (L * M);
  for (let k = 0; k < spec.steps; k++) {
    const hK: number[][][] = Array.from({ length: L + 1 }, () => zeros(N, D));
    const bK: number[][][] = Array.from({ length: L + 1 }, () => zeros(N, D));
    const pK: number[][][] = Array.from({ length: L }, () => zeros(M, N));
    const qK: number[][][] = Array.from({ length: L }, () => zeros(M, N));
    const fK = zeros(dOut, N);
    let loss = 0;
    for (let n = 0; n < N; n++) {
      // h_0 = W_E x
      for (let d = 0; d < D; d++) {
        let s = 0;
        for (let i = 0; i < dIn; i++) s += w.WE[d][i] * X[i][n];
        hK[0][n][d] = s;
      }
      for (let l = 1; l <= L; l++) {
        const U = w.U[l - 1], V = w.V[l - 1];
        // p_ℓ = U_ℓᵀ h_{ℓ-1} / D
        for (let j = 0; j < M; j++) {
          let s = 0;
          for (let d = 0; d < D; d++) s += U[d][j] * hK[l - 1][n][d];
          pK[l - 1][j][n] = s / D;
        }
        // h_ℓ = h_{ℓ-1} + (α/(LM)) V_ℓ σ(p_ℓ)
        for (let d = 0; d < D; d++) {
          let s = 0;
          for (let j = 0; j < M; j++) s += V[d][j] * sigma(pK[l - 1][j][n]);
          hK[l][n][d] = hK[l - 1][n][d] + c * s;
        }
      }
      // f = W_Uᵀ h_L / D
      for (let o = 0; o < dOut; o++) {
        let s = 0;
        for (let d = 0; d < D; d++) s += w.WU[d][o] * hK[L][n][d];
        fK[o][n] = s / D;
        loss += 0.5 * (fK[o][n] - Y[o][n]) ** 2;
      }
      // b_L = W_U (f − y)
      for (let d = 0; d < D; d++) {
        let s = 0;
        for (let o = 0; o < dOut; o++) s += w.WU[d][o] * (fK[o][n] - Y[o][n]);
        bK[L][n][d] = s;
      }
      for (let l = L; l >= 1; l--) {
        const U = w.U[l - 1], V = w.V[l - 1];
        // q_ℓ = V_ℓᵀ b_ℓ / D
        for (let j = 0; j < M; j++) {
          let s = 0;
          for (let d = 0; d < D; d++) s += V[d][j] * bK[l][n][d];
          qK[l - 1][j][n] = s / D;
        }
        // b_{ℓ-1} = b_ℓ + (α/(LM)) U_ℓ (σ′(p_ℓ) ⊙ q_ℓ)
        for (let d = 0; d < D; d++) {
          let s = 0;
          for (let j = 0; j < M; j++) s += U[d][j] * dsigma(pK[l - 1][j][n]) * qK[l - 1][j][n];
          bK[l - 1][n][d] = bK[l][n][d] + c * s;
        }
      }
    }
    res.f.push(fK); res.loss.push(loss / N); res.h.push(hK); res.b.push(bK); res.p.push(pK);
    // GD in mean-field units: all gradients at θ_k, then all applied.
    const nw = clone(w);
    for (let l = 0; l < L; l++)
      for (let j = 0; j < M; j++)
        for (let d = 0; d < D; d++) {
          let gu = 0, gv = 0;
          for (let n = 0; n < N; n++) {
            gu += hK[l][n][d] * dsigma(pK[l][j][n]) * qK[l][j][n];
            gv += sigma(pK[l][j][n]) * bK[l + 1][n][d];
          }
          nw.U[l][d][j] -= (spec.etaU / alpha) * gu / N;
          nw.V[l][d][j] -= (spec.etaV / alpha) * gv / N;
        }
    for (let d = 0; d < D; d++) {
      for (let i = 0; i < dIn; i++) {
        let s = 0;
        for (let n = 0; n < N; n++) s += bK[0][n][d] * X[i][n];
        nw.WE[d][i] -= (spec.etaE / alpha) * s / N;
      }
      for (let o = 0; o < dOut; o++) {
        let s = 0;
        for (let n = 0; n < N; n++) s += hK[L][n][d] * (fK[o][n] - Y[o][n]);
        nw.WU[d][o] -= (spec.etaO / alpha) * s / N;
      }
    }
    Object.assign(w, nw);
  }
  res.final = w;
  return res;
}

/** Flatten nested arrays (any depth) in row-major order. */
function flat(a: unknown): number[] {
  const out: number[] = [];
  const rec = (x: unknown) => {
    if (Array.isArray(x)) x.forEach(rec);
    else out.push(x as number);
  };
  rec(a);
  return out;
}

function assertClose(name: string, got: ArrayLike<number>, want: number[], rtol = 1e-12): void {
  assert.equal(got.length, want.length, `${name}: length ${got.length} vs ${want.length}`);
  let scale = 0, err = 0, at = -1;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  for (let i = 0; i < want.length; i++) {
    assert.ok(Number.isFinite(got[i]), `${name}[${i}] not finite`);
    const e = Math.abs(got[i] - want[i]);
    if (e > err) { err = e; at = i; }
  }
  assert.ok(scale > 0, `${name}: reference is identically zero (degenerate test)`);
  assert.ok(err <= rtol * scale, `${name}: max |engine − ref| = ${err} at ${at} (engine ${got[at]}, ref ${want[at]}), scale ${scale}, rel ${err / scale} > ${rtol}`);
}

function compare(traj: Trajectory, ref: RefResult, label: string, K: number, L: number, M: number, N: number, D: number): void {
  assert.deepEqual(traj.f.shape, [K, ref.f[0].length, N]);
  assertClose(`${label} f`, traj.f.data, flat(ref.f));
  assertClose(`${label} loss`, traj.loss, ref.loss);
  const pr = traj.profiles!;
  assert.ok(pr, `${label}: profiles missing`);
  assert.deepEqual(pr.steps, Array.from({ length: K }, (_, k) => k));
  assertClose(`${label} s`, pr.s, Array.from({ length: L + 1 }, (_, l) => l / L));
  assert.deepEqual(pr.h!.shape, [K, L + 1, N, D]);
  assert.deepEqual(pr.b!.shape, [K, L + 1, N, D]);
  assert.deepEqual(pr.p!.shape, [K, L, M, N]);
  for (let k = 0; k < K; k++) {
    const slice = (a: Float64Array, per: number) => a.subarray(k * per, (k + 1) * per);
    assertClose(`${label} h[${k}]`, slice(pr.h!.data as Float64Array, (L + 1) * N * D), flat(ref.h[k]));
    assertClose(`${label} b[${k}]`, slice(pr.b!.data as Float64Array, (L + 1) * N * D), flat(ref.b[k]));
    assertClose(`${label} p[${k}]`, slice(pr.p!.data as Float64Array, L * M * N), flat(ref.p[k]));
  }
}

interface Case {
  name: string;
  L: number; M: number; D: number; dIn: number; dOut: number; N: number;
  activation: "tanh" | "linear" | "gelu" | "sin";
  alpha: number; etaU: number; etaV: number; etaE: number; etaO: number; steps: number;
}

const CASES: Case[] = [
  { name: "L=1 M=1 D=3 N=1 tanh frozen", L: 1, M: 1, D: 3, dIn: 1, dOut: 1, N: 1, activation: "tanh", alpha: 1, etaU: 0.5, etaV: 0.3, etaE: 0, etaO: 0, steps: 4 },
  { name: "L=3 M=2 D=5 N=4 d_out=2 tanh α=1.5 frozen", L: 3, M: 2, D: 5, dIn: 3, dOut: 2, N: 4, activation: "tanh", alpha: 1.5, etaU: 0.4, etaV: 0.9, etaE: 0, etaO: 0, steps: 4 },
  { name: "L=2 M=1 D=7 N=3 d_out=3 linear trained", L: 2, M: 1, D: 7, dIn: 2, dOut: 3, N: 3, activation: "linear", alpha: 0.7, etaU: 0.2, etaV: 0.3, etaE: 0.25, etaO: 0.15, steps: 3 },
  { name: "L=4 M=3 D=4 N=2 d_out=2 gelu trained", L: 4, M: 3, D: 4, dIn: 2, dOut: 2, N: 2, activation: "gelu", alpha: 2, etaU: 0.6, etaV: 0.4, etaE: 0.3, etaO: 0.5, steps: 3 },
  { name: "L=1 M=4 D=9 N=5 d_out=1 sin trained", L: 1, M: 4, D: 9, dIn: 4, dOut: 1, N: 5, activation: "sin", alpha: 1, etaU: 0.3, etaV: 0.3, etaE: 0.2, etaO: 0, steps: 3 },
];

function dataFor(c: Case, seed: number): { X: Mat; Y: Mat } {
  const g = lcgNormals(seed);
  return { X: randMat(g, c.dIn, c.N, 1), Y: randMat(g, c.dOut, c.N, 1) };
}

function specFor(c: Case, X: Mat, Y: Mat): RefSpec {
  const a = ACTIVATIONS[c.activation];
  // Independent σ, σ′ (not the library's): gelu via the reference erf below.
  const sig: Record<Case["activation"], [(x: number) => number, (x: number) => number]> = {
    tanh: [Math.tanh, (x) => 1 / Math.cosh(x) ** 2],
    linear: [(x) => x, () => 1],
    sin: [Math.sin, Math.cos],
    gelu: [(x) => x * normalCdfRef(x), (x) => normalCdfRef(x) + x * Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI)],
  };
  assert.equal(a.name, c.activation);
  const [sigma, dsigma] = sig[c.activation];
  return { L: c.L, M: c.M, D: c.D, alpha: c.alpha, sigma, dsigma, X, Y, etaU: c.etaU, etaV: c.etaV, etaE: c.etaE, etaO: c.etaO, steps: c.steps };
}

const problemInput = (c: Case, X: Mat, Y: Mat, extra: Record<string, unknown> = {}) => ({
  model: { L: c.L, M: c.M, D: c.D, activation: c.activation, alpha: c.alpha },
  data: { X, Y },
  train: { steps: c.steps, etaU: c.etaU, etaV: c.etaV, etaE: c.etaE, etaO: c.etaO },
  ...extra,
});

/** Internal weights (L × M × D for U, V) to the reference's nested layout, via the public JSON export. */
function refFromEngineWeights(w: ResNetWeights): RefWeights {
  const j = weightsToJSON(w) as unknown as RefWeights;
  return { WE: j.WE, WU: j.WU, U: j.U, V: j.V };
}

for (const c of CASES) {
  test(`reference vs engine, explicit init: ${c.name}`, () => {
    const { X, Y } = dataFor(c, 101 + c.L * 7 + c.D);
    const g = lcgNormals(977 + c.M);
    const w0: RefWeights = {
      WE: randMat(g, c.D, c.dIn, 1),
      WU: randMat(g, c.D, c.dOut, 1),
      U: Array.from({ length: c.L }, () => randMat(g, c.D, c.M, Math.sqrt(c.D))),
      V: Array.from({ length: c.L }, () => randMat(g, c.D, c.M, Math.sqrt(c.D))),
    };
    const problem = makeProblem(problemInput(c, X, Y, { init: w0 }));
    const traj = solve(problem, finiteResNet({ record: ["h", "b", "p"], returnWeights: true }));
    const ref = reference(specFor(c, X, Y), w0);
    compare(traj, ref, c.name, c.steps, c.L, c.M, c.N, c.D);
    // Final weights after K updates (trained embeddings move, frozen ones are untouched).
    const fin = refFromEngineWeights(traj.extras!.weights as ResNetWeights);
    assertClose(`${c.name} final U`, flat(fin.U), flat(ref.final.U));
    assertClose(`${c.name} final V`, flat(fin.V), flat(ref.final.V));
    assertClose(`${c.name} final WE`, flat(fin.WE), flat(ref.final.WE));
    assertClose(`${c.name} final WU`, flat(fin.WU), flat(ref.final.WU));
    if (c.etaE === 0) assert.deepEqual(fin.WE, w0.WE, "frozen W_E must not change");
    else assert.notDeepEqual(fin.WE, w0.WE);
    if (c.etaO === 0) assert.deepEqual(fin.WU, w0.WU, "frozen W_U must not change");
    else assert.notDeepEqual(fin.WU, w0.WU);
    // The init arrays of the problem are not modified by training.
    assert.deepEqual(refFromEngineWeights(initWeights(problem)), w0);
  });

  test(`reference vs engine, seeded init: ${c.name}`, () => {
    const { X, Y } = dataFor(c, 5 + c.N);
    const problem = makeProblem(problemInput(c, X, Y, { seed: 12345 + c.L }));
    const w0 = refFromEngineWeights(initWeights(problem));
    const traj = trainResNet(problem, { record: ["h", "b", "p"], returnWeights: true });
    const ref = reference(specFor(c, X, Y), w0);
    compare(traj, ref, `${c.name} (seeded)`, c.steps, c.L, c.M, c.N, c.D);
    const fin = refFromEngineWeights(traj.extras!.weights as ResNetWeights);
    assertClose(`${c.name} (seeded) final U`, flat(fin.U), flat(ref.final.U));
    assertClose(`${c.name} (seeded) final V`, flat(fin.V), flat(ref.final.V));
    // Re-importing the exported weights as explicit init reproduces the seeded run bit for bit.
    const again = solve(makeProblem(problemInput(c, X, Y, { init: w0 })), finiteResNet({ record: ["h", "b", "p"] }));
    assert.deepEqual(again.f.data, traj.f.data);
    assert.deepEqual(again.loss, traj.loss);
    assert.deepEqual(again.profiles!.h!.data, traj.profiles!.h!.data);
    assert.deepEqual(again.profiles!.b!.data, traj.profiles!.b!.data);
  });
}

test("reference vs engine: recordSteps subset and the `weights` option", () => {
  const c = CASES[1];
  const { X, Y } = dataFor(c, 4242);
  const problem = makeProblem(problemInput(c, X, Y, { seed: 9 }));
  const w = initWeights(problem);
  const wCopy = { ...w, U: Float64Array.from(w.U) };
  const traj = solve(problem, finiteResNet({ record: ["b", "p"], recordSteps: [3, 1], weights: w }));
  assert.deepEqual(w.U, wCopy.U, "options.weights must not be modified");
  const ref = reference(specFor(c, X, Y), refFromEngineWeights(w));
  const pr = traj.profiles!;
  assert.deepEqual(pr.steps, [3, 1]);
  assert.equal(pr.h, undefined);
  const per = (c.L + 1) * c.N * c.D;
  [3, 1].forEach((k, r) => {
    assertClose(`b@${k}`, (pr.b!.data as Float64Array).subarray(r * per, (r + 1) * per), flat(ref.b[k]));
    assertClose(`p@${k}`, (pr.p!.data as Float64Array).subarray(r * c.L * c.M * c.N, (r + 1) * c.L * c.M * c.N), flat(ref.p[k]));
  });
  assertClose("loss", traj.loss, ref.loss);
});
