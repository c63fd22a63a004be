/**
 * The factor-form skeleton engine (MATH §3, "Factor form").
 *
 * Every CLT sum G of a particle is linear in the 2r numbers ξ = (ξ_u, ξ_v) ~ N(0, I_{2r}),
 * where E = R Rᵀ (R: d × r, r = rank E ≤ min(d, D), d = d_in + d_out) is a fixed factor of
 * the embedding Gram matrix. We work in the coordinates a = Rᵀc of the coefficient vectors
 * (so Γ_{aa'} = c_a·E c_{a'} = a·a') and carry, per sample ξ and per depth slot, the
 * particle's projected state
 *
 *   w_u = σ_u ξ_u + Rᵀδ_u,   w_v = σ_v ξ_v + Rᵀδ_v     (u_k = u + W δ_u, MATH §3)
 *
 * for which p_{k,n} = w_u·a^h_{k,n}, q_{k,n} = w_v·a^b_{k,n}, the GD update is
 *
 *   w_u ← w_u − (η_u/(αN)) Σ_n a^h_{k,n} σ'(p_{k,n}) q_{k,n},   w_v ← w_v − (η_v/(αN)) Σ_n σ(p_{k,n}) a^b_{k,n}
 *
 * and the Mean ODE is, exactly (R^{-T} of MATH §3 disappears in these coordinates),
 *
 *   ∂_s a^h_{k,n} =  α E[ w_v σ(p_{k,n}) ],            a^h_{k,n}(0) = R_inᵀ x_n
 *   ∂_s a^b_{k,n} = −α E[ w_u σ'(p_{k,n}) q_{k,n} ],   a^b_{k,n}(1) = R_outᵀ (f_{k,n} − y_n)
 *   f_{k,n} = R_out a^h_{k,n}(1)
 *
 * (R_in, R_out: the first d_in and last d_out rows of R). Carrying w per sample and slot is
 * the recursion for δ of MATH §3 evaluated once per step instead of once per stage, so a
 * solve costs O(K · slots · samples · N · r) and memory O(slots · samples · r).
 *
 * Estimators of E[w_v F] (and E[w_u G]):
 *  - "direct": the sample mean, optionally with the control variate σ_v ξ_v σ(σ_u ξ_u·a^h)
 *    (and σ_u ξ_u σ'(σ_u ξ_u·a^h)(σ_v ξ_v·a^b) backward), whose expectation is exactly 0
 *    (ξ_v is independent of ξ_u and centred);
 *  - "ibp": Gaussian integration by parts on the ξ part, E[ξ_v F] = E[∇_{ξ_v} F], with the
 *    Jacobian J = ∂w/∂ξ (2r × 2r per sample and slot) carried by exact forward mode.
 * The Jacobian also gives the KL divergence of the trained law (MATH §8).
 *
 * Slots: a particle of slot t reads h-type profiles at grid.hNode(t) and b-type profiles at
 * grid.bNode(t) (staggered Euler: the unit of layer t+1; every other scheme: node t).
 */
import { type Activation, activationFailure, erf } from "../core/activations.ts";
import { DivergenceError, ValidationError } from "../core/errors.ts";
import { fastErf, fastExp, fastTanh } from "../core/fastmath.ts";
import { DepthGrid, IntegratorWorkspace, slotWeights } from "../depth/grid.ts";
export { slotWeights };
import { integrate } from "../depth/integrate.ts";
import { lincomb, multiDot } from "../kernels/vector.ts";
import { adjointBackward, tanhForward } from "./factor-kernels.ts";
import { EigenWorkspace, symEigen } from "./linalg.ts";
import { gaussHermite } from "./expectation.ts";
import { reportProgress } from "../core/progress.ts";

/** The model constants and data a factor solve needs (all validated by the caller). */
export interface FactorModel {
  dIn: number;
  dOut: number;
  N: number;
  /** d_in × N inputs, d_out × N targets (row-major, column n = data point n). */
  X: Float64Array;
  Y: Float64Array;
  K: number;
  alpha: number;
  etaU: number;
  etaV: number;
  sigmaU: number;
  sigmaV: number;
  activation: Activation;
  /** Optional test inputs (d_in × NTest): zero-weight data points (MATH §8). */
  XTest?: Float64Array;
  NTest?: number;
}

/** A factor E = R Rᵀ of the embedding Gram matrix, with the map back to coefficient vectors. */
export interface EmbeddingFactor {
  d: number;
  /** Rank kept (eigenvalues above RANK_TOL · λ_max). */
  r: number;
  /** d × r, row-major: R = Q_r Λ_r^{1/2}, columns by decreasing eigenvalue. */
  R: Float64Array;
  /** d × r, row-major: c = C a with C = Q_r Λ_r^{-1/2} (so E c = R a and W c = h). */
  C: Float64Array;
  /** Eigenvalues of E (decreasing). */
  eig: Float64Array;
  /** With the data-span reduction (spanFactor): the rank of E (r is then dim V < rank E). */
  rankE?: number;
}

/** Relative threshold under which an eigenvalue of E counts as zero (rank-D factor when D < d). */
export const RANK_TOL = 1e-13;

/** Eigen factor of the symmetric PSD embedding Gram matrix E (d × d). */
export function embeddingFactor(E: Float64Array, d: number): EmbeddingFactor {
  if (E.length !== d * d) throw new ValidationError("E", `has length ${E.length} but d² = ${d * d} was expected`);
  for (let i = 0; i < E.length; i++) if (!Number.isFinite(E[i])) throw new ValidationError("E", `must be finite (entry ${i} is ${E[i]})`);
  const ws = new EigenWorkspace(d);
  symEigen(E, ws);
  const order = Array.from({ length: d }, (_, i) => i).sort((a, b) => ws.w[b] - ws.w[a]);
  const eig = Float64Array.from(order, (i) => ws.w[i]);
  const lmax = Math.max(eig[0], 0);
  if (!(lmax > 0)) throw new ValidationError("E", "is zero: the embeddings W_E, W_U vanish");
  if (eig[d - 1] < -1e-8 * lmax) throw new ValidationError("E", `is not positive semi-definite (eigenvalue ${eig[d - 1]})`);
  let r = 0;
  while (r < d && eig[r] > RANK_TOL * lmax) r++;
  const R = new Float64Array(d * r), C = new Float64Array(d * r);
  for (let j = 0; j < r; j++) {
    const col = order[j], sq = Math.sqrt(eig[j]);
    for (let i = 0; i < d; i++) {
      const q = ws.v[i * d + col];
      R[i * r + j] = q * sq;
      C[i * r + j] = q / sq;
    }
  }
  return { d, r, R, C, eig };
}

/** Relative residual under which a data vector counts as inside the span of the others. */
export const SPAN_TOL = 1e-11;

/**
 * The data-span reduction of a factor (exact; an extension of MATH §3's factor form, docs/skeleton.md
 * "The data span"). Every coefficient vector of
 * the solve stays in V = span{R_inᵀ x_n (training and test inputs), R_outᵀ e_o (o < d_out)} ⊂ R^r:
 * the boundary values lie in V, the GD updates move w_u along the a^h and w_v along the a^b, so the
 * particle's components orthogonal to V stay σξ_⊥, and ξ_⊥ is independent of every p, q (isotropic
 * Gaussian), so the fields' components E[σ_v ξ_{v⊥} σ(p)], E[σ_u ξ_{u⊥} σ'(p) q] vanish. The solve
 * therefore runs on the factor R Q_V (d × dim V, Q_V an orthonormal basis of V), with expectations in
 * dimension 2 dim V ≤ 2 min(r, N + N_test + d_out) instead of 2r, and c = C Q_V a_V is the same
 * coefficient vector. Q_V diagonalises Q_Vᵀ RᵀR Q_V, so the columns of R Q_V keep the convention
 * "orthogonal, by decreasing norm" of the eigen factor. When V is all of R^r the factor is returned
 * unchanged (same bits).
 */
