/**
 * Skeleton maps (MATH §3): exact forward-mode Jacobians against central finite differences,
 * an independent re-implementation of the recursion, the batch (structure-of-arrays)
 * evaluator against the single-sample one, and input validation.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { evaluateBatch, resolveParams, SkeletonBlock, skeletonMaps, type SkeletonParams } from "../src/skeleton/index.ts";
import { gelu, tanh } from "../src/core/activations.ts";
import { stream } from "../src/core/rng.ts";
import { ValidationError } from "../src/core/errors.ts";

const rng = stream(20240611, 3);

/** Random SPD matrix A Aᵀ/n + 0.1 I. */
function spd(n: number): Float64Array {
  const A = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) A[i] = rng.normal();
  const S = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let t = 0;
    for (let l = 0; l < n; l++) t += A[i * n + l] * A[j * n + l];
    S[i * n + j] = t / n + (i === j ? 0.1 : 0);
  }
  return S;
}

/** Independent, straightforward implementation of the skeleton maps (values only). */
function naiveMaps(k: number, N: number, nB: number, GH: Float64Array, GB: Float64Array, pr: SkeletonParams, g: number[]) {
  const act = pr.activation === "gelu" ? gelu : tanh;
  const nU = (k + 1) * N, nV = nB * N;
  const p: number[][] = [], q: number[][] = [];
  for (let j = 0; j <= k; j++) {
    p.push([]); q.push([]);
    for (let n = 0; n < N; n++) {
      let v = g[j * N + n];
      for (let i = 0; i < j; i++) for (let m = 0; m < N; m++) {
        v -= (pr.etaU / (pr.alpha * N)) * act.df(p[i][m]) * q[i][m] * GH[(i * N + m) * nU + j * N + n];
      }
      p[j].push(v);
    }
    if (j < nB) for (let n = 0; n < N; n++) {
      let v = g[nU + j * N + n];
      for (let i = 0; i < j; i++) for (let m = 0; m < N; m++) v -= (pr.etaV / (pr.alpha * N)) * act.f(p[i][m]) * GB[(i * N + m) * nV + j * N + n];
      q[j].push(v);
    }
  }
  return { p: p.flat(), q: q.flat() };
}

test("skeleton maps: values equal an independent implementation; Jacobians equal central finite differences (rel. < 1e-6)", () => {
  let worst = 0, checked = 0;
  for (const act of ["tanh", "gelu"] as const) {
    for (let k = 0; k <= 3; k++) {
      for (let N = 1; N <= 3; N++) {
        for (const nB of k === 0 ? [1] : [k, k + 1]) {
          const nU = (k + 1) * N, nV = nB * N, dim = nU + nV;
          const GH = spd(nU), GB = spd(nV);
          const params: SkeletonParams = { etaU: 0.8, etaV: 1.1, alpha: 0.9, activation: act };
          const g = Array.from({ length: dim }, () => 1.3 * rng.normal());
          const r = skeletonMaps(k, N, nB, GH, GB, params, g);
          const ref = naiveMaps(k, N, nB, GH, GB, params, g);
          for (let i = 0; i < nU; i++) assert.ok(Math.abs(r.p[i] - ref.p[i]) <= 1e-13 * (1 + Math.abs(ref.p[i])), `p[${i}]`);
          for (let i = 0; i < nV; i++) assert.ok(Math.abs(r.q[i] - ref.q[i]) <= 1e-13 * (1 + Math.abs(ref.q[i])), `q[${i}]`);
          const h = 1e-5;
          let scale = 0;
          for (const x of r.dpdG) scale = Math.max(scale, Math.abs(x));
          for (const x of r.dqdG) scale = Math.max(scale, Math.abs(x));
          for (let c = 0; c < dim; c++) {
            const gp = g.slice(), gm = g.slice();
            gp[c] += h; gm[c] -= h;
            const a = naiveMaps(k, N, nB, GH, GB, params, gp), b = naiveMaps(k, N, nB, GH, GB, params, gm);
            for (let i = 0; i < nU; i++) {
              const fd = (a.p[i] - b.p[i]) / (2 * h);
              const err = Math.abs(fd - r.dpdG[i * dim + c]) / scale;
              worst = Math.max(worst, err);
              assert.ok(err < 1e-6, `${act} k=${k} N=${N} nB=${nB}: dp[${i}]/dG[${c}] = ${r.dpdG[i * dim + c]} vs FD ${fd}`);
              checked++;
            }
            for (let i = 0; i < nV; i++) {
              const fd = (a.q[i] - b.q[i]) / (2 * h);
              const err = Math.abs(fd - r.dqdG[i * dim + c]) / scale;
              worst = Math.max(worst, err);
              assert.ok(err < 1e-6, `${act} k=${k} N=${N} nB=${nB}: dq[${i}]/dG[${c}] = ${r.dqdG[i * dim + c]} vs FD ${fd}`);
              checked++;
            }
          }
        }
      }
    }
  }
  assert.ok(checked > 2000, `checked ${checked} entries`);
  assert.ok(worst < 1e-6, `worst relative error ${worst}`);
});

