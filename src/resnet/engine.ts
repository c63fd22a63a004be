/**
 * The finite ResNet with two-layer-perceptron blocks (MATH §1): forward pass,
 * backward pass with the rescaled adjoint b_ℓ = D ∂ℓ_n/∂h_ℓ, and full-batch
 * GD in mean-field units. The engine owns a workspace allocated once; a GD
 * step allocates nothing.
 *
 *   h_0 = W_E x ;  p_ℓ = U_ℓᵀ h_{ℓ-1}/D ;  h_ℓ = h_{ℓ-1} + (α/(LM)) V_ℓ σ(p_ℓ) ;  f = W_Uᵀ h_L / D
 *   b_L = W_U (f − y) ;  q_ℓ = V_ℓᵀ b_ℓ/D ;  b_{ℓ-1} = b_ℓ + (α/(LM)) U_ℓ (σ′(p_ℓ) ⊙ q_ℓ)
 *   u_{ℓj} −= (η_u/α)(1/N) Σ_n h_{ℓ-1,n} σ′(p_{ℓj,n}) q_{ℓj,n} ;  v_{ℓj} −= (η_v/α)(1/N) Σ_n σ(p_{ℓj,n}) b_{ℓ,n}
 */
import { DivergenceError, ValidationError } from "../core/errors.ts";
import { assertFinite, firstNonFinite } from "../core/validate.ts";
import { backwardBlock, forwardBlock, type LayerArrays, reduceBlocks, unitBlocks } from "../kernels/resnet.ts";
import { assertProblem, type Problem } from "../problem/problem.ts";
import { lossOf } from "../problem/trajectory.ts";
import { ParallelSession, resolveThreads, sharedF64 } from "./parallel.ts";
import type { ThreadsOption } from "../parallel/pool.ts";
import { drawLayer, type ResNetWeights, validateWeights } from "./weights.ts";
import { StreamFamily } from "../core/rng.ts";
import { f64, requireResources, type ResourceNeed, STEP_OVERHEAD } from "../core/resources.ts";
import { blockCount } from "../kernels/resnet.ts";

/** What a finite-ResNet computation holds besides the engine's workspace. */
export interface FiniteCostParts {
  /** GD steps (forward + backward + update each). */
  steps: number;
  /** Recorded steps of h, b (each (L+1)·N·D) and p (L·M·N). */
  recH?: number; recB?: number; recP?: number;
  /** Extra copies of the weights (start weights cloned, gradients, returned weights). */
  weightCopies?: number;
  /** The outputs f (K × d_out × N) and loss are kept. */
  outputs?: boolean;
  /** The tangent Gram matrix K_k (d_out·N × d_out·N) is recorded at every step (MATH §8). */
  gram?: boolean;
  /** Test points: a second engine's forward pass per step and fTest (K × d_out × N_test). */
  nTest?: number;
  /** Threads (> 1: U, V move to shared memory, a copy). */
  threads?: number;
}

/**
 * The resource estimate of a finite-ResNet computation (MATH §1): weights 2·L·M·D + D·(d_in + d_out),
 * the engine's workspace (h, b: 2·(L+1)·N·D; p, σ(p), σ′(p): 3·L·M·N; block partials), records and
 * outputs; work ≈ 12·L·M·N·D + 10·L·M·N per GD step (six matrix products and the activations).
 */
