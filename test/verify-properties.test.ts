/**
 * Property tests of the lemmas (MATH §6) on our own solvers over random
 * problems (fast-check, fixed seeds), with the bounds of src/verify/bounds.ts.
 *
 * Lipschitz properties are deterministic checks (falsification over the
 * drawn pairs). ψ₂ properties use checkSubGaussian at confidence 1 − δ,
 * δ = 1e-5: for i.i.d. samples whose law satisfies the bound, one check fails
 * with probability ≤ δ whatever the law; each test states the number of
 * checks C and so its false-failure probability ≤ C·δ (union bound). All
 * seeds are fixed, so the outcome is reproducible.
 */
import { test } from "node:test";
const report = (name: string, v: number) => console.log(`# ${name}: ${v.toPrecision(3)}`);
import assert from "node:assert/strict";
import fc from "fast-check";
import { makeProblem, initWeights, forward, type Problem, type ResNetWeights } from "../src/index.ts";
import { stream } from "../src/core/rng.ts";
import { gdStep } from "../src/resnet/solver.ts";
import { DepthGrid } from "../src/depth/integrators.ts";
import { drawParticles, ParticleMeanOde } from "../src/particles/mean-ode.ts";
import { SkeletonMap, skeletonMaps, resolveParams } from "../src/skeleton/maps.ts";
import { EigenWorkspace, symSqrtPsd } from "../src/skeleton/linalg.ts";
import {
  checkLipschitz, checkSubGaussian, vectorPairArb, modelSpecArb, problemArb, matrixArb, simpleNumber,
  resnetForwardBound, meanOdeFlowBound, meanOdeFlowBoundForPair, skeletonLipschitzOnSegment, skeletonPsi2Bounds,
  weightMovementPsi2Bound, gaussianLipschitzPsi2, isOddActivation, gdMapLipschitzBound,
} from "../src/verify/index.ts";

const DELTA = 1e-5;
const CONF = 1 - DELTA;

/** Γ = A Aᵀ / cols: a PSD Gram matrix from a drawn matrix. */
function gramOf(A: number[][], scale: number): Float64Array {
  const n = A.length, r = A[0].length;
  const G = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) { let t = 0; for (let c = 0; c < r; c++) t += A[i][c] * A[j][c]; G[i * n + j] = (scale * t) / r; }
  return G;
}

/** Random skeleton problems: k ≤ 2, N ≤ 2, Gram matrices from 0.25-grid factors, rates ≤ 1, α ∈ [0.5, 2]. */
const skeletonArb = fc.record({
  k: fc.integer({ min: 1, max: 2 }),
  N: fc.integer({ min: 1, max: 2 }),
  activation: fc.constantFrom("linear", "tanh", "gelu", "sin"),
  etaU: simpleNumber({ min: 0, max: 1 }),
  etaV: simpleNumber({ min: 0, max: 1 }),
  alpha: simpleNumber({ min: 0.5, max: 2, origin: 1 }),
  scale: simpleNumber({ min: 0.5, max: 2, origin: 1 }),
  AH: matrixArb(6, 4),
  AB: matrixArb(4, 4),
}).map((s) => {
  const nU = (s.k + 1) * s.N, nV = s.k * s.N;
  // add the identity so no diagonal entry vanishes (a zero-variance coordinate has no ψ₂ to test)
  const gammaH = gramOf(s.AH.slice(0, nU), s.scale), gammaB = gramOf(s.AB.slice(0, nV), s.scale);
  for (let i = 0; i < nU; i++) gammaH[i * nU + i] += 0.25;
  for (let i = 0; i < nV; i++) gammaB[i * nV + i] += 0.25;
  return { k: s.k, N: s.N, nB: s.k, gammaH, gammaB, params: { etaU: s.etaU, etaV: s.etaV, alpha: s.alpha, activation: s.activation as "tanh" } };
});

test("Lipschitz: skeleton maps G ↦ (p, q) on random Gram matrices stay below the segment bound", () => {
  let worst = 0;
  fc.assert(fc.property(skeletonArb, fc.integer({ min: 1, max: 1000 }), (inp, seed) => {
    const dim = (inp.k + 1) * inp.N + inp.nB * inp.N;
    const F = (g: number[]) => { const s = skeletonMaps(inp.k, inp.N, inp.nB, inp.gammaH, inp.gammaB, inp.params, g); return [...s.p, ...s.q]; };
    const r = checkLipschitz({ f: F, pairs: vectorPairArb(dim, { bound: 3 }), bound: (x, y) => skeletonLipschitzOnSegment(inp, x, y), numRuns: 40, seed });
    worst = Math.max(worst, r.worstRatioOverBound);
    return r.ok;
  }), { seed: 1, numRuns: 100 });
  report("skeleton Lipschitz worst measured/bound", worst);
  assert.ok(worst > 0.5 && worst <= 1 + 1e-9, `worst measured/bound ${worst}`);
});

