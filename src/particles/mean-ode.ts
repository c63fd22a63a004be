/**
 * The particle Mean ODE (MATH §2, "Particle integrator").
 *
 * μ_0 = N(0, σ_u² D I_D) ⊗ N(0, σ_v² D I_D) is represented by P particles
 * z^i = (u^i, v^i), the same initial particles at every depth. Each particle
 * carries one state per field slot of the DepthGrid (the law at depth s after
 * k steps is the image of μ_0 by z ↦ z_k(s; z); the grid samples s). For GD
 * step k:
 *
 *   forward   h_{k,n}(0) = W_E x_n,   ∂_s h_{k,n} =  α (1/P) Σ_i v^i σ(p^i_n),        p^i_n = u^iᵀ h_{k,n}/D
 *   output    f_{k,n} = W_Uᵀ h_{k,n}(1)/D,   𝓛_k = (1/N) Σ_n ½ |f_{k,n} − y_n|²
 *   backward  b_{k,n}(1) = W_U (f_{k,n} − y_n),
 *             ∂_s b_{k,n} = −α (1/P) Σ_i u^i σ′(p^i_n) q^i_n,   q^i_n = v^iᵀ b_{k,n}/D
 *   update    u^i ← u^i − (η_u/α)(1/N) Σ_n h_{k,n}(hNode) σ′(p^i_n) q^i_n
 *             v^i ← v^i − (η_v/α)(1/N) Σ_n σ(p^i_n) b_{k,n}(bNode)
 *
 * In the forward field, p uses the own state h at the stage and the particle
 * state at the slot; in the backward field p is read from the stored forward
 * profile at hNode(slot) and q uses the own state b. The update runs at every
 * slot after the backward solve, with p from h(hNode) and q from b(bNode).
 * With the staggered-Euler scheme, depthSteps = L and P = M this is exactly
 * the finite ResNet (MATH §1) whose L layers start from the same M units:
 * slot ℓ−1 is layer ℓ.
 *
 * Layouts (row-major Float64Array):
 *   U, V        slots × P × D   (particle-major, contiguous over d; slot-wise
 *                                the internal layout L × M × D of the finite weights)
 *   H, B        nodes × N × D   (depth profiles of the current step, node-major)
 *   Pre/Sig/dSig, Q   slots × P × N  (p, σ(p), σ′(p) at hNode; q at bNode)
 *
 * Embeddings are frozen (MATH §1: the limit solvers assume it); a problem with
 * η_E or η_O ≠ 0 is rejected. model.L and model.M are not used.
 *
 * Particle streams: unless supplied, the initial particles are drawn from
 * `new StreamFamily(particleSeed)`, stream 1000 for U (P × D, particle i =
 * row i) and stream 1001 for V, with particleSeed defaulting to problem.seed.
 * The finite model uses streams 0 (W_E), 1 (W_U) and 2 + ℓ (layer ℓ), so the
 * particles are independent of the finite model's weights for L ≤ 998. Rows
 * are drawn in order, so the first P′ particles of a P-particle draw are the
 * P′-particle draw (particle sets are nested in P).
 */
import type { Activation } from "../core/activations.ts";
import { view } from "../core/arrays.ts";
import { DivergenceError, ValidationError } from "../core/errors.ts";
import { StreamFamily } from "../core/rng.ts";
import { assertFinite, dflt, firstNonFinite, isPlainObject, knownKeys, positiveInt, seedValue, show } from "../core/validate.ts";
import { f64, requireResources, type ResourceNeed, STEP_OVERHEAD } from "../core/resources.ts";
import { checkRequirement } from "../problem/algorithm.ts";
import { assertProblem, type Problem } from "../problem/problem.ts";
import { bindRecordSteps, recordSpec } from "../problem/record.ts";
import { type DepthProfiles, lossOf, makeTrajectory, type Trajectory, type TrajectoryParts } from "../problem/trajectory.ts";
import { initEmbeddings } from "../problem/embeddings.ts";
import { DepthGrid, type Field, IntegratorWorkspace, type Scheme, slotWeights } from "../depth/grid.ts";
import { integrate } from "../depth/integrate.ts";
import { activationRange } from "../kernels/activation.ts";
import { axpy, dot } from "../kernels/vector.ts";
import { rowDots } from "../kernels/resnet.ts";
import { reportProgress } from "../core/progress.ts";

/** Stream indices (of `new StreamFamily(particleSeed)`) of the initial particles. */
export const PARTICLE_STREAM_U = 1000;
export const PARTICLE_STREAM_V = 1001;

/** What the particle Mean ODE records: profiles "h", "b" (at recordSteps) and the tangent Gram matrix "gram" (every step). */
export type ParticleRecord = "h" | "b" | "gram";

export interface ParticleSet {
  /** P × D: row i = u^i. */
  U: Float64Array;
  /** P × D: row i = v^i. */
  V: Float64Array;
}

