/**
 * Skeleton maps (MATH §3): the preactivations p_{j,n} and adjoint sums q_{j,n} of a
 * particle after j gradient steps, as explicit functions of the Gaussian vector
 * G = (G^u, G^v), with exact forward-mode derivatives ∂p/∂G, ∂q/∂G.
 *
 * Indexing. Steps j = 0..k, data points m = 0..N−1, flat index a = j·N + m.
 * G^u ∈ R^{nU}, nU = (k+1)N (indices a with j ≤ k); G^v ∈ R^{nV}, nV = nB·N
 * (j < nB). A sample G is the flat vector [G^u, G^v] of length dimG = nU + nV.
 * Gram matrices are row-major: ΓH is nU×nU, ΓB is nV×nV.
 *
 *   p_{j,n} = G^u_{j,n} − (η_u/(αN)) Σ_{i<j} Σ_m σ′(p_{i,m}) q_{i,m} ΓH[(i,m),(j,n)]        j ≤ k
 *   q_{j,n} = G^v_{j,n} − (η_v/(αN)) Σ_{i<j} Σ_m σ(p_{i,m})           ΓB[(i,m),(j,n)]        j < nB
 *
 * nB must be k or k+1 (p_k needs q_{<k}). Derivatives are propagated through this
 * recursion (never by finite differences):
 *   ∂p_{j,n} = e^u_{j,n} − c_u Σ ΓH[(i,m),(j,n)] (σ″(p_{i,m}) q_{i,m} ∂p_{i,m} + σ′(p_{i,m}) ∂q_{i,m})
 *   ∂q_{j,n} = e^v_{j,n} − c_v Σ ΓB[(i,m),(j,n)]  σ′(p_{i,m}) ∂p_{i,m}
 * p_j depends only on G^u_{≤j}, G^v_{<j}, and q_j on G^u_{<j}, G^v_{≤j}: rows are only
 * computed over the columns that can be non-zero.
 */
import { resolveActivation, requireSecondDerivative, type Activation, type ActivationName } from "../core/activations.ts";
import { ValidationError } from "../core/errors.ts";
import { finiteNumber, positiveNumber, nonNegativeInt, positiveInt, show } from "../core/validate.ts";

/** Model constants that enter the skeleton maps and the coefficients. */
export interface SkeletonParams {
  /** η_u, η_v: learning rates in mean-field units (MATH §1). */
  etaU: number;
  etaV: number;
  /** α: residual scale (default regime α = 1). */
  alpha: number;
  activation: Activation | ActivationName;
  /** σ_u, σ_v: initialisation scales of U, V (default 1). Only the coefficients use them. */
  sigmaU?: number;
  sigmaV?: number;
}

/** Validated, resolved parameters. */
export interface ResolvedParams {
  etaU: number;
  etaV: number;
  alpha: number;
  sigmaU: number;
  sigmaV: number;
  activation: Activation;
}

export function resolveParams(p: SkeletonParams, field = "params"): ResolvedParams {
  if (typeof p !== "object" || p === null) throw new ValidationError(field, `must be an object (got ${show(p)})`);
  return {
    etaU: finiteNumber(`${field}.etaU`, p.etaU),
    etaV: finiteNumber(`${field}.etaV`, p.etaV),
    alpha: positiveNumber(`${field}.alpha`, p.alpha),
    sigmaU: p.sigmaU === undefined ? 1 : positiveNumber(`${field}.sigmaU`, p.sigmaU),
    sigmaV: p.sigmaV === undefined ? 1 : positiveNumber(`${field}.sigmaV`, p.sigmaV),
    activation: resolveActivation(p.activation, `${field}.activation`),
  };
}

/**
 * Which Jacobian columns to propagate:
 * "none" — values only; "u" — ∂/∂G^u (nU columns); "v" — ∂/∂G^v (nV columns);
 * "all" — ∂/∂G (dimG columns, G^u first then G^v).
 */
export type JacobianMode = "none" | "u" | "v" | "all";