export function spanFactor(F: EmbeddingFactor, model: Pick<FactorModel, "dIn" | "dOut" | "N" | "X" | "XTest" | "NTest">): EmbeddingFactor {
  const { r, d, R } = F;
  const { dIn, dOut, N } = model;
  const NT = model.XTest ? model.NTest ?? 0 : 0;
  const vecs: Float64Array[] = [];
  for (let o = 0; o < dOut; o++) vecs.push(R.slice((dIn + o) * r, (dIn + o + 1) * r));
  for (let v = 0; v < N + NT; v++) {
    const src = v < N ? model.X : model.XTest!, cols = v < N ? N : NT, col = v < N ? v : v - N;
    const a = new Float64Array(r);
    for (let i = 0; i < dIn; i++) {
      const x = src[i * cols + col];
      for (let j = 0; j < r; j++) a[j] += R[i * r + j] * x;
    }
    vecs.push(a);
  }
  // modified Gram–Schmidt, twice (the second pass restores orthogonality lost to cancellation)
  const basis: Float64Array[] = [];
  for (const a of vecs) {
    let n0 = 0;
    for (let j = 0; j < r; j++) n0 += a[j] * a[j];
    n0 = Math.sqrt(n0);
    if (!(n0 > 0)) continue;
    for (let pass = 0; pass < 2; pass++)
      for (const b of basis) {
        let s = 0;
        for (let j = 0; j < r; j++) s += a[j] * b[j];
        for (let j = 0; j < r; j++) a[j] -= s * b[j];
      }
    let n1 = 0;
    for (let j = 0; j < r; j++) n1 += a[j] * a[j];
    n1 = Math.sqrt(n1);
    if (n1 <= SPAN_TOL * n0) continue;
    for (let j = 0; j < r; j++) a[j] /= n1;
    basis.push(a);
    if (basis.length === r) break;
  }
  const m = basis.length;
  if (m >= r) return F;
  // rotate within V: eigenvectors of Bᵀ (RᵀR) B, where RᵀR = diag(column norms²) of the eigen factor
  const colNorm2 = new Float64Array(r);
  for (let i = 0; i < d; i++) for (let j = 0; j < r; j++) colNorm2[j] += R[i * r + j] * R[i * r + j];
  const M = new Float64Array(m * m);
  for (let x = 0; x < m; x++)
    for (let y = 0; y < m; y++) {
      let s = 0;
      for (let j = 0; j < r; j++) s += basis[x][j] * colNorm2[j] * basis[y][j];
      M[x * m + y] = s;
    }
  const ws = new EigenWorkspace(m);
  symEigen(M, ws);
  const order = Array.from({ length: m }, (_, i) => i).sort((a, b) => ws.w[b] - ws.w[a]);
  const QV = new Float64Array(r * m); // r × m
  for (let c = 0; c < m; c++)
    for (let j = 0; j < r; j++) {
      let s = 0;
      for (let x = 0; x < m; x++) s += basis[x][j] * ws.v[x * m + order[c]];
      QV[j * m + c] = s;
    }
  const RV = new Float64Array(d * m), CV = new Float64Array(d * m);
  for (let i = 0; i < d; i++)
    for (let c = 0; c < m; c++) {
      let sr = 0, sc = 0;
      for (let j = 0; j < r; j++) { sr += R[i * r + j] * QV[j * m + c]; sc += F.C[i * r + j] * QV[j * m + c]; }
      RV[i * m + c] = sr;
      CV[i * m + c] = sc;
    }
  return { d, r: m, R: RV, C: CV, eig: F.eig, rankE: F.rankE ?? r };
}

export type FactorEstimator = "direct" | "ibp";
export type ControlVariate = "none" | "centered" | "linear";
export const CONTROL_VARIATES: readonly ControlVariate[] = ["none", "centered", "linear"];

export interface FactorRunOptions {
  grid: DepthGrid;
  /** count × 2r standard-normal points (ξ_u = first r coordinates, ξ_v = last r); 2r × count with `columns`. */
  points: Float64Array;
  /** `points` is stored by coordinate (2r × count), the solver's layout: read without a copy. */
  columns?: boolean;
  /** Reuse σ(p) of the forward solve in the GD step where it applies (default true; false: a cross-check, same bits). */
  reuseSigma?: boolean;
  /** One-pass field kernels where they apply (default true; false: a cross-check, same bits). */
  fused?: boolean;
  count: number;
  /** Per-point weights summing to 1, or null for equal weights. */
  weights: Float64Array | null;
  estimator: FactorEstimator;
  /**
   * Control variate of the direct estimator: "none"; "centered" (the mean-zero terms
   * σ_v ξ_v σ(σ_u ξ_u·a^h) forward, σ_u ξ_u σ'(σ_u ξ_u·a^h)(σ_v ξ_v·a^b) backward); or
   * "linear" (the integrand with the particle state w replaced by its linear regression
   * Aξ on the points, A = mean(w ξᵀ) per slot, whose Gaussian expectation reduces to
   * one-dimensional integrals computed by 64-node Gauss–Hermite).
   */
  controlVariate: ControlVariate;
  /** Solve the d_out per-output adjoints b^(o) (MATH §8) and record the tangent Gram matrix K_k. */
  gram?: boolean;
  /** Record KL(ρ_k(s) ‖ μ_0) on the slots (needs the Jacobian: any estimator). */
  kl?: boolean;
  /** Called after every GD step (a worker's heartbeat). */
  onStep?: () => void;
}

export interface FactorRunResult {
  /** K × d_out × N. */
  f: Float64Array;
  loss: Float64Array;
  /** a^h, a^b in factor coordinates: K × nodes × N × r. */
  ah: Float64Array;
  ab: Float64Array;
  /** Per-output adjoints a^{b(o)}: K × nodes × N × d_out × r (with `gram`). */
  abo?: Float64Array;
  /** Tangent Gram matrices K × (d_out N)² (index o·N + n), with `gram`. */
  gram?: Float64Array;
  /** KL profile on the slots, K × slots, and its integral KL_k, with `kl`. */
  klProfile?: Float64Array;
  kl?: Float64Array;
  /** Samples with det ∇T ≤ 0 (KL invalid there), per step, with `kl`. */
  klInvalid?: Int32Array;
  /** Test outputs K × d_out × NTest (when the model has test points). */
  fTest?: Float64Array;
  /** Field evaluations (forward + backward stages). */
  evaluations: number;
}


/**
 * σ, σ′ (and σ″ when d2 is given) of p[i0..i1) by activation kind; a user activation that
 * returns a non-finite value for a finite argument is named.
 */
