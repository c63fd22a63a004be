/**
 * The particle sampler (MATH §5, "particle sampler"; MATH §3 skeleton maps):
 * i.i.d. samples of the limit law of a particle's preactivations p_{k,n}(s)
 * and adjoint sums q_{k,n}(s) after k GD steps, from a skeleton Mean ODE /
 * M = ∞ ResNet / DMFT trajectory (its SkeletonExtras, see ./solve.ts).
 *
 * At the chosen nodes the Gram matrices over the index pairs a = (j, m), j ≤ k,
 * are quadratic forms in the coefficient vectors (kernels/gram.ts, as in
 * limits/dmft.ts gramProfiles):
 *
 *   Γ^H_{aa'} = c^h_a(hNode) · E c^h_{a'}(hNode),     Γ^B_{aa'} = c^b_a(bNode) · E c^b_{a'}(bNode),
 *
 * and the samples come from the factor form (MATH §3): ξ ~ N(0, I_{2r}) i.i.d. from `seed`,
 * the particle state w = (σ_u ξ_u, σ_v ξ_v) carried through the k GD updates with the
 * coefficient vectors a = Rᵀc (E = R Rᵀ) of the earlier steps, then p = w_u·a^h_k, q = w_v·a^b_k.
 * Samples are i.i.d. (plain Monte Carlo, no QMC): they are draws of the law, not an
 * integration rule. `gspaceLimitLawSamples` draws the same law through the G-space skeleton
 * maps (G = σ Γ^{1/2} ξ, the previous implementation), as the tests' check.
 *
 * Staggered convention. A particle of slot i of a DepthGrid reads h-type
 * profiles at node hNode(i) and b-type profiles at bNode(i); for the
 * staggered-Euler grid (the M = ∞ ResNet at L = depthSteps) the unit of layer
 * ℓ reads h at node ℓ − 1 and b at node ℓ: pass { hNode: ℓ − 1, bNode: ℓ }.
 * `node` (or `s`) sets both (the Mean ODE / DMFT law at depth s).
 */
import { view, type F64 } from "../core/arrays.ts";
import { ValidationError } from "../core/errors.ts";
import { StreamFamily } from "../core/rng.ts";
import { dflt, finiteNumber, isPlainObject, knownKeys, nonNegativeInt, positiveInt, seedValue, show } from "../core/validate.ts";
import { assertProblem, type Problem } from "../problem/problem.ts";
import { f64, requireResources, STEP_OVERHEAD } from "../core/resources.ts";
import { activationFailure } from "../core/activations.ts";
import { DivergenceError } from "../core/errors.ts";
import type { Trajectory } from "../problem/trajectory.ts";
import { checkPsd } from "./expectation.ts";
import { EigenWorkspace, symSqrtPsd } from "./linalg.ts";
import { evaluateBatch, resolveParams, SkeletonBlock, type SkeletonParams } from "./maps.ts";
import { skeletonExtras } from "./solve.ts";
import { profileRow } from "../core/layout.ts";
import { gramForms } from "../kernels/gram.ts";
import { embeddingFactor } from "./factor.ts";

export interface LimitLawOptions {
  /** GD step k (0..K−1): the law of the particle after k updates. */
  step: number;
  /** Depth node index of both h and b (or give s, or hNode and bNode). */
  node?: number;
  /** Depth s ∈ [0, 1] on the trajectory's node grid (alternative to `node`). */
  s?: number;
  /** Node of the h-type profiles (default `node`). */
  hNode?: number;
  /** Node of the b-type profiles (default `node`). */
  bNode?: number;
  /** Number of i.i.d. samples (default 4096). */
  samples?: number;
  /** Seed of the standard normals ξ (default 1). */
  seed?: number;
  /**
   * Which quantities to return (default ["p", "q"]); "z" (factor form only): the particle's
   * factor coordinates T(ξ) = (ξ_u + Rᵀδ_u/σ_u, ξ_v + Rᵀδ_v/σ_v) ∈ R^{2r} of MATH §8, whose law
   * is that of the trained particle in span(W) (its KL to N(0, I) is KL(ρ_k(s) ‖ μ_0)); "xi": the
   * standard normals ξ each sample was drawn from (the untrained particle, coupled to z).
   */
  what?: ("p" | "q" | "z" | "xi")[];
  /** Model constants of the skeleton maps (η_u, η_v, α, σ, σ_u, σ_v): from a problem ... */
  problem?: Problem;
  /** ... or given directly (default: `traj.extras.skeletonParams` when the solver stored them). */
  params?: SkeletonParams;
}