/** Check a Gram matrix: Float64Array (or number[]) of length n², finite entries. */
export function checkGram(field: string, g: unknown, n: number): Float64Array {
  if (!(g instanceof Float64Array) && !Array.isArray(g)) throw new ValidationError(field, `must be a Float64Array or array of length ${n}×${n} = ${n * n} (got ${show(g)})`);
  const a = g instanceof Float64Array ? g : Float64Array.from(g as number[]);
  if (a.length !== n * n) throw new ValidationError(field, `has length ${a.length} but ${n}×${n} = ${n * n} was expected (row-major, flat index a = j·N + m)`);
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new ValidationError(`${field}[${Math.floor(i / n)}][${i % n}]`, `must be finite (got ${a[i]})`);
  }
  return a;
}

export function checkSizes(k: unknown, N: unknown, nB: unknown): void {
  nonNegativeInt("k", k);
  positiveInt("N", N);
  nonNegativeInt("nB", nB);
  if (nB !== k && nB !== (k as number) + 1) throw new ValidationError("nB", `must be k or k+1 (got nB = ${nB}, k = ${k})`);
}

/**
 * Evaluator of the skeleton maps for fixed sizes. Buffers are allocated once;
 * `evaluate` writes one sample's p, q, σ(p), σ′(p), σ″(p) and Jacobians into them.
 * Layout: p, s, ds, d2s have length nP = (k+1)N, q has nQ = nB·N;
 * dp is nP × nc and dq is nQ × nc row-major (nc = number of Jacobian columns).
 */
export class SkeletonMap {
  readonly k: number;
  readonly N: number;
  readonly nB: number;
  readonly nU: number;
  readonly nV: number;
  readonly dimG: number;
  readonly mode: JacobianMode;
  /** Number of Jacobian columns: 0, nU, nV or dimG. */
  readonly nc: number;
  readonly p: Float64Array;
  readonly q: Float64Array;
  readonly s: Float64Array;
  readonly ds: Float64Array;
  readonly d2s: Float64Array;
  readonly dp: Float64Array;
  readonly dq: Float64Array;
  /** Per-sample scratch: wq[a] = c_u σ′(p_a) q_a, wd[a] = σ″(p_a) q_a. */
  private readonly wq: Float64Array;
  private readonly wd: Float64Array;
  private readonly pHi: Int32Array;
  private readonly qHi: Int32Array;
  private readonly pDelta: number;
  private readonly qDelta: number;
  gammaH: Float64Array;
  gammaB: Float64Array;
  private params!: ResolvedParams;
  private cu = 0;
  private cv = 0;
  private d2f: ((x: number) => number) | null = null;

  constructor(k: number, N: number, nB: number, mode: JacobianMode = "none") {
    checkSizes(k, N, nB);
    this.k = k; this.N = N; this.nB = nB; this.mode = mode;
    const nU = (this.nU = (k + 1) * N);
    const nV = (this.nV = nB * N);
    this.dimG = nU + nV;
    this.nc = mode === "none" ? 0 : mode === "u" ? nU : mode === "v" ? nV : nU + nV;
    this.p = new Float64Array(nU);
    this.s = new Float64Array(nU);
    this.ds = new Float64Array(nU);
    this.d2s = new Float64Array(nU);
    this.q = new Float64Array(nV);
    this.wq = new Float64Array(nV);
    this.wd = new Float64Array(nV);
    this.dp = new Float64Array(nU * this.nc);
    this.dq = new Float64Array(nV * this.nc);
    this.gammaH = new Float64Array(nU * nU);
    this.gammaB = new Float64Array(nV * nV);
    // column ranges that can be non-zero, and the offset of the identity part
    this.pHi = new Int32Array(k + 1);
    this.qHi = new Int32Array(k + 1);
    for (let j = 0; j <= k; j++) {
      if (mode === "u") { this.pHi[j] = (j + 1) * N; this.qHi[j] = j * N; }
      else if (mode === "v") { this.pHi[j] = j * N; this.qHi[j] = (j + 1) * N; }
      else if (mode === "all") { this.pHi[j] = this.nc; this.qHi[j] = this.nc; }
    }
    this.pDelta = mode === "u" || mode === "all" ? 0 : -1;
    this.qDelta = mode === "v" ? 0 : mode === "all" ? nU : -1;
  }