function activate(act: Activation, p: Float64Array, s: Float64Array, ds: Float64Array, d2: Float64Array | null, i0: number, i1: number): void {
  switch (act.kind) {
    case 0:
      for (let i = i0; i < i1; i++) {
        const t = fastTanh(p[i]);
        s[i] = t; ds[i] = 1 - t * t;
        if (d2) d2[i] = -2 * t * (1 - t * t);
      }
      return;
    case 1:
      for (let i = i0; i < i1; i++) { s[i] = p[i]; ds[i] = 1; if (d2) d2[i] = 0; }
      return;
    case 2:
      // GELU x Φ(x): Φ and φ once per point (the generic path evaluates Φ three times)
      for (let i = i0; i < i1; i++) {
        const x = p[i], Phi = 0.5 * (1 + erf(x * Math.SQRT1_2)), phi = 0.3989422804014327 * fastExp(-0.5 * x * x);
        s[i] = x * Phi; ds[i] = Phi + x * phi;
        if (d2) d2[i] = phi * (2 - x * x);
      }
      return;
    case 3:
      for (let i = i0; i < i1; i++) {
        const x = p[i], sn = Math.sin(x);
        s[i] = sn; ds[i] = Math.cos(x);
        if (d2) d2[i] = -sn;
      }
      return;
    default: {
      const f = act.f, df = act.df, g = act.d2f;
      for (let i = i0; i < i1; i++) {
        const x = p[i];
        const a = f(x), b = df(x);
        s[i] = a; ds[i] = b;
        if (d2) d2[i] = g!(x);
        if (!Number.isFinite(a) || !Number.isFinite(b) || (d2 && !Number.isFinite(d2[i]))) {
          if (!Number.isFinite(x)) return; // the caller reports the diverging state
          throw activationFailure(act, x, a, b, d2 ? d2[i] : undefined);
        }
      }
    }
  }
}

/**
 * One factor-form solve with one point set: K GD steps of the skeleton Mean ODE
 * (finite D or the DMFT limit: only the factor of E differs).
 */
export function runFactor(model: FactorModel, factor: EmbeddingFactor, o: FactorRunOptions): FactorRunResult {
  return new FactorSolver(model, factor, o).run();
}

/**
 * Structure-of-arrays layout (every inner loop runs over the samples i, contiguous):
 *   w:  slots × 2r × n            component c of particle i at slot t: (t·2r + c)·n + i
 *   J:  slots × 2r × 2r × n       ∂w_c/∂ξ_c' : ((t·2r + c)·2r + c')·n + i
 *   sP, dP, d2P, dP0: slots × N × n
 *   xi: 2r × n (the points, transposed)
 */
export class FactorSolver {
  readonly m: FactorModel;
  readonly F: EmbeddingFactor;
  readonly grid: DepthGrid;
  readonly r: number;
  readonly Q: number;
  readonly n: number;
  readonly slots: number;
  readonly nodes: number;
  readonly N: number;
  readonly NT: number;
  readonly B: number;
  readonly xi: Float64Array;
  readonly wts: Float64Array | null;
  readonly ibp: boolean;
  readonly cv: boolean;
  readonly jac: boolean;
  readonly wantGram: boolean;
  readonly wantKl: boolean;
  readonly w: Float64Array;
  readonly J: Float64Array | null;
  readonly sP: Float64Array;
  readonly dP: Float64Array;
  readonly d2P: Float64Array | null;
  readonly dP0: Float64Array | null;
  /**
   * Reuse of σ(p) between the forward solve and activateStep (tanh, direct estimator, equal weights):
   * per slot, whether the forward solve's last evaluation there left finite σ(p) of its training
   * vectors in sP, and the a^h it used (slots × N × r); activateStep reuses sP where that a^h is the
   * final a^h_k at the slot's node (stage 1 of every depth step: a third of the σ evaluations of
   * activateStep at S = 1, a sixth at large S).
   */
  readonly cacheOk: Uint8Array | null;
  readonly cacheY: Float64Array | null;
  /** One-pass field kernels (factor-kernels.ts; same bits): forward for tanh, backward for any σ; r ≤ 4, direct, equal weights. */
  readonly fusedF: boolean;
  readonly fusedB: boolean;
  readonly lcv: boolean;
  /** Linear control variate: regression matrices A_t = mean(w ξᵀ) (slots × 2r × 2r) and σ'(ξ·A_uᵀa^h) (slots × N × n). */
  readonly Areg: Float64Array | null;
  readonly dPt: Float64Array | null;
  readonly al: Float64Array; // 2r scratch
  readonly be: Float64Array; // 2r scratch
  readonly Sx: Float64Array; // 2r scratch
  readonly md1: Float64Array; // 2r scratch (multiDot outputs)
  readonly md2: Float64Array;
  readonly md3: Float64Array;
  readonly cf: Float64Array; // 2r scratch (coefficients)
  readonly ah: Float64Array;
  readonly ab: Float64Array;
  readonly aho: Float64Array;
  readonly abo: Float64Array;
  readonly aboAll: Float64Array | null;
  readonly f: Float64Array;
  readonly loss: Float64Array;
  readonly fTest: Float64Array | null;
  readonly gram: Float64Array | null;
  readonly klProfile: Float64Array | null;
  readonly kl: Float64Array | null;
  readonly klInvalid: Int32Array | null;
  readonly quad: Float64Array;
  // sample-length scratch
  readonly pv: Float64Array;
  readonly sv: Float64Array;
  readonly dv: Float64Array;
  readonly s0v: Float64Array;
  readonly gv: Float64Array;
  readonly qN: Float64Array; // N × B × n (update: q of every adjoint vector)
  readonly uN: Float64Array | null; // N × 2r × n (update with J: ∇(σ'(p) q))
  readonly vN: Float64Array | null; // N × 2r × n (update with J: σ'(p) ∇p)
  readonly gpv: Float64Array | null; // n
  readonly gqv: Float64Array | null; // n
  readonly A: Float64Array; // 2r × 2r
  readonly wsF: IntegratorWorkspace;
  readonly wsB: IntegratorWorkspace;
  readonly y0F: Float64Array;
  readonly y0B: Float64Array;
  readonly slotU: Float64Array | null;
  readonly slotV: Float64Array | null;
  readonly gramBuf: Float64Array | null;
  evaluations = 0;
  currentStep = 0;
  readonly onStep: (() => void) | undefined;
  /**
   * At k = 0 the fields vanish (h_0(s) = W_E x, b_0(s) = W_U(f_0 − y), MATH §3). With the ibp
   * estimator and with either control variate the sampled fields vanish exactly too, so the
   * profiles are set; the plain direct estimator integrates its sampled field at k = 0 as at
   * every step, so that the sampled system stays one particle system (whose tangent Gram matrix
   * the Gram formula is, exactly). Setting only its k = 0 field to 0 would leave the same mean-zero
   * term sampled at k ≥ 1 (the "centered" control variate removes it at every step): the first-order
   * statement f_1 − f_0 = −K_0 r_0/N + O(η²) then fails by the sampling noise (test/diagnostics.test.ts).
   */
  readonly exactStart: boolean;