test("skeleton maps: dependency structure — p_j depends only on G^u_{≤j}, G^v_{<j}; q_j on G^u_{<j}, G^v_{≤j}", () => {
  const k = 3, N = 2, nB = 4, nU = 8, nV = 8, dim = 16;
  const r = skeletonMaps(k, N, nB, spd(nU), spd(nV), { etaU: 1, etaV: 1, alpha: 1, activation: "tanh" }, Array.from({ length: dim }, () => rng.normal()));
  for (let row = 0; row < nU; row++) {
    const j = Math.floor(row / N);
    for (let c = 0; c < dim; c++) {
      const allowed = c < nU ? c < (j + 1) * N : c - nU < j * N;
      if (!allowed) assert.equal(r.dpdG[row * dim + c], 0);
    }
  }
  for (let row = 0; row < nV; row++) {
    const j = Math.floor(row / N);
    for (let c = 0; c < dim; c++) {
      const allowed = c < nU ? c < j * N : c - nU < (j + 1) * N;
      if (!allowed) assert.equal(r.dqdG[row * dim + c], 0);
    }
  }
});

test("SkeletonBlock (batched, SoA) agrees with the single-sample maps for all Jacobian modes", () => {
  const k = 3, N = 2;
  for (const [mode, nB] of [["u", 4], ["v", 3], ["all", 4], ["none", 3]] as const) {
    const nU = (k + 1) * N, nV = nB * N, dim = nU + nV;
    const GH = spd(nU), GB = spd(nV);
    const params = { etaU: 0.6, etaV: 0.7, alpha: 1.2, activation: "gelu" as const };
    const block = new SkeletonBlock(k, N, nB, mode, 16);
    block.setup(GH, GB, resolveParams(params));
    const S = 37; // not a multiple of the block size
    const G = new Float64Array(S * dim);
    for (let i = 0; i < G.length; i++) G[i] = rng.normal();
    const nc = block.nc;
    const out = { p: new Float64Array(S * nU), q: new Float64Array(S * nV), dp: new Float64Array(S * nU * nc), dq: new Float64Array(S * nV * nc) };
    evaluateBatch(block, G, S, out);
    const colOf = (c: number) => (mode === "u" ? c : mode === "v" ? nU + c : c);
    for (let t = 0; t < S; t++) {
      const r = skeletonMaps(k, N, nB, GH, GB, params, G.subarray(t * dim, (t + 1) * dim));
      for (let i = 0; i < nU; i++) assert.ok(Math.abs(out.p[t * nU + i] - r.p[i]) < 1e-12);
      for (let i = 0; i < nV; i++) assert.ok(Math.abs(out.q[t * nV + i] - r.q[i]) < 1e-12);
      for (let i = 0; i < nU; i++) for (let c = 0; c < nc; c++) assert.ok(Math.abs(out.dp[(t * nU + i) * nc + c] - r.dpdG[i * dim + colOf(c)]) < 1e-12, `${mode} dp`);
      for (let i = 0; i < nV; i++) for (let c = 0; c < nc; c++) assert.ok(Math.abs(out.dq[(t * nV + i) * nc + c] - r.dqdG[i * dim + colOf(c)]) < 1e-12, `${mode} dq`);
    }
  }
});

test("skeleton maps: bad input gives ValidationError naming the field", () => {
  const GH = spd(4), GB = spd(2), g = [0, 0, 0, 0, 0, 0];
  const ok = { etaU: 1, etaV: 1, alpha: 1, activation: "tanh" as const };
  const bad = (f: () => unknown, field: string) => assert.throws(f, (e: unknown) => e instanceof ValidationError && e.field === field, `expected error on ${field}`);
  bad(() => skeletonMaps(1, 2, 3, GH, GB, ok, g), "nB");
  bad(() => skeletonMaps(1, 0, 1, GH, GB, ok, g), "N");
  bad(() => skeletonMaps(-1, 2, 1, GH, GB, ok, g), "k");
  bad(() => skeletonMaps(1, 2, 1, spd(3), GB, ok, g), "gammaH");
  bad(() => skeletonMaps(1, 2, 1, GH, spd(3), ok, g), "gammaB");
  const nan = GH.slice(); nan[5] = NaN;
  bad(() => skeletonMaps(1, 2, 1, nan, GB, ok, g), "gammaH[1][1]");
  bad(() => skeletonMaps(1, 2, 1, GH, GB, ok, [0, 0, 0]), "G");
  bad(() => skeletonMaps(1, 2, 1, GH, GB, { ...ok, alpha: 0 }, g), "params.alpha");
  bad(() => skeletonMaps(1, 2, 1, GH, GB, { ...ok, etaU: Infinity }, g), "params.etaU");
  bad(() => skeletonMaps(1, 2, 1, GH, GB, { ...ok, activation: "relu" as never }, g), "params.activation");
  // Jacobians need σ″: a custom activation without d2f is refused
  bad(() => skeletonMaps(1, 2, 1, GH, GB, { ...ok, activation: { name: "soft", f: Math.tanh, df: (x: number) => 1 - Math.tanh(x) ** 2 } as never }, g), "params.activation");
});