export function finiteResNetNeed(problem: Problem, c: FiniteCostParts, what = "the finite ResNet", field = "options"): ResourceNeed {
  const { L, M, D } = problem.model;
  const { N, dIn, dOut } = problem.data;
  const LMD = L * M * D, nb = blockCount(M, D);
  const weights = 2 * LMD + D * (dIn + dOut);
  const work = (L + 1) * N * D * 2 + 3 * L * M * N + M * N + (nb > 1 ? nb * N * D : 0) + 2 * dOut * N;
  const rec = (c.recH ?? 0) * (L + 1) * N * D + (c.recB ?? 0) * (L + 1) * N * D + (c.recP ?? 0) * L * M * N;
  const out = c.outputs ? c.steps * (dOut * N + 1) : 0;
  const dN = dOut * N, NT = c.nTest ?? 0;
  const gramBytes = c.gram ? c.steps * dN * dN + dN * D + 2 * dOut * M * N + N * M + 4 * dN * dN : 0;
  const gramWork = c.gram ? c.steps * L * (4 * dN * M * D + dN * dN * (M + D)) : 0;
  const testBytes = NT > 0 ? (L + 1) * NT * D + 3 * L * M * NT + c.steps * dOut * NT : 0;
  const testWork = NT > 0 ? c.steps * (6 * L * M * NT * D + 4 * L * M * NT) : 0;
  const copies = (c.weightCopies ?? 0) + ((c.threads ?? 1) > 1 ? 1 : 0);
  const drivers: [string, number][] = [["model.L", L], ["model.M", M], ["model.D", D], ["data.N", N]];
  if (c.steps > 1) drivers.push(["train.steps", c.steps]);
  if (c.gram) drivers.push([`${field}.record ("gram": K × (d_out·N)² numbers)`, c.steps * dN * dN]);
  if (NT > 0) drivers.push(["data.NTest", NT]);
  const nRec = (c.recH ?? 0) + (c.recB ?? 0) + (c.recP ?? 0);
  if (nRec > 0) drivers.push([`${field}.recordSteps (recorded steps)`, Math.max(c.recH ?? 0, c.recB ?? 0, c.recP ?? 0)]);
  return {
    what, drivers,
    bytes: f64(weights * (1 + copies) + work + rec + out + gramBytes + testBytes),
    work: c.steps * (12 * L * M * N * D + 10 * L * M * N + 4 * N * D * (dIn + dOut) + STEP_OVERHEAD) + 20 * LMD + gramWork + testWork,
    largest: Math.max(LMD, L * M * N, (L + 1) * N * D, c.outputs ? c.steps * dOut * N : 0, c.gram ? c.steps * dN * dN : 0, (L + 1) * NT * D),
    detail: `weights U, V (2·L·M·D = ${2 * LMD} numbers), the layer workspace${nRec ? ", the recorded profiles" : ""}${c.outputs ? " and the outputs f" : ""}`,
  };
}

export interface EngineOptions {
  /**
   * Worker threads for the layer passes: 1 (default, no workers), a number, or
   * "auto" (all cores when the layer is large enough). Results are
   * bit-identical whatever the number of threads. With more than one thread
   * the engine moves weights.U / weights.V into shared memory (the fields of
   * `weights` are replaced by shared copies, still updated in place).
   */
  threads?: ThreadsOption;
  /**
   * Internal (trainResNet): U and V were drawn by initWeights, or will be by
   * initLayers — finite by construction, so only their shapes are checked
   * (the finiteness scan of 2·L·M·D weights costs ≈ 35 ms at 8 M weights).
   */
  drawnLayers?: boolean;
}

export class ResNetEngine implements LayerArrays {
  readonly problem: Problem;
  readonly w: ResNetWeights;
  readonly L: number; readonly M: number; readonly D: number; readonly N: number; readonly dIn: number; readonly dOut: number;
  /** h_ℓ for ℓ = 0..L: (L+1) × N × D. */
  readonly H: Float64Array;
  /** b_ℓ for ℓ = 0..L: (L+1) × N × D (valid after backward). */
  readonly B: Float64Array;
  /** Preactivations, σ(p), σ′(p): L × M × N. */
  readonly P: Float64Array; readonly Sig: Float64Array; readonly dSig: Float64Array;
  /** σ′(p) ⊙ q for the current layer: M × N. */
  readonly Gq: Float64Array;
  /** Outputs f (d_out × N) and residuals f − y. */
  readonly F: Float64Array; readonly Res: Float64Array;
  /** Layer weights (the same arrays as w.U, w.V). */
  readonly U: Float64Array; readonly V: Float64Array;
  /** Block partials of the h / b increments: nb × N × D (see kernels/resnet unitBlocks). */
  readonly parts: Float64Array;
  /** Fixed unit blocks of a layer. */
  readonly blocks: Int32Array;
  /** Threads used by the layer passes (1 = no workers). */
  readonly threads: number;
  private session: ParallelSession | null = null;