  constructor(model: FactorModel, factor: EmbeddingFactor, o: FactorRunOptions) {
    this.m = model;
    this.F = factor;
    this.grid = o.grid;
    const r = factor.r, Q = 2 * r;
    this.r = r;
    this.Q = Q;
    const n = o.count;
    this.n = n;
    if (o.points.length < n * Q) throw new ValidationError("points", `has ${o.points.length} entries but count × 2r = ${n * Q} are needed`);
    if (o.columns) this.xi = o.points.length === Q * n ? o.points : o.points.slice(0, Q * n); // already 2r × n (read only)
    else {
      this.xi = new Float64Array(Q * n);
      for (let i = 0; i < n; i++) for (let c = 0; c < Q; c++) this.xi[c * n + i] = o.points[i * Q + c];
    }
    this.wts = o.weights;
    this.slots = o.grid.slots;
    this.nodes = o.grid.nodes;
    this.N = model.N;
    this.NT = model.XTest ? model.NTest ?? 0 : 0;
    this.wantGram = o.gram === true;
    this.wantKl = o.kl === true;
    this.B = this.wantGram ? model.dOut : 1;
    this.ibp = o.estimator === "ibp";
    this.cv = !this.ibp && o.controlVariate === "centered";
    this.lcv = !this.ibp && o.controlVariate === "linear";
    this.jac = this.ibp || this.wantKl;
    this.exactStart = this.ibp || this.cv || this.lcv;
    this.onStep = o.onStep;
    if (this.jac && !model.activation.d2f) throw new ValidationError("model.activation", `needs σ″ for the ${this.ibp ? `"ibp" estimator` : "KL of the trained law"} (give d2f${this.ibp ? `, or use estimator "direct"` : ""})`);
    const { slots, nodes, N, B } = this;
    const K = model.K, dOut = model.dOut, nF = N + this.NT;
    this.w = new Float64Array(slots * Q * n);
    this.J = this.jac ? new Float64Array(slots * Q * Q * n) : null;
    this.sP = new Float64Array(slots * N * n);
    this.dP = new Float64Array(slots * N * n);
    this.d2P = this.jac ? new Float64Array(slots * N * n) : null;
    this.dP0 = this.cv ? new Float64Array(slots * N * n) : null;
    const cacheable = o.reuseSigma !== false && !this.ibp && model.activation.kind === 0 && o.weights === null;
    this.cacheOk = cacheable ? new Uint8Array(slots) : null;
    this.cacheY = cacheable ? new Float64Array(slots * N * factor.r) : null;
    const fusable = o.fused !== false && !this.ibp && o.weights === null && factor.r <= 4;
    this.fusedF = fusable && model.activation.kind === 0;
    this.fusedB = fusable;
    this.Areg = this.lcv ? new Float64Array(slots * Q * Q) : null;
    this.dPt = this.lcv ? new Float64Array(slots * N * n) : null;
    this.al = new Float64Array(Q);
    this.be = new Float64Array(Q);
    this.Sx = new Float64Array(Q);
    this.md1 = new Float64Array(Q);
    this.md2 = new Float64Array(Q);
    this.md3 = new Float64Array(Math.max(Q, model.N));
    this.cf = new Float64Array(Math.max(Q, model.N));
    this.ah = new Float64Array(K * nodes * N * r);
    this.ab = new Float64Array(K * nodes * N * r);
    this.aho = new Float64Array(nodes * nF * r);
    this.abo = new Float64Array(nodes * N * B * r);
    this.aboAll = this.wantGram ? new Float64Array(K * nodes * N * dOut * r) : null;
    this.f = new Float64Array(K * dOut * N);
    this.loss = new Float64Array(K);
    this.fTest = this.NT > 0 ? new Float64Array(K * dOut * this.NT) : null;
    const dN = dOut * N;
    this.gram = this.wantGram ? new Float64Array(K * dN * dN) : null;
    this.klProfile = this.wantKl ? new Float64Array(K * slots) : null;
    this.kl = this.wantKl ? new Float64Array(K) : null;
    this.klInvalid = this.wantKl ? new Int32Array(K) : null;
    this.quad = slotWeights(o.grid);
    this.pv = new Float64Array(n);
    this.sv = new Float64Array(n);
    this.dv = new Float64Array(n);
    this.s0v = new Float64Array(n);
    this.gv = new Float64Array(n);
    this.qN = new Float64Array(N * B * n);
    this.uN = this.jac ? new Float64Array(N * Q * n) : null;
    this.vN = this.jac ? new Float64Array(N * Q * n) : null;
    this.gpv = this.jac ? new Float64Array(n) : null;
    this.gqv = this.jac ? new Float64Array(n) : null;
    this.A = new Float64Array(Q * Q);
    this.wsF = new IntegratorWorkspace(nF * r);
    this.wsB = new IntegratorWorkspace(N * B * r);
    this.y0F = new Float64Array(nF * r);
    this.y0B = new Float64Array(N * B * r);
    this.slotU = this.wantGram ? new Float64Array(dN * dN) : null;
    this.slotV = this.wantGram ? new Float64Array(N * N) : null;
    this.gramBuf = this.wantGram ? new Float64Array(dN * n) : null;
    // initial particles w = (σ_u ξ_u, σ_v ξ_v) at every slot, J = diag(σ_u I, σ_v I)
    const su = model.sigmaU, sv = model.sigmaV;
    for (let t = 0; t < slots; t++)
      for (let c = 0; c < Q; c++) {
        const sc = c < r ? su : sv, wo = (t * Q + c) * n, xo = c * n;
        for (let i = 0; i < n; i++) this.w[wo + i] = sc * this.xi[xo + i];
        if (this.J) this.J.fill(sc, ((t * Q + c) * Q + c) * n, ((t * Q + c) * Q + c + 1) * n);
        if (this.Areg) this.Areg[(t * Q + c) * Q + c] = sc;
      }
  }

