/**
 * Coefficients of the closed linear depth system of MATH §3 at one depth s:
 *
 *   ∂_s h_{k,n} = Σ_{j<k}  Σ_m C^H_{(k,n),(j,m)} b_{j,m},     ∂_s b_{k,n} = Σ_{j≤k} Σ_m C^B_{(k,n),(j,m)} h_{j,m}
 *
 *   C^H_{(k,n),(j,m)} =  α σ_v² E[σ′(p_{k,n}) ∂p_{k,n}/∂G^v_{j,m}] − (η_v/N) E[σ(p_{j,m}) σ(p_{k,n})]                j < k
 *   C^B_{(k,n),(j,m)} = −α σ_u² E[∂(σ′(p_{k,n}) q_{k,n})/∂G^u_{j,m}] + 1{j<k} (η_u/N) E[σ′(p_{j,m}) q_{j,m} σ′(p_{k,n}) q_{k,n}]   j ≤ k
 *
 * with G^u ~ N(0, σ_u² ΓH), G^v ~ N(0, σ_v² ΓB) independent; forward: ΓH is (k+1)N square,
 * ΓB is kN square (nB = k); backward: both (k+1)N square (nB = k+1).
 * Output layout: C[n·cols + j·N + m], rows = N, cols = kN (forward) or (k+1)N (backward).
 *
 * Workspaces (maps, square roots, accumulators) are cached per (direction, k, N): after the
 * first call for given sizes a call allocates only its small result arrays (none if `out` is given).
 */
import { ValidationError } from "../core/errors.ts";
import { nonNegativeInt, positiveInt, positiveNumber, show } from "../core/validate.ts";
import { EigenWorkspace, symSqrtPsd } from "./linalg.ts";
import { checkGram, resolveParams, SkeletonBlock, SkeletonMap, type ResolvedParams, type SkeletonParams } from "./maps.ts";
import { checkPsd, expectationEngine, type ExpectationEngine } from "./expectation.ts";
import { activationByKind, requireSecondDerivative } from "../core/activations.ts";
import { checkThreads, resolveSkeletonThreads, runGroupsParallel, sharedMeans, type ThreadsOption } from "./parallel.ts";

export interface CoefficientResult {
  /** rows × cols row-major: C[n·cols + j·N + m]. */
  C: Float64Array;
  /** Standard errors, same layout (mc/qmc), or null (closed-form, gauss-hermite). */
  stderr: Float64Array | null;
  rows: number;
  cols: number;
  /** Gaussian dimension dimG of the expectation (0 for closed form / k = 0). */
  dim: number;
  /** Integrand evaluations used (0 for closed form / k = 0). */
  evaluations: number;
}

/**
 * Optional low-rank square roots of the two covariance blocks: G^u = σ_u F_U ξ^u,
 * G^v = σ_v F_V ξ^v with F_U (nU × ru) and F_V (nV × rv) row-major, F_U F_Uᵀ = Γ^H,
 * F_V F_Vᵀ = Γ^B. The Gaussian point set then has dimension ru + rv instead of
 * nU + nV. In coefficient coordinates (MATH §3) row a of F is E^{1/2} c_a, so
 * r = d_in + d_out: the factor is linear (hence smooth) in s, exact, and needs no
 * eigen decomposition or clipping. Gram matrices are still required (the skeleton
 * recursion uses them) and must equal F Fᵀ.
 */
export interface CovarianceFactors {
  U: Float64Array;
  ru: number;
  V: Float64Array;
  rv: number;
}

/** Optional output buffers (length rows·cols) to make a call allocation-free. */
export interface CoefficientOutput {
  C?: Float64Array;
  stderr?: Float64Array;
}

/** Dimension of G for the forward / backward coefficients of step k. */
export function coefficientDim(direction: "forward" | "backward", k: number, N: number): number {
  return direction === "forward" ? (k + 1) * N + k * N : 2 * (k + 1) * N;
}

const BLOCK = 128;

interface Workspace {
  block: SkeletonBlock;
  mapAll: SkeletonMap | null;
  Ru: Float64Array;
  Rv: Float64Array;
  wsU: EigenWorkspace;
  wsV: EigenWorkspace;
  /** Scaled low-rank factors (grown on demand). */
  fU: Float64Array;
  fV: Float64Array;
  xT: Float64Array;
  vals: Float64Array;
  K: Float64Array;
  S1: Float64Array;
  S2: Float64Array;
  gsum: Float64Array;
  gmean: Float64Array;
  gm2: Float64Array;
  zero: Float64Array;
  /** Per-group means of the single-thread QMC path (grown on demand). */
  means: Float64Array;
}

