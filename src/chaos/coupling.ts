/**
 * Synchronous coupling (MATH §4, propagation of chaos).
 *
 * The M-particle system is the finite ResNet (MATH §1), run step by step with
 * the ResNetEngine. Every particle z_{ℓj} = (u_{ℓj}, v_{ℓj}) gets a *twin*
 * z̄_{ℓj} started from the same initial value z_{ℓj,0} but driven by the limit
 * fields h̄, b̄ of the M = ∞ system (src/chaos/limit.ts, limits/large-width.ts; node ℓ = layer ℓ):
 *
 *   p̄_{ℓj,n} = ū_{ℓj}ᵀ h̄_{k,ℓ−1,n} / D,          q̄_{ℓj,n} = v̄_{ℓj}ᵀ b̄_{k,ℓ,n} / D
 *   ū_{ℓj} ← ū_{ℓj} − (η_u/α)(1/N) Σ_n h̄_{k,ℓ−1,n} σ′(p̄_{ℓj,n}) q̄_{ℓj,n}
 *   v̄_{ℓj} ← v̄_{ℓj} − (η_v/α)(1/N) Σ_n σ(p̄_{ℓj,n}) b̄_{k,ℓ,n}
 *
 * (the staggered convention of the finite model: the unit of layer ℓ reads h
 * at ℓ−1 and b at ℓ). The twin of a particle depends only on its own initial
 * value and on the deterministic limit fields, so the twins of a layer are
 * i.i.d. with the limit law by construction; the twin kernel below processes
 * every unit on its own (no cross-unit register blocking), so a twin's bits do
 * not depend on the other units or on its position in the layer.
 *
 * Observables at step k (weights θ_k, before the k-th update, like every Trajectory):
 *   weight distance   W_{k,ℓ} = (1/M) Σ_j |z_{ℓj,k} − z̄_{ℓj,k}|² / D
 *                     (|·|² over the 2D coordinates of (u, v); the entries of u, v
 *                     are N(0, σ² D) at init, so one step moves them by O(1) per
 *                     coordinate and |Δz|²/D is an O(1) quantity)
 *   p distance        (1/(MN)) Σ_{j,n} (p_{ℓj,n} − p̄_{ℓj,n})²   p from the finite model's own h
 *   q distance        (1/(MN)) Σ_{j,n} (q_{ℓj,n} − q̄_{ℓj,n})²   q = v_{ℓj}ᵀ b_{ℓ,n}/D, the finite b
 *   output gap        RMS over (o, n) of f_{k} − f̄_{k}
 */
import type { Activation } from "../core/activations.ts";
import { unitPoint, unitRow } from "../core/layout.ts";
import { activationRange } from "../kernels/activation.ts";
import { axpy, dot } from "../kernels/vector.ts";
import { DivergenceError, ValidationError } from "../core/errors.ts";
import { StreamFamily } from "../core/rng.ts";
import { positiveInt, seedValue } from "../core/validate.ts";
import type { Problem } from "../problem/problem.ts";
import { checkBackward, checkForward, ResNetEngine } from "../resnet/engine.ts";
import { drawLayer, type ResNetWeights } from "../resnet/weights.ts";
import { initEmbeddings } from "../problem/embeddings.ts";
import type { LimitFields } from "./limit.ts";

/**
 * Twin preactivations of units j0..j1 of one layer: P = Uᵀh̄/D, σ(P), σ′(P), Q = Vᵀb̄/D
 * (rows j of U, V at wOff + j·D; h̄_n at hOff + n·D; b̄_n at bOff + n·D; outputs at pOff + j·N + n).
 */
export function twinPreactivations(
  U: Float64Array, V: Float64Array, wOff: number, j0: number, j1: number, D: number, N: number,
  Hb: Float64Array, hOff: number, Bb: Float64Array, bOff: number, act: Activation,
  P: Float64Array, S: Float64Array, dS: Float64Array, Q: Float64Array, pOff: number,
): void {
  const invD = 1 / D;
  for (let j = j0; j < j1; j++) {
    const zo = wOff + j * D, po = pOff + j * N;
    for (let n = 0; n < N; n++) {
      P[po + n] = dot(U, zo, Hb, hOff + n * D, D) * invD;
      Q[po + n] = dot(V, zo, Bb, bOff + n * D, D) * invD;
    }
  }
  activationRange(act, P, S, dS, pOff + j0 * N, pOff + j1 * N);
}