export interface LimitLawSamples {
  k: number;
  hNode: number;
  bNode: number;
  samples: number;
  /** p_{k,n} of sample t at [t, n]: shape [samples, N] (when requested). */
  p?: F64;
  /** q_{k,n} of sample t at [t, n]: shape [samples, N] (when requested). */
  q?: F64;
  /** Factor coordinates T(ξ) of sample t at [t, c]: shape [samples, 2r] (what "z"; c < r: the u part). */
  z?: F64;
  /** The standard normals ξ of sample t at [t, c]: shape [samples, 2r] (what "xi"). */
  xi?: F64;
  /** Γ^H at hNode over (j ≤ k, m) (index j·N + m), (k+1)N square. */
  gammaH: Float64Array;
  /** Γ^B at bNode over (j ≤ k, m), (k+1)N square. */
  gammaB: Float64Array;
}

const KEYS = ["step", "node", "s", "hNode", "bNode", "samples", "seed", "what", "problem", "params"];

/**
 * Gram matrix over (j ≤ k, m) at `node` from coefficient vectors c ([K, nodes, N, r]):
 * G[a·dim + a'] = c_a · E c_{a'}.
 */
export function gramAtNode(c: Float64Array, E: Float64Array, r: number, nodes: number, N: number, k: number, node: number, out = new Float64Array(((k + 1) * N) ** 2)): Float64Array {
  const dim = (k + 1) * N;
  const at = (a: number) => profileRow(nodes, N, r, (a / N) | 0, node, a % N);
  return gramForms(E, r, c, at, dim, c, at, dim, out, 0, true);
}

function nodeArg(field: string, v: unknown, nodes: number): number {
  const n = nonNegativeInt(field, v);
  if (n >= nodes) throw new ValidationError(field, `is node ${n} but the trajectory's depth grid has nodes 0..${nodes - 1}`);
  return n;
}

/** I.i.d. samples of the limit law of p_{k,n}, q_{k,n} at the given depth nodes (see the module comment). */
interface ParsedLaw {
  x: ReturnType<typeof skeletonExtras>;
  K: number; nodes: number; N: number; r: number;
  k: number; hNode: number; bNode: number; S: number; seed: number;
  what: ("p" | "q" | "z" | "xi")[];
  params: ReturnType<typeof resolveParams>;
}

