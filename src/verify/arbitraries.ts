/**
 * fast-check arbitraries for property tests of the lemmas (MATH §6): model
 * specs, data sets, problems, sub-gaussian laws, particle sets and depth
 * profiles, and input vectors / pairs for Lipschitz checks.
 *
 * Shrinking: every arbitrary shrinks towards a small, readable case —
 * sizes towards their minimum (1), numbers towards a simple "origin" on a
 * coarse grid (0 for data and rates, 1 for α and the σ's), activations
 * towards "linear" (then tanh, gelu, sin), laws towards N(0,1). Sized
 * objects are generated at their maximal size and sliced, so the shrinker
 * works on independent components (no `chain`, whose shrinking restarts the
 * inner value).
 *
 * Every composite arbitrary is built from a *source* record of drawn
 * components (integers, doubles, choices) by a pure function (`built`): it
 * shrinks through the source exactly like `.map`, and keeps the source in the
 * value's context (`sourceOf`), so that a test can check the shrink contract
 * — each step moves one drawn component strictly towards its simplest value
 * (test/verify-arbitrary-contracts.test.ts).
 */
import fc from "fast-check";
import { ACTIVATIONS, type ActivationName } from "../core/activations.ts";
import { ValidationError } from "../core/errors.ts";
import { requireResources } from "../core/resources.ts";
import { booleanValue, dflt, finiteNumber, intInRange, isPlainObject, knownKeys, optionsObject, positiveNumber, show } from "../core/validate.ts";
import { makeProblem, type Problem, type ProblemInput } from "../problem/problem.ts";
import { initWeights } from "../resnet/weights.ts";
import { gaussian, irwinHall, mixture, rademacher, scaled, type SubGaussianLaw, uniform } from "./laws.ts";

/** An arbitrary whose values are built from a source arbitrary's values (shrinks through the source; the source stays in the context). */
class Built<S, T> extends fc.Arbitrary<T> {
  constructor(readonly source: fc.Arbitrary<S>, readonly build: (s: S) => T) {
    super();
  }
  private wrap(v: fc.Value<S>): fc.Value<T> {
    return new fc.Value(this.build(v.value), { source: v.value, sourceContext: v.context } satisfies SourceContext);
  }
  generate(mrng: fc.Random, biasFactor: number | undefined): fc.Value<T> {
    return this.wrap(this.source.generate(mrng, biasFactor));
  }
  canShrinkWithoutContext(_value: unknown): _value is T {
    return false;
  }
  shrink(_value: T, context: unknown): fc.Stream<fc.Value<T>> {
    if (!isSourceContext(context)) return fc.Stream.nil();
    return this.source.shrink(context.source as S, context.sourceContext).map((v) => this.wrap(v));
  }
}

interface SourceContext { source: unknown; sourceContext: unknown }
const isSourceContext = (c: unknown): c is SourceContext => typeof c === "object" && c !== null && "source" in c && "sourceContext" in c;

function built<S, T>(source: fc.Arbitrary<S>, build: (s: S) => T): Built<S, T> {
  return new Built(source, build);
}

/** The source arbitrary of a built one (its record of drawn components), or the arbitrary itself. */
function sourceArb<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return arb instanceof Built ? arb.source : arb;
}
function buildOf<T>(arb: fc.Arbitrary<T>): (s: unknown) => T {
  return arb instanceof Built ? (arb.build as (s: unknown) => T) : (s) => s as T;
}

