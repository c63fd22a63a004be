/**
 * Bounds computed from the same quantities a proof uses (MATH §6): Grönwall
 * constants of the Mean ODE flow and of the finite ResNet, Lipschitz
 * constants of the skeleton maps, recursive ψ₂ bounds of p, q and of the
 * weight movement, and a Lipschitz constant of the finite ResNet's GD map in
 * its initial weights. Derivations and assumptions: docs/verifying-a-lemma.md
 * ("Bounds"). Every bound here is rigorous up to floating-point round-off of
 * its own evaluation (operator norms are computed by a Jacobi eigensolver and
 * inflated by a relative 1e-10).
 *
 * Norms: Euclidean on vectors, Euclidean (Frobenius) on stacked weights,
 * operator (spectral) norm ‖·‖ on matrices.
 */
import { ValidationError } from "../core/errors.ts";
import type { Activation } from "../core/activations.ts";
import { resolveActivation } from "../core/activations.ts";
import { DepthGrid, type Scheme } from "../depth/grid.ts";
import type { ParticleMeanOde } from "../particles/mean-ode.ts";
import type { Problem } from "../problem/problem.ts";
import { checkRequirement } from "../problem/algorithm.ts";
import { cloneWeights, type ResNetWeights } from "../resnet/weights.ts";
import { gdStep } from "../resnet/solver.ts";
import { EigenWorkspace, symEigen } from "../skeleton/linalg.ts";
import { resolveParams, skeletonMaps, type SkeletonParams } from "../skeleton/maps.ts";

const SQRT_8_3 = Math.sqrt(8 / 3);
const INV_SQRT_LN2 = 1 / Math.sqrt(Math.LN2);
/** Relative inflation of computed operator norms (covers Jacobi round-off). */
const OP_SLACK = 1 + 1e-10;

// ------------------------------------------------------------------ linear algebra helpers

/** Largest eigenvalue and its eigenvector of a symmetric n×n matrix (row-major), Jacobi. */
function topEigen(S: Float64Array, n: number): { value: number; vector: Float64Array } {
  if (n === 0) return { value: 0, vector: new Float64Array(0) };
  const ws = new EigenWorkspace(n);
  symEigen(S, ws);
  let best = 0;
  for (let i = 1; i < n; i++) if (ws.w[i] > ws.w[best]) best = i;
  const vector = new Float64Array(n);
  for (let i = 0; i < n; i++) vector[i] = ws.v[i * n + best];
  return { value: ws.w[best], vector };
}

/**
 * Operator norm of a rows×cols matrix A (row-major, from `off`), optionally
 * with rows scaled by √rowWeight: ‖diag(√w) A‖. Computed as the square root
 * of the top eigenvalue of the smaller Gram matrix, inflated by 1e-10 relative.
 */
export function opNorm(A: ArrayLike<number>, rows: number, cols: number, rowWeight?: ArrayLike<number>, off = 0): number {
  const w = (i: number) => (rowWeight ? rowWeight[i] : 1);
  let S: Float64Array, n: number;
  if (cols <= rows) {
    n = cols;
    S = new Float64Array(n * n);
    for (let i = 0; i < rows; i++) {
      const wi = w(i);
      if (wi === 0) continue;
      const o = off + i * cols;
      for (let a = 0; a < n; a++) {
        const x = wi * A[o + a];
        if (x === 0) continue;
        for (let b = a; b < n; b++) S[a * n + b] += x * A[o + b];
      }
    }
  } else {
    n = rows;
    S = new Float64Array(n * n);
    for (let a = 0; a < n; a++)
      for (let b = a; b < n; b++) {
        let s = 0;
        for (let c = 0; c < cols; c++) s += A[off + a * cols + c] * A[off + b * cols + c];
        S[a * n + b] = Math.sqrt(w(a) * w(b)) * s;
      }
  }
  for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) S[b * n + a] = S[a * n + b];
  const { value } = topEigen(S, n);
  return Math.sqrt(Math.max(0, value)) * OP_SLACK;
}

/** Top singular value and right singular vector of a rows×cols matrix (row-major). */
export function topSingular(A: ArrayLike<number>, rows: number, cols: number): { value: number; right: Float64Array } {
  const S = new Float64Array(cols * cols);
  for (let i = 0; i < rows; i++)
    for (let a = 0; a < cols; a++) {
      const x = A[i * cols + a];
      if (x === 0) continue;
      for (let b = 0; b < cols; b++) S[a * cols + b] += x * A[i * cols + b];
    }
  const { value, vector } = topEigen(S, cols);
  return { value: Math.sqrt(Math.max(0, value)), right: vector };
}

const norm2 = (a: ArrayLike<number>, off = 0, len = a.length - off): number => {
  let s = 0;
  for (let i = off; i < off + len; i++) s += a[i] * a[i];
  return Math.sqrt(s);
};

// ------------------------------------------------------------------ activation suprema on intervals

/**
 * sup{|σ′(p)| : p ∈ [min(a,b), max(a,b)]} — exact for tanh (1 − tanh²(dist(0, I))),
 * linear and sin (1 if I contains a multiple of π, else the larger endpoint value);
 * otherwise max(|σ′(a)|, |σ′(b)|) + sup|σ″|·|b − a|/2, capped at sup|σ′|.
 */