function parseLaw(traj: Trajectory, options: LimitLawOptions): ParsedLaw {
  const x = skeletonExtras(traj);
  if (!isPlainObject(options)) throw new ValidationError("options", `must be an object { step, node | s | hNode, bNode, samples, seed, problem | params } (got ${show(options)})`);
  knownKeys("options", options as unknown as Record<string, unknown>, KEYS);
  const [K, nodes, N, r] = x.coefficients.h.shape;
  const k = nonNegativeInt("options.step", options.step);
  if (k >= K) throw new ValidationError("options.step", `is ${k} but the trajectory has steps 0..${K - 1}`);
  let node: number | undefined;
  if (options.node !== undefined && options.s !== undefined) throw new ValidationError("options.s", "give either node or s, not both");
  if (options.node !== undefined) node = nodeArg("options.node", options.node, nodes);
  if (options.s !== undefined) {
    const s = finiteNumber("options.s", options.s);
    let best = -1;
    for (let i = 0; i < nodes; i++) if (Math.abs(x.depthGrid[i] - s) <= 1e-12) best = i;
    if (best < 0) throw new ValidationError("options.s", `is ${s}, not a node of the trajectory's depth grid (${nodes} nodes, s = i/${nodes - 1})`);
    node = best;
  }
  const hNode = options.hNode !== undefined ? nodeArg("options.hNode", options.hNode, nodes) : node;
  const bNode = options.bNode !== undefined ? nodeArg("options.bNode", options.bNode, nodes) : node;
  if (hNode === undefined || bNode === undefined) throw new ValidationError("options.node", "is required (or s, or both hNode and bNode)");
  const S = positiveInt("options.samples", dflt(options.samples, 4096));
  const seed = seedValue("options.seed", dflt(options.seed, 1));
  const what = dflt(options.what, ["p", "q"]) as ("p" | "q" | "z" | "xi")[];
  if (!Array.isArray(what) || what.length === 0) throw new ValidationError("options.what", `must be a non-empty array of "p", "q", "z", "xi" (got ${show(what)})`);
  what.forEach((w, i) => {
    if (w !== "p" && w !== "q" && w !== "z" && w !== "xi") throw new ValidationError(`options.what[${i}]`, `must be "p", "q", "z" or "xi" (got ${show(w)})`);
    if (what.indexOf(w) !== i) throw new ValidationError(`options.what[${i}]`, `repeats ${show(w)}`);
  });
  const dim = (k + 1) * N;
  // per sample: N numbers for each of p, q; 2r factor coordinates for each of z, xi
  const perSample = what.reduce((a, w) => a + (w === "p" || w === "q" ? N : 2 * r), 0);
  requireResources({
    what: "the limit-law samples", drivers: [["options.samples", S], ["options.step", k], ["data.N", N]],
    bytes: f64(S * perSample + 4 * dim * dim + 2 * dim * r + 2048 * 2 * dim), work: S * ((k + 1) * N * 4 * r + STEP_OVERHEAD / 100) + 4 * dim * dim * r, largest: S * N,
  });
  let rawParams: SkeletonParams | undefined = options.params;
  if (options.problem !== undefined) {
    if (options.params !== undefined) throw new ValidationError("options.params", "give either problem or params, not both");
    const pm = options.problem;
    assertProblem(pm, "options.problem");
    rawParams = { etaU: pm.train.etaU, etaV: pm.train.etaV, alpha: pm.model.alpha, activation: pm.model.activation, sigmaU: pm.model.sigmaU, sigmaV: pm.model.sigmaV };
    if (pm.data?.N !== undefined && pm.data.N !== N) throw new ValidationError("options.problem", `has N = ${pm.data.N} data points but the trajectory has N = ${N}`);
  }
  rawParams ??= x.skeletonParams;
  if (rawParams === undefined) throw new ValidationError("options.problem", "is required: the skeleton maps need η_u, η_v, α, σ, σ_u, σ_v (pass the trajectory's problem, or params)");
  const params = resolveParams(rawParams, "options.params");

  return { x, K, nodes, N, r, k, hNode, bNode, S, seed, what, params };
}

/**
 * The same law through the G-space skeleton maps (MATH §3 before the factor form: G drawn
 * from the Gram matrices, Jacobian-free map evaluation): the previous implementation, kept
 * as the tests' independent check of limitLawSamples.
 */