/** A record of arbitraries as one built arbitrary: source = the record of the fields' sources; value = `finish` of the fields' values. */
function builtRecord<F extends Record<string, fc.Arbitrary<unknown>>, T = { [K in keyof F]: F[K] extends fc.Arbitrary<infer V> ? V : never }>(
  fields: F, finish: (v: { [K in keyof F]: F[K] extends fc.Arbitrary<infer V> ? V : never }) => T = (v) => v as unknown as T,
): fc.Arbitrary<T> {
  const keys = Object.keys(fields) as (keyof F & string)[];
  const source = fc.record(Object.fromEntries(keys.map((k) => [k, sourceArb(fields[k])])) as Record<string, fc.Arbitrary<unknown>>, { noNullPrototype: true });
  return built(source, (src) => {
    const v: Record<string, unknown> = {};
    for (const k of keys) v[k] = buildOf(fields[k])(src[k]);
    return finish(v as { [K in keyof F]: F[K] extends fc.Arbitrary<infer V> ? V : never });
  });
}

/** n draws of `elem` as one built arbitrary (source: the array of the element sources). */
function builtArray<T>(elem: fc.Arbitrary<T>, n: number): fc.Arbitrary<T[]> {
  const b = buildOf(elem);
  return built(fc.array(sourceArb(elem), { minLength: n, maxLength: n }), (a) => a.map(b));
}

/**
 * The drawn components a value was built from (recursively: the sources of
 * the sources), for checking shrink contracts; a plain fast-check value is its
 * own source.
 */
export function sourceOf(v: { value: unknown; context: unknown }): unknown {
  return isSourceContext(v.context) ? v.context.source : v.value;
}

/** A size: a fixed positive integer or an inclusive range. */
export type Size = number | { min?: number; max: number };

/** Largest size an arbitrary draws (its values are built at the maximal size: memory grows with it). */
export const MAX_ARB_SIZE = 1 << 20;

function sizeRange(field: string, s: Size): { min: number; max: number } {
  if (isPlainObject(s)) knownKeys(field, s, ["min", "max"]);
  const r = typeof s === "number" ? { min: s, max: s } : isPlainObject(s) ? { min: dflt(s.min, 1) as number, max: s.max } : null;
  if (!r || !(Number.isInteger(r.min) && Number.isInteger(r.max) && r.min >= 1 && r.max >= r.min && r.max <= MAX_ARB_SIZE)) {
    throw new ValidationError(field, `must be a positive integer or a range {min ≥ 1, max ≥ min}, at most ${MAX_ARB_SIZE} (got ${typeof s === "object" && s !== null ? JSON.stringify(s) : show(s)})`);
  }
  return r;
}

/** Values of `count` numbers (fast-check values with their shrink context: ≈ 64 bytes and ≈ 5 µs a number per value drawn). */
function arbMemory(field: string, count: number): void {
  requireResources({ what: "the values of the arbitrary (per value drawn)", drivers: [[field, count]], bytes: 64 * count, work: 5000 * count });
}

/** A {min, max} range of positive numbers (min ≤ max). */
function positiveRange(field: string, v: unknown): { min: number; max: number } {
  const o = optionsObject(field, v, ["min", "max"]);
  const min = positiveNumber(`${field}.min`, o.min), max = positiveNumber(`${field}.max`, o.max);
  if (!(min <= max) || max > 1e100) throw new ValidationError(field, `must have 0 < min ≤ max ≤ 1e100 (got ${min}, ${max})`);
  return { min, max };
}

/** The entry options of an arbitrary (bound, entries, step), validated. */
function entryOptions(field: string, o: Record<string, unknown>): EntryOptions {
  const out: EntryOptions = {};
  if (o.bound !== undefined) {
    out.bound = positiveNumber(`${field}.bound`, o.bound);
    if (out.bound > 1e100) throw new ValidationError(`${field}.bound`, `must be at most 1e100 (got ${out.bound})`);
  }
  if (o.entries !== undefined) {
    if (o.entries !== "grid" && o.entries !== "continuous") throw new ValidationError(`${field}.entries`, `must be "grid" or "continuous" (got ${show(o.entries)})`);
    out.entries = o.entries;
  }
  if (o.step !== undefined) out.step = positiveNumber(`${field}.step`, o.step);
  return out;
}
const ENTRY_KEYS = ["bound", "entries", "step"];