  run(): FactorRunResult {
    const { m, r, N, NT, nodes } = this;
    const { dIn, dOut, K, X, Y } = m;
    const R = this.F.R;
    const nF = N + NT;
    const stages = this.grid.scheme === "rk4" ? 4 * this.grid.S : this.grid.scheme === "heun" ? 2 * this.grid.S : this.grid.S;
    for (let k = 0; k < K; k++) {
      this.currentStep = k;
      this.cacheOk?.fill(0);
      if (this.wantKl) this.klStep(k);
      // ---- forward solve of a^h_k (and of the test points, which no GD sum sees)
      const y0 = this.y0F;
      for (let v = 0; v < nF; v++) {
        const src = v < N ? X : m.XTest!, cols = v < N ? N : NT, col = v < N ? v : v - N;
        for (let a = 0; a < r; a++) {
          let s = 0;
          for (let i = 0; i < dIn; i++) s += R[i * r + a] * src[i * cols + col];
          y0[v * r + a] = s;
        }
      }
      if (k === 0 && this.exactStart) for (let node = 0; node < nodes; node++) this.aho.set(y0, node * nF * r);
      else {
        integrate(this.grid, 1, nF * r, y0, (y, slot, dy) => this.forwardField(y, slot, dy), this.aho, this.wsF);
        this.evaluations += stages;
      }
      this.checkFinite(this.aho, k, "h (forward solve of the coefficient vectors)");
      const base = k * nodes * N * r;
      for (let node = 0; node < nodes; node++) this.ah.set(this.aho.subarray(node * nF * r, node * nF * r + N * r), base + node * N * r);
      // ---- outputs f_{k,n} = R_out a^h_{k,n}(1), loss, test outputs
      const last = (nodes - 1) * nF * r;
      let l = 0;
      for (let v = 0; v < nF; v++)
        for (let o = 0; o < dOut; o++) {
          let fv = 0;
          for (let a = 0; a < r; a++) fv += R[(dIn + o) * r + a] * this.aho[last + v * r + a];
          if (v < N) {
            this.f[(k * dOut + o) * N + v] = fv;
            const res = fv - Y[o * N + v];
            l += res * res;
          } else this.fTest![(k * dOut + o) * NT + (v - N)] = fv;
        }
      this.loss[k] = (0.5 * l) / N;
      if (!Number.isFinite(this.loss[k])) throw new DivergenceError(k, "loss", `loss = ${this.loss[k]}`);
      reportProgress(k + 1, K, "GD steps (skeleton, one randomization)");
      this.activateStep(k);
      // ---- backward solve of a^b_k (with gram: the d_out per-output adjoints b^(o), terminal value e_o, also for d_out = 1)
      const B = this.B, yb = this.y0B;
      for (let nn = 0; nn < N; nn++)
        for (let bb = 0; bb < B; bb++)
          for (let a = 0; a < r; a++) {
            let s = 0;
            if (!this.wantGram) for (let o = 0; o < dOut; o++) s += R[(dIn + o) * r + a] * (this.f[(k * dOut + o) * N + nn] - Y[o * N + nn]);
            else s = R[(dIn + bb) * r + a];
            yb[(nn * B + bb) * r + a] = s;
          }
      if (k === 0 && this.exactStart) for (let node = 0; node < nodes; node++) this.abo.set(yb, node * N * B * r);
      else {
        integrate(this.grid, -1, N * B * r, yb, (y, slot, dy) => this.backwardField(k, y, slot, dy), this.abo, this.wsB);
        this.evaluations += stages;
      }
      this.checkFinite(this.abo, k, "b (backward solve of the coefficient vectors)");
      for (let node = 0; node < nodes; node++) {
        const dst = base + node * N * r, src = node * N * B * r;
        if (!this.wantGram) this.ab.set(this.abo.subarray(src, src + N * r), dst);
        else {
          // b = Σ_o (f_o − y_o) b^(o): the backward equations are linear in b
          for (let nn = 0; nn < N; nn++)
            for (let a = 0; a < r; a++) {
              let s = 0;
              for (let o = 0; o < dOut; o++) s += (this.f[(k * dOut + o) * N + nn] - Y[o * N + nn]) * this.abo[src + (nn * B + o) * r + a];
              this.ab[dst + nn * r + a] = s;
            }
        }
      }
      if (this.aboAll) this.aboAll.set(this.abo, k * nodes * N * dOut * r);
      // the last GD update moves particles no later step reads (only its Gram term is an output)
      if (k < K - 1 || this.wantGram) this.update(k);
      this.onStep?.();
    }
    const out: FactorRunResult = { f: this.f, loss: this.loss, ah: this.ah, ab: this.ab, evaluations: this.evaluations };
    if (this.aboAll) out.abo = this.aboAll;
    if (this.gram) out.gram = this.gram;
    if (this.kl) { out.kl = this.kl; out.klProfile = this.klProfile!; out.klInvalid = this.klInvalid!; }
    if (this.fTest) out.fTest = this.fTest;
    return out;
  }

