/**
 * Problem = model spec + data + GD schedule (+ seed, optional explicit initial
 * weights, optional solver options). One Problem is solved by every
 * algorithm (ARCHITECTURE.md). `makeProblem` validates everything and names
 * the offending field; `parseProblem` does the same for a parsed JSON file.
 *
 * Internal layouts (row-major Float64Array):
 *   X: d_in × N, Y: d_out × N            (column n is data point n)
 *   WE: D × d_in, WU: D × d_out
 *   U, V: L × D × M  — the JSON layout `init.U[l][d][j]` (layer-major)
 */
import { readFileSync, statSync } from "node:fs";
import { type Activation, resolveActivation } from "../core/activations.ts";
import { ValidationError } from "../core/errors.ts";
import { isNdArray, toFlat } from "../core/arrays.ts";
import { StreamFamily } from "../core/rng.ts";
import { f64, requireResources, STEP_OVERHEAD } from "../core/resources.ts";
import { TWO_SPIRALS_KEYS, twoSpiralsData, type TwoSpiralsSpec } from "./spirals.ts";
import {
  dflt, finiteArray, finiteNumber, isPlainObject, knownKeys, matrixFromNested, nonNegativeInt, nonNegativeNumber,
  numberInRange, oneOf, plainObject, positiveInt, positiveNumber, seedValue, show,
} from "../core/validate.ts";

export interface ModelSpec {
  L: number;
  M: number;
  D: number;
  activation: Activation;
  /** Residual scale α (default 1: the critical MLU regime). */
  alpha: number;
  sigmaU: number;
  sigmaV: number;
  sigmaIn: number;
  sigmaOut: number;
}

export interface Dataset {
  dIn: number;
  dOut: number;
  N: number;
  /** d_in × N, row-major. */
  X: Float64Array;
  /** d_out × N, row-major. */
  Y: Float64Array;
  /** Test inputs d_in × NTest (zero-weight data points, MATH §8): every solver reports fTest on them. */
  XTest?: Float64Array;
  /** Test targets d_out × NTest (optional; with them solvers report lossTest). */
  YTest?: Float64Array;
  NTest?: number;
}

export interface Schedule {
  /** Number of recorded GD steps K (k = 0..K−1). */
  steps: number;
  etaU: number;
  etaV: number;
  /** Embedding rates (MATH §1); 0 = frozen (default). */
  etaE: number;
  etaO: number;
}

export interface InitWeights {
  WE?: Float64Array; // D × d_in
  WU?: Float64Array; // D × d_out
  U?: Float64Array; // L × D × M
  V?: Float64Array; // L × D × M
}

export interface Problem {
  model: ModelSpec;
  data: Dataset;
  train: Schedule;
  seed: number;
  init: InitWeights;
  /** Algorithm options from the problem file (`"solver"`), passed through to the CLI. */
  solver: Record<string, unknown>;
}

/** Embeddings are trained when either rate is non-zero. */
export function embeddingsTrained(p: Problem): boolean {
  return p.train.etaE !== 0 || p.train.etaO !== 0;
}

/** Input accepted by makeProblem: the JSON problem-file shape, with typed arrays / ndarrays also allowed. */
export interface ProblemInput {
  model: {
    L?: number; M?: number; D: number;
    activation?: string | Activation;
    alpha?: number; sigmaU?: number; sigmaV?: number; sigmaIn?: number; sigmaOut?: number;
  };
  data: { X: unknown; Y: unknown; XTest?: unknown; YTest?: unknown } | TeacherDataSpec | TwoSpiralsSpec;
  train: { steps: number; etaU: number; etaV: number; etaE?: number; etaO?: number };
  seed?: number;
  init?: { WE?: unknown; WU?: unknown; U?: unknown; V?: unknown };
  solver?: Record<string, unknown>;
}