export interface ParticleMeanOdeOptions {
  /** Depth scheme (default "heun"). */
  scheme?: Scheme;
  /** Number of depth steps S (default 32). */
  depthSteps?: number;
  /** Number of particles P (default 4096; with initialParticles, defaults to their count). */
  particles?: number;
  /** Seed of the particle streams (default problem.seed); see the module comment. */
  particleSeed?: number;
  /** Supplied initial particles (P × D each), shared by all depths; copied, not modified. */
  initialParticles?: { U: Float64Array | number[]; V: Float64Array | number[] };
  /** Depth profiles to record on the node grid: h_k(s), b_k(s); and the tangent Gram matrix "gram" (MATH §8) at every step. */
  record?: ParticleRecord[];
  /** Steps at which to record them (default: every step when `record` is non-empty). */
  recordSteps?: number[];
}

const OPTION_KEYS = ["scheme", "depthSteps", "particles", "particleSeed", "initialParticles", "record", "recordSteps"];

/** The options a particle solve is bound to (every default filled in). */
export interface ParticleBound {
  scheme: Scheme;
  depthSteps: number;
  particles: number;
  /** Seed of the drawn particles (null when they are supplied). */
  particleSeed: number | null;
  /** The supplied initial particles (absent: drawn from particleSeed). */
  initialParticles?: ParticleSet;
  record: ParticleRecord[];
  recordSteps: number[];
}

export interface ParticleExtras {
  P: number;
  scheme: Scheme;
  depthSteps: number;
  nodes: number;
  slots: number;
  particleSeed: number | null;
  /** max |f − f_fine| when the outputs are Richardson-extrapolated (meanOde). */
  richardsonCorrection?: number;
}

/** Validate and bind particle options (every error names `${field}.<key>`); needs the problem for shapes and K. */
export function bindParticleOptions(problem: Problem, o: unknown, field = "solver"): ParticleBound {
  if (o === undefined) o = {};
  if (!isPlainObject(o)) throw new ValidationError(field, `must be an object of particle Mean ODE options (got ${show(o)})`);
  knownKeys(field, o, OPTION_KEYS);
  const opts = o as ParticleMeanOdeOptions;
  const grid = new DepthGrid(dflt(opts.scheme, "heun") as Scheme, dflt(opts.depthSteps, 32) as number, field);
  const D = problem.model.D;
  let initial: ParticleSet | null = null;
  let P: number;
  if (opts.initialParticles !== undefined) {
    const ip = opts.initialParticles as unknown;
    if (!isPlainObject(ip)) throw new ValidationError(`${field}.initialParticles`, `must be an object { U, V } of P × D arrays (got ${show(ip)})`);
    knownKeys(`${field}.initialParticles`, ip, ["U", "V"]);
    const U = flatArray(`${field}.initialParticles.U`, ip.U);
    const V = flatArray(`${field}.initialParticles.V`, ip.V);
    if (U.length === 0 || U.length % D !== 0) throw new ValidationError(`${field}.initialParticles.U`, `has length ${U.length}, which is not a positive multiple of model.D = ${D} (layout P × D)`);
    if (V.length !== U.length) throw new ValidationError(`${field}.initialParticles.V`, `has length ${V.length} but U has length ${U.length} (both P × D)`);
    P = U.length / D;
    if (opts.particles !== undefined && positiveInt(`${field}.particles`, opts.particles) !== P) {
      throw new ValidationError(`${field}.particles`, `is ${opts.particles} but initialParticles hold ${P} particles (length ${U.length} = P × D with D = ${D})`);
    }
    initial = { U, V };
  } else {
    P = positiveInt(`${field}.particles`, dflt(opts.particles, 4096));
  }
  const particleSeed = initial ? null : seedValue(`${field}.particleSeed`, dflt(opts.particleSeed, problem.seed));
  if (initial && opts.particleSeed !== undefined && opts.particleSeed !== null) seedValue(`${field}.particleSeed`, opts.particleSeed);
  const spec = particleRecordSpec(field, opts as Record<string, unknown>);
  const record = spec.record;
  const recordSteps = bindRecordSteps(field, record.filter((r) => r !== "gram"), spec.recordSteps, problem.train.steps);
  const out: ParticleBound = { scheme: grid.scheme, depthSteps: grid.S, particles: P, particleSeed, record, recordSteps };
  if (initial) out.initialParticles = initial;
  return out;
}

/**
 * Validate the particle method's `record` ("h", "b", "gram") with its `recordSteps` (they need a
 * profile, "h" or "b"); "kl" is named as unavailable (no factor map for particles).
 */