  private checkFinite(a: Float64Array, k: number, what: string): void {
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) throw new DivergenceError(k, what, "non-finite coefficient; the learning rates are too large for this problem");
  }

  /** Sample weights folded into a sample-length vector (no-op for equal weights). */
  private weigh(x: Float64Array): void {
    const wts = this.wts;
    if (wts) for (let i = 0; i < this.n; i++) x[i] *= wts[i];
  }

  /** ∂_s a^h_{k,v} = α E[w_v σ(w_u·a^h_{k,v})] at `slot`, for every forward vector v (training and test). */
  private forwardField(y: Float64Array, slot: number, dy: Float64Array): void {
    const { r, Q, n, xi, w, J, cv, ibp, pv, sv, dv, s0v } = this;
    const nF = this.N + this.NT;
    const act = this.m.activation;
    const su = this.m.sigmaU, sgv = this.m.sigmaV;
    const scale = this.m.alpha / (this.wts ? 1 : n);
    const wb = slot * Q * n;
    const { md1, md2, md3, cf } = this;
    const cache = this.cacheOk !== null;
    let finite = true;
    for (let v = 0; v < nF; v++) {
      const yo = v * r;
      // σ(p) of the training vectors goes straight into the slot's σ buffer when activateStep may reuse it
      const train = cache && v < this.N, so = train ? (slot * this.N + v) * n : 0;
      if (this.fusedF) {
        // one pass (factor-kernels.ts)
        if (!tanhForward(y, yo, r, w, wb, wb + r * n, n, train ? this.sP : sv, so, md1) && train) finite = false;
      } else {
        lincomb(y, yo, r, w, wb, n, pv, 0, n);
        if (train) {
          if (!tanhValues(pv, this.sP, so, n)) finite = false;
          multiDot(this.sP, so, w, wb + r * n, n, r, n, md1, 0);
        } else {
          if (ibp || act.kind < 0) activate(act, pv, sv, dv, null, 0, n);
          else activateValues(act, pv, sv, n);
          this.weigh(sv);
          if (ibp) this.weigh(dv);
          multiDot(sv, 0, w, wb + r * n, n, r, n, md1, 0);
        }
      }
      if (cv) {
        for (let a = 0; a < r; a++) cf[a] = su * y[yo + a];
        lincomb(cf, 0, r, xi, 0, n, pv, 0, n);
        activateValues(act, pv, s0v, n);
        this.weigh(s0v);
        multiDot(s0v, 0, xi, r * n, n, r, n, md2, 0);
      }
      if (ibp) {
        // σ_v E[ξ_v σ(p)] = σ_v E[σ'(p) (∂w_u/∂ξ_v)ᵀ a^h]; the Δ_v = w_v − σ_v ξ_v part stays direct
        multiDot(sv, 0, xi, r * n, n, r, n, md2, 0);
        md3.fill(0);
        for (let a = 0; a < r; a++) {
          multiDot(dv, 0, J!, ((slot * Q + a) * Q + r) * n, n, r, n, cf, 0);
          for (let b = 0; b < r; b++) md3[b] += y[yo + a] * cf[b];
        }
      }
      for (let b = 0; b < r; b++) {
        let acc = md1[b];
        if (cv) acc -= sgv * md2[b];
        if (ibp) acc += sgv * (md3[b] - md2[b]);
        dy[yo + b] = acc;
      }
      if (this.lcv) this.linearCvForward(slot, y, yo, dy);
    }
    if (cache) {
      const N = this.N;
      this.cacheOk![slot] = finite ? 1 : 0;
      for (let j = 0; j < N * r; j++) this.cacheY![slot * N * r + j] = y[j];
    }
    for (let j = 0; j < nF * r; j++) dy[j] *= scale;
  }

  /** σ(p_{k,n}), σ'(p_{k,n}) (σ″; σ'(p⁰) for the control variate) at every slot and sample, from the final a^h_k. */
  private activateStep(k: number): void {
    const { r, Q, n, N, w, slots, nodes, pv } = this;
    const act = this.m.activation, su = this.m.sigmaU;
    for (let t = 0; t < slots; t++) {
      const ao = (k * nodes + this.grid.hNode(t)) * N * r;
      // the forward solve's last evaluation at this slot had the final a^h (and finite p): σ(p) is in sP already
      let reuse = this.cacheOk !== null && this.cacheOk[t] === 1;
      if (reuse) for (let j = 0; j < N * r; j++) if (this.cacheY![t * N * r + j] !== this.ah[ao + j]) { reuse = false; break; }
      for (let nn = 0; nn < N; nn++) {
        const so = (t * N + nn) * n;
        if (reuse) {
          // tanh: σ' = 1 − σ², σ″ = −2σ(1 − σ²), the expressions of activate (same bits)
          const sP = this.sP, dP = this.dP, d2 = this.d2P;
          for (let i = so; i < so + n; i++) { const th = sP[i]; dP[i] = 1 - th * th; }
          if (d2) for (let i = so; i < so + n; i++) { const th = sP[i]; d2[i] = -2 * th * (1 - th * th); }
        } else {
          lincomb(this.ah, ao + nn * r, r, w, t * Q * n, n, pv, 0, n);
          activate(act, pv, this.sP.subarray(so, so + n), this.dP.subarray(so, so + n), this.d2P ? this.d2P.subarray(so, so + n) : null, 0, n);
          for (let i = 0; i < n; i++) if (!Number.isFinite(pv[i])) throw new DivergenceError(k, "p (preactivations of the limit particles)", `p = ${pv[i]}`);
        }
        if (this.dPt) {
          // σ'(ξ·α₁) with α₁ = A_uᵀ a^h_{k,n}: the linearised preactivation of the control variate
          const A = this.Areg!, al = this.al, ao2 = ao + nn * r;
          for (let c = 0; c < Q; c++) {
            let sacc = 0;
            for (let a = 0; a < r; a++) sacc += A[(t * Q + a) * Q + c] * this.ah[ao2 + a];
            al[c] = sacc;
          }
          lincomb(al, 0, Q, this.xi, 0, n, pv, 0, n);
          const dt = this.dPt;
          for (let i = 0; i < n; i++) dt[so + i] = derivativeValue(act, pv[i]);
        }
        if (this.dP0) {
          const cf = this.cf;
          for (let a = 0; a < r; a++) cf[a] = su * this.ah[ao + nn * r + a];
          lincomb(cf, 0, r, this.xi, 0, n, pv, 0, n);
          const d0 = this.dP0;
          for (let i = 0; i < n; i++) d0[so + i] = derivativeValue(act, pv[i]);
        }
      }
    }
  }

  /** ∂_s a^b_{k,(n,β)} = −α E[w_u σ'(p_{k,n}) (w_v·a^b_{k,(n,β)})] at `slot`. */
  private backwardField(k: number, y: Float64Array, slot: number, dy: Float64Array): void {
    const { r, Q, n, N, B, xi, w, J, cv, ibp, nodes, pv, gv, s0v, md1, md2, md3, cf } = this;
    const su = this.m.sigmaU, sgv = this.m.sigmaV;
    const scale = this.m.alpha / (this.wts ? 1 : n);
    const aho = (k * nodes + this.grid.hNode(slot)) * N * r;
    const ah = this.ah;
    const wb = slot * Q * n;
    for (let nn = 0; nn < N; nn++) {
      const so = (slot * N + nn) * n;
      for (let bb = 0; bb < B; bb++) {
        const yo = (nn * B + bb) * r;
        // q_i = w_v·y, g_i = σ'(p_i) q_i (weighted)
        const dP = this.dP;
        if (this.fusedB) adjointBackward(y, yo, r, w, wb + r * n, wb, dP, so, n, md1);
        else {
          lincomb(y, yo, r, w, wb + r * n, n, pv, 0, n);
          for (let i = 0; i < n; i++) gv[i] = dP[so + i] * pv[i];
          this.weigh(gv);
          multiDot(gv, 0, w, wb, n, r, n, md1, 0);
        }
        if (cv) {
          // control variate σ_u ξ_u σ'(σ_u ξ_u·a^h)(σ_v ξ_v·y), mean 0
          for (let a = 0; a < r; a++) cf[a] = sgv * y[yo + a];
          lincomb(cf, 0, r, xi, r * n, n, s0v, 0, n);
          for (let i = 0; i < n; i++) s0v[i] *= this.dP0![so + i] * su;
          this.weigh(s0v);
          multiDot(s0v, 0, xi, 0, n, r, n, md2, 0);
        }
        if (ibp) {
          // σ_u E[ξ_u σ'(p) q] = σ_u E[σ''(p) q ∂p/∂ξ_u + σ'(p) ∂q/∂ξ_u]; the Δ_u part stays direct
          multiDot(gv, 0, xi, 0, n, r, n, md2, 0);
          // e2 = σ''(p) q, e1 = σ'(p) (weighted); md3_b = Σ_a a^h_a E[e2 J_{a,b}] + y_a E[e1 J_{r+a,b}]
          const d2 = this.d2P!, e2 = s0v, e1 = this.sv;
          for (let i = 0; i < n; i++) { e2[i] = d2[so + i] * pv[i]; e1[i] = dP[so + i]; }
          this.weigh(e2); this.weigh(e1);
          md3.fill(0);
          for (let a = 0; a < r; a++) {
            multiDot(e2, 0, J!, ((slot * Q + a) * Q) * n, n, r, n, cf, 0);
            const ha = ah[aho + nn * r + a];
            for (let b = 0; b < r; b++) md3[b] += ha * cf[b];
            multiDot(e1, 0, J!, ((slot * Q + r + a) * Q) * n, n, r, n, cf, 0);
            const ya = y[yo + a];
            for (let b = 0; b < r; b++) md3[b] += ya * cf[b];
          }
        }
        for (let b = 0; b < r; b++) {
          let acc = md1[b];
          if (cv) acc -= md2[b];
          if (ibp) acc += su * (md3[b] - md2[b]);
          dy[yo + b] = -acc;
        }
        if (this.lcv) this.linearCvBackward(slot, nn, y, yo, dy);
      }
    }
    for (let j = 0; j < N * B * r; j++) dy[j] *= scale;
  }

  /** GD update of every particle at every slot with the final a^h_k, a^b_k (and the Gram matrix K_k on request). */
  private update(k: number): void {
    const { r, Q, n, N, B, w, J, slots, nodes, qN, uN, vN } = this;
    const { etaU, etaV, alpha, dOut } = this.m;
    const cu = etaU / (alpha * N), cvv = etaV / (alpha * N);
    const ah = this.ah, ab = this.ab, abo = this.abo;
    const dN = dOut * N;
    for (let t = 0; t < slots; t++) {
      const hn = this.grid.hNode(t), bn = this.grid.bNode(t);
      const aho = (k * nodes + hn) * N * r, abn = (k * nodes + bn) * N * r, abo0 = bn * N * B * r;
      const wb = t * Q * n;
      // q_n = w_v·a^b_n (pre-update); with gram, the per-output q^(o)_n instead (q_n = Σ_o res_o q^(o)_n)
      for (let nn = 0; nn < N; nn++) lincomb(ab, abn + nn * r, r, w, wb + r * n, n, qN, nn * n, n);
      if (this.wantGram) this.gramSlot(k, t, wb, aho, abo0, dN);
      if (J) {
        const d2 = this.d2P!;
        const gp = this.gpv!, gq = this.gqv!;
        for (let nn = 0; nn < N; nn++) {
          const so = (t * N + nn) * n, qo = nn * n;
          for (let b = 0; b < Q; b++) {
            lincomb(ah, aho + nn * r, r, J, (t * Q * Q + b) * n, Q * n, gp, 0, n);
            lincomb(ab, abn + nn * r, r, J, ((t * Q + r) * Q + b) * n, Q * n, gq, 0, n);
            const uo = (nn * Q + b) * n;
            for (let i = 0; i < n; i++) {
              const ds = this.dP[so + i];
              uN![uo + i] = d2[so + i] * qN[qo + i] * gp[i] + ds * gq[i]; // ∇(σ'(p) q)
              vN![uo + i] = ds * gp[i]; // ∇σ(p)
            }
          }
        }
        const cf = this.cf, cf2 = this.md3;
        for (let a = 0; a < r; a++) {
          for (let nn = 0; nn < N; nn++) { cf[nn] = -cu * ah[aho + nn * r + a]; cf2[nn] = -cvv * ab[abn + nn * r + a]; }
          for (let b = 0; b < Q; b++) {
            lincomb(cf, 0, N, uN!, b * n, Q * n, J, ((t * Q + a) * Q + b) * n, n, true);
            lincomb(cf2, 0, N, vN!, b * n, Q * n, J, ((t * Q + r + a) * Q + b) * n, n, true);
          }
        }
      }
      // g_n = σ'(p_n) q_n (into qN), then w_u,a += Σ_n (−c_u a^h_{n,a}) g_n, w_v,a += Σ_n (−c_v a^b_{n,a}) σ(p_n)
      const dP = this.dP, so0 = t * N * n;
      for (let j = 0; j < N * n; j++) qN[j] *= dP[so0 + j];
      const cf = this.cf, cf2 = this.md3;
      for (let a = 0; a < r; a++) {
        for (let nn = 0; nn < N; nn++) { cf[nn] = -cu * ah[aho + nn * r + a]; cf2[nn] = -cvv * ab[abn + nn * r + a]; }
        lincomb(cf, 0, N, qN, 0, n, w, wb + a * n, n, true);
        lincomb(cf2, 0, N, this.sP, so0, n, w, wb + (r + a) * n, n, true);
      }
      if (this.Areg) {
        // regression of the updated state on the points: A_t = E_n[w ξᵀ] (ξ has identity covariance)
        const A = this.Areg, wts = this.wts;
        for (let c = 0; c < Q; c++) {
          const wo = wb + c * n, row = (t * Q + c) * Q;
          if (wts) {
            for (let c2 = 0; c2 < Q; c2++) {
              let sacc = 0;
              const xo = c2 * n;
              for (let i = 0; i < n; i++) sacc += wts[i] * w[wo + i] * this.xi[xo + i];
              A[row + c2] = sacc;
            }
          } else {
            multiDot(w, wo, this.xi, 0, n, Q, n, A, row);
            for (let c2 = 0; c2 < Q; c2++) A[row + c2] /= n;
          }
        }
      }
    }
  }

  /**
   * Linear control variate, forward: ψ = (A_v ξ) σ(ξ·α), α = A_uᵀ y. Adds (E[ψ] − mean ψ)·α_scale⁻¹
   * to dy (dy is scaled by α/n afterwards, so the exact part is multiplied by n here when unweighted).
   */
  private linearCvForward(slot: number, y: Float64Array, yo: number, dy: Float64Array): void {
    const { r, Q, n, xi, pv, s0v, al, Sx } = this;
    const A = this.Areg!, act = this.m.activation;
    const At = slot * Q * Q;
    for (let c = 0; c < Q; c++) {
      let sacc = 0;
      for (let a = 0; a < r; a++) sacc += A[At + a * Q + c] * y[yo + a];
      al[c] = sacc;
    }
    lincomb(al, 0, Q, xi, 0, n, pv, 0, n);
    activateValues(act, pv, s0v, n);
    this.weigh(s0v);
    multiDot(s0v, 0, xi, 0, n, Q, n, Sx, 0);
    // E[ξ σ(ξ·α)] = α E[σ'(|α| Z)]  (Stein)
    let rho = 0;
    for (let c = 0; c < Q; c++) rho += al[c] * al[c];
    rho = Math.sqrt(rho);
    const e1 = ghMean(act, rho, 0, 1);
    const total = this.wts ? 1 : n;
    for (let b = 0; b < r; b++) {
      let mean = 0, exact = 0;
      for (let c = 0; c < Q; c++) {
        const Avc = A[At + (r + b) * Q + c];
        mean += Avc * Sx[c];
        exact += Avc * al[c] * e1;
      }
      dy[yo + b] += exact * total - mean;
    }
  }

  /**
   * Linear control variate, backward: ψ = (A_u ξ) σ'(ξ·α₁) (ξ·β), α₁ = A_uᵀ a^h, β = A_vᵀ y;
   * E[ψ] = A_u M β with M = E[ξξᵀ σ'(ξ·α₁)] = e₀ I + α̂α̂ᵀ (e₂ − e₀), e_j = E[Z^j σ'(|α₁| Z)].
   */
  private linearCvBackward(slot: number, nn: number, y: Float64Array, yo: number, dy: Float64Array): void {
    const { r, Q, n, xi, pv, s0v, al, be, Sx, N, nodes } = this;
    const A = this.Areg!, act = this.m.activation;
    const At = slot * Q * Q;
    const so = (slot * N + nn) * n;
    for (let c = 0; c < Q; c++) {
      let sb = 0;
      for (let a = 0; a < r; a++) sb += A[At + (r + a) * Q + c] * y[yo + a];
      be[c] = sb;
    }
    lincomb(be, 0, Q, xi, 0, n, pv, 0, n);
    const dt = this.dPt!;
    for (let i = 0; i < n; i++) s0v[i] = dt[so + i] * pv[i];
    this.weigh(s0v);
    multiDot(s0v, 0, xi, 0, n, Q, n, Sx, 0);
    // α₁ (recomputed: cheap, 2r²)
    const ao = (this.currentStep * nodes + this.grid.hNode(slot)) * N * r + nn * r;
    let rho2 = 0;
    for (let c = 0; c < Q; c++) {
      let sacc = 0;
      for (let a = 0; a < r; a++) sacc += A[At + a * Q + c] * this.ah[ao + a];
      al[c] = sacc;
      rho2 += sacc * sacc;
    }
    const rho = Math.sqrt(rho2);
    const e0 = ghMean(act, rho, 0, 1), e2 = ghMean(act, rho, 2, 1);
    let ab = 0;
    for (let c = 0; c < Q; c++) ab += al[c] * be[c];
    const coef = rho2 > 0 ? (e2 - e0) * ab / rho2 : 0;
    const total = this.wts ? 1 : n;
    for (let b = 0; b < r; b++) {
      let mean = 0, exact = 0;
      for (let c = 0; c < Q; c++) {
        const Auc = A[At + b * Q + c];
        mean += Auc * Sx[c];
        exact += Auc * (e0 * be[c] + coef * al[c]);
      }
      dy[yo + b] -= exact * total - mean;
    }
  }

  /**
   * Adds slot t's term of the tangent Gram matrix K_k (MATH §8):
   * wq · { η_u E[σ'(p_n) q^(o)_n σ'(p_m) q^(o')_m] Γ^H_nm + η_v E[σ(p_n) σ(p_m)] Γ^{B,(o,o')}_nm }.
   */
  private gramSlot(k: number, t: number, wb: number, aho: number, abo0: number, dN: number): void {
    const { r, n, N, B, w, ah, abo, wts } = this;
    const { etaU, etaV } = this.m;
    const slotU = this.slotU!, slotV = this.slotV!, G = this.gramBuf!;
    const wi = (i: number) => (wts ? wts[i] : 1 / n);
    // g_(o,n) = σ'(p_n) q^(o)_n with q^(o)_n = w_v·a^{b(o)}_n
    for (let o = 0; o < this.m.dOut; o++)
      for (let nn = 0; nn < N; nn++) {
        const go = (o * N + nn) * n, so = (t * N + nn) * n;
        lincomb(abo, abo0 + (nn * B + o) * r, r, w, wb + r * n, n, G, go, n);
        for (let i = 0; i < n; i++) G[go + i] *= this.dP[so + i];
      }
    for (let x = 0; x < dN; x++)
      for (let y = x; y < dN; y++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += wi(i) * G[x * n + i] * G[y * n + i];
        slotU[x * dN + y] = s;
      }
    for (let x = 0; x < N; x++)
      for (let y = x; y < N; y++) {
        let s = 0;
        const sx = (t * N + x) * n, sy = (t * N + y) * n;
        for (let i = 0; i < n; i++) s += wi(i) * this.sP[sx + i] * this.sP[sy + i];
        slotV[x * N + y] = s;
      }
    const Kk = this.gram!, go = k * dN * dN, wq = this.quad[t];
    for (let x = 0; x < dN; x++) {
      const ox = (x / N) | 0, nx = x - ox * N;
      for (let y = 0; y < dN; y++) {
        const oy = (y / N) | 0, ny = y - oy * N;
        let gh = 0, gb = 0;
        for (let a = 0; a < r; a++) {
          gh += ah[aho + nx * r + a] * ah[aho + ny * r + a];
          gb += abo[abo0 + (nx * B + ox) * r + a] * abo[abo0 + (ny * B + oy) * r + a];
        }
        const eU = x <= y ? slotU[x * dN + y] : slotU[y * dN + x];
        const eV = nx <= ny ? slotV[nx * N + ny] : slotV[ny * N + nx];
        Kk[go + x * dN + y] += wq * (etaU * eU * gh + etaV * eV * gb);
      }
    }
  }

  /** KL(ρ_k(s) ‖ μ_0) at every slot from the particle state before update k (MATH §8). */
  private klStep(k: number): void {
    const { r, Q, n, w, J, xi, slots, wts, A } = this;
    const su = this.m.sigmaU, sv = this.m.sigmaV;
    let invalid = 0, total = 0;
    for (let t = 0; t < slots; t++) {
      let acc = 0, wsum = 0;
      if (k > 0) {
        for (let i = 0; i < n; i++) {
          const wt = wts ? wts[i] : 1 / n;
          // KL = E[½|T − ξ|² + ξ·(T − ξ) − log det ∇T]; by Stein E[ξ·g] = E[tr ∇g] (g = T − ξ), so the
          // integrand ½|g|² + tr(∇T − I) − log det ∇T is O(η²) sample by sample (no O(η) sampling noise)
          let quad = 0, tr = 0;
          for (let c = 0; c < Q; c++) {
            const sc = 1 / (c < r ? su : sv);
            const g = w[(t * Q + c) * n + i] * sc - xi[c * n + i];
            quad += g * g;
            for (let c2 = 0; c2 < Q; c2++) A[c * Q + c2] = J![((t * Q + c) * Q + c2) * n + i] * sc;
            tr += A[c * Q + c] - 1;
          }
          const ld = logDetLu(A, Q);
          if (!(ld.sign > 0)) { invalid++; continue; }
          acc += wt * (0.5 * quad + tr - ld.logAbs);
          wsum += wt;
        }
        if (wsum > 0) acc /= wsum;
      }
      // k = 0: T is the identity, KL_0 = 0 exactly
      this.klProfile![k * slots + t] = acc;
      total += this.quad[t] * acc;
    }
    this.kl![k] = total;
    this.klInvalid![k] = invalid;
  }
}