const workspaces = new Map<string, Workspace>();

function workspace(direction: "forward" | "backward", k: number, N: number): Workspace {
  const key = `${direction}|${k}|${N}`;
  let w = workspaces.get(key);
  if (!w) {
    const nB = direction === "forward" ? k : k + 1;
    const block = new SkeletonBlock(k, N, nB, direction === "forward" ? "v" : "u", BLOCK);
    const nOut = N * (direction === "forward" ? k * N : (k + 1) * N);
    w = {
      block,
      mapAll: null,
      Ru: new Float64Array(block.nU * block.nU),
      Rv: new Float64Array(block.nV * block.nV),
      wsU: new EigenWorkspace(block.nU),
      wsV: new EigenWorkspace(block.nV),
      fU: new Float64Array(0),
      fV: new Float64Array(0),
      xT: new Float64Array(block.dimG * BLOCK),
      vals: new Float64Array(nOut * BLOCK),
      K: new Float64Array(nOut),
      S1: new Float64Array(nOut),
      S2: new Float64Array(nOut),
      gsum: new Float64Array(nOut),
      gmean: new Float64Array(nOut),
      gm2: new Float64Array(nOut),
      zero: new Float64Array(block.dimG),
      means: new Float64Array(0),
    };
    workspaces.set(key, w);
  }
  return w;
}

/** Drop the cached workspaces (memory only; results do not depend on the cache). */
export function clearCoefficientWorkspaces(): void {
  workspaces.clear();
}

/** Symmetry check with a relative tolerance (the square root uses the symmetric part). */
export function checkSymmetric(field: string, a: Float64Array, n: number, tol = 1e-9): void {
  let scale = 0;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(a[i]));
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const d = Math.abs(a[i * n + j] - a[j * n + i]);
      if (d > tol * scale) throw new ValidationError(field, `is not symmetric: [${i}][${j}] = ${a[i * n + j]} but [${j}][${i}] = ${a[j * n + i]}`);
    }
  }
}

function prepare(direction: "forward" | "backward", k: number, N: number, gammaH: unknown, gammaB: unknown, params: SkeletonParams, engine: ExpectationEngine) {
  nonNegativeInt("k", k);
  positiveInt("N", N);
  if (!engine || typeof (engine as ExpectationEngine).points !== "function") throw new ValidationError("engine", `must be an engine from expectationEngine() (got ${show(engine)})`);
  const rp = resolveParams(params);
  requireSecondDerivative(rp.activation, "params.activation");
  if (engine.kind === "closed-form" && rp.activation.kind !== 1) {
    throw new ValidationError("engine.kind", `"closed-form" is exact only for the linear activation (p, q are then linear in G); got activation "${rp.activation.name}": use "mc", "qmc" or "gauss-hermite"`);
  }
  const nU = (k + 1) * N, nV = (direction === "forward" ? k : k + 1) * N;
  const GH = checkGram("gammaH", gammaH, nU);
  const GB = checkGram("gammaB", gammaB, nV);
  checkSymmetric("gammaH", GH, nU);
  checkSymmetric("gammaB", GB, nV);
  return { rp, GH, GB, nU, nV };
}

function outputs(rows: number, cols: number, out: CoefficientOutput | undefined, withErr: boolean) {
  const n = rows * cols;
  if (out?.C && out.C.length < n) throw new ValidationError("out.C", `has length ${out.C.length} < ${rows}×${cols}`);
  if (out?.stderr && out.stderr.length < n) throw new ValidationError("out.stderr", `has length ${out.stderr.length} < ${rows}×${cols}`);
  const C = out?.C ?? new Float64Array(n);
  const stderr = withErr ? out?.stderr ?? new Float64Array(n) : null;
  return { C, stderr };
}

/**
 * Forward coefficients C^H of step k (N × kN), with G^v covariance σ_v² ΓB (ΓB: kN × kN)
 * and G^u covariance σ_u² ΓH (ΓH: (k+1)N × (k+1)N). k = 0 gives an empty result.
 */