/** Integer size in a range, shrinking to its minimum. */
export function sizeArb(field: string, s: Size): fc.Arbitrary<number> {
  const { min, max } = sizeRange(field, s);
  return min === max ? fc.constant(min) : fc.integer({ min, max });
}

export interface SimpleNumberOptions {
  min: number;
  max: number;
  /** Grid step (default 0.25). */
  step?: number;
  /** The value shrunk towards (must be on [min, max]; default 0 clamped into the range). */
  origin?: number;
}

/** Numbers origin + k·step in [min, max]; shrinks towards origin (readable values like 0.25, 1.5). */
export function simpleNumber(o: SimpleNumberOptions): fc.Arbitrary<number> {
  optionsObject("options", o, ["min", "max", "step", "origin"]);
  const min = finiteNumber("options.min", o.min), max = finiteNumber("options.max", o.max);
  const step = positiveNumber("options.step", dflt(o.step, 0.25));
  const origin = finiteNumber("options.origin", dflt(o.origin, Math.min(Math.max(0, min), max)));
  if (!(min <= origin && origin <= max)) throw new ValidationError("options", `simpleNumber needs min ≤ origin ≤ max (got min ${min}, origin ${origin}, max ${max})`);
  const kmin = Math.ceil((min - origin) / step - 1e-9), kmax = Math.floor((max - origin) / step + 1e-9);
  if (!(Math.abs(kmin) <= 2 ** 31 - 1 && Math.abs(kmax) <= 2 ** 31 - 1)) throw new ValidationError("options.step", `is too fine for [${min}, ${max}]: ${kmax - kmin + 1} grid values, more than 2^32`);
  if (kmin === kmax) return fc.constant(origin + kmin * step);
  return built(fc.integer({ min: kmin, max: kmax }), (k) => origin + k * step);
}

export interface EntryOptions {
  /** Entries lie in [−bound, bound] (default 2). */
  bound?: number;
  /** "grid" (default): multiples of `step`, shrinking to 0; "continuous": fc.double, shrinking to 0. */
  entries?: "grid" | "continuous";
  step?: number;
}

/** One array entry. */
export function entryArb(o: EntryOptions = {}): fc.Arbitrary<number> {
  o = entryOptions("options", optionsObject("options", o, ENTRY_KEYS));
  const bound = o.bound ?? 2;
  if (o.entries === "continuous") return built(fc.double({ min: -bound, max: bound, noNaN: true, noDefaultInfinity: true }), (x) => (x === 0 ? 0 : x)); // no −0
  return simpleNumber({ min: -bound, max: bound, step: o.step ?? 0.25, origin: 0 });
}

/** rows × cols nested arrays (sizes shrink to their minimum, entries to 0). */
export function matrixArb(rows: Size, cols: Size, o: EntryOptions = {}): fc.Arbitrary<number[][]> {
  const R = sizeRange("rows", rows), C = sizeRange("cols", cols);
  const total = R.max * C.max;
  arbMemory("rows × cols", total);
  const e = entryArb(o), v = buildOf(e);
  return built(fc.record({ r: sizeArb("rows", rows), c: sizeArb("cols", cols), data: fc.array(sourceArb(e), { minLength: total, maxLength: total }) }),
    ({ r, c, data }) => Array.from({ length: r }, (_, i) => data.slice(i * C.max, i * C.max + c).map(v)));
}

/** A vector of length `dim` (fixed or a range). */
export function vectorArb(dim: Size, o: EntryOptions = {}): fc.Arbitrary<number[]> {
  const m = matrixArb(1, dim, o);
  return built(sourceArb(m), (s) => buildOf(m)(s)[0]);
}

export interface PairOptions extends EntryOptions {
  /**
   * Also draw nearby pairs y = x + ε·d with ε ∈ {2^−1, …, 2^−maxExponent}
   * (default 20), half of the time: local Lipschitz constants show up only on
   * nearby pairs. Set 0 to disable.
   */
  maxExponent?: number;
}