export function supAbsDfOnInterval(act: Activation, a: number, b: number): number {
  const lo = Math.min(a, b), hi = Math.max(a, b);
  switch (act.kind) {
    case 0: {
      if (lo <= 0 && hi >= 0) return 1;
      const t = Math.tanh(Math.min(Math.abs(lo), Math.abs(hi)));
      return (1 - t * t) * (1 + 1e-15) + 1e-300;
    }
    case 1: return 1;
    case 3: {
      if (Math.floor(hi / Math.PI) >= Math.ceil(lo / Math.PI)) return 1;
      return Math.min(1, Math.max(Math.abs(Math.cos(lo)), Math.abs(Math.cos(hi))) * (1 + 1e-15) + 1e-16);
    }
    default: {
      const s1 = act.sup.df, s2 = act.sup.d2f;
      const ends = Math.max(Math.abs(act.df(lo)), Math.abs(act.df(hi)));
      return Math.min(s1, Number.isFinite(s2) ? ends + (s2 * (hi - lo)) / 2 : Infinity);
    }
  }
}

// ------------------------------------------------------------------ (a) Grönwall: particle fields and flows

export interface FieldLipschitz {
  /** min(moment, operator): a Lipschitz constant of the field (or a bound on its Jacobian's norm). */
  bound: number;
  /** (α/(PD)) Σ_i m_i |u_i| |v_i|. */
  moment: number;
  /** (α/(PD)) ‖diag(√m) U‖ ‖diag(√m) V‖. */
  operator: number;
}

/**
 * Bound on ‖(α/(PD)) Σ_i c_i v_i u_iᵀ‖ over all c with |c_i| ≤ m_i — the
 * Jacobian of the particle field h ↦ α (1/P) Σ_i v_i σ(u_iᵀh/D) when
 * m_i ≥ sup|σ′| along the region (P × D row-major U, V from `off`):
 *   min( (α/(PD)) Σ m_i |u_i||v_i| ,  (α/(PD)) ‖diag(√m)U‖ ‖diag(√m)V‖ ).
 * The second uses diag(c) = diag(√m) diag(c/m) diag(√m) with ‖diag(c/m)‖ ≤ 1.
 * `m` a number applies the same weight to every particle (the a-priori s₁).
 */
export function particleFieldLipschitz(U: ArrayLike<number>, V: ArrayLike<number>, P: number, D: number, alpha: number, m: number | ArrayLike<number>, off = 0): FieldLipschitz {
  const mi = (i: number) => (typeof m === "number" ? m : m[i]);
  let moment = 0;
  for (let i = 0; i < P; i++) {
    const w = mi(i);
    if (w === 0) continue;
    moment += w * norm2(U, off + i * D, D) * norm2(V, off + i * D, D);
  }
  const weights = typeof m === "number" ? undefined : m;
  const scalar = typeof m === "number" ? m : 1;
  const operator = scalar * opNorm(U, P, D, weights, off) * opNorm(V, P, D, weights, off);
  const c = Math.abs(alpha) / (P * D);
  moment *= c * OP_SLACK;
  const op = c * operator;
  return { bound: Math.min(moment, op), moment, operator: op };
}

/** The field slots of the stages of one depth step, in order, as the integrator visits them. */
export function stepStages(grid: DepthGrid, direction: 1 | -1, step: number): number[] {
  const S = grid.S;
  const i0 = direction === 1 ? step : S - step;
  const i1 = i0 + direction;
  switch (grid.scheme) {
    case "euler": return [i0];
    case "staggered-euler": return [Math.min(i0, i1)];
    case "heun": return [i0, i1];
    case "rk4": return [2 * i0, 2 * i0 + direction, 2 * i1];
  }
}

/**
 * Lipschitz factor of one explicit step y ↦ y + h Σ b_s k_s given bounds Λ_s on
 * the field's Lipschitz constant at each stage (mean-value theorem stage by
 * stage; |k_s(y) − k_s(y′)| ≤ Λ_s |stage(y) − stage(y′)|):
 *   euler:  1 + hΛ
 *   heun:   1 + hΛ₁/2 + hΛ₂(1 + hΛ₁)/2                ≤ exp(h(Λ₁+Λ₂)/2)
 *   rk4:    k₁ = Λ₁, k₂ = Λ₂(1 + hk₁/2), k₃ = Λ₂(1 + hk₂/2), k₄ = Λ₃(1 + hk₃),
 *           1 + h(k₁ + 2k₂ + 2k₃ + k₄)/6                 ≤ exp(h max Λ)
 */
export function stepFactor(scheme: Scheme, h: number, lam: number[]): number {
  switch (scheme) {
    case "euler": case "staggered-euler": return 1 + h * lam[0];
    case "heun": return 1 + (h * lam[0]) / 2 + (h * lam[1] * (1 + h * lam[0])) / 2;
    case "rk4": {
      const k1 = lam[0], k2 = lam[1] * (1 + (h * k1) / 2), k3 = lam[1] * (1 + (h * k2) / 2), k4 = lam[2] * (1 + h * k3);
      return 1 + (h * (k1 + 2 * k2 + 2 * k3 + k4)) / 6;
    }
  }
}

export interface FlowBound {
  /** Discrete Grönwall bound: Π over steps of stepFactor — a Lipschitz constant of the computed flow. */
  bound: number;
  /** exp(Σ_steps h·max_stage Λ) ≥ bound: the continuous-time Grönwall form. */
  exponential: number;
  /** Per-step factors, in integration order. */
  factors: number[];
  /** Λ at every field slot (max over data points where relevant). */
  lambda: number[];
}

/**
 * Discrete Grönwall over a depth grid: the Lipschitz constant of the map from
 * the start value to the value at the last node reached after `steps` steps
 * (default: all, i.e. h(0) ↦ h(1) or b(1) ↦ b(0)), given Λ per slot.
 */
export function discreteGronwall(grid: DepthGrid, direction: 1 | -1, lambda: ArrayLike<number>, steps = grid.S): FlowBound {
  const factors: number[] = [];
  let bound = 1, expo = 0;
  const h = grid.ds;
  for (let st = 0; st < steps; st++) {
    const lam = stepStages(grid, direction, st).map((s) => lambda[s]);
    const f = stepFactor(grid.scheme, h, lam);
    factors.push(f);
    bound *= f;
    expo += h * Math.max(...lam);
  }
  return { bound, exponential: Math.exp(expo), factors, lambda: Array.from(lambda) };
}