/** Twin GD update of units j0..j1 of one layer (ru = η_u/(αN), rv = η_v/(αN)), from twinPreactivations' outputs. */
export function twinUpdate(
  U: Float64Array, V: Float64Array, wOff: number, j0: number, j1: number, D: number, N: number,
  Hb: Float64Array, hOff: number, Bb: Float64Array, bOff: number,
  S: Float64Array, dS: Float64Array, Q: Float64Array, pOff: number, ru: number, rv: number,
): void {
  for (let j = j0; j < j1; j++) {
    const zo = wOff + j * D, po = pOff + j * N;
    for (let n = 0; n < N; n++) {
      const gu = -ru * dS[po + n] * Q[po + n];
      const gv = -rv * S[po + n];
      if (gu !== 0) axpy(gu, Hb, hOff + n * D, U, zo, D);
      if (gv !== 0) axpy(gv, Bb, bOff + n * D, V, zo, D);
    }
  }
}

/**
 * Initial weights of width M: W_E, W_U of the problem (its seed or explicit
 * init), U_ℓ, V_ℓ from stream 2+ℓ of `seed` (the finite model's streams).
 */
export function chaosWeights(problem: Problem, M: number, seed: number): ResNetWeights {
  positiveInt("M", M);
  seedValue("seed", seed);
  const { L, D, sigmaU, sigmaV } = problem.model;
  const { dIn, dOut } = problem.data;
  const { WE, WU } = initEmbeddings(problem);
  const U = new Float64Array(L * M * D), V = new Float64Array(L * M * D);
  const fam = new StreamFamily(seed);
  for (let l = 0; l < L; l++) drawLayer(fam, l, U, V, M, D, sigmaU * Math.sqrt(D), sigmaV * Math.sqrt(D));
  return { L, M, D, dIn, dOut, WE, WU, U, V };
}

/** The problem at width M with the given weights' embeddings (U, V come from the weights, not from init). */
export function problemAtWidth(problem: Problem, M: number): Problem {
  const { WE, WU } = initEmbeddings(problem);
  return { ...problem, model: { ...problem.model, M }, init: { WE, WU } };
}

/**
 * The coupled system: the finite ResNet of width M and the twins of its
 * particles. Buffers are allocated once; `step()` allocates nothing.
 *
 *   const sys = new CoupledSystem(problem, limit, weights);
 *   for (let k = 0; k < K; k++) { sys.step(); ... read sys.* at step k ... ; sys.advance(); }
 */
export class CoupledSystem {
  readonly problem: Problem;
  readonly limit: LimitFields;
  readonly eng: ResNetEngine;
  readonly L: number; readonly M: number; readonly D: number; readonly N: number; readonly dOut: number;
  /** Twins ū, v̄: L × M × D (the finite layout). */
  readonly Ubar: Float64Array; readonly Vbar: Float64Array;
  /** Initial weights z_{ℓj,0} (shared by particle and twin): L × M × D. */
  readonly U0: Float64Array; readonly V0: Float64Array;
  /** Finite weights θ_k at the current step (snapshots taken before the update): L × M × D. */
  readonly Uk: Float64Array; readonly Vk: Float64Array;
  /** Twin p̄, σ(p̄), σ′(p̄), q̄ at the current step: L × M × N. */
  readonly Pbar: Float64Array; readonly Sbar: Float64Array; readonly dSbar: Float64Array; readonly Qbar: Float64Array;
  /** Finite q_{ℓj,n} = v_{ℓj,k}ᵀ b_{ℓ,n}/D at the current step: L × M × N (p is eng.P). */
  readonly Q: Float64Array;
  /** Observables of the current step: weight, p, q distances per layer; output gap. */
  readonly weightDist: Float64Array; readonly pDist: Float64Array; readonly qDist: Float64Array;
  outputGap = 0;
  loss = NaN;
  /** Step index of the state exposed by the last step() call (−1 before the first). */
  k = -1;
  /** Whether the twins are simulated (false: finite model only, distances are NaN). */
  readonly twins: boolean;
  private readonly ru: number; private readonly rv: number;
  private stepped = false;