export function particleRecordSpec(field: string, o: Record<string, unknown>): { record: ParticleRecord[]; recordSteps?: number[] } {
  if (Array.isArray(o.record)) o.record.forEach((r, i) => {
    if (r === "kl") throw new ValidationError(`${field}.record[${i}]`, `"kl" is not available for the particle Mean ODE (its law is an empirical measure of P particles, which has no density); record it with the skeleton method, meanOde({ record: ["kl"] }), or dmft()`);
  });
  return recordSpec(field, o, ["h", "b", "gram"] as const, ["h", "b"]);
}

function flatArray(field: string, v: unknown): Float64Array {
  let a: Float64Array;
  if (v instanceof Float64Array) a = Float64Array.from(v);
  else if (Array.isArray(v)) {
    requireResources({ what: `the copy of ${field}`, drivers: [[`${field} (length)`, v.length]], bytes: f64(v.length) });
    a = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) {
      if (typeof v[i] !== "number") throw new ValidationError(`${field}[${i}]`, `must be a number (got ${show(v[i])})`);
      a[i] = v[i];
    }
  } else throw new ValidationError(field, `must be a Float64Array or flat number array of length P × D (got ${show(v)})`);
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) throw new ValidationError(`${field}[${i}]`, `must be finite (got ${a[i]})`);
  return a;
}

/** P particles from μ_0 (see the module comment for the streams). */
export function drawParticles(problem: Problem, P: number, particleSeed: number = problem.seed): ParticleSet {
  assertProblem(problem);
  positiveInt("solver.particles", P);
  const { D, sigmaU, sigmaV } = problem.model;
  requireResources({ what: "the particles", drivers: [["solver.particles", P], ["model.D", D]], bytes: f64(2 * P * D), work: 20 * P * D, largest: P * D });
  const fam = new StreamFamily(seedValue("solver.particleSeed", particleSeed));
  const U = fam.get(PARTICLE_STREAM_U).fillNormal(new Float64Array(P * D), sigmaU * Math.sqrt(D));
  const V = fam.get(PARTICLE_STREAM_V).fillNormal(new Float64Array(P * D), sigmaV * Math.sqrt(D));
  return { U, V };
}

/**
 * The particle system of the Mean ODE, one GD step at a time. Owns all
 * buffers (allocated once; a step allocates nothing). Usage:
 *
 *   const ode = new ParticleMeanOde(problem, new DepthGrid("heun", 32), particles);
 *   const loss = ode.forward();   // H, F, Pre/Sig/dSig valid
 *   ode.backward();               // B, Q valid
 *   ode.update();                 // particle states of every slot updated; k += 1
 *   // or: ode.step()  (the three, with the divergence check)
 */
export class ParticleMeanOde {
  readonly problem: Problem;
  readonly grid: DepthGrid;
  readonly P: number; readonly D: number; readonly N: number; readonly dIn: number; readonly dOut: number;
  readonly slots: number; readonly nodes: number;
  readonly WE: Float64Array; readonly WU: Float64Array;
  /** Particle states per slot: slots × P × D. */
  readonly U: Float64Array; readonly V: Float64Array;
  /** Forward / backward depth profiles of the current step: nodes × N × D. */
  readonly H: Float64Array; readonly B: Float64Array;
  /** Outputs f (d_out × N) and residuals f − y. */
  readonly F: Float64Array; readonly Res: Float64Array;
  /** p, σ(p), σ′(p) at every slot, p from H at hNode(slot): slots × P × N (valid after forward()). */
  readonly Pre: Float64Array; readonly Sig: Float64Array; readonly dSig: Float64Array;
  /** q at every slot from B at bNode(slot): slots × P × N (valid after backward()). */
  readonly Q: Float64Array;
  /** Number of updates applied (the step index of the next forward()). */
  k = 0;

  private readonly act: Activation;
  private readonly alpha: number;
  private readonly ws: IntegratorWorkspace;
  private readonly h0: Float64Array; private readonly b1: Float64Array;
  private readonly sP: Float64Array; private readonly sS: Float64Array; private readonly sdS: Float64Array; private readonly sQ: Float64Array;
  private readonly pReady: Uint8Array; private readonly qReady: Uint8Array;
  private readonly fwd: Field; private readonly bwd: Field;
  private haveForward = false; private haveBackward = false;