test("Lipschitz: finite ResNet forward x ↦ f at init stays below the discrete-Grönwall constant", () => {
  let worst = 0;
  fc.assert(fc.property(problemArb({ model: { L: { max: 4 }, M: { max: 4 }, D: { max: 4 } } }), (p) => {
    const w = initWeights(p);
    const f = (x: number[]) => {
      const fo = forward({ ...p, data: { ...p.data, N: 1, X: Float64Array.from(x), Y: new Float64Array(p.data.dOut) } }, w).f;
      return Array.from({ length: p.data.dOut }, (_, o) => fo.get(o, 0));
    };
    const B = resnetForwardBound(p, w).output;
    const r = checkLipschitz({ f, pairs: vectorPairArb(p.data.dIn), bound: B, numRuns: 30, seed: p.seed + 1 });
    const s = checkLipschitz({ f, pairs: vectorPairArb(p.data.dIn), bound: (x, y) => resnetForwardBound(p, w, { x, y }).output, numRuns: 30, seed: p.seed + 1 });
    worst = Math.max(worst, r.worstRatioOverBound);
    return r.ok && s.ok;
  }), { seed: 2, numRuns: 150 });
  report("ResNet forward worst measured/bound (a priori)", worst);
  assert.ok(worst > 1e-2 && worst <= 1 + 1e-9, `worst measured/bound ${worst}`);
});

/** Mean ODE problems with W_E = W_U = I (d_in = d_out = D) so the flow maps are h(0) ↦ h(1) and b(1) ↦ b(0). */
const meanOdeArb = fc.record({
  model: modelSpecArb({ D: { min: 1, max: 3 }, activations: ["tanh", "gelu", "sin", "linear"] }),
  scheme: fc.constantFrom("heun", "staggered-euler", "euler"),
  S: fc.integer({ min: 2, max: 6 }),
  k: fc.integer({ min: 0, max: 2 }),
  eta: simpleNumber({ min: 0, max: 0.5, step: 0.05 }),
  X: matrixArb(3, 2), Y: matrixArb(3, 2),
  seed: fc.integer({ min: 0, max: 1000 }),
}).map((r) => {
  const D = r.model.D;
  const eye = Array.from({ length: D }, (_, i) => Array.from({ length: D }, (_, j) => (i === j ? 1 : 0)));
  const problem = makeProblem({ model: { ...r.model, L: 1, M: 1 }, data: { X: r.X.slice(0, D), Y: r.Y.slice(0, D) }, train: { steps: 3, etaU: r.eta, etaV: r.eta }, seed: r.seed, init: { WE: eye, WU: eye } });
  return { problem, scheme: r.scheme as "heun", S: r.S, k: r.k };
});

test("Lipschitz: particle Mean ODE flow h(0) ↦ h(1) (a priori and segment) and b(1) ↦ b(0) after k ≤ 2 steps", () => {
  let worstA = 0, worstS = 0;
  fc.assert(fc.property(meanOdeArb, ({ problem, scheme, S, k }) => {
    const D = problem.model.D;
    const grid = new DepthGrid(scheme, S);
    const parts = drawParticles(problem, 64, problem.seed + 1);
    const ode = new ParticleMeanOde(problem, grid, parts);
    for (let j = 0; j < k; j++) ode.step();
    const at = (x: number[]) => {
      const o = new ParticleMeanOde({ ...problem, data: { ...problem.data, N: 1, X: Float64Array.from(x), Y: new Float64Array(D) } }, grid, parts);
      o.U.set(ode.U); o.V.set(ode.V);
      o.forward();
      return o;
    };
    const flow = (x: number[]) => { const o = at(x); return Array.from(o.H.subarray((o.nodes - 1) * D, o.nodes * D)); };
    const ref = at(Array.from({ length: D }, (_, i) => 0.5 - 0.25 * i));
    const a = checkLipschitz({ f: flow, pairs: vectorPairArb(D), bound: meanOdeFlowBound(ref, "forward").bound, numRuns: 15, seed: problem.seed });
    const s = checkLipschitz({ f: flow, pairs: vectorPairArb(D), bound: (x, y) => meanOdeFlowBoundForPair(at(x), at(y)).bound, numRuns: 15, seed: problem.seed });
    const back = (r: number[]) => { const o = at(Array.from({ length: D }, (_, i) => 0.5 - 0.25 * i)); o.R.set(r); o.backward(); return Array.from(o.B.subarray(0, D)); };
    const b = checkLipschitz({ f: back, pairs: vectorPairArb(D), bound: meanOdeFlowBound(ref, "backward").bound, numRuns: 15, seed: problem.seed });
    worstA = Math.max(worstA, a.worstRatioOverBound); worstS = Math.max(worstS, s.worstRatioOverBound);
    return a.ok && s.ok && b.ok;
  }), { seed: 3, numRuns: 60 });
  report("Mean ODE flow worst measured/bound a priori", worstA); report("Mean ODE flow worst measured/bound segment", worstS);
  assert.ok(worstA > 0.1 && worstS >= worstA && worstS <= 1 + 1e-9, `worst measured/bound: a priori ${worstA}, segment ${worstS}`);
});