/**
 * Pairs [x, y] of vectors of the same length: independent draws, or (half of
 * the time) y = x + 2^−e·d with a direction d of entries in [−1, 1]. Shrinks
 * towards x = 0 and y a unit-grid vector.
 */
export function vectorPairArb(dim: Size, o: PairOptions = {}): fc.Arbitrary<[number[], number[]]> {
  const D = sizeRange("dim", dim);
  const oo = optionsObject("options", o, [...ENTRY_KEYS, "maxExponent"]);
  o = { ...entryOptions("options", oo) };
  const maxE = intInRange("options.maxExponent", dflt(oo.maxExponent, 20), 0, 1000);
  arbMemory("dim", 3 * D.max);
  const entry = entryArb(o), ev = buildOf(entry);
  const dir = entryArb({ ...o, bound: 1 }), dv = buildOf(dir);
  return built(fc.record({
    n: sizeArb("dim", dim),
    x: fc.array(sourceArb(entry), { minLength: D.max, maxLength: D.max }),
    y: fc.array(sourceArb(entry), { minLength: D.max, maxLength: D.max }),
    d: fc.array(sourceArb(dir), { minLength: D.max, maxLength: D.max }),
    e: maxE > 0 ? fc.integer({ min: 0, max: maxE }) : fc.constant(0),
  }), ({ n, x: x0, y: y0, d: d0, e }) => {
    const x = x0.map(ev), y = y0.map(ev), d = d0.map(dv);
    const xs = x.slice(0, n);
    // e = 0: independent pair (the simplest); e ≥ 1: y = x + 2^−e d
    const ys = e === 0 ? y.slice(0, n) : xs.map((xi, i) => xi + d[i] * 2 ** -e);
    return [xs, ys] as [number[], number[]];
  });
}

// ------------------------------------------------------------------ models

export interface ModelSpecInput {
  L: number;
  M: number;
  D: number;
  activation: ActivationName;
  alpha: number;
  sigmaU: number;
  sigmaV: number;
  sigmaIn: number;
  sigmaOut: number;
}

export interface ModelSpecArbOptions {
  L?: Size;
  M?: Size;
  D?: Size;
  /** Allowed activations, simplest first (default linear, tanh, gelu, sin). */
  activations?: ActivationName[];
  /** α range (default [0.5, 2], grid 0.25, shrinks to 1). */
  alpha?: { min: number; max: number };
  /** Range of σ_u, σ_v, σ_in, σ_out (default [0.5, 1.5], grid 0.25, shrinks to 1). */
  sigma?: { min: number; max: number };
}

/** Model specs (the `model` field of a ProblemInput). Defaults: L, M, D ≤ 4. */
export function modelSpecArb(o: ModelSpecArbOptions = {}, field = "options"): fc.Arbitrary<ModelSpecInput> {
  optionsObject(field, o, ["L", "M", "D", "activations", "alpha", "sigma"]);
  const acts = dflt(o.activations, ["linear", "tanh", "gelu", "sin"]) as ActivationName[];
  if (!Array.isArray(acts) || acts.length === 0) throw new ValidationError(`${field}.activations`, `must be a non-empty array of activation names (got ${show(acts)})`);
  acts.forEach((x, i) => {
    if (typeof x !== "string" || !(x in ACTIVATIONS)) throw new ValidationError(`${field}.activations[${i}]`, `must be one of ${Object.keys(ACTIVATIONS).map((k) => JSON.stringify(k)).join(", ")} (got ${show(x)})`);
  });
  const a = o.alpha === undefined ? { min: 0.5, max: 2 } : positiveRange(`${field}.alpha`, o.alpha);
  const s = o.sigma === undefined ? { min: 0.5, max: 1.5 } : positiveRange(`${field}.sigma`, o.sigma);
  for (const k of ["L", "M", "D"] as const) if (o[k] !== undefined) sizeRange(`${field}.${k}`, o[k]!);
  const sig = () => simpleNumber({ ...s, origin: Math.min(Math.max(1, s.min), s.max) });
  return builtRecord({
    L: sizeArb("L", o.L ?? { max: 4 }),
    M: sizeArb("M", o.M ?? { max: 4 }),
    D: sizeArb("D", o.D ?? { max: 4 }),
    activation: fc.constantFrom(...acts),
    alpha: simpleNumber({ ...a, origin: Math.min(Math.max(1, a.min), a.max) }),
    sigmaU: sig(), sigmaV: sig(), sigmaIn: sig(), sigmaOut: sig(),
  });
}