/**
 * A-priori Grönwall bound of a particle Mean ODE flow at the current step
 * (after ode.forward() for "backward"):
 *  - forward, h(0) ↦ h(1): Λ_slot = particleFieldLipschitz(U_slot, V_slot, α, sup|σ′|)
 *    (valid for every input: only sup|σ′| and the particle moments enter);
 *  - backward, b(1) ↦ b(0): the backward field −α(1/P)Σ u σ′(p_n) vᵀb/D is linear in b
 *    with the p's of the stored forward solve, so Λ_slot = max_n of the same expression
 *    with m_i = |σ′(p_{i,n})| (u and v exchange roles) — exact coefficients.
 * Data points evolve independently, so the bound holds for the stacked (R^D)^N map.
 */
export function meanOdeFlowBound(ode: ParticleMeanOde, direction: "forward" | "backward" = "forward"): FlowBound {
  const { P, D, N, slots } = ode;
  const alpha = ode.problem.model.alpha, act = ode.problem.model.activation;
  const lambda = new Array<number>(slots).fill(0);
  const m = new Float64Array(P);
  for (let slot = 0; slot < slots; slot++) {
    const off = slot * P * D;
    if (direction === "forward") lambda[slot] = particleFieldLipschitz(ode.U, ode.V, P, D, alpha, act.sup.df, off).bound;
    else {
      for (let n = 0; n < N; n++) {
        for (let i = 0; i < P; i++) m[i] = Math.abs(ode.dSig[slot * P * N + i * N + n]);
        lambda[slot] = Math.max(lambda[slot], particleFieldLipschitz(ode.V, ode.U, P, D, alpha, m, off).bound);
      }
    }
  }
  return discreteGronwall(ode.grid, direction === "forward" ? 1 : -1, lambda);
}

/** p_{i,n} = u_iᵀ y_n / D for the particles of `slot` (P × N). */
function preAt(ode: ParticleMeanOde, slot: number, y: Float64Array, yOff: number): Float64Array {
  const { P, D, N, U } = ode;
  const out = new Float64Array(P * N);
  const uo = slot * P * D;
  for (let i = 0; i < P; i++)
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += U[uo + i * D + d] * y[yOff + n * D + d];
      out[i * N + n] = s / D;
    }
  return out;
}

/** Heun predictor y + h F_slot(y) of the forward field. */
function predictor(ode: ParticleMeanOde, slot: number, y: Float64Array, yOff: number, h: number): Float64Array {
  const { P, D, N, V } = ode;
  const act = ode.problem.model.activation, alpha = ode.problem.model.alpha;
  const pre = preAt(ode, slot, y, yOff);
  const out = Float64Array.from(y.subarray(yOff, yOff + N * D));
  const vo = slot * P * D;
  for (let i = 0; i < P; i++)
    for (let n = 0; n < N; n++) {
      const w = (h * alpha * act.f(pre[i * N + n])) / P;
      for (let d = 0; d < D; d++) out[n * D + d] += w * V[vo + i * D + d];
    }
  return out;
}

/**
 * A-posteriori ("segment") Grönwall bound of the forward flow for ONE pair of
 * inputs: `a` and `b` are two ParticleMeanOde with the same particles and grid,
 * after forward() on their inputs. At every stage the field's Lipschitz
 * constant on the segment between the two stage values is bounded with
 * m_i = sup|σ′| over the interval between the particle's two preactivations
 * (the segment maps onto that interval), so
 *   |h_a(1) − h_b(1)| ≤ bound · |h_a(0) − h_b(0)|
 * rigorously for this pair. Schemes: euler, staggered-euler, heun (stage
 * values recomputed from the stored nodes); rk4 → use meanOdeFlowBound.
 */
export function meanOdeFlowBoundForPair(a: ParticleMeanOde, b: ParticleMeanOde): FlowBound {
  const grid = a.grid;
  if (grid.scheme === "rk4") throw new ValidationError("grid.scheme", "meanOdeFlowBoundForPair: the segment bound is implemented for euler, staggered-euler and heun; use meanOdeFlowBound (a priori) for rk4");
  if (b.grid.scheme !== grid.scheme || b.grid.S !== grid.S || a.P !== b.P || a.D !== b.D || a.N !== b.N) throw new ValidationError("b", "meanOdeFlowBoundForPair: the two solvers must share grid, particles and shapes");
  const { P, D, N } = a;
  const alpha = a.problem.model.alpha, act = a.problem.model.activation;
  const h = grid.ds, ND = N * D;
  const m = new Float64Array(P);
  const lamOf = (slot: number, pa: Float64Array, pb: Float64Array): number => {
    let lam = 0;
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < P; i++) m[i] = supAbsDfOnInterval(act, pa[i * N + n], pb[i * N + n]);
      lam = Math.max(lam, particleFieldLipschitz(a.U, a.V, P, D, alpha, m, slot * P * D).bound);
    }
    return lam;
  };
  const factors: number[] = [];
  const lambda = new Array<number>(a.slots).fill(0);
  let bound = 1, expo = 0;
  for (let st = 0; st < grid.S; st++) {
    const stages = stepStages(grid, 1, st);
    const node = st; // forward: step st starts at grid node st (= node index for these schemes)
    const l1 = lamOf(stages[0], preAt(a, stages[0], a.H, node * ND), preAt(b, stages[0], b.H, node * ND));
    const lam = [l1];
    if (grid.scheme === "heun") {
      const ya = predictor(a, stages[0], a.H, node * ND, h), yb = predictor(b, stages[0], b.H, node * ND, h);
      lam.push(lamOf(stages[1], preAt(a, stages[1], ya, 0), preAt(b, stages[1], yb, 0)));
    }
    stages.forEach((s, i) => { lambda[s] = Math.max(lambda[s], lam[i]); });
    const f = stepFactor(grid.scheme, h, lam);
    factors.push(f);
    bound *= f;
    expo += h * Math.max(...lam);
  }
  return { bound, exponential: Math.exp(expo), factors, lambda };
}