/** Built-in data: Gaussian inputs x ~ N(0, I), targets y = T x / √d_in (T ~ N(0,1), or tanh of it). */
export interface TeacherDataSpec {
  generator: "teacher";
  dIn: number;
  dOut: number;
  N: number;
  seed?: number;
  nonlinearity?: "linear" | "tanh";
  /** Test points from the same teacher (stream 2 of `seed`): data.XTest, data.YTest (default 0: none). */
  NTest?: number;
}

const MODEL_KEYS = ["L", "M", "D", "activation", "alpha", "sigmaU", "sigmaV", "sigmaIn", "sigmaOut"] as const;
const TRAIN_KEYS = ["steps", "etaU", "etaV", "etaE", "etaO"] as const;
const TOP_KEYS = ["model", "data", "train", "seed", "init", "solver", "$schema", "comment"] as const;

/** Model scales (α, σ's) are refused outside [MIN_SCALE, MAX_SCALE]: beyond, the forward pass leaves double precision. */
export const MIN_SCALE = 1e-100;
export const MAX_SCALE = 1e100;

/** Data set from a teacher: deterministic in `seed`. */
export function teacherData(spec: Omit<TeacherDataSpec, "generator">): Dataset {
  const sp = plainObject("data", spec);
  knownKeys("data", sp, ["generator", "dIn", "dOut", "N", "seed", "nonlinearity", "NTest"]);
  const dIn = positiveInt("data.dIn", spec.dIn);
  const dOut = positiveInt("data.dOut", spec.dOut);
  const N = positiveInt("data.N", spec.N);
  const seed = seedValue("data.seed", dflt(spec.seed, 0));
  const nl = oneOf("data.nonlinearity", dflt(spec.nonlinearity, "linear"), ["linear", "tanh"] as const);
  const NTest = nonNegativeInt("data.NTest", dflt(spec.NTest, 0));
  requireResources({
    what: "the teacher data set", drivers: [["data.N", N], ["data.NTest", NTest], ["data.dIn", dIn], ["data.dOut", dOut]],
    bytes: f64(dIn * (N + NTest) + dOut * dIn + dOut * (N + NTest)), work: dOut * dIn * (N + NTest) + STEP_OVERHEAD, largest: Math.max(dIn, dOut) * (N + NTest),
    detail: "inputs X (d_in × N), targets Y (d_out × N) and the test points",
  });
  const fam = new StreamFamily(seed);
  const X = fam.get(0).fillNormal(new Float64Array(dIn * N));
  const T = fam.get(1).fillNormal(new Float64Array(dOut * dIn), 1 / Math.sqrt(dIn));
  const targets = (Xs: Float64Array, n: number) => {
    const Y = new Float64Array(dOut * n);
    for (let o = 0; o < dOut; o++)
      for (let m = 0; m < n; m++) {
        let s = 0;
        for (let i = 0; i < dIn; i++) s += T[o * dIn + i] * Xs[i * n + m];
        Y[o * n + m] = nl === "tanh" ? Math.tanh(s) : s;
      }
    return Y;
  };
  const data: Dataset = { dIn, dOut, N, X, Y: targets(X, N) };
  if (NTest > 0) {
    const XT = fam.get(2).fillNormal(new Float64Array(dIn * NTest));
    data.XTest = XT; data.YTest = targets(XT, NTest); data.NTest = NTest;
  }
  return data;
}

function matrixInput(field: string, v: unknown, rows?: number, cols?: number): { data: Float64Array; rows: number; cols: number } {
  if (Array.isArray(v) && Array.isArray(v[0])) {
    const r = v.length, c = (v[0] as unknown[]).length;
    requireResources({ what: `the copy of ${field}`, drivers: [[`${field} (rows)`, r], [`${field} (columns)`, c]], bytes: f64(r * c), largest: r * c });
  }
  if (isNdArray(v)) {
    if (v.shape.length !== 2) throw new ValidationError(field, `must be a 2-d array (got shape ${v.shape.join("×")})`);
    const [r, c] = v.shape;
    if ((rows !== undefined && rows !== r) || (cols !== undefined && cols !== c)) {
      throw new ValidationError(field, `has shape ${r}×${c} but ${rows ?? "?"}×${cols ?? "?"} was expected`);
    }
    const data = toFlat(v);
    finiteArray(field, data);
    return { data, rows: r, cols: c };
  }
  return matrixFromNested(field, v, rows, cols);
}