export interface DatasetArbOptions extends EntryOptions {
  dIn?: Size;
  dOut?: Size;
  N?: Size;
}

/** Data sets {X: d_in × N, Y: d_out × N} as nested arrays (defaults: d_in ≤ 3, d_out ≤ 2, N ≤ 4, entries in [−2, 2]). */
export function datasetArb(o: DatasetArbOptions = {}, field = "options"): fc.Arbitrary<{ X: number[][]; Y: number[][] }> {
  const oo = optionsObject(field, o, [...ENTRY_KEYS, "dIn", "dOut", "N"]);
  const eo = entryOptions(field, oo);
  const dIn = sizeRange(`${field}.dIn`, dflt(o.dIn, { max: 3 }) as Size);
  const dOut = sizeRange(`${field}.dOut`, dflt(o.dOut, { max: 2 }) as Size);
  const N = sizeRange(`${field}.N`, dflt(o.N, { max: 4 }) as Size);
  const nx = dIn.max * N.max, ny = dOut.max * N.max;
  arbMemory(`${field}.N × (dIn + dOut)`, nx + ny);
  return builtRecord({
    dIn: sizeArb("dIn", dIn), dOut: sizeArb("dOut", dOut), N: sizeArb("N", N),
    x: builtArray(entryArb(eo), nx),
    y: builtArray(entryArb(eo), ny),
  }, ({ dIn: di, dOut: dO, N: n, x, y }) => ({
    X: Array.from({ length: di }, (_, i) => x.slice(i * N.max, i * N.max + n)),
    Y: Array.from({ length: dO }, (_, i) => y.slice(i * N.max, i * N.max + n)),
  }));
}

export interface ScheduleArbOptions {
  /** Number of GD steps (default 1..3). */
  steps?: Size;
  /** Rates η_u, η_v in [0, maxEta] on a 0.05 grid, shrinking to 0 (default 0.5). */
  maxEta?: number;
  /** Also draw embedding rates η_E, η_O (default false: frozen, as in the papers). */
  trainEmbeddings?: boolean;
}

export function scheduleArb(o: ScheduleArbOptions = {}, field = "options"): fc.Arbitrary<ProblemInput["train"]> {
  optionsObject(field, o, ["steps", "maxEta", "trainEmbeddings"]);
  const maxEta = finiteNumber(`${field}.maxEta`, dflt(o.maxEta, 0.5));
  if (!(maxEta >= 0 && maxEta <= 1e6)) throw new ValidationError(`${field}.maxEta`, `must be in [0, 1e6] (got ${maxEta})`);
  if (o.trainEmbeddings !== undefined) booleanValue(`${field}.trainEmbeddings`, o.trainEmbeddings);
  if (o.steps !== undefined) sizeRange(`${field}.steps`, o.steps);
  const eta = () => simpleNumber({ min: 0, max: maxEta, step: 0.05, origin: 0 });
  const base = { steps: sizeArb(`${field}.steps`, o.steps ?? { max: 3 }), etaU: eta(), etaV: eta() };
  if (!o.trainEmbeddings) return builtRecord(base);
  return builtRecord({ ...base, etaE: eta(), etaO: eta() });
}