export interface ResNetForwardBound {
  /** Lipschitz constant of h_0 ↦ h_L: Π_ℓ (1 + Λ_ℓ). */
  hidden: number;
  /** Lipschitz constant of x ↦ f = W_Uᵀ h_L(W_E x)/D: ‖W_U‖ hidden ‖W_E‖ / D. */
  output: number;
  /** Λ_ℓ = (α/(LMD)) min(Σ_j m_j|u_j||v_j|, ‖√m U_ℓ‖‖√m V_ℓ‖). */
  lambda: number[];
  normWE: number;
  normWU: number;
}

/**
 * Discrete Grönwall for the finite ResNet at fixed weights (MATH §1): each
 * block h ↦ h + (α/(LM)) V σ(Uᵀh/D) has Jacobian I + (α/(LMD)) V diag(σ′) Uᵀ,
 * so Lip(h_0 ↦ h_L) ≤ Π_ℓ (1 + Λ_ℓ) with m_j = sup|σ′| (a priori), or — given a
 * pair of inputs x, y — m_{ℓj} = sup|σ′| between p_{ℓj}(x) and p_{ℓj}(y) (the segment
 * [h_{ℓ−1}(x), h_{ℓ−1}(y)] maps onto that interval): a bound for that pair only.
 * Inputs x, y are single data points (length d_in).
 */
export function resnetForwardBound(problem: Problem, w: ResNetWeights, pair?: { x: ArrayLike<number>; y: ArrayLike<number> }): ResNetForwardBound {
  const { L, M, D, alpha, activation: act } = problem.model;
  const { dIn, dOut } = problem.data;
  const lambda: number[] = [];
  let hidden = 1;
  let ha: Float64Array | null = null, hb: Float64Array | null = null;
  const embed = (x: ArrayLike<number>) => {
    const h = new Float64Array(D);
    for (let d = 0; d < D; d++) { let s = 0; for (let i = 0; i < dIn; i++) s += w.WE[d * dIn + i] * x[i]; h[d] = s; }
    return h;
  };
  if (pair) { ha = embed(pair.x); hb = embed(pair.y); }
  const m = new Float64Array(M);
  const pre = (h: Float64Array, l: number, j: number) => { let s = 0; const o = (l * M + j) * D; for (let d = 0; d < D; d++) s += w.U[o + d] * h[d]; return s / D; };
  const step = (h: Float64Array, l: number) => {
    const out = Float64Array.from(h);
    const c = alpha / (L * M);
    for (let j = 0; j < M; j++) {
      const s = act.f(pre(h, l, j)), o = (l * M + j) * D;
      for (let d = 0; d < D; d++) out[d] += c * s * w.V[o + d];
    }
    return out;
  };
  for (let l = 0; l < L; l++) {
    let mm: number | Float64Array = act.sup.df;
    if (ha && hb) {
      for (let j = 0; j < M; j++) m[j] = supAbsDfOnInterval(act, pre(ha, l, j), pre(hb, l, j));
      mm = m;
    }
    // particleFieldLipschitz has the factor α/(PD) with P = M; the block carries an extra 1/L
    const lam = particleFieldLipschitz(w.U, w.V, M, D, alpha, mm, l * M * D).bound / L;
    lambda.push(lam);
    hidden *= 1 + lam;
    if (ha && hb) { ha = step(ha, l); hb = step(hb, l); }
  }
  const normWE = opNorm(w.WE, D, dIn), normWU = opNorm(w.WU, D, dOut);
  return { hidden, output: (normWU * hidden * normWE) / D, lambda, normWE, normWU };
}

// ------------------------------------------------------------------ (b) skeleton maps

export interface SkeletonBoundInput {
  k: number;
  N: number;
  nB: number;
  gammaH: ArrayLike<number>;
  gammaB: ArrayLike<number>;
  params: SkeletonParams;
}

export interface SkeletonLipschitzBound {
  /** Lipschitz constant of G ↦ (p, q) (Euclidean norms) on the box. */
  bound: number;
  /** Whether bound is the exact constant (linear σ: ‖J‖_op, J constant). */
  exact: boolean;
  /** sup over the box of |p_a|, |q_a| (the induction's value bounds). */
  pSup: Float64Array;
  qSup: Float64Array;
  /** Block-level gain matrix T (2(k+1) × 2(k+1)... rows: p_0..p_k, q_0..q_{nB−1}; cols: G^u blocks then G^v blocks). */
  T: Float64Array;
  rows: number;
  cols: number;
  /** Top right singular vector of J (linear σ only), for the attainment check. */
  direction?: Float64Array;
}

function blockOpNorm(G: ArrayLike<number>, n: number, N: number, i: number, j: number): number {
  // ‖Γ[(i,·),(j,·)]‖ for the N×N block, rows (i,m), cols (j,n)
  const blk = new Float64Array(N * N);
  for (let m = 0; m < N; m++) for (let q = 0; q < N; q++) blk[m * N + q] = G[(i * N + m) * n + j * N + q];
  return opNorm(blk, N, N);
}