  /** Set the Gram matrices (no copy: the arrays are referenced) and the parameters. */
  setup(gammaH: Float64Array, gammaB: Float64Array, params: ResolvedParams): void {
    if (gammaH.length !== this.nU * this.nU) throw new ValidationError("gammaH", `has length ${gammaH.length} but ${this.nU}×${this.nU} was expected`);
    if (gammaB.length !== this.nV * this.nV) throw new ValidationError("gammaB", `has length ${gammaB.length} but ${this.nV}×${this.nV} was expected`);
    this.gammaH = gammaH;
    this.gammaB = gammaB;
    this.params = params;
    this.cu = params.etaU / (params.alpha * this.N);
    this.cv = params.etaV / (params.alpha * this.N);
    this.d2f = this.nc > 0 ? requireSecondDerivative(params.activation, "params.activation") : params.activation.d2f ?? null;
  }

  /** Evaluate the maps (and Jacobians of the chosen mode) at G = g[off .. off+dimG). */
  evaluate(g: ArrayLike<number>, off = 0): void {
    const k = this.k, N = this.N, nU = this.nU, nV = this.nV, nc = this.nc, nB = this.nB;
    const p = this.p, q = this.q, s = this.s, ds = this.ds, d2s = this.d2s, dp = this.dp, dq = this.dq;
    const GH = this.gammaH, GB = this.gammaB, cu = this.cu, cv = this.cv;
    const pHi = this.pHi, qHi = this.qHi, pDelta = this.pDelta, qDelta = this.qDelta;
    const act = this.params.activation, kind = act.kind, d2f = this.d2f;
    const wq = this.wq, wd = this.wd;
    for (let j = 0; j <= k; j++) {
      const iEnd = j * N; // sources a < j·N (steps i < j)
      // ---- p_j ----
      for (let n = 0; n < N; n++) {
        const r = j * N + n;
        let acc = g[off + r];
        for (let a = 0; a < iEnd; a++) acc -= wq[a] * GH[a * nU + r];
        p[r] = acc;
        if (kind === 0) {
          const t = Math.tanh(acc), dt = 1 - t * t;
          s[r] = t; ds[r] = dt; d2s[r] = -2 * t * dt;
        } else if (kind === 1) {
          s[r] = acc; ds[r] = 1; d2s[r] = 0;
        } else if (kind === 3) {
          const sn = Math.sin(acc);
          s[r] = sn; ds[r] = Math.cos(acc); d2s[r] = -sn;
        } else {
          s[r] = act.f(acc); ds[r] = act.df(acc); d2s[r] = d2f ? d2f(acc) : NaN;
        }
        if (nc === 0) continue;
        const row = r * nc;
        const hi = pHi[j];
        for (let c = 0; c < hi; c++) dp[row + c] = 0;
        if (pDelta >= 0) dp[row + pDelta + r] = 1;
        for (let i = 0; i < j; i++) {
          const hp = pHi[i], hq = qHi[i];
          for (let m = 0; m < N; m++) {
            const a = i * N + m;
            const A = cu * GH[a * nU + r];
            const c1 = A * wd[a], c2 = A * ds[a];
            const rowA = a * nc;
            if (c1 !== 0) for (let c = 0; c < hp; c++) dp[row + c] -= c1 * dp[rowA + c];
            if (c2 !== 0) for (let c = 0; c < hq; c++) dp[row + c] -= c2 * dq[rowA + c];
          }
        }
      }
      // ---- q_j ----
      if (j < nB) {
        for (let n = 0; n < N; n++) {
          const r = j * N + n;
          let sum = 0;
          for (let a = 0; a < iEnd; a++) sum += s[a] * GB[a * nV + r];
          const acc = g[off + nU + r] - cv * sum;
          q[r] = acc;
          wq[r] = cu * ds[r] * acc;
          wd[r] = d2s[r] * acc;
          if (nc === 0) continue;
          const row = r * nc;
          const hi = qHi[j];
          for (let c = 0; c < hi; c++) dq[row + c] = 0;
          if (qDelta >= 0) dq[row + qDelta + r] = 1;
          for (let i = 0; i < j; i++) {
            const hp = pHi[i];
            for (let m = 0; m < N; m++) {
              const a = i * N + m;
              const c2 = cv * GB[a * nV + r] * ds[a];
              if (c2 === 0) continue;
              const rowA = a * nc;
              for (let c = 0; c < hp; c++) dq[row + c] -= c2 * dp[rowA + c];
            }
          }
        }
      }
    }
  }