// the 64-node rule costs an eigen decomposition (≈ 20 ms): computed on first use, not when the package is imported
let GH64: ReturnType<typeof gaussHermite> | null = null;

/** E[Z^j g(ρ Z)], Z ~ N(0, 1), g = σ (deriv 0) or σ' (deriv 1), by 64-node Gauss–Hermite. */
function ghMean(act: Activation, rho: number, j: number, deriv: 0 | 1): number {
  const { nodes, weights } = (GH64 ??= gaussHermite(64));
  let s = 0;
  for (let i = 0; i < nodes.length; i++) {
    const z = nodes[i];
    const g = deriv === 0 ? act.f(rho * z) : act.df(rho * z);
    s += weights[i] * (j === 0 ? g : j === 1 ? z * g : z * z * g);
  }
  return s;
}

/** s[so + i] = tanh p[i] for i < n; false when some p[i] is not finite (the caller reports the divergence). */
function tanhValues(p: Float64Array, s: Float64Array, so: number, n: number): boolean {
  let finite = true;
  for (let i = 0; i < n; i++) {
    const x = p[i];
    if (x - x !== 0) finite = false;
    s[so + i] = fastTanh(x);
  }
  return finite;
}

function activateValues(act: Activation, p: Float64Array, s: Float64Array, n: number): void {
  switch (act.kind) {
    case 0: for (let i = 0; i < n; i++) s[i] = fastTanh(p[i]); return;
    case 1: for (let i = 0; i < n; i++) s[i] = p[i]; return;
    case 2: for (let i = 0; i < n; i++) { const x = p[i]; s[i] = x * (0.5 * (1 + fastErf(x * Math.SQRT1_2))); } return;
    case 3: for (let i = 0; i < n; i++) s[i] = Math.sin(p[i]); return;
    default: { const f = act.f; for (let i = 0; i < n; i++) s[i] = f(p[i]); }
  }
}