export function gspaceLimitLawSamples(traj: Trajectory, options: LimitLawOptions): LimitLawSamples {
  const { x, nodes, N, r, k, hNode, bNode, S, seed, what, params } = parseLaw(traj, options);
  if (what.includes("z") || what.includes("xi")) throw new ValidationError("options.what", `"z" and "xi" (the factor coordinates) are drawn by limitLawSamples only (the G-space maps carry no factor state)`);
  const dim = (k + 1) * N;
  const GH = gramAtNode(x.coefficients.h.data, x.E, r, nodes, N, k, hNode);
  const GB = gramAtNode(x.coefficients.b.data, x.E, r, nodes, N, k, bNode);
  const Ru = new Float64Array(dim * dim), Rv = new Float64Array(dim * dim);
  const wsU = new EigenWorkspace(dim), wsV = new EigenWorkspace(dim);
  symSqrtPsd(GH, Ru, wsU, params.sigmaU * params.sigmaU); checkPsd("gammaH", wsU);
  symSqrtPsd(GB, Rv, wsV, params.sigmaV * params.sigmaV); checkPsd("gammaB", wsV);

  const block = new SkeletonBlock(k, N, k + 1, "none", 128);
  block.setup(GH, GB, params);
  const dimG = block.dimG; // 2 (k+1) N
  const stream = new StreamFamily(seed).get(0);
  const chunk = 1024;
  const xi = new Float64Array(chunk * dimG);
  const G = new Float64Array(chunk * dimG);
  const pAll = new Float64Array(chunk * dim), qAll = new Float64Array(chunk * dim);
  const wantP = what.includes("p"), wantQ = what.includes("q");
  const pOut = wantP ? new Float64Array(S * N) : null;
  const qOut = wantQ ? new Float64Array(S * N) : null;
  for (let t0 = 0; t0 < S; t0 += chunk) {
    const L = Math.min(chunk, S - t0);
    stream.fillNormal(xi, 1, 0, L * dimG);
    for (let t = 0; t < L; t++) {
      const o = t * dimG;
      for (let i = 0; i < dim; i++) {
        let su = 0, sv = 0;
        for (let l = 0; l < dim; l++) {
          su += Ru[i * dim + l] * xi[o + l];
          sv += Rv[i * dim + l] * xi[o + dim + l];
        }
        G[o + i] = su;
        G[o + dim + i] = sv;
      }
    }
    evaluateBatch(block, G, L, { p: pAll, q: qAll });
    for (let t = 0; t < L; t++) {
      const src = t * dim + k * N, dst = (t0 + t) * N;
      for (let n = 0; n < N; n++) {
        if (pOut) pOut[dst + n] = pAll[src + n];
        if (qOut) qOut[dst + n] = qAll[src + n];
      }
    }
  }
  const out: LimitLawSamples = { k, hNode, bNode, samples: S, gammaH: GH, gammaB: GB };
  if (pOut) out.p = view(pOut, [S, N]);
  if (qOut) out.q = view(qOut, [S, N]);
  return out;
}

/**
 * I.i.d. samples of the limit law of p_{k,n}, q_{k,n} at the given depth nodes (see the module
 * comment), by the factor form (MATH §3): ξ ~ N(0, I_{2r}) i.i.d., the particle state
 * w = (σ_u ξ_u, σ_v ξ_v) updated k times with the coefficient vectors a = Rᵀc of steps j < k
 * at (hNode, bNode), then p_{k,n} = w_u·a^h_{k,n}, q_{k,n} = w_v·a^b_{k,n}. O(k N r) per sample.
 */