  /** Copy the whole of dp (nU × nc, zeros outside the computed ranges) to out[off..]. */
  copyDp(out: Float64Array, off: number): void {
    const { nc, N } = this;
    for (let r = 0; r < this.nU; r++) {
      const hi = this.pHi[(r / N) | 0];
      for (let c = 0; c < nc; c++) out[off + r * nc + c] = c < hi ? this.dp[r * nc + c] : 0;
    }
  }

  /** Copy the whole of dq (nV × nc) to out[off..]. */
  copyDq(out: Float64Array, off: number): void {
    const { nc, N } = this;
    for (let r = 0; r < this.nV; r++) {
      const hi = this.qHi[(r / N) | 0];
      for (let c = 0; c < nc; c++) out[off + r * nc + c] = c < hi ? this.dq[r * nc + c] : 0;
    }
  }

  /** Full row r of dp as a dense vector over the mode's columns (entries beyond the computed range are 0). */
  dpRow(r: number, out = new Float64Array(this.nc)): Float64Array {
    const j = (r / this.N) | 0, hi = this.pHi[j];
    for (let c = 0; c < this.nc; c++) out[c] = c < hi ? this.dp[r * this.nc + c] : 0;
    return out;
  }

  dqRow(r: number, out = new Float64Array(this.nc)): Float64Array {
    const j = (r / this.N) | 0, hi = this.qHi[j];
    for (let c = 0; c < this.nc; c++) out[c] = c < hi ? this.dq[r * this.nc + c] : 0;
    return out;
  }
}

/** Result of a single-sample evaluation with full Jacobians. */
export interface SkeletonSample {
  /** p_{j,n} at index j·N + n, length (k+1)N. */
  p: Float64Array;
  /** q_{j,n} at index j·N + n, length nB·N. */
  q: Float64Array;
  /** ∂p/∂G: (k+1)N × dimG row-major; column c < nU is G^u_c, column nU + c is G^v_c. */
  dpdG: Float64Array;
  /** ∂q/∂G: nB·N × dimG row-major, same columns. */
  dqdG: Float64Array;
  dimG: number;
}

/**
 * Skeleton maps at one G (length dimG = (k+1)N + nB·N) with full Jacobians.
 * For tests, the particle sampler and Lipschitz checks; allocates its result.
 * The activation needs σ″ (requireSecondDerivative) because the Jacobians do.
 */
export function skeletonMaps(
  k: number, N: number, nB: number,
  gammaH: Float64Array | number[], gammaB: Float64Array | number[],
  params: SkeletonParams, g: ArrayLike<number>,
): SkeletonSample {
  checkSizes(k, N, nB);
  const rp = resolveParams(params);
  const map = new SkeletonMap(k, N, nB, "all");
  map.setup(checkGram("gammaH", gammaH, map.nU), checkGram("gammaB", gammaB, map.nV), rp);
  if (!g || typeof (g as ArrayLike<number>).length !== "number" || g.length !== map.dimG) {
    throw new ValidationError("G", `must have length dimG = (k+1)N + nB·N = ${map.dimG} (got ${show(g)})`);
  }
  for (let i = 0; i < g.length; i++) if (!Number.isFinite(g[i])) throw new ValidationError(`G[${i}]`, `must be finite (got ${g[i]})`);
  map.evaluate(g);
  const dpdG = new Float64Array(map.nU * map.dimG), dqdG = new Float64Array(map.nV * map.dimG);
  for (let r = 0; r < map.nU; r++) map.dpRow(r, dpdG.subarray(r * map.dimG, (r + 1) * map.dimG));
  for (let r = 0; r < map.nV; r++) map.dqRow(r, dqdG.subarray(r * map.dimG, (r + 1) * map.dimG));
  return { p: map.p.slice(), q: map.q.slice(), dpdG, dqdG, dimG: map.dimG };
}