export interface ProblemArbOptions {
  model?: ModelSpecArbOptions;
  data?: DatasetArbOptions;
  train?: ScheduleArbOptions;
  /** Seed range (default 0..1000, shrinking to 0). */
  maxSeed?: number;
  /**
   * Clamp the rates so that stepSizeBound(problem) ≤ target (true = target 1,
   * the default; a number sets the target; false disables). Clamped rates are
   * rounded DOWN to the 0.01 grid. The bound is at init: for long schedules
   * (K ≫ 3) on hard targets weights grow and a smaller target may be needed.
   */
  stableRates?: boolean | number;
}

/**
 * A rigorous upper bound, at the initial weights, on η × λ_max of the
 * tangent kernel of GD in mean-field units (MATH §1) — the quantity that must
 * stay below 2 for a GD step on ½|f − y|² to be stable near init:
 *
 *   κ = max_n A² [ (|W_U|²_F/D) s₁² (A²|h_{0,n}|²/D) (1/(LMD)) Σ_{ℓj} (η_u|v_{ℓj}|² + η_v|u_{ℓj}|²)/D
 *                + η_E (|W_U|²_F/D) |x_n|²/α + η_O |h_{0,n}|²/(αD) ]
 *
 * with s₁ = sup|σ′|, h_{0,n} = W_E x_n, and A = Π_ℓ (1 + α s₁ |U_ℓ|_F |V_ℓ|_F/(LMD))
 * bounding both |h_ℓ|/|h_0| and the Jacobians ∂h_L/∂h_ℓ (all built-in
 * activations have σ(0) = 0). Each term is |∂f_n/∂θ|² in the metric of the
 * update rule (θ ← θ − η (LMD/α²) ∂𝓛/∂θ for U, V; (η/α) D ∂𝓛/∂W for W_E, W_U),
 * summed over parameters and outputs, i.e. the trace of the kernel, which
 * bounds λ_max. Generous but scale-correct (it is O(1) in the MLU regime).
 */
export function stepSizeBound(problem: Problem): number {
  const { L, M, D, alpha, activation } = problem.model;
  const { N, dIn, X } = problem.data;
  const { etaU, etaV, etaE, etaO } = problem.train;
  const w = initWeights(problem);
  const s1 = activation.sup.df;
  const fro2 = (a: Float64Array, off = 0, len = a.length) => { let s = 0; for (let i = off; i < off + len; i++) s += a[i] * a[i]; return s; };
  let A = 1, sumUV = 0;
  for (let l = 0; l < L; l++) {
    const o = l * M * D;
    A *= 1 + (alpha * s1 * Math.sqrt(fro2(w.U, o, M * D) * fro2(w.V, o, M * D))) / (L * M * D);
    sumUV += etaU * fro2(w.V, o, M * D) + etaV * fro2(w.U, o, M * D);
  }
  const wu = fro2(w.WU) / D;
  let kappa = 0;
  for (let n = 0; n < N; n++) {
    let h2 = 0, x2 = 0;
    for (let d = 0; d < D; d++) {
      let h = 0;
      for (let i = 0; i < dIn; i++) h += w.WE[d * dIn + i] * X[i * N + n];
      h2 += h * h;
    }
    for (let i = 0; i < dIn; i++) x2 += X[i * N + n] ** 2;
    const k = A * A * (wu * s1 * s1 * ((A * A * h2) / D) * (sumUV / (L * M * D * D)) + (etaE * wu * x2) / alpha + (etaO * h2) / (alpha * D));
    if (k > kappa) kappa = k;
  }
  return kappa;
}

function clampRates<T extends ProblemInput>(input: T, target: number): T {
  const kappa = stepSizeBound(makeProblem(input));
  if (!(kappa > target)) return input;
  const down = (eta: number | undefined) => (eta === undefined ? undefined : Math.floor(((eta * target) / kappa) * 100 + 1e-9) / 100);
  const t = input.train;
  const train = { ...t, etaU: down(t.etaU)!, etaV: down(t.etaV)! };
  if (t.etaE !== undefined) train.etaE = down(t.etaE);
  if (t.etaO !== undefined) train.etaO = down(t.etaO);
  return { ...input, train };
}