/**
 * Lipschitz bound of the skeleton maps G ↦ (p, q) (MATH §3) on the box
 * {G : |G_a| ≤ box_a} (a number: the same radius for every coordinate; a ball
 * |G| ≤ R lies in the box of radius R; a segment [x, y] lies in the box
 * box_a = max(|x_a|, |y_a|)). Induction over steps with block norms
 * (derivation: docs/verifying-a-lemma.md, "Bounds"):
 *   value bounds  P_a ≤ box^u_a + |c_u| Σ_{a′} |ΓH_{a′a}| s₁ Q_{a′},
 *                 Q_a ≤ box^v_a + |c_v| Σ_{a′} |ΓB_{a′a}| min(s₀, |σ(0)| + s₁ P_{a′})
 *   derivatives   |dp_j| ≤ |dG^u_j| + |c_u| Σ_{i<j} ‖ΓH_{ij}‖ (s₂ Q̄_i |dp_i| + s₁ |dq_i|)
 *                 |dq_j| ≤ |dG^v_j| + |c_v| Σ_{i<j} ‖ΓB_{ij}‖ s₁ |dp_i|
 * with c_u = η_u/(αN), c_v = η_v/(αN), Q̄_i = max_m Q_{(i,m)}, s_r = sup|σ^{(r)}|.
 * This gives a non-negative matrix T with (|dp_j|, |dq_j|)_j ≤ T (|dG^u_j|, |dG^v_j|)_j,
 * so Lip ≤ ‖T‖. For linear σ the maps are linear and the exact constant
 * ‖∂(p,q)/∂G‖ is returned instead (exact: true), with its top right singular vector.
 * The σ″ term needs Q̄ < ∞: without a box (box = Infinity) the bound is finite
 * only when s₂ = 0 or η_u = 0 (σ′(p)q is not globally Lipschitz).
 */
export function skeletonLipschitzBound(inp: SkeletonBoundInput & { box?: number | ArrayLike<number> }): SkeletonLipschitzBound {
  const { k, N, nB } = inp;
  const rp = resolveParams(inp.params);
  const act = rp.activation;
  const nU = (k + 1) * N, nV = nB * N, dimG = nU + nV;
  const GH = inp.gammaH, GB = inp.gammaB;
  const cu = Math.abs(rp.etaU / (rp.alpha * N)), cv = Math.abs(rp.etaV / (rp.alpha * N));
  const s0 = act.sup.f, s1 = act.sup.df, s2 = act.sup.d2f, sig0 = Math.abs(act.f(0));
  const boxAt = (c: number) => (inp.box === undefined ? Infinity : typeof inp.box === "number" ? inp.box : inp.box[c]);
  // value bounds
  const pSup = new Float64Array(nU), qSup = new Float64Array(nV);
  for (let j = 0; j <= k; j++) {
    for (let n = 0; n < N; n++) {
      const r = j * N + n;
      let acc = boxAt(r);
      for (let a = 0; a < j * N; a++) if (cu !== 0 && GH[a * nU + r] !== 0) acc += cu * Math.abs(GH[a * nU + r]) * s1 * qSup[a];
      pSup[r] = acc;
    }
    if (j < nB) for (let n = 0; n < N; n++) {
      const r = j * N + n;
      let acc = boxAt(nU + r);
      for (let a = 0; a < j * N; a++) if (cv !== 0 && GB[a * nV + r] !== 0) acc += cv * Math.abs(GB[a * nV + r]) * Math.min(s0, sig0 + s1 * pSup[a]);
      qSup[r] = acc;
    }
  }
  // block gain matrix: rows p_0..p_k (k+1), q_0..q_{nB-1} (nB); cols G^u blocks (k+1), G^v blocks (nB)
  const rows = k + 1 + nB, cols = k + 1 + nB;
  const T = new Float64Array(rows * cols);
  const rowP = (j: number) => T.subarray(j * cols, (j + 1) * cols);
  const rowQ = (j: number) => T.subarray((k + 1 + j) * cols, (k + 2 + j) * cols);
  for (let j = 0; j <= k; j++) {
    const rp_ = rowP(j);
    rp_[j] = 1;
    for (let i = 0; i < j; i++) {
      const g = blockOpNorm(GH, nU, N, i, j);
      if (g === 0 || cu === 0) continue;
      let qbar = 0;
      for (let m = 0; m < N; m++) qbar = Math.max(qbar, qSup[i * N + m]);
      const cp = s2 === 0 || qbar === 0 ? 0 : s2 * qbar; // 0·∞ = 0 when σ″ ≡ 0
      const ri = rowP(i), qi = rowQ(i);
      for (let c = 0; c < cols; c++) {
        const add = cu * g * ((cp === 0 || ri[c] === 0 ? 0 : cp * ri[c]) + s1 * qi[c]);
        if (add !== 0) rp_[c] += add;
      }
    }
    if (j < nB) {
      const rq = rowQ(j);
      rq[k + 1 + j] = 1;
      for (let i = 0; i < j; i++) {
        const g = blockOpNorm(GB, nV, N, i, j);
        if (g === 0 || cv === 0) continue;
        const ri = rowP(i);
        for (let c = 0; c < cols; c++) rq[c] += cv * g * s1 * ri[c];
      }
    }
  }
  const out: SkeletonLipschitzBound = { bound: NaN, exact: false, pSup, qSup, T, rows, cols };
  if (act.kind === 1) {
    const s = skeletonMaps(k, N, nB, Float64Array.from(GH), Float64Array.from(GB), inp.params, new Float64Array(dimG));
    const J = new Float64Array((nU + nV) * dimG);
    J.set(s.dpdG, 0);
    J.set(s.dqdG, nU * dimG);
    const top = topSingular(J, nU + nV, dimG);
    out.bound = top.value * OP_SLACK;
    out.exact = true;
    out.direction = top.right;
    return out;
  }
  out.bound = T.every(Number.isFinite) ? opNorm(T, rows, cols) : Infinity;
  return out;
}