/** Output buffers of evaluateBatch; each optional, sized S × (per-sample length), sample-major. */
export interface BatchOutput {
  p?: Float64Array;   // S × nU
  q?: Float64Array;   // S × nV
  s?: Float64Array;   // S × nU: σ(p)
  ds?: Float64Array;  // S × nU: σ′(p)
  d2s?: Float64Array; // S × nU: σ″(p)
  dp?: Float64Array;  // S × nU × nc (nc from the block's Jacobian mode)
  dq?: Float64Array;  // S × nV × nc
}

/**
 * Evaluate the skeleton maps on S samples stored sample-major in G (S × dimG), using a
 * prepared SkeletonBlock (see SkeletonBlock.setup), block by block; copies the requested
 * quantities into `out` (sample-major). No per-sample allocation.
 */
export function evaluateBatch(block: SkeletonBlock, G: Float64Array, S: number, out: BatchOutput): void {
  const { nU, nV, nc, dimG, B, N } = block;
  if (G.length < S * dimG) throw new ValidationError("G", `has length ${G.length} < S·dimG = ${S * dimG}`);
  const need = (name: string, a: Float64Array | undefined, per: number) => {
    if (a && a.length < S * per) throw new ValidationError(`out.${name}`, `has length ${a.length} < ${S}×${per}`);
  };
  need("p", out.p, nU); need("q", out.q, nV); need("s", out.s, nU); need("ds", out.ds, nU); need("d2s", out.d2s, nU);
  need("dp", out.dp, nU * nc); need("dq", out.dq, nV * nc);
  const copy = (src: Float64Array, dst: Float64Array | undefined, rowsN: number, t0: number, L: number) => {
    if (!dst) return;
    for (let t = 0; t < L; t++) for (let r = 0; r < rowsN; r++) dst[(t0 + t) * rowsN + r] = src[r * B + t];
  };
  for (let t0 = 0; t0 < S; t0 += B) {
    const L = Math.min(B, S - t0);
    for (let t = 0; t < L; t++) for (let c = 0; c < dimG; c++) block.g[c * B + t] = G[(t0 + t) * dimG + c];
    block.evaluate(L);
    copy(block.p, out.p, nU, t0, L);
    copy(block.q, out.q, nV, t0, L);
    copy(block.s, out.s, nU, t0, L);
    copy(block.ds, out.ds, nU, t0, L);
    copy(block.d2s, out.d2s, nU, t0, L);
    if (out.dp) {
      for (let t = 0; t < L; t++) for (let r = 0; r < nU; r++) {
        const hi = block.pHi[(r / N) | 0];
        for (let c = 0; c < nc; c++) out.dp[((t0 + t) * nU + r) * nc + c] = c < hi ? block.dp[(r * nc + c) * B + t] : 0;
      }
    }
    if (out.dq) {
      for (let t = 0; t < L; t++) for (let r = 0; r < nV; r++) {
        const hi = block.qHi[(r / N) | 0];
        for (let c = 0; c < nc; c++) out.dq[((t0 + t) * nV + r) * nc + c] = c < hi ? block.dq[(r * nc + c) * B + t] : 0;
      }
    }
  }
}

/**
 * Structure-of-arrays evaluator of the skeleton maps over a block of up to B samples
 * at once (the hot path of the coefficients: every inner loop runs over the samples,
 * which V8 compiles to tight loops). Same recursion as SkeletonMap.evaluate.
 * Layout, for sample t < B: g[c·B + t] (c < dimG); p, s, ds, d2s [r·B + t] (r < nU);
 * q, wq = σ′(p)q, wd = σ″(p)q [r·B + t] (r < nV); dp[(r·nc + c)·B + t], dq likewise.
 * Entries of dp / dq outside the columns a row can depend on are NOT written (see rowRange).
 */