  constructor(problem: Problem, limit: LimitFields, weights: ResNetWeights, options: { twins?: boolean } = {}) {
    const M = weights.M;
    const pm = problemAtWidth(problem, M);
    this.problem = pm;
    this.limit = limit;
    const { L, D } = pm.model;
    const N = pm.data.N;
    if (limit.L !== L || limit.D !== D || limit.N !== N) {
      throw new ValidationError("limit", `was solved for L = ${limit.L}, D = ${limit.D}, N = ${limit.N} but the problem has L = ${L}, D = ${D}, N = ${N}`);
    }
    const w: ResNetWeights = { ...weights, WE: Float64Array.from(weights.WE), WU: Float64Array.from(weights.WU), U: Float64Array.from(weights.U), V: Float64Array.from(weights.V) };
    this.eng = new ResNetEngine(pm, w, { threads: 1 });
    this.L = L; this.M = M; this.D = D; this.N = N; this.dOut = pm.data.dOut;
    this.twins = options.twins ?? true;
    const LMD = L * M * D, LMN = L * M * N;
    this.U0 = Float64Array.from(w.U); this.V0 = Float64Array.from(w.V);
    this.Uk = new Float64Array(LMD); this.Vk = new Float64Array(LMD);
    this.Ubar = this.twins ? Float64Array.from(w.U) : new Float64Array(0);
    this.Vbar = this.twins ? Float64Array.from(w.V) : new Float64Array(0);
    const tw = this.twins ? LMN : 0;
    this.Pbar = new Float64Array(tw); this.Sbar = new Float64Array(tw); this.dSbar = new Float64Array(tw); this.Qbar = new Float64Array(tw);
    this.Q = new Float64Array(LMN);
    this.weightDist = new Float64Array(L); this.pDist = new Float64Array(L); this.qDist = new Float64Array(L);
    const { alpha } = pm.model;
    this.ru = pm.train.etaU / (alpha * N);
    this.rv = pm.train.etaV / (alpha * N);
  }

  /**
   * Step k = this.k + 1: forward and backward passes of the finite model at θ_k
   * and the GD update to θ_{k+1} (the engine), the twins' preactivations at θ̄_k,
   * and the observables of step k. The twins are updated by advance().
   */
  step(): void {
    if (this.stepped) throw new ValidationError("CoupledSystem.step()", "call advance() first");
    const k = this.k + 1;
    if (k >= this.limit.K) throw new ValidationError("steps", `step ${k} is beyond the limit solve's ${this.limit.K} steps`);
    const { eng, L, M, D, N, dOut, limit, Uk, Vk, Q } = this;
    const act = this.problem.model.activation;
    const loss = eng.forward();
    const where = `(finite model of the coupling, M = ${M})`;
    const inContext = (e: unknown) => (e instanceof DivergenceError ? new DivergenceError(e.step, `${e.quantity} ${where}`, e.detail) : e);
    try {
      checkForward(eng, k, loss);
    } catch (e) {
      throw inContext(e);
    }
    this.loss = loss;
    Uk.set(eng.U); Vk.set(eng.V);
    eng.backwardAndUpdate();
    try {
      checkBackward(eng, k);
    } catch (e) {
      throw inContext(e);
    }
    const ND = N * D;
    const MD = M * D, MN = M * N;
    const invD = 1 / D;
    // finite q from θ_k and b_k
    for (let l = 0; l < L; l++) {
      const bo = (l + 1) * ND;
      for (let j = 0; j < M; j++) {
        const zo = unitRow(M, D, l, j), po = unitPoint(M, N, l, j, 0);
        for (let n = 0; n < N; n++) Q[po + n] = dot(Vk, zo, eng.B, bo + n * D, D) * invD;
      }
    }
    // output gap
    const fOff = k * dOut * N;
    let g = 0;
    for (let i = 0; i < dOut * N; i++) { const d = eng.F[i] - limit.f[fOff + i]; g += d * d; }
    this.outputGap = Math.sqrt(g / (dOut * N));
    if (!Number.isFinite(this.outputGap)) throw new DivergenceError(k, `output gap |f − f̄| (coupling, M = ${M})`, `the finite outputs are finite, the limit's are ${limit.f.subarray(fOff, fOff + dOut * N).find((x) => !Number.isFinite(x)) ?? "finite"}`);
    if (this.twins) {
      const { Ubar, Vbar, Pbar, Sbar, dSbar, Qbar } = this;
      const hk = k * (L + 1) * ND;
      for (let l = 0; l < L; l++) {
        twinPreactivations(Ubar, Vbar, l * MD, 0, M, D, N, limit.h, hk + l * ND, limit.b, hk + (l + 1) * ND, act, Pbar, Sbar, dSbar, Qbar, l * MN);
        let wd = 0, pd = 0, qd = 0;
        for (let i = l * MD; i < (l + 1) * MD; i++) {
          const du = Uk[i] - Ubar[i], dv = Vk[i] - Vbar[i];
          wd += du * du + dv * dv;
        }
        for (let i = l * MN; i < (l + 1) * MN; i++) {
          const dp = eng.P[i] - Pbar[i], dq = Q[i] - Qbar[i];
          pd += dp * dp; qd += dq * dq;
        }
        this.weightDist[l] = wd / (M * D);
        this.pDist[l] = pd / MN;
        this.qDist[l] = qd / MN;
        for (const [name, v] of [["weight distance", this.weightDist[l]], ["p distance", this.pDist[l]], ["q distance", this.qDist[l]]] as const) {
          if (!Number.isFinite(v)) throw new DivergenceError(k, `${name} of the twins (coupling, layer ${l + 1}, M = ${M})`, `${name} = ${v}: the twins' state left double precision`);
        }
      }
    } else {
      this.weightDist.fill(NaN); this.pDist.fill(NaN); this.qDist.fill(NaN);
    }
    this.k = k;
    this.stepped = true;
  }