/** skeletonLipschitzBound on the segment [x, y] (box_a = max(|x_a|, |y_a|)): a bound for that pair. */
export function skeletonLipschitzOnSegment(inp: SkeletonBoundInput, x: ArrayLike<number>, y: ArrayLike<number>): number {
  const box = Float64Array.from({ length: x.length }, (_, i) => Math.max(Math.abs(x[i]), Math.abs(y[i])));
  return skeletonLipschitzBound({ ...inp, box }).bound;
}

// ------------------------------------------------------------------ (c) ψ₂ bounds

export interface SkeletonPsi2Bounds {
  /** ψ₂(p_a), a = j·N + n, j ≤ k. */
  p: Float64Array;
  /** ψ₂(q_a), j < nB. */
  q: Float64Array;
  /** ψ₂(σ(p_a)). */
  sigma: Float64Array;
  /** ψ₂(σ′(p_a) q_a) (a < nB·N). */
  dsq: Float64Array;
}

/**
 * Recursive ψ₂ bounds for the skeleton maps with G^u ~ N(0, σ_u² ΓH),
 * G^v ~ N(0, σ_v² ΓB) (any joint law with these marginals): ψ₂ is a norm
 * (triangle inequality) and monotone in |X|, a Gaussian N(0, s²) has ψ₂ = s√(8/3),
 * a constant c has ψ₂ = |c|/√ln2, so
 *   ψ(p_a) ≤ σ_u√(8/3)√ΓH_aa + |c_u| Σ_{a′} |ΓH_{a′a}| s₁ ψ(q_{a′})
 *   ψ(q_a) ≤ σ_v√(8/3)√ΓB_aa + |c_v| Σ_{a′} |ΓB_{a′a}| ψ(σ(p_{a′}))
 *   ψ(σ(p)) ≤ min(s₀, ·)/√ln2 ∧ (|σ(0)|/√ln2 + s₁ ψ(p)),   ψ(σ′(p)q) ≤ s₁ ψ(q).
 */
export function skeletonPsi2Bounds(inp: SkeletonBoundInput): SkeletonPsi2Bounds {
  const { k, N, nB } = inp;
  const rp = resolveParams(inp.params);
  const act = rp.activation;
  const nU = (k + 1) * N, nV = nB * N;
  const GH = inp.gammaH, GB = inp.gammaB;
  const cu = Math.abs(rp.etaU / (rp.alpha * N)), cv = Math.abs(rp.etaV / (rp.alpha * N));
  const s0 = act.sup.f, s1 = act.sup.df, sig0 = Math.abs(act.f(0));
  const p = new Float64Array(nU), q = new Float64Array(nV), sigma = new Float64Array(nU), dsq = new Float64Array(nV);
  for (let j = 0; j <= k; j++) {
    for (let n = 0; n < N; n++) {
      const r = j * N + n;
      let acc = rp.sigmaU * SQRT_8_3 * Math.sqrt(Math.max(0, GH[r * nU + r]));
      for (let a = 0; a < j * N; a++) acc += cu * Math.abs(GH[a * nU + r]) * dsq[a];
      p[r] = acc;
      sigma[r] = Math.min(s0 * INV_SQRT_LN2, sig0 * INV_SQRT_LN2 + s1 * acc);
    }
    if (j < nB) for (let n = 0; n < N; n++) {
      const r = j * N + n;
      let acc = rp.sigmaV * SQRT_8_3 * Math.sqrt(Math.max(0, GB[r * nV + r]));
      for (let a = 0; a < j * N; a++) acc += cv * Math.abs(GB[a * nV + r]) * sigma[a];
      q[r] = acc;
      dsq[r] = s1 * acc;
    }
  }
  return { p, q, sigma, dsq };
}

/**
 * ψ₂ bound of the weight movement projected on a fixed direction e after k
 * steps (MATH §2 update; u_k − u = −(η_u/(αN)) Σ_{j<k,n} h_{j,n} σ′(p_{j,n}) q_{j,n},
 * v_k − v = −(η_v/(αN)) Σ_{j<k,n} b_{j,n} σ(p_{j,n})):
 *   ψ(eᵀ(u_k − u)) ≤ (|η_u|/(αN)) Σ |eᵀh_{j,n}| ψ(σ′(p_{j,n})q_{j,n})
 *   ψ(eᵀ(v_k − v)) ≤ (|η_v|/(αN)) Σ |eᵀb_{j,n}| ψ(σ(p_{j,n}))
 * `hProj[j·N+n] = |eᵀh_{j,n}(s)|`, `bProj` likewise (j < k); `psi` from
 * skeletonPsi2Bounds with the Gram matrices at the same depth s. With
 * hProj = |h_{j,n}|/√D (and bProj = |b|/√D) the same sums bound ψ₂(|u_k − u|/√D).
 */
export function weightMovementPsi2Bound(opts: { psi: SkeletonPsi2Bounds; k: number; N: number; etaU: number; etaV: number; alpha: number; hProj: ArrayLike<number>; bProj: ArrayLike<number> }): { u: number; v: number } {
  const { psi, k, N, alpha } = opts;
  let u = 0, v = 0;
  for (let a = 0; a < k * N; a++) {
    u += Math.abs(opts.hProj[a]) * psi.dsq[a];
    v += Math.abs(opts.bProj[a]) * psi.sigma[a];
  }
  return { u: (Math.abs(opts.etaU) / (alpha * N)) * u, v: (Math.abs(opts.etaV) / (alpha * N)) * v };
}