export function forwardCoefficients(
  k: number, N: number,
  gammaH: Float64Array | number[], gammaB: Float64Array | number[],
  params: SkeletonParams, engine: ExpectationEngine, out?: CoefficientOutput, factors?: CovarianceFactors,
  threads: ThreadsOption = 1,
): CoefficientResult {
  return coefficients("forward", k, N, gammaH, gammaB, params, engine, out, factors, threads);
}

/**
 * Backward coefficients C^B of step k (N × (k+1)N), ΓH and ΓB both (k+1)N × (k+1)N.
 * At k = 0 the result is exactly 0 (E[σ″(G^u) G^v] = 0 by independence) and no sampling is done.
 */
export function backwardCoefficients(
  k: number, N: number,
  gammaH: Float64Array | number[], gammaB: Float64Array | number[],
  params: SkeletonParams, engine: ExpectationEngine, out?: CoefficientOutput, factors?: CovarianceFactors,
  threads: ThreadsOption = 1,
): CoefficientResult {
  return coefficients("backward", k, N, gammaH, gammaB, params, engine, out, factors, threads);
}

function coefficients(
  direction: "forward" | "backward", k: number, N: number,
  gammaH: Float64Array | number[], gammaB: Float64Array | number[],
  params: SkeletonParams, engine: ExpectationEngine, out: CoefficientOutput | undefined, factors: CovarianceFactors | undefined,
  threads: ThreadsOption,
): CoefficientResult {
  checkThreads("threads", threads);
  const { rp, GH, GB } = prepare(direction, k, N, gammaH, gammaB, params, engine);
  const rows = N, cols = (direction === "forward" ? k : k + 1) * N;
  if (k === 0) {
    // forward: an empty N × 0 result; backward: exact zeros, no sampling
    const { C, stderr } = outputs(rows, cols, out, engine.kind === "mc" || engine.kind === "qmc");
    C.fill(0, 0, rows * cols);
    stderr?.fill(0, 0, rows * cols);
    return { C, stderr, rows, cols, dim: 0, evaluations: 0 };
  }
  if (engine.kind === "closed-form") return closedForm(direction, k, N, GH, GB, rp, out);
  return sampled(direction, k, N, GH, GB, rp, engine, out, factors, threads);
}

/** Everything the per-block integrand evaluation needs (main thread or worker). */
interface BlockCtx {
  w: Workspace;
  fwd: boolean;
  N: number;
  kN: number;
  cols: number;
  Ru: Float64Array; Rv: Float64Array; ru: number; rv: number; dimX: number;
  xT: Float64Array;
  xi: Float64Array;
  aF: number; bF: number; aB: number; bB: number;
}

function blockCtx(
  w: Workspace, direction: "forward" | "backward", k: number, N: number, rp: ResolvedParams,
  Ru: Float64Array, Rv: Float64Array, ru: number, rv: number, xi: Float64Array,
): BlockCtx {
  const dimX = ru + rv, B = w.block.B;
  const xT = w.xT.length >= dimX * B ? w.xT : (w.xT = new Float64Array(dimX * B));
  return {
    w, fwd: direction === "forward", N, kN: k * N, cols: direction === "forward" ? k * N : (k + 1) * N,
    Ru, Rv, ru, rv, dimX, xT, xi,
    aF: rp.alpha * rp.sigmaV * rp.sigmaV, bF: rp.etaV / N,
    aB: rp.alpha * rp.sigmaU * rp.sigmaU, bB: rp.etaU / N,
  };
}

/**
 * Integrand values of the nb base points b0.. (mirrored: 2·nb evaluations) into
 * vals[o·B + t]; returns the number of evaluations L. Depends only on the points
 * and the (set-up) block, never on earlier blocks: any thread may evaluate any block.
 */