/** L × D × M tensor (nested `[l][d][j]`, an ndarray, or a flat Float64Array of that length). */
function tensor3Input(field: string, v: unknown, L: number, D: number, M: number): Float64Array {
  const n = L * D * M;
  requireResources({ what: `the copy of ${field}`, drivers: [["model.L", L], ["model.D", D], ["model.M", M]], bytes: f64(n), largest: n, detail: "L × D × M" });
  if (v instanceof Float64Array) {
    if (v.length !== n) throw new ValidationError(field, `has length ${v.length} but L×D×M = ${L}×${D}×${M} = ${n} was expected`);
    finiteArray(field, v);
    return Float64Array.from(v);
  }
  if (isNdArray(v)) {
    const s = v.shape;
    if (s.length !== 3 || s[0] !== L || s[1] !== D || s[2] !== M) throw new ValidationError(field, `has shape ${s.join("×")} but ${L}×${D}×${M} (L×D×M) was expected`);
    const data = toFlat(v);
    finiteArray(field, data);
    return data;
  }
  if (!Array.isArray(v)) throw new ValidationError(field, `must be a nested array L×D×M (got ${show(v)})`);
  if (v.length !== L) throw new ValidationError(field, `has ${v.length} layers but model.L = ${L}`);
  const out = new Float64Array(n);
  for (let l = 0; l < L; l++) {
    const m = matrixFromNested(`${field}[${l}]`, v[l], D, M);
    out.set(m.data, l * D * M);
  }
  return out;
}

/**
 * Test points (MATH §8): XTest is d_in × NTest (column = point), YTest (optional) d_out × NTest;
 * YTest without XTest, or shapes that disagree with the training data, are errors naming the field.
 */
export function testPoints(XTest: unknown, YTest: unknown, dIn: number, dOut: number): Partial<Dataset> {
  if (XTest === undefined) {
    if (YTest !== undefined) throw new ValidationError("data.YTest", "needs data.XTest (the test inputs the targets belong to)");
    return {};
  }
  const Xt = matrixInput("data.XTest", XTest);
  if (Xt.rows !== dIn) throw new ValidationError("data.XTest", `has ${Xt.rows} rows but the inputs have d_in = ${dIn} (XTest is d_in × N_test, column n = test point n)`);
  const out: Partial<Dataset> = { XTest: Xt.data, NTest: Xt.cols };
  if (YTest !== undefined) {
    const Yt = matrixInput("data.YTest", YTest);
    if (Yt.rows !== dOut || Yt.cols !== Xt.cols) throw new ValidationError("data.YTest", `has shape ${Yt.rows}×${Yt.cols} but d_out × N_test = ${dOut}×${Xt.cols} was expected`);
    out.YTest = Yt.data;
  }
  return out;
}

/** The model spec from raw fields (defaults for all but D), every number validated as makeProblem does. */
function modelSpec(m: Record<string, unknown>, activation: Activation): ModelSpec {
  const scale = (k: string) => numberInRange(`model.${k}`, dflt(m[k], 1), MIN_SCALE, MAX_SCALE);
  return {
    L: positiveInt("model.L", dflt(m.L, 1)),
    M: positiveInt("model.M", dflt(m.M, 1)),
    D: positiveInt("model.D", m.D),
    activation,
    alpha: scale("alpha"),
    sigmaU: scale("sigmaU"),
    sigmaV: scale("sigmaV"),
    sigmaIn: scale("sigmaIn"),
    sigmaOut: scale("sigmaOut"),
  };
}

/** The GD schedule from raw fields, validated as makeProblem does. */
function schedule(t: Record<string, unknown>): Schedule {
  return {
    steps: positiveInt("train.steps", t.steps),
    etaU: nonNegativeNumber("train.etaU", t.etaU),
    etaV: nonNegativeNumber("train.etaV", t.etaV),
    etaE: nonNegativeNumber("train.etaE", dflt(t.etaE, 0)),
    etaO: nonNegativeNumber("train.etaO", dflt(t.etaO, 0)),
  };
}