/**
 * ψ₂ bound for F(g), g ~ N(0, scale² I_dim), F K-Lipschitz (Euclidean): by
 * Gaussian concentration (Tsirelson–Ibragimov–Sudakov) F − EF has variance
 * proxy (K·scale)², hence ψ₂(F − EF) ≤ √(8/3)·K·scale. If F is odd, EF = 0;
 * otherwise |EF| ≤ |F(0)| + K·scale·√dim and ψ₂(F) ≤ √(8/3)K·scale + |EF|/√ln2.
 * Used for hidden coordinates: eᵀh_L as a function of h_0 = W_E x ~ N(0, σ_in²|x|² I_D).
 */
export function gaussianLipschitzPsi2(opts: { K: number; scale: number; odd: boolean; dim?: number; f0?: number }): number {
  const base = SQRT_8_3 * opts.K * opts.scale;
  if (opts.odd) return base;
  if (opts.dim === undefined) throw new ValidationError("options.dim", "is required by gaussianLipschitzPsi2 for a non-odd map (and f0)");
  return base + (Math.abs(opts.f0 ?? 0) + opts.K * opts.scale * Math.sqrt(opts.dim)) * INV_SQRT_LN2;
}

/** Whether an activation is odd (σ(−x) = −σ(x)) — known for the built-ins tanh, linear, sin. */
export function isOddActivation(a: Activation | string): boolean {
  const act = resolveActivation(a);
  return act.kind === 0 || act.kind === 1 || act.kind === 3;
}

// ------------------------------------------------------------------ GD map of the finite ResNet

export interface GdMapBound {
  /** Lipschitz constant of θ_0 ↦ θ_K (U, V stacked, Euclidean) on the set 𝒮_0. */
  weights: number;
  /** Lipschitz constant of θ_0 ↦ f_{K−1} (all outputs, d_out × N, Euclidean). */
  outputs: number;
  /** ‖T_j‖ of each step (the per-step Lipschitz factor). */
  stepFactors: number[];
  /** Operator-norm radii ū_ℓ, v̄_ℓ of the sets 𝒮_0 … 𝒮_K. */
  radii: { u: number[]; v: number[] }[];
}

type Vec = Float64Array;

/**
 * Lipschitz constant of the finite ResNet's GD map θ_0 = (U_ℓ, V_ℓ)_ℓ ↦ θ_K
 * (and ↦ f_{K−1}) over the convex set 𝒮_0 = {‖U_ℓ‖ ≤ ū_ℓ, ‖V_ℓ‖ ≤ v̄_ℓ}, whose
 * radii are the larger operator norms of the given weight sets (so 𝒮_0
 * contains the segment between them). Assumptions: frozen embeddings
 * (η_E = η_O = 0), finite sup|σ′|, and sup|σ″| < ∞ when η_u ≠ 0; W_E, W_U, data
 * from the problem. Derivation (docs/verifying-a-lemma.md, "Bounds"): on 𝒮_j,
 * value bounds |h_ℓ| ≤ H_ℓ, |b_ℓ| ≤ B_ℓ, |q_ℓ| ≤ Q_ℓ, |σ(p_ℓ)| ≤ Σ_ℓ follow from
 * ū, v̄ alone; derivative bounds of every intermediate w.r.t. the blocks
 * (|dU_ℓ|, |dV_ℓ|) propagate through forward, backward and update (the σ″
 * term enters through σ′(p)⊙q), giving a non-negative 2L×2L matrix T_j with
 * |dθ_{j+1}| ≤ T_j |dθ_j| blockwise; 𝒮_{j+1} has radii ū + sup‖ΔU‖, v̄ + sup‖ΔV‖.
 * Then Lip ≤ ‖T_{K−1} ⋯ T_0‖ by the mean-value theorem on the segment.
 */