  constructor(problem: Problem, grid: DepthGrid, particles: ParticleSet) {
    assertProblem(problem);
    checkRequirement(problem, "frozenEmbeddings", "the particle Mean ODE");
    if (!(grid instanceof DepthGrid)) throw new ValidationError("grid", "must be a DepthGrid");
    if (!particles || !(particles.U instanceof Float64Array) || !(particles.V instanceof Float64Array)) throw new ValidationError("particles", "must be { U, V } of Float64Arrays (P × D each)");
    requireResources(particleNeed(problem, grid, particles.U.length / problem.model.D, 1));
    this.problem = problem;
    this.grid = grid;
    const { D } = problem.model;
    const { N, dIn, dOut } = problem.data;
    if (particles.U.length === 0 || particles.U.length % D !== 0 || particles.V.length !== particles.U.length) {
      throw new ValidationError("solver.initialParticles", `must hold U, V of equal length P × D with D = ${D} (got ${particles.U.length} and ${particles.V.length})`);
    }
    const P = particles.U.length / D;
    this.P = P; this.D = D; this.N = N; this.dIn = dIn; this.dOut = dOut;
    this.slots = grid.slots; this.nodes = grid.nodes;
    this.act = problem.model.activation;
    this.alpha = problem.model.alpha;
    const { WE, WU } = initEmbeddings(problem);
    this.WE = WE; this.WU = WU;
    const PD = P * D, PN = P * N, ND = N * D;
    this.U = new Float64Array(this.slots * PD);
    this.V = new Float64Array(this.slots * PD);
    for (let sl = 0; sl < this.slots; sl++) {
      this.U.set(particles.U, sl * PD);
      this.V.set(particles.V, sl * PD);
    }
    this.H = new Float64Array(this.nodes * ND);
    this.B = new Float64Array(this.nodes * ND);
    this.F = new Float64Array(dOut * N);
    this.Res = new Float64Array(dOut * N);
    this.Pre = new Float64Array(this.slots * PN);
    this.Sig = new Float64Array(this.slots * PN);
    this.dSig = new Float64Array(this.slots * PN);
    this.Q = new Float64Array(this.slots * PN);
    this.sP = new Float64Array(PN); this.sS = new Float64Array(PN); this.sdS = new Float64Array(PN); this.sQ = new Float64Array(PN);
    this.pReady = new Uint8Array(this.slots);
    this.qReady = new Uint8Array(this.slots);
    this.ws = new IntegratorWorkspace(ND);
    this.h0 = new Float64Array(ND);
    this.b1 = new Float64Array(ND);
    // h(0) = W_E x_n (does not change: embeddings are frozen)
    const X = problem.data.X;
    for (let n = 0; n < N; n++)
      for (let d = 0; d < D; d++) {
        let s = 0;
        for (let i = 0; i < dIn; i++) s += WE[d * dIn + i] * X[i * N + n];
        this.h0[n * D + d] = s;
      }
    this.fwd = (y, slot, dy) => this.forwardField(y, slot, dy);
    this.bwd = (y, slot, dy) => this.backwardField(y, slot, dy);
  }

  /** u^i at `slot` (a view: P × D). */
  slotU(slot: number): Float64Array {
    return this.U.subarray(slot * this.P * this.D, (slot + 1) * this.P * this.D);
  }
  /** v^i at `slot` (a view: P × D). */
  slotV(slot: number): Float64Array {
    return this.V.subarray(slot * this.P * this.D, (slot + 1) * this.P * this.D);
  }

  /**
   * Forward field at `slot`: dy_n = α (1/P) Σ_i v^i σ(u^iᵀ y_n / D). When y is
   * the stored node value H(hNode(slot)) the preactivations are kept in
   * Pre/Sig/dSig (they are those of the update and the backward solve).
   */
  private forwardField(y: Float64Array, slot: number, dy: Float64Array): void {
    const { P, N, D, H } = this;
    const PN = P * N, ND = N * D;
    if (y.buffer === H.buffer && y.byteOffset === H.byteOffset + this.grid.hNode(slot) * ND * 8) {
      this.pReady[slot] = 1;
      this.forwardFieldN(y, slot, dy, N, this.Pre, this.Sig, this.dSig, slot * PN);
    } else this.forwardFieldN(y, slot, dy, N, this.sP, this.sS, this.sdS, 0);
  }

  /** The forward field for N′ points y (N′ × D) with p, σ(p), σ′(p) written to pre/sg/dsg at `off` (P × N′). */
  private forwardFieldN(y: Float64Array, slot: number, dy: Float64Array, N: number, pre: Float64Array, sg: Float64Array, dsg: Float64Array, off: number): void {
    const { P, D, U, V } = this;
    const PN = P * N;
    const uo = slot * P * D, invD = 1 / D;
    for (let i = 0; i < P; i++) {
      const ub = uo + i * D, pb = off + i * N;
      for (let n = 0; n < N; n++) pre[pb + n] = dot(U, ub, y, n * D, D) * invD;
    }
    activationRange(this.act, pre, sg, dsg, off, off + PN);
    dy.fill(0);
    const c = this.alpha / P;
    for (let i = 0; i < P; i++) {
      const vb = uo + i * D, pb = off + i * N;
      for (let n = 0; n < N; n++) axpy(c * sg[pb + n], V, vb, dy, n * D, D);
    }
  }