  /** Update the twins θ̄_k → θ̄_{k+1} with the limit fields of step k (after step()). */
  advance(): void {
    if (!this.stepped) throw new ValidationError("CoupledSystem.advance()", "call step() first");
    if (this.twins) {
      const { L, M, D, N, limit, Ubar, Vbar, Sbar, dSbar, Qbar } = this;
      const ND = N * D, MD = M * D, MN = M * N;
      const hk = this.k * (L + 1) * ND;
      for (let l = 0; l < L; l++) {
        twinUpdate(Ubar, Vbar, l * MD, 0, M, D, N, limit.h, hk + l * ND, limit.b, hk + (l + 1) * ND, Sbar, dSbar, Qbar, l * MN, this.ru, this.rv);
      }
    }
    this.stepped = false;
  }

  /** Finite preactivations p_{ℓj,n} at the current step: L × M × N (the engine's buffer). */
  get P(): Float64Array {
    return this.eng.P;
  }
  /** Finite outputs f_k (d_out × N). */
  get F(): Float64Array {
    return this.eng.F;
  }
}

/** Per-step observables of one coupled run (arrays [K][L] flattened k-major, and [K]). */
export interface CoupledRunResult {
  M: number;
  seed: number;
  K: number;
  L: number;
  weightDist: Float64Array;
  pDist: Float64Array;
  qDist: Float64Array;
  outputGap: Float64Array;
  loss: Float64Array;
  /** Twins ū, v̄ at the last step K−1 (L × M × D), for inspection. */
  Ubar: Float64Array;
  Vbar: Float64Array;
}

/**
 * One coupled run of K = limit.K steps (or `steps`): the finite model of width
 * weights.M and its twins. `onStep(sys)` is called at every step k with the
 * state of step k exposed (before the twins advance).
 */
export function coupledRun(problem: Problem, limit: LimitFields, weights: ResNetWeights, opts: { steps?: number; twins?: boolean; onStep?: (sys: CoupledSystem) => void } = {}): CoupledRunResult {
  const K = opts.steps ?? limit.K;
  positiveInt("steps", K);
  if (K > limit.K) throw new ValidationError("steps", `is ${K} but the limit was solved for ${limit.K} steps`);
  const sys = new CoupledSystem(problem, limit, weights, { twins: opts.twins });
  const { L } = sys;
  const res: CoupledRunResult = {
    M: sys.M, seed: -1, K, L,
    weightDist: new Float64Array(K * L), pDist: new Float64Array(K * L), qDist: new Float64Array(K * L),
    outputGap: new Float64Array(K), loss: new Float64Array(K), Ubar: sys.Ubar, Vbar: sys.Vbar,
  };
  for (let k = 0; k < K; k++) {
    sys.step();
    res.weightDist.set(sys.weightDist, k * L);
    res.pDist.set(sys.pDist, k * L);
    res.qDist.set(sys.qDist, k * L);
    res.outputGap[k] = sys.outputGap;
    res.loss[k] = sys.loss;
    opts.onStep?.(sys);
    if (k < K - 1) sys.advance();
  }
  return res;
}