export function gdMapLipschitzBound(problem: Problem, a: ResNetWeights, b?: ResNetWeights): GdMapBound {
  const weights = b ? [a, b] : [a];
  const { L, M, D, alpha, activation: act } = problem.model;
  const { N, dIn, dOut, X, Y } = problem.data;
  const { etaU, etaV, steps: K } = problem.train;
  checkRequirement(problem, "frozenEmbeddings", "gdMapLipschitzBound");
  const s0 = act.sup.f, s1 = act.sup.df, s2 = act.sup.d2f, sig0 = Math.abs(act.f(0));
  if (!Number.isFinite(s1)) throw new ValidationError("model.activation", "gdMapLipschitzBound needs a finite sup|σ′|");
  if (etaU !== 0 && !Number.isFinite(s2)) throw new ValidationError("model.activation", "gdMapLipschitzBound needs a finite sup|σ″| when η_u ≠ 0");
  const w0 = weights[0];
  const c = alpha / (L * M);
  const ru = Math.abs(etaU) / (alpha * N), rv = Math.abs(etaV) / (alpha * N);
  const nb = 2 * L;
  const ub: number[] = [], vb: number[] = [];
  for (let l = 0; l < L; l++) {
    ub.push(Math.max(...weights.map((w) => opNorm(w.U, M, D, undefined, l * M * D))));
    vb.push(Math.max(...weights.map((w) => opNorm(w.V, M, D, undefined, l * M * D))));
  }
  const nWU = opNorm(w0.WU, D, dOut);
  // |h_0,n| and |y_n|
  const h0 = new Float64Array(N), yn = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    let s = 0;
    for (let d = 0; d < D; d++) { let t = 0; for (let i = 0; i < dIn; i++) t += w0.WE[d * dIn + i] * X[i * N + n]; s += t * t; }
    h0[n] = Math.sqrt(s);
    let y2 = 0;
    for (let o = 0; o < dOut; o++) y2 += Y[o * N + n] ** 2;
    yn[n] = Math.sqrt(y2);
  }
  const zero = () => new Float64Array(nb);
  const axpy = (y: Vec, a: number, x: Vec) => { if (a !== 0) for (let i = 0; i < nb; i++) y[i] += a * x[i]; return y; };
  const e = (i: number, a: number) => { const v = zero(); v[i] = a; return v; };
  // segment mode: run GD from both ends; 𝒮_j is centred on the two iterates
  const traj = b ? [cloneWeights(a), cloneWeights(b)] : null;
  let dist = 0;
  if (b) {
    for (let i = 0; i < a.U.length; i++) dist += (a.U[i] - b.U[i]) ** 2 + (a.V[i] - b.V[i]) ** 2;
    dist = Math.sqrt(dist);
  }
  const radii: GdMapBound["radii"] = [{ u: [...ub], v: [...vb] }];
  let prod: Float64Array | null = null; // nb × nb: T_{j−1} ⋯ T_0
  const stepFactors: number[] = [];
  const matmul = (A: Float64Array, B: Float64Array) => {
    const C = new Float64Array(nb * nb);
    for (let i = 0; i < nb; i++) for (let l = 0; l < nb; l++) { const a = A[i * nb + l]; if (a !== 0) for (let j = 0; j < nb; j++) C[i * nb + j] += a * B[l * nb + j]; }
    return C;
  };
  let outputs = NaN;
  for (let step = 0; step < K; step++) {
    const T = new Float64Array(nb * nb);
    for (let i = 0; i < nb; i++) T[i * nb + i] = 1;
    const dU = new Array<number>(L).fill(0), dV = new Array<number>(L).fill(0);
    const fRows: Vec[] = [];
    for (let n = 0; n < N; n++) {
      // forward values and derivative coefficient vectors
      const H: number[] = [h0[n]], Sg: number[] = [], dh: Vec[] = [zero()], dp: Vec[] = [];
      for (let l = 0; l < L; l++) {
        const sg = Math.min(s0 * Math.sqrt(M), sig0 * Math.sqrt(M) + (s1 * ub[l] * H[l]) / D);
        Sg.push(sg);
        H.push(H[l] + c * vb[l] * sg);
        const p = axpy(e(2 * l, H[l] / D), ub[l] / D, dh[l]);
        dp.push(p);
        const h = axpy(axpy(Float64Array.from(dh[l]), c * sg, e(2 * l + 1, 1)), c * vb[l] * s1, p);
        dh.push(h);
      }
      const df = Float64Array.from(dh[L]).map((x) => (x * nWU) / D);
      fRows.push(df);
      const R = (nWU * H[L]) / D + yn[n];
      // backward
      const B: number[] = new Array(L + 1), db: Vec[] = new Array(L + 1);
      B[L] = nWU * R;
      db[L] = Float64Array.from(df).map((x) => x * nWU);
      for (let l = L - 1; l >= 0; l--) {
        // layer ℓ = l+1 uses b at index l+1
        const Q = (vb[l] * B[l + 1]) / D;
        const G = s1 * Q;
        const dq = axpy(e(2 * l + 1, B[l + 1] / D), vb[l] / D, db[l + 1]);
        const dg = axpy(Float64Array.from(dq).map((x) => x * s1), s2 === 0 ? 0 : s2 * Q, dp[l]);
        B[l] = B[l + 1] + c * ub[l] * G;
        db[l] = axpy(axpy(Float64Array.from(db[l + 1]), c * G, e(2 * l, 1)), c * ub[l], dg);
        // update rows: ΔU_ℓ = −ru Σ_n h_{ℓ−1} gᵀ, ΔV_ℓ = −rv Σ_n b_ℓ σ(p)ᵀ
        dU[l] += ru * H[l] * G;
        dV[l] += rv * B[l + 1] * Sg[l];
        const rowU = T.subarray(2 * l * nb, (2 * l + 1) * nb), rowV = T.subarray((2 * l + 1) * nb, (2 * l + 2) * nb);
        axpy(rowU, ru * G, dh[l]);
        axpy(rowU, ru * H[l], dg);
        axpy(rowV, rv * Sg[l], db[l + 1]);
        axpy(rowV, rv * B[l + 1] * s1, dp[l]);
      }
    }
    if (step === K - 1) {
      // outputs f_{K−1} at θ_{K−1}: rows fRows (per data point, bounding |df_n|) times the product so far
      const W = new Float64Array(N * nb);
      for (let n = 0; n < N; n++) {
        const row = fRows[n];
        for (let j = 0; j < nb; j++) {
          let s = 0;
          if (prod) for (let i = 0; i < nb; i++) s += row[i] * prod[i * nb + j];
          else s = row[j];
          W[n * nb + j] = s;
        }
      }
      outputs = opNorm(W, N, nb);
    }
    stepFactors.push(opNorm(T, nb, nb));
    prod = prod ? matmul(T, prod) : T;
    if (traj && step < K - 1) {
      // 𝒮_{j+1}: every image θ_{j+1}(θ) of a point θ of the segment [a, b] lies within
      // (row-norm of T_j⋯T_0)·min(|θ − a|, |θ − b|) ≤ (row-norm)·|a − b|/2 of θ_{j+1}(a) or θ_{j+1}(b)
      for (const w of traj) gdStep(problem, w);
      for (let l = 0; l < L; l++) {
        const rowNorm = (r: number) => norm2(prod!, r * nb, nb);
        ub[l] = Math.max(...traj.map((w) => opNorm(w.U, M, D, undefined, l * M * D))) + (rowNorm(2 * l) * dist) / 2;
        vb[l] = Math.max(...traj.map((w) => opNorm(w.V, M, D, undefined, l * M * D))) + (rowNorm(2 * l + 1) * dist) / 2;
      }
    } else for (let l = 0; l < L; l++) { ub[l] += dU[l]; vb[l] += dV[l]; }
    radii.push({ u: [...ub], v: [...vb] });
  }
  return { weights: prod ? opNorm(prod, nb, nb) : 1, outputs, stepFactors, radii };
}