/** n i.i.d. draws of the skeleton maps with G^u ~ N(0, σ_u²ΓH), G^v ~ N(0, σ_v²ΓB) independent (MATH §3). */
function skeletonSamples(inp: { k: number; N: number; nB: number; gammaH: Float64Array; gammaB: Float64Array; params: Parameters<typeof resolveParams>[0] }, n: number, seed: number) {
  const nU = (inp.k + 1) * inp.N, nV = inp.nB * inp.N, dimG = nU + nV;
  const rp = resolveParams(inp.params);
  const RH = new Float64Array(nU * nU), RB = new Float64Array(nV * nV);
  symSqrtPsd(inp.gammaH, RH, new EigenWorkspace(nU), rp.sigmaU ** 2);
  symSqrtPsd(inp.gammaB, RB, new EigenWorkspace(nV), rp.sigmaV ** 2);
  const map = new SkeletonMap(inp.k, inp.N, inp.nB, "none");
  map.setup(inp.gammaH, inp.gammaB, rp);
  const s = stream(seed);
  const xi = new Float64Array(dimG), g = new Float64Array(dimG);
  const p = Array.from({ length: nU }, () => new Float64Array(n)), q = Array.from({ length: nV }, () => new Float64Array(n));
  for (let t = 0; t < n; t++) {
    for (let i = 0; i < dimG; i++) xi[i] = s.normal();
    for (let i = 0; i < nU; i++) { let a = 0; for (let j = 0; j < nU; j++) a += RH[i * nU + j] * xi[j]; g[i] = a; }
    for (let i = 0; i < nV; i++) { let a = 0; for (let j = 0; j < nV; j++) a += RB[i * nV + j] * xi[nU + j]; g[nU + i] = a; }
    map.evaluate(g);
    for (let i = 0; i < nU; i++) p[i][t] = map.p[i];
    for (let i = 0; i < nV; i++) q[i][t] = map.q[i];
  }
  return { p, q };
}

test("ψ₂: skeleton preactivations p and adjoint sums q stay below the recursive ψ₂ bound (C ≤ 40·10 checks, false failure ≤ 4e-3)", () => {
  // 40 runs × at most (k+1)N + kN ≤ 10 coordinates: C ≤ 400 checks at δ = 1e-5 ⇒ P(false failure) ≤ 4e-3
  let checks = 0, worst = 0;
  fc.assert(fc.property(skeletonArb, fc.integer({ min: 1, max: 1e6 }), (inp, seed) => {
    const bound = skeletonPsi2Bounds(inp);
    const { p, q } = skeletonSamples(inp, 4000, seed);
    let ok = true;
    const one = (xs: Float64Array, proxy: number) => {
      const r = checkSubGaussian({ samples: xs, proxy, confidence: CONF });
      checks++;
      worst = Math.max(worst, r.psi2 / proxy);
      ok &&= r.ok;
    };
    p.forEach((xs, a) => one(xs, bound.p[a]));
    q.forEach((xs, a) => one(xs, bound.q[a]));
    return ok;
  }), { seed: 4, numRuns: 40 });
  assert.ok(checks <= 400);
  // p_0 is exactly Gaussian with the bound's ψ₂: the plug-in estimate reaches ≈ 1 of the bound
  report("skeleton psi2 worst plug-in/bound", worst);
  assert.ok(worst > 0.9 && worst < 1.1, `worst plug-in ψ₂ / bound ${worst}`);
});