  /**
   * Backward field at `slot`: dy_n = −α (1/P) Σ_i u^i σ′(p^i_n) q^i_n with p
   * from H(hNode(slot)) and q^i_n = v^iᵀ y_n / D. When y is the stored node
   * value B(bNode(slot)) the q's are kept in Q (those of the update).
   */
  private backwardField(y: Float64Array, slot: number, dy: Float64Array): void {
    const { P, N, D, U, V, B, dSig } = this;
    const PN = P * N, ND = N * D;
    let q: Float64Array, off: number;
    if (y.buffer === B.buffer && y.byteOffset === B.byteOffset + this.grid.bNode(slot) * ND * 8) {
      q = this.Q; off = slot * PN;
      this.qReady[slot] = 1;
    } else {
      q = this.sQ; off = 0;
    }
    const uo = slot * P * D, so = slot * PN, invD = 1 / D;
    const c = -this.alpha / P;
    dy.fill(0);
    for (let i = 0; i < P; i++) {
      const zb = uo + i * D;
      for (let n = 0; n < N; n++) {
        const yb = n * D;
        const a = dot(V, zb, y, yb, D) * invD;
        q[off + i * N + n] = a;
        axpy(c * dSig[so + i * N + n] * a, U, zb, dy, yb, D);
      }
    }
  }