function evalBlock(c: BlockCtx, b0: number, nb: number, mirror: boolean): number {
  const { w, Ru, Rv, ru, rv, dimX, xT, xi, N, kN, cols, fwd, aF, bF, aB, bB } = c;
  const { block, vals } = w;
  const { nU, nV, dimG, nc, B, g, q, s, ds, d2s, wq, dp, dq } = block;
  const L = mirror ? 2 * nb : nb;
  // transpose the base points: xT[l·B + t] = ξ_{b0+t, l}
  for (let t = 0; t < nb; t++) {
    const off = (b0 + t) * dimX;
    for (let l = 0; l < dimX; l++) xT[l * B + t] = xi[off + l];
  }
  // G = diag(Ru, Rv) ξ, block rows; mirrored half = −G
  for (let i = 0; i < nU; i++) {
    const o = i * B;
    g.fill(0, o, o + nb);
    for (let l = 0; l < ru; l++) {
      const cc = Ru[i * ru + l];
      if (cc === 0) continue;
      const ol = l * B;
      for (let t = 0; t < nb; t++) g[o + t] += cc * xT[ol + t];
    }
  }
  for (let i = 0; i < nV; i++) {
    const o = (nU + i) * B;
    g.fill(0, o, o + nb);
    for (let l = 0; l < rv; l++) {
      const cc = Rv[i * rv + l];
      if (cc === 0) continue;
      const ol = (ru + l) * B;
      for (let t = 0; t < nb; t++) g[o + t] += cc * xT[ol + t];
    }
  }
  if (mirror) for (let i = 0; i < dimG; i++) { const o = i * B; for (let t = 0; t < nb; t++) g[o + nb + t] = -g[o + t]; }
  block.evaluate(L);
  // integrand, vals[o·B + t]
  for (let n = 0; n < N; n++) {
    const r = kN + n, rB = r * B, row = r * nc;
    if (fwd) {
      // α σ_v² σ′(p_kn) ∂p_kn/∂G^v_c − (η_v/N) σ(p_c) σ(p_kn)
      for (let c = 0; c < kN; c++) {
        const vo = (n * cols + c) * B, dpo = (row + c) * B, sc = c * B;
        for (let t = 0; t < L; t++) vals[vo + t] = aF * ds[rB + t] * dp[dpo + t] - bF * s[sc + t] * s[rB + t];
      }
    } else {
      // −α σ_u² (σ″(p_kn) q_kn ∂p_kn/∂G^u_c + σ′(p_kn) ∂q_kn/∂G^u_c) + 1{c<kN} (η_u/N) σ′q_c σ′q_kn
      for (let c = 0; c < cols; c++) {
        const vo = (n * cols + c) * B, dpo = (row + c) * B;
        if (c < kN) {
          const cB = c * B;
          for (let t = 0; t < L; t++) {
            vals[vo + t] = -aB * (d2s[rB + t] * q[rB + t] * dp[dpo + t] + ds[rB + t] * dq[dpo + t]) + bB * wq[cB + t] * wq[rB + t];
          }
        } else {
          // j = k: ∂q_k/∂G^u_k = 0 (dq not written there), ∂p_kn/∂G^u_km = δ_nm
          for (let t = 0; t < L; t++) vals[vo + t] = -aB * d2s[rB + t] * q[rB + t] * dp[dpo + t];
        }
      }
    }
  }
  return L;
}

/**
 * Mean of QMC group (randomization) gi — points gi·groupSize .. (gi+1)·groupSize, in blocks
 * of min(B, groupSize) points summed in block order — into dst[off .. off + nOut).
 * The same code on any thread gives the same bits.
 */
function groupMean(c: BlockCtx, groupSize: number, gi: number, dst: Float64Array, off: number, beat?: () => void): void {
  const { w } = c;
  const B = w.block.B, vals = w.vals, gsum = w.gsum;
  const nOut = c.N * c.cols;
  const perBlock = Math.min(B, groupSize);
  gsum.fill(0, 0, nOut);
  for (let b0 = gi * groupSize, end = b0 + groupSize; b0 < end; b0 += perBlock) {
    const nb = Math.min(perBlock, end - b0);
    const L = evalBlock(c, b0, nb, false);
    for (let o = 0; o < nOut; o++) {
      const vo = o * B;
      let a1 = 0;
      for (let t = 0; t < L; t++) a1 += vals[vo + t];
      gsum[o] += a1;
    }
    beat?.();
  }
  for (let o = 0; o < nOut; o++) dst[off + o] = gsum[o] / groupSize;
}

/** One sampled coefficient call split over threads (skeleton/parallel.ts): what a worker needs. */
export interface GroupJob {
  direction: "forward" | "backward";
  k: number;
  N: number;
  GH: Float64Array;
  GB: Float64Array;
  /** Built-in activation kind (custom activations never leave the main thread). */
  actKind: number;
  etaU: number; etaV: number; alpha: number; sigmaU: number; sigmaV: number;
  /** Scaled square-root factors (nU × ru, nV × rv), exactly as the main thread uses them. */
  Ru: Float64Array; Rv: Float64Array; ru: number; rv: number;
  /** The qmc engine's options: the worker rebuilds the same engine (same cached points). */
  samples: number; seed: number; randomizations: number;
  /** Group means, R × nOut (shared memory). */
  means: Float64Array;
}