test("ψ₂: particle Mean ODE weight movement eᵀ(u_k − u_0), eᵀ(v_k − v_0) after k ≤ 3 steps stays below the bound (C = 2·20 checks, false failure ≤ 4e-4 for i.i.d. samples)", () => {
  // Caveat: the P particles are i.i.d. at k = 0 but interact through h, b (O(1/P)); checkSubGaussian's
  // guarantee is for i.i.d. samples, so here the stated level is approximate (exchangeable samples).
  let worst = 0, checks = 0;
  const arb = fc.record({
    model: modelSpecArb({ D: { min: 2, max: 4 }, activations: ["tanh", "gelu", "sin", "linear"] }),
    k: fc.integer({ min: 1, max: 3 }), eta: simpleNumber({ min: 0.05, max: 0.5, step: 0.05 }),
    X: matrixArb(2, 2), Y: matrixArb(2, 2), seed: fc.integer({ min: 0, max: 1000 }),
  });
  fc.assert(fc.property(arb, (r) => {
    const problem = makeProblem({ model: { ...r.model, L: 1, M: 1 }, data: { X: r.X, Y: r.Y }, train: { steps: r.k + 1, etaU: r.eta, etaV: r.eta }, seed: r.seed });
    const { D, alpha, activation, sigmaU, sigmaV } = problem.model;
    const N = problem.data.N, P = 3000;
    const grid = new DepthGrid("heun", 4);
    const parts = drawParticles(problem, P, r.seed + 7);
    const ode = new ParticleMeanOde(problem, grid, parts);
    const slot = 2, ND = N * D;
    const Hs: Float64Array[] = [], Bs: Float64Array[] = [];
    for (let j = 0; j < r.k; j++) {
      ode.forward(); ode.backward();
      Hs.push(ode.H.slice(slot * ND, (slot + 1) * ND)); Bs.push(ode.B.slice(slot * ND, (slot + 1) * ND));
      ode.update();
    }
    const n = r.k * N;
    const GH = new Float64Array(n * n), GB = new Float64Array(n * n);
    const dot = (a: Float64Array, ao: number, b: Float64Array, bo: number) => { let s = 0; for (let d = 0; d < D; d++) s += a[ao + d] * b[bo + d]; return s / D; };
    for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) {
      const ja = Math.floor(a / N), ma = a % N, jb = Math.floor(b / N), mb = b % N;
      GH[a * n + b] = dot(Hs[ja], ma * D, Hs[jb], mb * D);
      GB[a * n + b] = dot(Bs[ja], ma * D, Bs[jb], mb * D);
    }
    // skeleton of index k − 1 with nB = k: p_{<k}, q_{<k}; Gram padding for p_k is not needed (k − 1 = last p)
    const psi = skeletonPsi2Bounds({ k: r.k - 1, N, nB: r.k, gammaH: GH, gammaB: GB, params: { etaU: r.eta, etaV: r.eta, alpha, activation, sigmaU, sigmaV } });
    const e = 0; // direction e = e_0
    const hProj = Float64Array.from({ length: n }, (_, a) => Math.abs(Hs[Math.floor(a / N)][(a % N) * D + e]));
    const bProj = Float64Array.from({ length: n }, (_, a) => Math.abs(Bs[Math.floor(a / N)][(a % N) * D + e]));
    const bound = weightMovementPsi2Bound({ psi, k: r.k, N, etaU: r.eta, etaV: r.eta, alpha, hProj, bProj });
    const du = Float64Array.from({ length: P }, (_, i) => ode.U[slot * P * D + i * D + e] - parts.U[i * D + e]);
    const dv = Float64Array.from({ length: P }, (_, i) => ode.V[slot * P * D + i * D + e] - parts.V[i * D + e]);
    let ok = true;
    for (const [xs, proxy] of [[du, bound.u], [dv, bound.v]] as const) {
      if (proxy === 0) { ok &&= xs.every((x) => Math.abs(x) < 1e-12); continue; }
      const c = checkSubGaussian({ samples: xs, proxy, confidence: CONF });
      checks++;
      worst = Math.max(worst, c.psi2 / proxy);
      ok &&= c.ok;
    }
    return ok;
  }), { seed: 5, numRuns: 20 });
  assert.ok(checks <= 40);
  // k = 1, linear σ, N = 1: eᵀ(u_1 − u) = −(η_u/α)(eᵀh) G^v is Gaussian and the bound is exact
  report("weight movement worst plug-in/bound", worst);
  assert.ok(worst > 0.5 && worst < 1.1, `worst plug-in ψ₂ / bound ${worst}`);
});