  /** Forward solve at the current particles: fills H, F, Res and Pre/Sig/dSig at every slot; returns the loss. */
  forward(): number {
    const { grid, N, D, dOut, H, F, Res, WU, P } = this;
    const ND = N * D, PN = P * N;
    this.pReady.fill(0);
    integrate(grid, 1, ND, this.h0, this.fwd, H, this.ws);
    // preactivations at slots the solve did not evaluate at the stored node (e.g. heun's s = 1, rk4's midpoints)
    const { U } = this;
    const invD = 1 / D;
    for (let slot = 0; slot < this.slots; slot++) {
      if (this.pReady[slot]) continue;
      const hb = grid.hNode(slot) * ND, uo = slot * P * D, off = slot * PN;
      for (let i = 0; i < P; i++) {
        const ub = uo + i * D;
        for (let n = 0; n < N; n++) this.Pre[off + i * N + n] = dot(U, ub, H, hb + n * D, D) * invD;
      }
      activationRange(this.act, this.Pre, this.Sig, this.dSig, off, off + PN);
      this.pReady[slot] = 1;
    }
    const hL = (this.nodes - 1) * ND;
    const Y = this.problem.data.Y;
    for (let o = 0; o < dOut; o++)
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let d = 0; d < D; d++) s += WU[d * dOut + o] * H[hL + n * D + d];
        F[o * N + n] = s / D;
        Res[o * N + n] = F[o * N + n] - Y[o * N + n];
      }
    this.haveForward = true;
    this.haveBackward = false;
    return lossOf(F, Y, dOut, N);
  }

  /** Backward solve (requires forward()): fills B and Q at every slot. */
  backward(): void {
    if (!this.haveForward) throw new ValidationError("ParticleMeanOde.backward()", "needs a preceding forward()");
    const { grid, N, D, dOut, B, WU, Res, P, V } = this;
    const ND = N * D, PN = P * N;
    for (let n = 0; n < N; n++)
      for (let d = 0; d < D; d++) {
        let s = 0;
        for (let o = 0; o < dOut; o++) s += WU[d * dOut + o] * Res[o * N + n];
        this.b1[n * D + d] = s;
      }
    this.qReady.fill(0);
    integrate(grid, -1, ND, this.b1, this.bwd, B, this.ws);
    const invD = 1 / D;
    for (let slot = 0; slot < this.slots; slot++) {
      if (this.qReady[slot]) continue;
      const bb = grid.bNode(slot) * ND, vo = slot * P * D, off = slot * PN;
      for (let i = 0; i < P; i++) {
        const vb = vo + i * D;
        for (let n = 0; n < N; n++) this.Q[off + i * N + n] = dot(V, vb, B, bb + n * D, D) * invD;
      }
      this.qReady[slot] = 1;
    }
    this.haveBackward = true;
  }

  /** GD update of the particle states at every slot (requires backward()); k += 1. */
  update(etaU = this.problem.train.etaU, etaV = this.problem.train.etaV): void {
    if (!this.haveBackward) throw new ValidationError("ParticleMeanOde.update()", "needs a preceding backward()");
    const { grid, N, D, P, U, V, H, B, Sig, dSig, Q } = this;
    const ND = N * D, PN = P * N;
    const ru = etaU / (this.alpha * N), rv = etaV / (this.alpha * N);
    for (let slot = 0; slot < this.slots; slot++) {
      const hb = grid.hNode(slot) * ND, bb = grid.bNode(slot) * ND, zo = slot * P * D, off = slot * PN;
      for (let i = 0; i < P; i++) {
        const zb = zo + i * D, pb = off + i * N;
        for (let n = 0; n < N; n++) {
          axpy(-ru * dSig[pb + n] * Q[pb + n], H, hb + n * D, U, zb, D);
          axpy(-rv * Sig[pb + n], B, bb + n * D, V, zb, D);
        }
      }
    }
    this.haveForward = false;
    this.haveBackward = false;
    this.k++;
  }

  /**
   * The tangent Gram matrix K_k (MATH §8) at the current forward pass (requires forward()) into
   * out[off .. off + (d_out N)²): d_out per-output backward solves b^(o) (terminal value W_U e_o),
   * then at every slot t, with `quad` the slot quadrature weights of ∫₀¹ ds (depth/grid slotWeights)
   * and the particle averages (1/P) Σ_i,
   *   K += quad_t { η_u ⟨σ′(p_n) q^(o)_n σ′(p_m) q^(o')_m⟩ h_n(hNode)ᵀh_m(hNode)/D
   *               + η_v ⟨σ(p_n) σ(p_m)⟩ b^(o)_n(bNode)ᵀ b^(o')_m(bNode)/D }.
   * With staggered Euler (quad = 1/S) this is the finite formula of the ResNet whose S layers are the slots.
   */
  tangentGram(out: Float64Array, off: number, quad: Float64Array): void {
    if (!this.haveForward) throw new Error("ParticleMeanOde.tangentGram() needs a preceding forward()");
    const { grid, N, D, dOut, P, WU, V, H, Sig, dSig } = this;
    const ND = N * D, PN = P * N, dN = dOut * N;
    const nodes = this.nodes;
    const g = (this.gramWs ??= {
      Bo: new Float64Array(dOut * nodes * ND), b1: new Float64Array(ND), Gt: new Float64Array(dN * P), St: new Float64Array(N * P),
      Bs: new Float64Array(dN * D), gg: new Float64Array(dN * dN), ss: new Float64Array(N * N), hh: new Float64Array(N * N), bb: new Float64Array(dN * dN),
    });
    for (let o = 0; o < dOut; o++) {
      for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) g.b1[n * D + d] = WU[d * dOut + o];
      integrate(grid, -1, ND, g.b1, this.bwd, g.Bo.subarray(o * nodes * ND, (o + 1) * nodes * ND), this.ws);
    }
    out.fill(0, off, off + dN * dN);
    const { etaU, etaV } = this.problem.train;
    const invD = 1 / D, invP = 1 / P;
    for (let slot = 0; slot < this.slots; slot++) {
      const hb = grid.hNode(slot) * ND, bb = grid.bNode(slot) * ND, zo = slot * P * D, so = slot * PN;
      // b^(o)_n at bNode, rows x = o·N + n
      for (let o = 0; o < dOut; o++) g.Bs.set(g.Bo.subarray(o * nodes * ND + bb, o * nodes * ND + bb + ND), o * ND);
      // g_(o,n),i = σ′(p^i_n) q^(o)i_n, q^(o)i_n = v^i·b^(o)_n/D; transposed to dN × P
      for (let i = 0; i < P; i++)
        for (let x = 0; x < dN; x++) g.Gt[x * P + i] = dSig[so + i * N + (x % N)] * dot(V, zo + i * D, g.Bs, x * D, D) * invD;
      for (let i = 0; i < P; i++) for (let n = 0; n < N; n++) g.St[n * P + i] = Sig[so + i * N + n];
      rowDots(g.Gt, 0, dN, g.Gt, 0, dN, P, g.gg, 0, invP);
      rowDots(g.St, 0, N, g.St, 0, N, P, g.ss, 0, invP);
      rowDots(H, hb, N, H, hb, N, D, g.hh, 0, invD);
      rowDots(g.Bs, 0, dN, g.Bs, 0, dN, D, g.bb, 0, invD);
      const wq = quad[slot];
      for (let x = 0; x < dN; x++) {
        const nx = x % N;
        for (let y = 0; y < dN; y++) {
          const ny = y % N;
          out[off + x * dN + y] += wq * (etaU * g.gg[x * dN + y] * g.hh[nx * N + ny] + etaV * g.ss[nx * N + ny] * g.bb[x * dN + y]);
        }
      }
    }
    for (let x = 0; x < dN; x++)
      for (let y = x + 1; y < dN; y++) {
        const a = 0.5 * (out[off + x * dN + y] + out[off + y * dN + x]);
        out[off + x * dN + y] = a; out[off + y * dN + x] = a;
      }
  }

  /**
   * Outputs on test inputs XT (d_in × NT) at the current particles: the forward solve of §2 for
   * zero-weight data points (MATH §8), the same arithmetic per point as the training forward solve.
   */
  testOutputs(XT: Float64Array, NT: number, out: Float64Array, off: number): void {
    const { grid, D, dIn, dOut, WE, WU, P, nodes } = this;
    const n = NT * D;
    const t = (this.testWs ??= {
      h0: new Float64Array(n), H: new Float64Array(nodes * n), ws: new IntegratorWorkspace(n),
      pre: new Float64Array(P * NT), sg: new Float64Array(P * NT), dsg: new Float64Array(P * NT), NT,
    });
    if (t.NT !== NT) throw new Error("ParticleMeanOde.testOutputs: the number of test points changed");
    for (let m = 0; m < NT; m++)
      for (let d = 0; d < D; d++) {
        let s = 0;
        for (let i = 0; i < dIn; i++) s += WE[d * dIn + i] * XT[i * NT + m];
        t.h0[m * D + d] = s;
      }
    integrate(grid, 1, n, t.h0, (y, slot, dy) => this.forwardFieldN(y, slot, dy, NT, t.pre, t.sg, t.dsg, 0), t.H, t.ws);
    const hL = (nodes - 1) * n;
    for (let o = 0; o < dOut; o++)
      for (let m = 0; m < NT; m++) {
        let s = 0;
        for (let d = 0; d < D; d++) s += WU[d * dOut + o] * t.H[hL + m * D + d];
        out[off + o * NT + m] = s / D;
      }
  }

  private gramWs: { Bo: Float64Array; b1: Float64Array; Gt: Float64Array; St: Float64Array; Bs: Float64Array; gg: Float64Array; ss: Float64Array; hh: Float64Array; bb: Float64Array } | undefined;
  private testWs: { h0: Float64Array; H: Float64Array; ws: IntegratorWorkspace; pre: Float64Array; sg: Float64Array; dsg: Float64Array; NT: number } | undefined;

  /** One GD step: forward, divergence check, backward, update. Returns the loss before the update. */
  step(): number {
    const loss = this.forward();
    this.checkForward(this.k, loss);
    this.backward();
    this.checkBackward(this.k);
    this.update();
    return loss;
  }

  /** After forward(): a DivergenceError naming h (the first node where it left double precision) or the loss. */
  checkForward(k: number, loss: number): void {
    const { H, N, D, nodes } = this;
    const ND = N * D;
    if (Number.isFinite(loss) && firstNonFinite(H, ND, (nodes - 1) * ND) < 0) return;
    for (let node = 0; node < nodes; node++) {
      const i = firstNonFinite(H, ND, node * ND);
      if (i >= 0) throw new DivergenceError(k, `h (forward depth profile at s = ${this.grid.s(node)})`, `data point ${(i / D) | 0}, coordinate ${i % D} is ${H[node * ND + i]}`);
    }
    throw new DivergenceError(k, "loss", `loss = ${loss}`);
  }

  /** After backward(): a DivergenceError naming b (the first node, from s = 1 down, where it left double precision). */
  checkBackward(k: number): void {
    const { B, N, D, nodes } = this;
    const ND = N * D;
    if (firstNonFinite(B, ND, 0) < 0) return;
    for (let node = nodes - 1; node >= 0; node--) {
      const i = firstNonFinite(B, ND, node * ND);
      if (i >= 0) throw new DivergenceError(k, `b (backward depth profile at s = ${this.grid.s(node)})`, `data point ${(i / D) | 0}, coordinate ${i % D} is ${B[node * ND + i]}`);
    }
  }
}