/**
 * Check that `p` is a validated Problem (from makeProblem / parseProblem / loadProblem), cheaply:
 * its scalar fields are re-validated and its arrays must have the lengths of its shapes — so an
 * unvalidated or edited object is a ValidationError, not a TypeError or a silent NaN in a solver.
 */
export function assertProblem(p: unknown, field = "problem"): asserts p is Problem {
  const q = p as Partial<Problem> | null | undefined;
  if (!q || typeof q !== "object" || !isPlainObject(q.model) || !isPlainObject(q.data) || !(q.data.X instanceof Float64Array) || !(q.data.Y instanceof Float64Array)
    || typeof q.model.activation?.f !== "function" || typeof q.model.activation?.df !== "function" || !isPlainObject(q.train) || !isPlainObject(q.init)) {
    throw new ValidationError(field, "must be a Problem from makeProblem / parseProblem / loadProblem (got an unvalidated object; pass it through makeProblem first)");
  }
  const m = modelSpec(q.model as unknown as Record<string, unknown>, q.model.activation);
  schedule(q.train as unknown as Record<string, unknown>);
  seedValue("seed", q.seed);
  const d = q.data;
  const dIn = positiveInt("data.dIn", d.dIn), dOut = positiveInt("data.dOut", d.dOut), N = positiveInt("data.N", d.N);
  const len = (f: string, a: unknown, n: number) => {
    if (!(a instanceof Float64Array) || a.length !== n) throw new ValidationError(f, `must be a Float64Array of length ${n} for this problem (got ${show(a)}; was the problem edited after makeProblem?)`);
  };
  len("data.X", d.X, dIn * N); len("data.Y", d.Y, dOut * N);
  if (d.XTest !== undefined) len("data.XTest", d.XTest, dIn * positiveInt("data.NTest", d.NTest));
  if (d.YTest !== undefined) len("data.YTest", d.YTest, dOut * (d.NTest ?? 0));
  const i = q.init as InitWeights;
  if (i.WE !== undefined) len("init.WE", i.WE, m.D * dIn);
  if (i.WU !== undefined) len("init.WU", i.WU, m.D * dOut);
  if (i.U !== undefined) len("init.U", i.U, m.L * m.D * m.M);
  if (i.V !== undefined) len("init.V", i.V, m.L * m.D * m.M);
}