const workerEngines = new Map<string, ExpectationEngine>();

/**
 * Worker side: set up the call's workspace and return the function computing
 * group gi's mean into job.means (same code as the main thread's).
 */
export function groupJobRunner(job: GroupJob, beat?: () => void): (gi: number) => void {
  const act = activationByKind(job.actKind);
  if (!act) throw new Error(`unknown activation kind ${job.actKind}`);
  const rp: ResolvedParams = { etaU: job.etaU, etaV: job.etaV, alpha: job.alpha, sigmaU: job.sigmaU, sigmaV: job.sigmaV, activation: act };
  const key = `${job.samples}|${job.seed}|${job.randomizations}`;
  let engine = workerEngines.get(key);
  if (!engine) workerEngines.set(key, (engine = expectationEngine({ kind: "qmc", samples: job.samples, seed: job.seed, randomizations: job.randomizations })));
  const { direction, k, N } = job;
  const w = workspace(direction, k, N);
  w.block.setup(job.GH, job.GB, rp);
  const ps = engine.points(job.ru + job.rv);
  const c = blockCtx(w, direction, k, N, rp, job.Ru, job.Rv, job.ru, job.rv, ps.xi);
  const nOut = c.N * c.cols;
  return (gi) => groupMean(c, ps.groupSize, gi, job.means, gi * nOut, beat);
}