/**
 * Resource estimate of a particle solve: particle states 2·slots·P·D, the per-slot p, σ(p), σ′(p), q
 * (4·slots·P·N), profiles and records; work ≈ 4·P·N·D per field evaluation (stage) and update.
 */
export function particleNeed(problem: Problem, grid: DepthGrid, P: number, steps: number, records = 0, field = "solver", gram = false): ResourceNeed {
  const { D } = problem.model;
  const { N, dOut } = problem.data;
  const dN = dOut * N, NT = problem.data.XTest ? problem.data.NTest ?? 0 : 0;
  const extra = (gram ? steps * dN * dN + 2 * dN * P + dN * dN : 0) + (NT > 0 ? steps * dOut * NT + 4 * P * NT + NT * D : 0);
  const extraWork = (gram ? steps * grid.slots * (2 * dN * P * D + dN * dN * P) : 0) + (NT > 0 ? steps * 2 * (grid.scheme === "rk4" ? 4 : 2) * grid.S * 4 * P * NT * D : 0);
  const { slots, nodes } = grid;
  const stages = grid.scheme === "rk4" ? 4 * grid.S : grid.scheme === "heun" ? 2 * grid.S : grid.S;
  return {
    what: "the particle Mean ODE",
    drivers: [[`${field}.particles`, P], [`${field}.depthSteps`, grid.S], ["model.D", D], ["data.N", N], ["train.steps", steps]],
    bytes: f64(2 * slots * P * D + 4 * slots * P * N + 4 * P * N + (2 + records) * nodes * N * D + steps * (dOut * N + 1) + 8 * N * D + extra),
    work: steps * (2 * stages * 4 * P * N * D + slots * P * N * (4 * D + 10) + STEP_OVERHEAD) + extraWork,
    largest: Math.max(slots * P * Math.max(D, N), gram ? steps * dN * dN : 0),
    detail: `particle states 2 × slots × P × D with ${slots} slots, per-slot preactivations`,
  };
}

