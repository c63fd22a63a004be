/**
 * The particle sampler limitLawSamples (src/skeleton/sampler.ts; MATH §3, §5).
 *
 * 1. Linear σ: p_k, q_k are linear in G, so their joint law is Gaussian with a
 *    covariance computed here by an independent recursion (row vectors of the
 *    linear map G ↦ (p, q), Gram matrices formed from the R^D profiles h, b
 *    themselves, not from the coefficient vectors). The sample covariance of
 *    200 000 draws must match every entry within 5 standard errors
 *    (SE_ab = √((Σ_aa Σ_bb + Σ_ab²)/S) for Gaussian data; 10 distinct entries,
 *    false failure < 1e-5), with hNode ≠ bNode (staggered reading).
 * 2. k = 0: p_{0,n} ~ N(0, σ_u² |W_E x_n|²/D) and q_{0,n} ~ N(0, σ_v² |W_U(f_0,n − y_n)|²/D)
 *    (closed form from the embeddings and the data): one-sample KS below the
 *    α = 1e-3 critical value 1.95/√S per marginal.
 * 3. tanh: the limit law vs the particle Mean ODE's particle preactivations
 *    (staggered Euler, P = 2^15 particles, slot i ↔ hNode = i, bNode = i+1) at
 *    step k = 2: KS and W1 within the stated tolerances (the particle system
 *    carries an O(P^{-1/2}) error in its own fields on top of the sampling noise).
 * 4. Bad input.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeProblem, type ProblemInput } from "../src/problem/problem.ts";
import { solve } from "../src/problem/algorithm.ts";
import { initEmbeddings } from "../src/problem/embeddings.ts";
import { meanOde } from "../src/limits/mean-ode.ts";
import { DepthGrid } from "../src/depth/integrators.ts";
import { drawParticles, ParticleMeanOde } from "../src/particles/mean-ode.ts";
import { gspaceLimitLawSamples, limitLawSamples } from "../src/skeleton/sampler.ts";
import { normalCdf } from "../src/skeleton/qmc.ts";
import { ksSorted, w1Sorted } from "../src/stats/distances.ts";
import { finiteResNet } from "../src/resnet/solver.ts";
import type { Trajectory } from "../src/problem/trajectory.ts";
import { ValidationError } from "../src/core/errors.ts";

const linearSpec: ProblemInput = {
  model: { L: 1, M: 1, D: 6, activation: "linear", alpha: 1.2, sigmaU: 0.9, sigmaV: 1.1 },
  data: { generator: "teacher", dIn: 2, dOut: 1, N: 2, seed: 4 },
  train: { steps: 3, etaU: 0.8, etaV: 0.6 },
  seed: 2,
};

test("linear σ: sample covariance of (p_k, q_k) matches the closed form (independent recursion), hNode ≠ bNode", () => {
  const p = makeProblem(linearSpec);
  const S = 4;
  const t = solve(p, meanOde({ scheme: "staggered-euler", depthSteps: S, richardson: false, record: ["h", "b"] }));
  const { D } = p.model;
  const N = p.data.N, k = 2, hNode = 1, bNode = 2;
  const { etaU, etaV } = p.train;
  const { alpha, sigmaU, sigmaV } = p.model;
  // Gram matrices from the R^D profiles: Γ^H_{(j,m),(j',m')} = h_{j,m}·h_{j',m'}/D at hNode
  const nodes = S + 1, dim = (k + 1) * N;
  const hp = t.profiles!.h!.data, bp = t.profiles!.b!.data;
  const vec = (a: Float64Array, j: number, node: number, m: number) => a.subarray(((j * nodes + node) * N + m) * D, ((j * nodes + node) * N + m + 1) * D);
  const gram = (a: Float64Array, node: number) => {
    const g = new Float64Array(dim * dim);
    for (let x = 0; x < dim; x++)
      for (let y = 0; y < dim; y++) {
        const u = vec(a, (x / N) | 0, node, x % N), v = vec(a, (y / N) | 0, node, y % N);
        let s = 0;
        for (let d = 0; d < D; d++) s += u[d] * v[d];
        g[x * dim + y] = s / D;
      }
    return g;
  };
  const GH = gram(hp, hNode), GB = gram(bp, bNode);
  // linear maps G ↦ p_{j,n}, q_{j,n} as rows over G = [G^u (dim), G^v (dim)]
  const dG = 2 * dim, cu = etaU / (alpha * N), cv = etaV / (alpha * N);
  const P: Float64Array[] = [], Q: Float64Array[] = [];
  for (let j = 0; j <= k; j++)
    for (let n = 0; n < N; n++) {
      const r = j * N + n;
      const pr = new Float64Array(dG); pr[r] = 1;
      for (let i = 0; i < j; i++) for (let m = 0; m < N; m++) { const a = i * N + m; for (let c = 0; c < dG; c++) pr[c] -= cu * GH[a * dim + r] * Q[a][c]; }
      P[r] = pr;
      const qr = new Float64Array(dG); qr[dim + r] = 1;
      for (let i = 0; i < j; i++) for (let m = 0; m < N; m++) { const a = i * N + m; for (let c = 0; c < dG; c++) qr[c] -= cv * GB[a * dim + r] * P[a][c]; }
      Q[r] = qr;
    }
  const rows = [...Array.from({ length: N }, (_, n) => P[k * N + n]), ...Array.from({ length: N }, (_, n) => Q[k * N + n])];
  const covG = (c1: number, c2: number) => (c1 < dim && c2 < dim ? sigmaU ** 2 * GH[c1 * dim + c2] : c1 >= dim && c2 >= dim ? sigmaV ** 2 * GB[(c1 - dim) * dim + c2 - dim] : 0);
  const nv = rows.length;
  const Sigma = new Float64Array(nv * nv);
  for (let a = 0; a < nv; a++) for (let b = 0; b < nv; b++) {
    let s = 0;
    for (let c1 = 0; c1 < dG; c1++) for (let c2 = 0; c2 < dG; c2++) s += rows[a][c1] * covG(c1, c2) * rows[b][c2];
    Sigma[a * nv + b] = s;
  }
  const Sn = 200000;
  const smp = limitLawSamples(t, { step: k, hNode, bNode, samples: Sn, seed: 7, problem: p });
  const x = (t2: number, a: number) => (a < N ? smp.p!.data[t2 * N + a] : smp.q!.data[t2 * N + a - N]);
  const mean = new Float64Array(nv);
  for (let t2 = 0; t2 < Sn; t2++) for (let a = 0; a < nv; a++) mean[a] += x(t2, a) / Sn;
  for (let a = 0; a < nv; a++) {
    const se = Math.sqrt(Sigma[a * nv + a] / Sn);
    assert.ok(Math.abs(mean[a]) < 5 * se, `mean[${a}] = ${mean[a]} (SE ${se})`);
  }
  for (let a = 0; a < nv; a++) for (let b = a; b < nv; b++) {
    let s = 0;
    for (let t2 = 0; t2 < Sn; t2++) s += (x(t2, a) - mean[a]) * (x(t2, b) - mean[b]);
    const emp = s / (Sn - 1), ref = Sigma[a * nv + b];
    const se = Math.sqrt((Sigma[a * nv + a] * Sigma[b * nv + b] + ref * ref) / Sn);
    assert.ok(Math.abs(emp - ref) < 5 * se, `Cov[${a}][${b}]: sample ${emp.toFixed(5)} vs closed form ${ref.toFixed(5)} (SE ${se.toExponential(2)})`);
  }
  // the sampler's own Grams (from coefficient vectors) are the profile Grams
  for (let i = 0; i < dim * dim; i++) {
    assert.ok(Math.abs(smp.gammaH[i] - GH[i]) < 1e-10 * (1 + Math.abs(GH[i])));
    assert.ok(Math.abs(smp.gammaB[i] - GB[i]) < 1e-10 * (1 + Math.abs(GB[i])));
  }
});

test("k = 0: p_{0,n} ~ N(0, σ_u² |W_E x_n|²/D) and q_{0,n} ~ N(0, σ_v² |W_U(f_0 − y)|²/D) (one-sample KS)", () => {
  const p = makeProblem({ ...linearSpec, model: { ...linearSpec.model, activation: "tanh" } });
  const t = solve(p, meanOde({ scheme: "heun", depthSteps: 4, richardson: false, expectation: { kind: "qmc", samples: 1024 } }));
  const { WE, WU } = initEmbeddings(p);
  const { D, sigmaU, sigmaV } = p.model;
  const { N, dIn, dOut, X, Y } = p.data;
  const Sn = 20000;
  const crit = 1.95 / Math.sqrt(Sn); // one-sample KS, α = 1e-3
  for (const node of [0, 2, 4]) {
    const smp = limitLawSamples(t, { step: 0, node, samples: Sn, seed: 11 + node, problem: p });
    for (let n = 0; n < N; n++) {
      let h2 = 0, b2 = 0;
      for (let d = 0; d < D; d++) {
        let h = 0, b = 0;
        for (let i = 0; i < dIn; i++) h += WE[d * dIn + i] * X[i * N + n];
        for (let o = 0; o < dOut; o++) b += WU[d * dOut + o] * (t.f.data[o * N + n] - Y[o * N + n]);
        h2 += h * h; b2 += b * b;
      }
      const sdP = sigmaU * Math.sqrt(h2 / D), sdQ = sigmaV * Math.sqrt(b2 / D);
      for (const [name, arr, sd] of [["p", smp.p!.data, sdP], ["q", smp.q!.data, sdQ]] as const) {
        const col = Float64Array.from({ length: Sn }, (_, i) => arr[i * N + n]).sort();
        let ks = 0;
        for (let i = 0; i < Sn; i++) {
          const F = normalCdf(col[i] / sd);
          ks = Math.max(ks, Math.abs(F - i / Sn), Math.abs(F - (i + 1) / Sn));
        }
        assert.ok(ks < crit, `node ${node}, ${name}_{0,${n}}: KS ${ks.toFixed(4)} vs critical ${crit.toFixed(4)}`);
      }
    }
  }
});

test("tanh: limit law of p_k, q_k ≡ particle Mean ODE particles (staggered Euler, P = 2^15) in KS and W1", () => {
  const S = 4, K = 3, k = 2;
  const p = makeProblem({
    model: { D: 6, activation: "tanh" },
    data: { generator: "teacher", dIn: 2, dOut: 1, N: 2, seed: 1 },
    train: { steps: K, etaU: 1, etaV: 1 },
    seed: 3,
  });
  const t = solve(p, meanOde({ scheme: "staggered-euler", depthSteps: S, richardson: false, expectation: { kind: "qmc", samples: 65536 } }));
  const P = 1 << 15;
  const ode = new ParticleMeanOde(p, new DepthGrid("staggered-euler", S), drawParticles(p, P, 5));
  for (let j = 0; j < k; j++) ode.step();
  ode.forward();
  ode.backward();
  const N = p.data.N, Sn = 1 << 15;
  let worstKs = 0, worstW1 = 0;
  for (const slot of [0, 3]) {
    const smp = limitLawSamples(t, { step: k, hNode: slot, bNode: slot + 1, samples: Sn, seed: 21 + slot, problem: p });
    for (let n = 0; n < N; n++) {
      for (const [name, parts, lim] of [["p", ode.Pre, smp.p!.data], ["q", ode.Q, smp.q!.data]] as const) {
        const a = Float64Array.from({ length: P }, (_, i) => parts[(slot * P + i) * N + n]).sort();
        const b = Float64Array.from({ length: Sn }, (_, i) => lim[i * N + n]).sort();
        let m2 = 0;
        for (let i = 0; i < Sn; i++) m2 += b[i] * b[i] / Sn;
        const ks = ksSorted(a, P, b, Sn), w1 = w1Sorted(a, P, b, Sn) / Math.sqrt(m2);
        worstKs = Math.max(worstKs, ks); worstW1 = Math.max(worstW1, w1);
        // Two-sample KS critical value at α = 1e-3 for independent samples: 1.95 √(2/2^15) ≈ 0.015.
        // On top of sampling, the P-particle system is itself off its limit by O(P^{-1/2}) — its
        // particles respond coherently to the fluctuation of their own fields (propagation of
        // chaos at finite P), which shifts e.g. the particle mean of p by up to ≈ 4/√P. Measured
        // over particle seeds 5, 6, 7 (this setting): KS ≤ 0.017, W1/rms ≤ 0.028. Tolerances:
        // KS < 0.025, W1/rms < 0.04. The wrong-node control below gives KS ≈ 0.06.
        assert.ok(ks < 0.025, `slot ${slot}, ${name}_{${k},${n}}: KS ${ks.toFixed(4)}`);
        assert.ok(w1 < 0.04, `slot ${slot}, ${name}_{${k},${n}}: W1/rms ${w1.toFixed(4)}`);
      }
    }
  }
  // control: the law read one node off (h at node 1 instead of 0 for slot 0) is detected by the same statistic
  const wrong = limitLawSamples(t, { step: k, hNode: 1, bNode: 2, samples: Sn, seed: 99, problem: p });
  const a = Float64Array.from({ length: P }, (_, i) => ode.Pre[i * N]).sort();
  const b = Float64Array.from({ length: Sn }, (_, i) => wrong.p!.data[i * N]).sort();
  const ksWrong = ksSorted(a, P, b, Sn);
  // measured 0.063 (the good comparisons: ≤ 0.014)
  assert.ok(ksWrong > 0.04, `p read one node off should differ: KS ${ksWrong.toFixed(4)} (worst good KS ${worstKs.toFixed(4)}, W1/rms ${worstW1.toFixed(4)})`);
});

test("limitLawSamples: bad input names the field", () => {
  const p = makeProblem(linearSpec);
  const t = solve(p, meanOde({ scheme: "staggered-euler", depthSteps: 2, richardson: false }));
  const bad = (opts: unknown, field: string, traj: Trajectory = t) => assert.throws(() => limitLawSamples(traj, opts as never), (e: unknown) => e instanceof ValidationError && e.field === field, field);
  bad({ step: 0, node: 0, problem: p, extra: 1 }, "options.extra");
  bad({ step: 3, node: 0, problem: p }, "options.step");
  bad({ step: -1, node: 0, problem: p }, "options.step");
  bad({ step: 0, node: 3, problem: p }, "options.node");
  bad({ step: 0, s: 0.3, problem: p }, "options.s");
  bad({ step: 0, node: 0, s: 0, problem: p }, "options.s");
  bad({ step: 0, problem: p }, "options.node");
  // a skeleton trajectory carries its map constants (extras.skeletonParams); without them the problem is required
  const bare = { ...t, extras: { ...t.extras, skeletonParams: undefined } };
  assert.equal(limitLawSamples(t, { step: 0, node: 0, samples: 8 }).p!.shape[0], 8);
  bad({ step: 0, node: 0 }, "options.problem", bare);
  bad({ step: 0, node: 0, problem: p, samples: 0 }, "options.samples");
  bad({ step: 0, node: 0, problem: p, what: ["h"] }, "options.what[0]");
  bad({ step: 0, node: 0, problem: p, seed: -3 }, "options.seed");
  bad({ step: 0, hNode: 0, bNode: 5, problem: p }, "options.bNode");
  const finite = solve(p, finiteResNet());
  bad({ step: 0, node: 0, problem: p }, "trajectory", finite);
  // s on the grid works and equals the node
  const a = limitLawSamples(t, { step: 1, s: 0.5, samples: 8, seed: 3, problem: p });
  const b = limitLawSamples(t, { step: 1, node: 1, samples: 8, seed: 3, problem: p });
  assert.deepEqual(Array.from(a.p!.data), Array.from(b.p!.data));
});

test("limitLawSamples (factor form) has the law of the previous G-space sampler: two-sample KS and W1 on the same trajectory, sin and tanh, hNode ≠ bNode, d_out = 2", () => {
  for (const activation of ["tanh", "sin"]) {
    const p = makeProblem({
      model: { D: 6, activation, alpha: 1.2, sigmaU: 0.9, sigmaV: 1.1 },
      data: { generator: "teacher", dIn: 2, dOut: 2, N: 2, seed: 4 },
      train: { steps: 3, etaU: 1, etaV: 0.8 },
      seed: 3,
    });
    const t = solve(p, meanOde({ scheme: "staggered-euler", depthSteps: 3, expectation: { points: 1024, randomizations: 2 } }));
    const Sn = 1 << 14, N = 2;
    for (const k of [1, 2]) {
      const o = { step: k, hNode: 1, bNode: 2, samples: Sn, problem: p };
      const a = limitLawSamples(t, { ...o, seed: 5 }), b = gspaceLimitLawSamples(t, { ...o, seed: 6 });
      assert.deepEqual(Array.from(a.gammaH), Array.from(b.gammaH));
      for (let n = 0; n < N; n++)
        for (const key of ["p", "q"] as const) {
          const x = Float64Array.from({ length: Sn }, (_, i) => a[key]!.data[i * N + n]).sort();
          const y = Float64Array.from({ length: Sn }, (_, i) => b[key]!.data[i * N + n]).sort();
          let m2 = 0;
          for (let i = 0; i < Sn; i++) m2 += (y[i] * y[i]) / Sn;
          // independent samples of one law: KS critical value at α = 1e-3 is 1.95 √(2/Sn) ≈ 0.0215
          const ks = ksSorted(x, Sn, y, Sn), w1 = w1Sorted(x, Sn, y, Sn) / Math.sqrt(m2);
          assert.ok(ks < 0.0215, `${activation} k=${k} ${key}_${n}: KS ${ks.toFixed(4)}`);
          assert.ok(w1 < 0.03, `${activation} k=${k} ${key}_${n}: W1/rms ${w1.toFixed(4)}`);
        }
    }
  }
});