export function limitLawSamples(traj: Trajectory, options: LimitLawOptions): LimitLawSamples {
  const { x, nodes, N, r: d, k, hNode, bNode, S, seed, what, params } = parseLaw(traj, options);
  const F = embeddingFactor(x.E, d);
  const r = F.r;
  // a = Rᵀ c at the two nodes, steps j ≤ k: ah[j][n][·], ab[j][n][·]
  const toA = (c: Float64Array, node: number) => {
    const a = new Float64Array((k + 1) * N * r);
    for (let j = 0; j <= k; j++)
      for (let n = 0; n < N; n++) {
        const co = profileRow(nodes, N, d, j, node, n);
        for (let t = 0; t < r; t++) {
          let s2 = 0;
          for (let i = 0; i < d; i++) s2 += F.R[i * r + t] * c[co + i];
          a[(j * N + n) * r + t] = s2;
        }
      }
    return a;
  };
  const ah = toA(x.coefficients.h.data, hNode), ab = toA(x.coefficients.b.data, bNode);
  const { etaU, etaV, alpha, sigmaU, sigmaV, activation } = params;
  const cu = etaU / (alpha * N), cv = etaV / (alpha * N);
  const Q = 2 * r;
  const stream = new StreamFamily(seed).get(0);
  const chunk = 1024;
  const xi = new Float64Array(chunk * Q);
  const w = new Float64Array(Q), p = new Float64Array(N), q = new Float64Array(N);
  const wantP = what.includes("p"), wantQ = what.includes("q");
  const pOut = wantP ? new Float64Array(S * N) : null;
  const qOut = wantQ ? new Float64Array(S * N) : null;
  const zOut = what.includes("z") ? new Float64Array(S * Q) : null;
  const xiOut = what.includes("xi") ? new Float64Array(S * Q) : null;
  for (let t0 = 0; t0 < S; t0 += chunk) {
    const L = Math.min(chunk, S - t0);
    stream.fillNormal(xi, 1, 0, L * Q);
    for (let t = 0; t < L; t++) {
      for (let c = 0; c < Q; c++) w[c] = (c < r ? sigmaU : sigmaV) * xi[t * Q + c];
      for (let j = 0; j <= k; j++) {
        for (let n = 0; n < N; n++) {
          let sp = 0, sq = 0;
          const o = (j * N + n) * r;
          for (let a = 0; a < r; a++) { sp += w[a] * ah[o + a]; sq += w[r + a] * ab[o + a]; }
          p[n] = sp; q[n] = sq;
        }
        if (j === k) break;
        for (let n = 0; n < N; n++) {
          const gu = cu * activation.df(p[n]) * q[n], gv = cv * activation.f(p[n]);
          const o = (j * N + n) * r;
          for (let a = 0; a < r; a++) { w[a] -= gu * ah[o + a]; w[r + a] -= gv * ab[o + a]; }
        }
      }
      const dst = (t0 + t) * N;
      for (let n = 0; n < N; n++) {
        if (pOut) pOut[dst + n] = p[n];
        if (qOut) qOut[dst + n] = q[n];
      }
      // T(ξ) = w / σ: w = σ ξ + Rᵀδ after the k updates
      if (zOut) for (let c = 0; c < Q; c++) zOut[(t0 + t) * Q + c] = w[c] / (c < r ? sigmaU : sigmaV);
      if (xiOut) xiOut.set(xi.subarray(t * Q, (t + 1) * Q), (t0 + t) * Q);
    }
  }
  const GH = gramAtNode(x.coefficients.h.data, x.E, d, nodes, N, k, hNode);
  const GB = gramAtNode(x.coefficients.b.data, x.E, d, nodes, N, k, bNode);
  for (const a of [pOut, qOut]) {
    if (!a) continue;
    for (let i = 0; i < a.length; i++) {
      if (Number.isFinite(a[i])) continue;
      // a user σ that is not finite at a finite argument, or a particle state that overflows
      const xs = pOut ?? a;
      for (let j = 0; j < xs.length; j++) {
        const x = xs[j], f = activation.f(x), df = activation.df(x);
        if (Number.isFinite(x) && !(Number.isFinite(f) && Number.isFinite(df))) throw activationFailure(activation, x, f, df);
      }
      throw new DivergenceError(k, `${a === pOut ? "p" : "q"} (samples of the limit law)`, `sample ${(i / N) | 0}, data point ${i % N} is ${a[i]}: the particle state overflows double precision`);
    }
  }
  const out: LimitLawSamples = { k, hNode, bNode, samples: S, gammaH: GH, gammaB: GB };
  if (pOut) out.p = view(pOut, [S, N]);
  if (qOut) out.q = view(qOut, [S, N]);
  if (zOut) out.z = view(zOut, [S, Q]);
  if (xiOut) out.xi = view(xiOut, [S, Q]);
  return out;
}