/**
 * Solve the particle Mean ODE for problem.train.steps GD steps. Returns the
 * shared Trajectory: f [K, d_out, N], loss [K], optional profiles h, b of
 * shape [steps, nodes, N, D] on grid.nodeDepths(); extras { P, scheme,
 * depthSteps, nodes, slots, particleSeed }.
 */
export function solveParticleMeanOde(problem: Problem, opts: ParticleMeanOdeOptions = {}): Trajectory<ParticleExtras, ParticleBound> {
  assertProblem(problem);
  checkRequirement(problem, "frozenEmbeddings", "the particle Mean ODE");
  const bound = bindParticleOptions(problem, opts);
  return makeTrajectory(problem, { algorithm: "meanOde/particles", options: bound, ...particleRun(problem, bound) });
}

/** One particle solve with bound options: outputs, profiles, timings, extras. */
export function particleRun(problem: Problem, o: ParticleBound, field = "solver"): Omit<TrajectoryParts<ParticleExtras, ParticleBound>, "algorithm" | "options"> {
  const t0 = performance.now();
  const grid = new DepthGrid(o.scheme, o.depthSteps, field);
  const P = o.particles;
  const nRec = o.recordSteps.length * ((o.record.includes("h") ? 1 : 0) + (o.record.includes("b") ? 1 : 0));
  requireResources(particleNeed(problem, grid, P, problem.train.steps, nRec, field, o.record.includes("gram")));
  const particles = o.initialParticles ?? drawParticles(problem, P, o.particleSeed as number);
  const ode = new ParticleMeanOde(problem, grid, particles);
  const tInit = performance.now();
  const { N, D, dOut, nodes } = ode;
  const K = problem.train.steps;
  const ND = N * D;
  const recIndex = new Map<number, number>();
  o.recordSteps.forEach((k, i) => recIndex.set(k, i));
  const Rn = o.recordSteps.length;
  const hRec = o.record.includes("h") ? new Float64Array(Rn * nodes * ND) : null;
  const bRec = o.record.includes("b") ? new Float64Array(Rn * nodes * ND) : null;
  const f = new Float64Array(K * dOut * N);
  const loss = new Float64Array(K);
  const dN = dOut * N;
  const gram = o.record.includes("gram") ? new Float64Array(K * dN * dN) : null;
  const quad = gram ? slotWeights(grid) : null;
  const { XTest, NTest } = problem.data;
  const fTest = XTest && NTest ? new Float64Array(K * dOut * NTest) : null;
  for (let k = 0; k < K; k++) {
    const l = ode.forward();
    ode.checkForward(k, l);
    loss[k] = l;
    f.set(ode.F, k * dOut * N);
    if (gram) {
      ode.tangentGram(gram, k * dN * dN, quad!);
      assertFinite(k, "tangent Gram matrix", gram, dN * dN, k * dN * dN);
    }
    if (fTest) {
      ode.testOutputs(XTest!, NTest!, fTest, k * dOut * NTest!);
      assertFinite(k, "test output fTest", fTest, dOut * NTest!, k * dOut * NTest!);
    }
    const r = recIndex.get(k);
    if (r !== undefined && hRec) hRec.set(ode.H, r * nodes * ND);
    // the last step needs no backward pass / update unless b is recorded there
    if (k === K - 1 && !(r !== undefined && bRec)) break;
    ode.backward();
    ode.checkBackward(k);
    if (r !== undefined && bRec) bRec.set(ode.B, r * nodes * ND);
    if (k < K - 1) ode.update();
    reportProgress(k + 1, K, "GD steps (particle Mean ODE)");
  }
  const tEnd = performance.now();
  let profiles: DepthProfiles | undefined;
  if (Rn > 0) {
    profiles = { steps: [...o.recordSteps], s: grid.nodeDepths() };
    if (hRec) profiles.h = view(hRec, [Rn, nodes, N, D]);
    if (bRec) profiles.b = view(bRec, [Rn, nodes, N, D]);
  }
  return {
    f, loss, profiles, gram: gram ?? undefined, fTest: fTest ?? undefined,
    timings: { totalMs: tEnd - t0, initMs: tInit - t0, trainMs: tEnd - tInit, msPerStep: (tEnd - tInit) / K },
    extras: { P, scheme: grid.scheme, depthSteps: grid.S, nodes: grid.nodes, slots: grid.slots, particleSeed: o.particleSeed },
  };
}