export class SkeletonBlock {
  readonly k: number;
  readonly N: number;
  readonly nB: number;
  readonly nU: number;
  readonly nV: number;
  readonly dimG: number;
  readonly mode: JacobianMode;
  readonly nc: number;
  readonly B: number;
  readonly g: Float64Array;
  readonly p: Float64Array;
  readonly q: Float64Array;
  readonly s: Float64Array;
  readonly ds: Float64Array;
  readonly d2s: Float64Array;
  readonly wq: Float64Array;
  readonly wd: Float64Array;
  readonly dp: Float64Array;
  readonly dq: Float64Array;
  /** Column ranges [0, pHi[j]) / [0, qHi[j]) that rows of step j can depend on. */
  readonly pHi: Int32Array;
  readonly qHi: Int32Array;
  private readonly pDelta: number;
  private readonly qDelta: number;
  private gammaH: Float64Array = new Float64Array(0);
  private gammaB: Float64Array = new Float64Array(0);
  private act!: Activation;
  private d2f: ((x: number) => number) | null = null;
  private cu = 0;
  private cv = 0;

  constructor(k: number, N: number, nB: number, mode: JacobianMode, B = 128) {
    checkSizes(k, N, nB);
    positiveInt("B", B);
    this.k = k; this.N = N; this.nB = nB; this.mode = mode; this.B = B;
    const nU = (this.nU = (k + 1) * N), nV = (this.nV = nB * N);
    this.dimG = nU + nV;
    this.nc = mode === "none" ? 0 : mode === "u" ? nU : mode === "v" ? nV : nU + nV;
    this.g = new Float64Array(this.dimG * B);
    this.p = new Float64Array(nU * B);
    this.s = new Float64Array(nU * B);
    this.ds = new Float64Array(nU * B);
    this.d2s = new Float64Array(nU * B);
    this.q = new Float64Array(nV * B);
    this.wq = new Float64Array(nV * B);
    this.wd = new Float64Array(nV * B);
    this.dp = new Float64Array(nU * this.nc * B);
    this.dq = new Float64Array(nV * this.nc * B);
    this.pHi = new Int32Array(k + 1);
    this.qHi = new Int32Array(k + 1);
    for (let j = 0; j <= k; j++) {
      if (mode === "u") { this.pHi[j] = (j + 1) * N; this.qHi[j] = j * N; }
      else if (mode === "v") { this.pHi[j] = j * N; this.qHi[j] = (j + 1) * N; }
      else if (mode === "all") { this.pHi[j] = this.nc; this.qHi[j] = this.nc; }
    }
    this.pDelta = mode === "u" || mode === "all" ? 0 : -1;
    this.qDelta = mode === "v" ? 0 : mode === "all" ? nU : -1;
  }

  /** Gram matrices (referenced, not copied; sizes checked) and parameters. */
  setup(gammaH: Float64Array, gammaB: Float64Array, params: ResolvedParams): void {
    if (gammaH.length !== this.nU * this.nU) throw new ValidationError("gammaH", `has length ${gammaH.length} but ${this.nU}×${this.nU} was expected`);
    if (gammaB.length !== this.nV * this.nV) throw new ValidationError("gammaB", `has length ${gammaB.length} but ${this.nV}×${this.nV} was expected`);
    this.gammaH = gammaH;
    this.gammaB = gammaB;
    this.act = params.activation;
    this.d2f = this.nc > 0 ? requireSecondDerivative(params.activation, "params.activation") : params.activation.d2f ?? null;
    this.cu = params.etaU / (params.alpha * this.N);
    this.cv = params.etaV / (params.alpha * this.N);
  }