/**
 * Valid `ProblemInput`s (makeProblem accepts them): bounded sizes, simple
 * numbers, rates ≤ 0.5 on a 0.05 grid, then (unless stableRates: false)
 * scaled down so that stepSizeBound ≤ 1 — the finite ResNet trains without
 * divergence on them (test/verify-arbitraries.test.ts).
 */
export function problemInputArb(o: ProblemArbOptions = {}): fc.Arbitrary<ProblemInput & { model: ModelSpecInput; data: { X: number[][]; Y: number[][] }; seed: number }> {
  optionsObject("options", o, ["model", "data", "train", "maxSeed", "stableRates"]);
  if (o.stableRates !== undefined && typeof o.stableRates !== "boolean" && !(typeof o.stableRates === "number" && o.stableRates > 0 && Number.isFinite(o.stableRates))) {
    throw new ValidationError("options.stableRates", `must be true, false or a positive target (got ${show(o.stableRates)})`);
  }
  const target = o.stableRates === undefined || o.stableRates === true ? 1 : o.stableRates === false ? 0 : o.stableRates;
  const maxSeed = intInRange("options.maxSeed", dflt(o.maxSeed, 1000), 0, 0xffffffff);
  return builtRecord({
    model: modelSpecArb(optionsObject("options.model", o.model) as ModelSpecArbOptions, "options.model"),
    data: datasetArb(optionsObject("options.data", o.data) as DatasetArbOptions, "options.data"),
    train: scheduleArb(optionsObject("options.train", o.train) as ScheduleArbOptions, "options.train"),
    seed: fc.integer({ min: 0, max: maxSeed }),
  }, (p) => (target > 0 ? clampRates(p, target) : p));
}

/** `problemInputArb` mapped through makeProblem. */
export function problemArb(o: ProblemArbOptions = {}): fc.Arbitrary<Problem> {
  const arb = problemInputArb(o), b = buildOf(arb);
  return built(sourceArb(arb), (s) => makeProblem(b(s)));
}

// ------------------------------------------------------------------ laws

export type LawKind = "gaussian" | "rademacher" | "uniform" | "mixture" | "irwinHall";

export interface LawArbOptions {
  /** Allowed kinds, simplest first (default gaussian, rademacher, uniform, mixture, irwinHall). */
  kinds?: LawKind[];
  /** Scale parameters in [0.25, maxScale] on a 0.25 grid, shrinking to 1 (default 3). */
  maxScale?: number;
}

const BASIC = ["gaussian", "rademacher", "uniform"] as const;
function basicLaw(kind: (typeof BASIC)[number], s: number): SubGaussianLaw {
  return kind === "gaussian" ? gaussian(s) : kind === "rademacher" ? rademacher(s) : uniform(s);
}

/**
 * Sub-gaussian laws with known ψ₂ (exact, or a proven upper bound for
 * irwinHall — see law.psi2Kind). Shrinks towards N(0, 1).
 */