  constructor(problem: Problem, weights: ResNetWeights, options: EngineOptions = {}) {
    assertProblem(problem);
    requireResources(finiteResNetNeed(problem, { steps: 1 }, "the finite ResNet engine"));
    if (options.drawnLayers) {
      const { L, M, D } = problem.model;
      const n = L * M * D;
      for (const k of ["U", "V"] as const) {
        if (weights[k]?.length !== n || weights.L !== L || weights.M !== M) throw new ValidationError(`weights.${k}`, `has length ${weights[k]?.length} but the problem (L=${L}, M=${M}, D=${D}) needs ${n}`);
      }
      // W_E, W_U in full; one (empty) layer stands for the drawn ones
      const empty = new Float64Array(0);
      validateWeights({ ...weights, L: 0, M: 0, U: empty, V: empty }, { ...problem, model: { ...problem.model, L: 0, M: 0 } });
    } else validateWeights(weights, problem);
    this.problem = problem;
    this.w = weights;
    const { L, M, D } = problem.model;
    const { N, dIn, dOut } = problem.data;
    this.L = L; this.M = M; this.D = D; this.N = N; this.dIn = dIn; this.dOut = dOut;
    this.blocks = unitBlocks(M, D);
    const nb = this.blocks.length - 1;
    const T = resolveThreads(options.threads, M, D, N, problem.model.activation, L);
    this.threads = T;
    const alloc = T > 1 ? (n: number) => sharedF64(n) : (n: number) => new Float64Array(n);
    if (T > 1) {
      if (!(weights.U.buffer instanceof SharedArrayBuffer)) weights.U = sharedF64(weights.U.length, weights.U);
      if (!(weights.V.buffer instanceof SharedArrayBuffer)) weights.V = sharedF64(weights.V.length, weights.V);
    }
    this.U = weights.U; this.V = weights.V;
    this.H = alloc((L + 1) * N * D);
    this.B = alloc((L + 1) * N * D);
    this.P = alloc(L * M * N);
    this.Sig = alloc(L * M * N);
    this.dSig = alloc(L * M * N);
    this.Gq = alloc(M * N);
    this.parts = alloc(nb > 1 ? nb * N * D : 0);
    if (T > 1) this.session = new ParallelSession(this, L, M, D, N, problem.model.activation, T);
    this.F = new Float64Array(dOut * N);
    this.Res = new Float64Array(dOut * N);
  }