function sampled(
  direction: "forward" | "backward", k: number, N: number,
  GH: Float64Array, GB: Float64Array, rp: ResolvedParams, engine: ExpectationEngine, out?: CoefficientOutput,
  factors?: CovarianceFactors, threads: ThreadsOption = 1,
): CoefficientResult {
  const w = workspace(direction, k, N);
  const { block, vals, K, S1, S2, gsum, gmean, gm2 } = w;
  block.setup(GH, GB, rp);
  const { nU, nV, B } = block;
  // square-root factors Ru (nU × ru), Rv (nV × rv) and the point dimension ru + rv
  let Ru = w.Ru, Rv = w.Rv, ru = nU, rv = nV;
  if (factors) {
    ru = factors.ru; rv = factors.rv;
    if (factors.U.length < nU * ru || factors.V.length < nV * rv) throw new ValidationError("factors", `must hold nU × ru = ${nU}×${ru} and nV × rv = ${nV}×${rv} entries`);
    Ru = w.fU.length >= nU * ru ? w.fU : (w.fU = new Float64Array(nU * ru));
    Rv = w.fV.length >= nV * rv ? w.fV : (w.fV = new Float64Array(nV * rv));
    for (let i = 0; i < nU * ru; i++) Ru[i] = rp.sigmaU * factors.U[i];
    for (let i = 0; i < nV * rv; i++) Rv[i] = rp.sigmaV * factors.V[i];
  } else {
    symSqrtPsd(GH, Ru, w.wsU, rp.sigmaU * rp.sigmaU);
    checkPsd("gammaH", w.wsU);
    symSqrtPsd(GB, Rv, w.wsV, rp.sigmaV * rp.sigmaV);
    checkPsd("gammaB", w.wsV);
  }
  const dimX = ru + rv;
  const ps = engine.points(dimX);
  const { xi, weights, mirror, groupSize, count } = ps;
  const rows = N, cols = direction === "forward" ? k * N : (k + 1) * N;
  const nOut = rows * cols;
  const c = blockCtx(w, direction, k, N, rp, Ru, Rv, ru, rv, xi);
  // Replicates: "pairs" (antithetic, groups of 2 evaluations), "singles" (i.i.d.),
  // "groups" (QMC randomizations of groupSize points), "weighted" (one weighted group).
  const mode = mirror ? "pairs" : weights ? "weighted" : groupSize === 1 ? "singles" : "groups";
  S1.fill(0); S2.fill(0); gsum.fill(0); gmean.fill(0); gm2.fill(0);
  let nRep = 0, nGroups = 0;
  if (mode === "groups") {
    // per-group means (on 1 or 2 threads), then combined in group order (Welford)
    const R = count / groupSize;
    const T = engine.kind === "qmc" && activationByKind(rp.activation.kind) === rp.activation ? resolveSkeletonThreads(threads, count, block.dimG, R) : 1;
    let means: Float64Array;
    if (T > 1) {
      means = sharedMeans(R * nOut);
      const job: GroupJob = {
        direction, k, N, GH, GB, actKind: rp.activation.kind,
        etaU: rp.etaU, etaV: rp.etaV, alpha: rp.alpha, sigmaU: rp.sigmaU, sigmaV: rp.sigmaV,
        Ru: Ru.slice(0, nU * ru), Rv: Rv.slice(0, nV * rv), ru, rv,
        samples: engine.samples, seed: engine.seed, randomizations: engine.randomizations, means,
      };
      runGroupsParallel(job, R, (gi) => groupMean(c, groupSize, gi, means, gi * nOut));
    } else {
      means = w.means.length >= R * nOut ? w.means : (w.means = new Float64Array(R * nOut));
      for (let gi = 0; gi < R; gi++) groupMean(c, groupSize, gi, means, gi * nOut);
    }
    for (let gi = 0; gi < R; gi++) {
      nGroups++;
      const off = gi * nOut;
      for (let o = 0; o < nOut; o++) {
        const x = means[off + o], d = x - gmean[o];
        gmean[o] += d / nGroups;
        gm2[o] += d * (x - gmean[o]);
      }
    }
  } else {
    // base points per block: mirror → B/2 (each used as ±ξ)
    const perBlock = mirror ? B >> 1 : B;
    for (let b0 = 0; b0 < count; b0 += perBlock) {
      const nb = Math.min(perBlock, count - b0);
      const L = evalBlock(c, b0, nb, mirror);
      // accumulate
      if (b0 === 0) for (let o = 0; o < nOut; o++) K[o] = mode === "pairs" ? 0.5 * (vals[o * B] + vals[o * B + nb]) : vals[o * B];
      if (mode === "pairs" || mode === "singles") {
        for (let o = 0; o < nOut; o++) {
          const vo = o * B, Ko = K[o];
          let a1 = 0, a2 = 0;
          if (mode === "pairs") {
            for (let t = 0; t < nb; t++) { const x = 0.5 * (vals[vo + t] + vals[vo + nb + t]) - Ko; a1 += x; a2 += x * x; }
          } else {
            for (let t = 0; t < L; t++) { const x = vals[vo + t] - Ko; a1 += x; a2 += x * x; }
          }
          S1[o] += a1; S2[o] += a2;
        }
        nRep += nb;
      } else {
        for (let o = 0; o < nOut; o++) {
          const vo = o * B;
          let a1 = 0;
          for (let t = 0; t < L; t++) a1 += weights![b0 + t] * vals[vo + t];
          gsum[o] += a1;
        }
      }
    }
  }
  const hasErr = mode === "weighted" ? false : mode === "groups" ? nGroups >= 2 : nRep >= 2;
  const res = outputs(rows, cols, out, hasErr);
  const C = res.C, stderr = res.stderr;
  for (let o = 0; o < nOut; o++) {
    if (mode === "weighted") C[o] = gsum[o];
    else if (mode === "groups") {
      C[o] = gmean[o];
      if (stderr) stderr[o] = Math.sqrt(Math.max(0, gm2[o]) / (nGroups * (nGroups - 1)));
    } else {
      const m = S1[o] / nRep;
      C[o] = K[o] + m;
      if (stderr) stderr[o] = Math.sqrt(Math.max(0, (S2[o] - S1[o] * m) / (nRep - 1)) / nRep);
    }
  }
  return { C, stderr, rows, cols, dim: dimX, evaluations: ps.evaluations };
}

/**
 * Exact coefficients for linear σ: p, q are linear in G (no constant term), so their
 * Jacobians J_p, J_q at G = 0 are the coefficient vectors and E[XY] = J_Xᵀ Σ J_Y,
 * Σ = diag(σ_u² ΓH, σ_v² ΓB).
 */