test("ψ₂: hidden coordinates h_{L,d} of the finite ResNet over draws of W_E (U, V fixed) stay below √(8/3)·σ_in|x|·Lip(h_0 ↦ h_L) (C = 12·2 checks, false failure ≤ 2.4e-4)", () => {
  // h_0 = W_E x ~ N(0, σ_in²|x|² I_D); h_0 ↦ eᵀh_L is K-Lipschitz (resnetForwardBound.hidden), odd for odd σ:
  // Gaussian concentration gives variance proxy (K σ_in |x|)², hence the ψ₂ bound (gaussianLipschitzPsi2).
  let worst = 0, checks = 0;
  fc.assert(fc.property(problemArb({ model: { L: { max: 3 }, M: { max: 4 }, D: { min: 2, max: 4 }, activations: ["tanh", "sin", "linear", "gelu"] }, data: { N: 1 } }), (p) => {
    const w = initWeights(p);
    const { D, L, sigmaIn } = p.model;
    const x = p.data.X;
    const xn = Math.hypot(...x);
    if (xn === 0) return true;
    const K = resnetForwardBound(p, w).hidden;
    const odd = isOddActivation(p.model.activation);
    const proxy = gaussianLipschitzPsi2({ K, scale: sigmaIn * xn, odd, dim: D, f0: 0 });
    const s = stream(p.seed + 99);
    const n = 2000;
    const h0 = new Float64Array(n), h1 = new Float64Array(n);
    const wr: ResNetWeights = { ...w, WE: new Float64Array(w.WE.length) };
    for (let t = 0; t < n; t++) {
      for (let i = 0; i < wr.WE.length; i++) wr.WE[i] = sigmaIn * s.normal();
      const fw = forward(p, wr);
      h0[t] = fw.h.get(L, 0, 0); h1[t] = fw.h.get(L, 0, D - 1);
    }
    let ok = true;
    for (const xs of [h0, h1]) {
      const c = checkSubGaussian({ samples: xs, proxy, confidence: CONF });
      checks++;
      worst = Math.max(worst, c.psi2 / proxy);
      ok &&= c.ok;
    }
    return ok;
  }), { seed: 6, numRuns: 12 });
  assert.ok(checks <= 24);
  report("hidden coordinates worst plug-in/bound", worst);
  assert.ok(worst > 0.05 && worst <= 1, `worst plug-in ψ₂ / bound ${worst}`);
});

test("Lipschitz: the finite ResNet's GD map θ_0 ↦ θ_K (K ≤ 2) on small random problems, segment-mode constant", () => {
  let worst = 0;
  const arb = fc.record({ p: problemArb({ model: { L: { max: 2 }, M: { max: 2 }, D: { max: 2 } }, data: { N: { max: 2 } }, train: { steps: { max: 2 } } }), d: fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 16, maxLength: 16 }), e: fc.integer({ min: 1, max: 12 }) });
  fc.assert(fc.property(arb, ({ p, d, e }) => {
    const w0 = initWeights(p);
    const n = w0.U.length;
    const other: ResNetWeights = { ...w0, U: w0.U.map((u, i) => u + d[i] * 2 ** -e), V: w0.V.map((v, i) => v + d[8 + i] * 2 ** -e) };
    const run = (w: ResNetWeights) => {
      const eng = { ...w, U: Float64Array.from(w.U), V: Float64Array.from(w.V) };
      for (let j = 0; j < p.train.steps; j++) gdStep(p, eng);
      return [...eng.U, ...eng.V];
    };
    const a = run(w0), b = run(other);
    let num = 0, den = 0;
    for (let i = 0; i < 2 * n; i++) num += (a[i] - b[i]) ** 2;
    for (let i = 0; i < n; i++) den += (w0.U[i] - other.U[i]) ** 2 + (w0.V[i] - other.V[i]) ** 2;
    if (den === 0) return true;
    const ratio = Math.sqrt(num / den);
    const B = gdMapLipschitzBound(p, w0, other).weights;
    worst = Math.max(worst, ratio / B);
    return ratio <= B * (1 + 1e-9);
  }), { seed: 7, numRuns: 150 });
  report("GD map worst measured/bound", worst);
  assert.ok(worst > 1e-4 && worst <= 1, `worst measured/bound ${worst}`);
});