  /** Evaluate samples t < L (L ≤ B) whose G is in this.g (SoA). */
  evaluate(L: number): void {
    const { k, N, nU, nV, nc, nB, B, g, p, q, s, ds, d2s, wq, wd, dp, dq, pHi, qHi, pDelta, qDelta } = this;
    const GH = this.gammaH, GB = this.gammaB, cu = this.cu, cv = this.cv;
    const act = this.act, kind = act.kind, d2f = this.d2f;
    for (let j = 0; j <= k; j++) {
      const iEnd = j * N;
      for (let n = 0; n < N; n++) {
        const r = j * N + n, rB = r * B;
        for (let t = 0; t < L; t++) p[rB + t] = g[rB + t];
        for (let a = 0; a < iEnd; a++) {
          const coef = cu * GH[a * nU + r];
          if (coef === 0) continue;
          const aB = a * B;
          axpy(p, rB, wq, aB, coef, L);
        }
        if (kind === 0) {
          for (let t = 0; t < L; t++) {
            const th = Math.tanh(p[rB + t]), dt = 1 - th * th;
            s[rB + t] = th; ds[rB + t] = dt; d2s[rB + t] = -2 * th * dt;
          }
        } else if (kind === 1) {
          for (let t = 0; t < L; t++) { s[rB + t] = p[rB + t]; ds[rB + t] = 1; d2s[rB + t] = 0; }
        } else if (kind === 3) {
          for (let t = 0; t < L; t++) {
            const sn = Math.sin(p[rB + t]);
            s[rB + t] = sn; ds[rB + t] = Math.cos(p[rB + t]); d2s[rB + t] = -sn;
          }
        } else {
          for (let t = 0; t < L; t++) {
            const x = p[rB + t];
            s[rB + t] = act.f(x); ds[rB + t] = act.df(x); d2s[rB + t] = d2f ? d2f(x) : NaN;
          }
        }
        if (nc === 0) continue;
        const hi = pHi[j];
        const row = r * nc;
        for (let c = 0; c < hi; c++) dp.fill(0, (row + c) * B, (row + c) * B + L);
        if (pDelta >= 0) dp.fill(1, (row + pDelta + r) * B, (row + pDelta + r) * B + L);
        for (let i = 0; i < j; i++) {
          const hp = pHi[i], hq = qHi[i];
          for (let m = 0; m < N; m++) {
            const a = i * N + m;
            const A = cu * GH[a * nU + r];
            if (A === 0) continue;
            const aB = a * B, rowA = a * nc;
            // dp_r −= A (σ″ q)_a dp_a + A σ′_a dq_a
            for (let c = 0; c < hp; c++) axpy2(dp, (row + c) * B, wd, aB, dp, (rowA + c) * B, A, L);
            for (let c = 0; c < hq; c++) axpy2(dp, (row + c) * B, ds, aB, dq, (rowA + c) * B, A, L);
          }
        }
      }
      if (j >= nB) continue;
      for (let n = 0; n < N; n++) {
        const r = j * N + n, rB = r * B;
        const gOff = (nU + r) * B;
        for (let t = 0; t < L; t++) q[rB + t] = g[gOff + t];
        for (let a = 0; a < iEnd; a++) {
          const coef = cv * GB[a * nV + r];
          if (coef === 0) continue;
          const aB = a * B;
          axpy(q, rB, s, aB, coef, L);
        }
        for (let t = 0; t < L; t++) {
          wq[rB + t] = ds[rB + t] * q[rB + t];
          wd[rB + t] = d2s[rB + t] * q[rB + t];
        }
        if (nc === 0) continue;
        const hi = qHi[j];
        const row = r * nc;
        for (let c = 0; c < hi; c++) dq.fill(0, (row + c) * B, (row + c) * B + L);
        if (qDelta >= 0) dq.fill(1, (row + qDelta + r) * B, (row + qDelta + r) * B + L);
        for (let i = 0; i < j; i++) {
          const hp = pHi[i];
          for (let m = 0; m < N; m++) {
            const a = i * N + m;
            const A = cv * GB[a * nV + r];
            if (A === 0) continue;
            const aB = a * B, rowA = a * nc;
            for (let c = 0; c < hp; c++) axpy2(dq, (row + c) * B, ds, aB, dp, (rowA + c) * B, A, L);
          }
        }
      }
    }
  }
}

/** y[o + t] −= c · x[ox + t], t < L. */
function axpy(y: Float64Array, o: number, x: Float64Array, ox: number, c: number, L: number): void {
  for (let t = 0; t < L; t++) y[o + t] -= c * x[ox + t];
}

/** y[o + t] −= c · u[ou + t] · v[ov + t], t < L. */
function axpy2(y: Float64Array, o: number, u: Float64Array, ou: number, v: Float64Array, ov: number, c: number, L: number): void {
  for (let t = 0; t < L; t++) y[o + t] -= c * u[ou + t] * v[ov + t];
}