function closedForm(
  direction: "forward" | "backward", k: number, N: number,
  GH: Float64Array, GB: Float64Array, rp: ResolvedParams, out?: CoefficientOutput,
): CoefficientResult {
  const w = workspace(direction, k, N);
  if (!w.mapAll) w.mapAll = new SkeletonMap(k, N, direction === "forward" ? k : k + 1, "all");
  const map = w.mapAll;
  map.setup(GH, GB, rp);
  map.evaluate(w.zero, 0);
  const { nU, nV } = map;
  const nc = map.nc;
  const dp = new Float64Array(nU * nc), dq = new Float64Array(nV * nc);
  map.copyDp(dp, 0);
  map.copyDq(dq, 0);
  const su2 = rp.sigmaU * rp.sigmaU, sv2 = rp.sigmaV * rp.sigmaV;
  // x ᵀ Σ y for rows x, y of the Jacobians
  const quad = (X: Float64Array, xr: number, Y: Float64Array, yr: number): number => {
    let tot = 0;
    for (let i = 0; i < nU; i++) {
      const xi = X[xr * nc + i];
      if (xi === 0) continue;
      let t = 0;
      for (let l = 0; l < nU; l++) t += GH[i * nU + l] * Y[yr * nc + l];
      tot += su2 * xi * t;
    }
    for (let i = 0; i < nV; i++) {
      const xi = X[xr * nc + nU + i];
      if (xi === 0) continue;
      let t = 0;
      for (let l = 0; l < nV; l++) t += GB[i * nV + l] * Y[yr * nc + nU + l];
      tot += sv2 * xi * t;
    }
    return tot;
  };
  const kN = k * N;
  const rows = N, cols = direction === "forward" ? kN : (k + 1) * N;
  const { C } = outputs(rows, cols, out, false);
  for (let n = 0; n < N; n++) {
    const r = kN + n;
    for (let c = 0; c < cols; c++) {
      if (direction === "forward") {
        // σ′ = 1, σ(p) = p
        C[n * cols + c] = rp.alpha * sv2 * dp[r * nc + nU + c] - (rp.etaV / N) * quad(dp, c, dp, r);
      } else {
        // σ″ = 0, σ′ = 1: ∂(σ′ q)/∂G^u = ∂q/∂G^u
        C[n * cols + c] = -rp.alpha * su2 * dq[r * nc + c] + (c < kN ? (rp.etaU / N) * quad(dq, c, dq, r) : 0);
      }
    }
  }
  return { C, stderr: null, rows, cols, dim: 0, evaluations: 0 };
}

/**
 * Samples of G = (G^u, G^v) for the skeleton maps, drawn from the engine's cached points
 * (mirrored points expanded): E × dimG row-major with weights (null = equal). For the
 * particle sampler: evaluate the maps on them with evaluateBatch.
 */
export function skeletonGaussianSamples(
  k: number, N: number, nB: number,
  gammaH: Float64Array | number[], gammaB: Float64Array | number[],
  params: Pick<SkeletonParams, "sigmaU" | "sigmaV">, engine: ExpectationEngine,
): { G: Float64Array; weights: Float64Array | null; count: number; dimG: number } {
  const probe = new SkeletonMap(k, N, nB, "none");
  const { nU, nV, dimG } = probe;
  const GH = checkGram("gammaH", gammaH, nU), GB = checkGram("gammaB", gammaB, nV);
  checkSymmetric("gammaH", GH, nU);
  checkSymmetric("gammaB", GB, nV);
  const su = params.sigmaU === undefined ? 1 : positiveNumber("params.sigmaU", params.sigmaU);
  const sv = params.sigmaV === undefined ? 1 : positiveNumber("params.sigmaV", params.sigmaV);
  const Ru = new Float64Array(nU * nU), Rv = new Float64Array(nV * nV);
  const wsU = new EigenWorkspace(nU), wsV = new EigenWorkspace(nV);
  symSqrtPsd(GH, Ru, wsU, su * su); checkPsd("gammaH", wsU);
  symSqrtPsd(GB, Rv, wsV, sv * sv); checkPsd("gammaB", wsV);
  const ps = engine.points(dimG);
  const reps = ps.mirror ? 2 : 1;
  const count = ps.count * reps;
  const G = new Float64Array(count * dimG);
  const weights = ps.weights ? new Float64Array(count) : null;
  for (let b = 0; b < ps.count; b++) {
    const off = b * dimG, o = b * reps * dimG;
    for (let i = 0; i < nU; i++) {
      let t = 0;
      for (let l = 0; l < nU; l++) t += Ru[i * nU + l] * ps.xi[off + l];
      G[o + i] = t;
    }
    for (let i = 0; i < nV; i++) {
      let t = 0;
      for (let l = 0; l < nV; l++) t += Rv[i * nV + l] * ps.xi[off + nU + l];
      G[o + nU + i] = t;
    }
    if (reps === 2) for (let i = 0; i < dimG; i++) G[o + dimG + i] = -G[o + i];
    if (weights) weights[b] = ps.weights![b];
  }
  return { G, weights, count, dimG };
}