export function lawArb(o: LawArbOptions = {}): fc.Arbitrary<SubGaussianLaw> {
  optionsObject("options", o, ["kinds", "maxScale"]);
  const all: LawKind[] = ["gaussian", "rademacher", "uniform", "mixture", "irwinHall"];
  const kinds = dflt(o.kinds, all) as LawKind[];
  if (!Array.isArray(kinds) || kinds.length === 0) throw new ValidationError("options.kinds", `must be a non-empty array of ${all.map((k) => JSON.stringify(k)).join(", ")} (got ${show(kinds)})`);
  kinds.forEach((k, i) => { if (!all.includes(k)) throw new ValidationError(`options.kinds[${i}]`, `must be one of ${all.map((x) => JSON.stringify(x)).join(", ")} (got ${show(k)})`); });
  const maxScale = finiteNumber("options.maxScale", dflt(o.maxScale, 3));
  if (!(maxScale >= 0.25 && maxScale <= 1e6)) throw new ValidationError("options.maxScale", `must be in [0.25, 1e6] (got ${maxScale})`);
  const scale = () => simpleNumber({ min: 0.25, max: maxScale, origin: Math.min(1, maxScale) });
  return builtRecord({
    kind: fc.constantFrom(...kinds),
    s1: scale(),
    s2: scale(),
    k1: fc.constantFrom(...BASIC),
    k2: fc.constantFrom(...BASIC),
    w: built(fc.integer({ min: 1, max: 9 }), (k) => k / 10),
    m: fc.integer({ min: 1, max: 4 }),
  }, ({ kind, s1, s2, k1, k2, w, m }) => {
    switch (kind) {
      case "gaussian": case "rademacher": case "uniform": return basicLaw(kind, s1);
      case "mixture": return mixture([{ weight: w, law: basicLaw(k1, s1) }, { weight: 1 - w, law: basicLaw(k2, s2) }]);
      case "irwinHall": return s1 === 1 ? irwinHall(m) : scaled(irwinHall(m), s1);
    }
  });
}

// ------------------------------------------------------------------ states

export interface ParticlesArbOptions extends EntryOptions {
  /** Number of particles (default 1..8). */
  P?: Size;
  /** Embedding dimension D: each particle z = (u, v) ∈ R^{2D} (default 1..3). */
  D?: Size;
}

/** Particle sets: P × 2D nested arrays of finite numbers (row = (u, v)). */
export function particlesArb(o: ParticlesArbOptions = {}): fc.Arbitrary<number[][]> {
  const oo = optionsObject("options", o, [...ENTRY_KEYS, "P", "D"]);
  const eo = entryOptions("options", oo);
  const P = sizeRange("options.P", dflt(o.P, { max: 8 }) as Size), D = sizeRange("options.D", dflt(o.D, { max: 3 }) as Size);
  const total = P.max * D.max;
  arbMemory("options.P × options.D", 2 * total);
  return builtRecord({
    P: sizeArb("P", P), D: sizeArb("D", D),
    u: builtArray(entryArb(eo), total),
    v: builtArray(entryArb(eo), total),
  }, ({ P: p, D: d, u, v }) =>
    Array.from({ length: p }, (_, i) => [...u.slice(i * D.max, i * D.max + d), ...v.slice(i * D.max, i * D.max + d)]));
}

export interface DepthProfileArbOptions extends EntryOptions {
  /** Number of depth steps S (grid s = 0, 1/S, …, 1: S + 1 points; default 1..4). */
  S?: Size;
  N?: Size;
  D?: Size;
}

/** Depth profiles (S+1) × N × D (e.g. h(s) or b(s) on a depth grid). */
export function depthProfileArb(o: DepthProfileArbOptions = {}): fc.Arbitrary<number[][][]> {
  const oo = optionsObject("options", o, [...ENTRY_KEYS, "S", "N", "D"]);
  const eo = entryOptions("options", oo);
  const S = sizeRange("options.S", dflt(o.S, { max: 4 }) as Size), N = sizeRange("options.N", dflt(o.N, { max: 3 }) as Size), D = sizeRange("options.D", dflt(o.D, { max: 3 }) as Size);
  const total = (S.max + 1) * N.max * D.max;
  arbMemory("(options.S + 1) × options.N × options.D", total);
  return builtRecord({
    S: sizeArb("S", S), N: sizeArb("N", N), D: sizeArb("D", D),
    data: builtArray(entryArb(eo), total),
  }, ({ S: s, N: n, D: d, data }) =>
    Array.from({ length: s + 1 }, (_, i) => Array.from({ length: n }, (_, j) => data.slice((i * N.max + j) * D.max, (i * N.max + j) * D.max + d))));
}