/** Validate and normalise a problem (API input or parsed JSON). */
export function makeProblem(input: ProblemInput | unknown): Problem {
  const top = plainObject("problem", input);
  knownKeys("problem", top, TOP_KEYS);
  const m = plainObject("model", top.model);
  knownKeys("model", m, MODEL_KEYS);
  // the shape first (as before: D, L, M), then the activation, then the other numbers
  positiveInt("model.D", m.D); positiveInt("model.L", dflt(m.L, 1)); positiveInt("model.M", dflt(m.M, 1));
  const activation = resolveActivation(dflt(m.activation, "tanh"));
  const model = modelSpec(m, activation);
  const { L, M, D } = model;

  const d = plainObject("data", top.data);
  let data: Dataset;
  if (d.generator !== undefined) {
    const gen = oneOf("data.generator", d.generator, ["teacher", "two-spirals"] as const);
    if (gen === "teacher") {
      knownKeys("data", d, ["generator", "dIn", "dOut", "N", "seed", "nonlinearity", "NTest"]);
      data = teacherData(d as unknown as TeacherDataSpec);
    } else {
      knownKeys("data", d, TWO_SPIRALS_KEYS);
      data = twoSpiralsData(d as unknown as TwoSpiralsSpec);
    }
  } else {
    knownKeys("data", d, ["X", "Y", "XTest", "YTest"]);
    const X = matrixInput("data.X", d.X);
    const Y = matrixInput("data.Y", d.Y);
    if (X.cols !== Y.cols) throw new ValidationError("data", `X has shape ${X.rows}×${X.cols} (d_in×N) and Y has shape ${Y.rows}×${Y.cols} (d_out×N): N must agree`);
    data = { dIn: X.rows, dOut: Y.rows, N: X.cols, X: X.data, Y: Y.data };
    Object.assign(data, testPoints(d.XTest, d.YTest, data.dIn, data.dOut));
  }

  const t = plainObject("train", top.train);
  knownKeys("train", t, TRAIN_KEYS);
  const train = schedule(t);

  const seed = seedValue("seed", dflt(top.seed, 0));

  const init: InitWeights = {};
  if (top.init !== undefined) {
    const i = plainObject("init", top.init);
    knownKeys("init", i, ["WE", "WU", "U", "V"]);
    if (i.WE !== undefined) init.WE = matrixInput("init.WE", i.WE, D, data.dIn).data;
    if (i.WU !== undefined) init.WU = matrixInput("init.WU", i.WU, D, data.dOut).data;
    if (i.U !== undefined) init.U = tensor3Input("init.U", i.U, L, D, M);
    if (i.V !== undefined) init.V = tensor3Input("init.V", i.V, L, D, M);
    if ((i.U === undefined) !== (i.V === undefined)) {
      const [given, missing] = i.U !== undefined ? ["U", "V"] : ["V", "U"];
      throw new ValidationError(`init.${missing}`, `is required when init.${given} is given (give both U and V, or neither)`);
    }
  }
  const solver = top.solver === undefined ? {} : plainObject("solver", top.solver);
  return { model, data, train, seed, init, solver };
}

/** Parse and validate a JSON problem text; malformed JSON gives a clear error. */
export function parseProblem(text: string, source = "problem"): Problem {
  if (typeof text !== "string") throw new ValidationError(source, `must be the text of a JSON problem file (got ${show(text)})`);
  // JSON.parse builds the nested arrays (≈ 8 bytes per number of ≥ 2 characters) beside the text (up to 2 bytes per character)
  requireResources({ what: "parsing the problem", drivers: [[`${source} (characters)`, text.length]], bytes: 6 * text.length });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ValidationError(source, `is not valid JSON: ${(e as Error).message}`);
  }
  return makeProblem(json);
}

/** Read, parse and validate a problem file. */
export function loadProblem(path: string): Problem {
  if (typeof path !== "string" || path === "") throw new ValidationError("--config", `must be the path of a problem file (got ${show(path)})`);
  let text: string;
  try {
    const size = statSync(path).size;
    requireResources({ what: "reading the problem file", drivers: [[`${path} (bytes)`, size]], bytes: 8 * size });
    text = readFileSync(path, "utf8");
  } catch (e) {
    if (e instanceof ValidationError) throw e;
    throw new ValidationError("--config", `cannot be read: ${(e as Error).message}`);
  }
  return parseProblem(text, path);
}

/** A copy of the problem with some model / train fields replaced, every field validated as makeProblem does. */
export function withChanges(p: Problem, changes: { model?: Partial<Omit<ModelSpec, "activation">>; train?: Partial<Schedule>; seed?: number }): Problem {
  assertProblem(p);
  const c = plainObject("changes", changes);
  knownKeys("changes", c, ["model", "train", "seed"]);
  if (changes.model !== undefined) knownKeys("model", plainObject("changes.model", changes.model), MODEL_KEYS.filter((k) => k !== "activation"));
  if (changes.train !== undefined) knownKeys("train", plainObject("changes.train", changes.train), TRAIN_KEYS);
  const model = modelSpec({ ...p.model, ...changes.model }, p.model.activation);
  const train = schedule({ ...p.train, ...changes.train });
  const seed = changes.seed === undefined ? p.seed : seedValue("seed", changes.seed);
  const init = model.L === p.model.L && model.M === p.model.M && model.D === p.model.D ? p.init : model.D === p.model.D ? { WE: p.init.WE, WU: p.init.WU } : {};
  return { ...p, model, train, seed, init };
}

export { finiteNumber, isPlainObject };