function derivativeValue(act: Activation, x: number): number {
  switch (act.kind) {
    case 0: { const t = fastTanh(x); return 1 - t * t; }
    case 1: return 1;
    case 3: return Math.cos(x);
    default: return act.df(x);
  }
}

/** log|det A| and its sign by LU with partial pivoting (A: n × n, overwritten). */
export function logDetLu(A: Float64Array, n: number): { sign: number; logAbs: number } {
  let sign = 1, logAbs = 0;
  for (let c = 0; c < n; c++) {
    let piv = c, best = Math.abs(A[c * n + c]);
    for (let rr = c + 1; rr < n; rr++) { const v = Math.abs(A[rr * n + c]); if (v > best) { best = v; piv = rr; } }
    if (best === 0) return { sign: 0, logAbs: -Infinity };
    if (piv !== c) {
      for (let j = 0; j < n; j++) { const t = A[c * n + j]; A[c * n + j] = A[piv * n + j]; A[piv * n + j] = t; }
      sign = -sign;
    }
    const d = A[c * n + c];
    if (d < 0) sign = -sign;
    logAbs += Math.log(Math.abs(d));
    for (let rr = c + 1; rr < n; rr++) {
      const f = A[rr * n + c] / d;
      if (f === 0) continue;
      for (let j = c + 1; j < n; j++) A[rr * n + j] -= f * A[c * n + j];
    }
  }
  return { sign, logAbs };
}