  /** Forward pass at the current weights; returns the loss. Fills H, P, Sig, dSig, F, Res. */
  forward(): number {
    const { L, M, D, N, dIn, dOut, H, F, Res, w } = this;
    const { X, Y } = this.problem.data;
    const { alpha, activation } = this.problem.model;
    const c = alpha / (L * M);
    // h_0 = W_E x
    for (let n = 0; n < N; n++)
      for (let d = 0; d < D; d++) {
        let s = 0;
        for (let i = 0; i < dIn; i++) s += w.WE[d * dIn + i] * X[i * N + n];
        H[n * D + d] = s;
      }
    const ND = N * D;
    const blocks = this.blocks, nb = blocks.length - 1;
    if (this.parallel()) this.session!.forward(c);
    else
      for (let l = 0; l < L; l++) {
        for (let bi = 0; bi < nb; bi++) forwardBlock(this, activation, l, blocks, bi, M, D, N, c);
        if (nb > 1) reduceBlocks(H, (l + 1) * ND, H, l * ND, this.parts, nb, ND, 0, ND, c);
      }
    // f = W_Uᵀ h_L / D
    const hL = L * ND;
    for (let o = 0; o < dOut; o++)
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let d = 0; d < D; d++) s += w.WU[d * dOut + o] * H[hL + n * D + d];
        F[o * N + n] = s / D;
        Res[o * N + n] = F[o * N + n] - Y[o * N + n];
      }
    return lossOf(F, Y, dOut, N);
  }

  /**
   * Backward pass fused with the GD update (requires a preceding forward()).
   * All gradients are taken at the current weights: each weight is updated
   * only after its last use in the pass. Rates are in mean-field units.
   */
  backwardAndUpdate(etaU = this.problem.train.etaU, etaV = this.problem.train.etaV, etaE = this.problem.train.etaE, etaO = this.problem.train.etaO): void {
    const { L, M, D, N, dIn, dOut, H, B, Res, w } = this;
    const { X } = this.problem.data;
    const { alpha } = this.problem.model;
    const c = alpha / (L * M);
    const ND = N * D;
    // b_L = W_U (f − y)
    const bL = L * ND;
    for (let n = 0; n < N; n++)
      for (let d = 0; d < D; d++) {
        let s = 0;
        for (let o = 0; o < dOut; o++) s += w.WU[d * dOut + o] * Res[o * N + n];
        B[bL + n * D + d] = s;
      }
    // W_U ← W_U − (η_O/α)(1/N) Σ_n h_{L,n} (f_n − y_n)ᵀ  (after its use in b_L)
    if (etaO !== 0) {
      const r = etaO / (alpha * N);
      for (let d = 0; d < D; d++)
        for (let o = 0; o < dOut; o++) {
          let s = 0;
          for (let n = 0; n < N; n++) s += H[bL + n * D + d] * Res[o * N + n];
          w.WU[d * dOut + o] -= r * s;
        }
    }
    const ru = etaU / (alpha * N), rv = etaV / (alpha * N);
    const blocks = this.blocks, nb = blocks.length - 1;
    if (this.parallel()) this.session!.backward(c, ru, rv);
    else
      for (let l = L - 1; l >= 0; l--) {
        // layer ℓ = l+1 reads b_ℓ at slot l+1, writes b_{ℓ-1} at slot l
        for (let bi = 0; bi < nb; bi++) backwardBlock(this, l, blocks, bi, M, D, N, c, ru, rv);
        if (nb > 1) reduceBlocks(B, l * ND, B, (l + 1) * ND, this.parts, nb, ND, 0, ND, c);
      }
    // W_E ← W_E − (η_E/α)(1/N) Σ_n b_{0,n} x_nᵀ
    if (etaE !== 0) {
      const r = etaE / (alpha * N);
      for (let d = 0; d < D; d++)
        for (let i = 0; i < dIn; i++) {
          let s = 0;
          for (let n = 0; n < N; n++) s += B[n * D + d] * X[i * N + n];
          w.WE[d * dIn + i] -= r * s;
        }
    }
  }

  /**
   * Draw every layer's U_ℓ, V_ℓ from stream 2+ℓ of `seed` into the engine's
   * weights (the same draws as weights.initWeights; in the workers when the
   * engine has them).
   */
  initLayers(seed: number, sdU: number, sdV: number): void {
    if (this.parallel()) return this.session!.initLayers(seed, sdU, sdV);
    const fam = new StreamFamily(seed);
    for (let l = 0; l < this.L; l++) drawLayer(fam, l, this.U, this.V, this.M, this.D, sdU, sdV);
  }

  /**
   * Whether the passes run on the worker threads: false without a session, or
   * once the pool was shut down under it (then single-threaded, same bits);
   * throws if its workers failed earlier (the arrays may be half-updated).
   */
  private parallel(): boolean {
    if (!this.session) return false;
    if (this.session.usable) return true;
    this.session = null;
    return false;
  }

  /** Release the worker threads (no-op without them); the engine then goes on single-threaded, with the same bits. */
  close(): void {
    if (this.session) this.session.close();
    this.session = null;
  }
}


/**
 * Check the state of step k after a forward pass (h_ℓ layer by layer: names the first
 * layer whose state left double precision) and the loss.
 */
export function checkForward(eng: ResNetEngine, k: number, loss: number): void {
  const { L, N, D, H } = eng;
  const ND = N * D;
  if (firstNonFinite(H, ND, L * ND) >= 0 || !Number.isFinite(loss)) {
    for (let l = 0; l <= L; l++) {
      const i = firstNonFinite(H, ND, l * ND);
      if (i >= 0) throw new DivergenceError(k, `hidden state h_${l}`, `data point ${(i / D) | 0}, coordinate ${i % D} is ${H[l * ND + i]}`);
    }
    assertFinite(k, "output f", eng.F);
    throw new DivergenceError(k, "loss", `loss = ${loss}`);
  }
}

/** Check the adjoints after a backward pass (b_ℓ, ℓ = L..0: non-finite entries never become finite again, so b_0 shows them). */
export function checkBackward(eng: ResNetEngine, k: number): void {
  const { L, N, D, B } = eng;
  const ND = N * D;
  if (firstNonFinite(B, ND, 0) < 0) return;
  for (let l = L; l >= 0; l--) {
    const i = firstNonFinite(B, ND, l * ND);
    if (i >= 0) throw new DivergenceError(k, `adjoint b_${l}`, `data point ${(i / D) | 0}, coordinate ${i % D} is ${B[l * ND + i]}`);
  }
}
