/**
 * Bad input gives a ValidationError whose `field` is the dotted path of the
 * offending value and whose message starts with that field — through every
 * entry: makeProblem (API objects), parseProblem (JSON text), loadProblem
 * (files), finiteResNet options and solve. A diverging run throws a
 * DivergenceError naming the step and the quantity, and never returns NaN.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  makeProblem, parseProblem, loadProblem, solve, finiteResNet, initWeights, gdStep, trainResNet, withChanges,
  ValidationError, DivergenceError, LimitdynError, tanh, type Problem,
} from "../src/index.ts";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A valid problem: L=2, M=3, D=4, d_in=2, d_out=1, N=3, with explicit init. */
function valid(): Json {
  const D = 4, M = 3, L = 2;
  const layer = (s: number) => Array.from({ length: D }, (_, d) => Array.from({ length: M }, (_, j) => Math.sin(s + 3 * d + j)));
  return {
    model: { L, M, D, activation: "tanh", alpha: 1, sigmaU: 1, sigmaV: 1, sigmaIn: 1, sigmaOut: 1 },
    data: { X: [[1, 2, -1], [0.5, -1, 2]], Y: [[1, -1, 0.5]] },
    train: { steps: 2, etaU: 0.1, etaV: 0.1 },
    seed: 1,
    init: {
      WE: [[1, 0], [0, 1], [1, 1], [-1, 0.5]],
      WU: [[1], [-1], [0.5], [2]],
      U: [layer(0), layer(1)],
      V: [layer(2), layer(3)],
    },
  };
}

/** Apply `edit` to a fresh valid problem. */
const mut = (edit: (p: Json) => void): Json => {
  const p = valid();
  edit(p);
  return p;
};

function expectValidation(fn: () => unknown, field: string, contains?: string): ValidationError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err !== undefined, `expected a ValidationError naming ${field}, but nothing was thrown`);
  assert.ok(err instanceof ValidationError, `expected ValidationError naming ${field}, got ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
  assert.ok(err instanceof LimitdynError);
  assert.equal(err.field, field, `field: message was "${err.message}"`);
  assert.ok(err.message.startsWith(field + " "), `message "${err.message}" does not start with the field ${field}`);
  if (contains) assert.ok(err.message.includes(contains), `message "${err.message}" lacks "${contains}"`);
  return err;
}

// ---- JSON-representable cases: checked through makeProblem, parseProblem and loadProblem ----

interface Case { name: string; input: Json | unknown; field: string; contains?: string }

const CASES: Case[] = [
  // shapes
  { name: "X and Y disagree on N", input: mut((p) => { p.data.Y = [[1, -1]]; }), field: "data", contains: "N must agree" },
  { name: "X ragged", input: mut((p) => { p.data.X[1] = [0.5, -1]; }), field: "data.X", contains: "ragged" },
  { name: "X empty", input: mut((p) => { p.data.X = []; }), field: "data.X" },
  { name: "X a flat array", input: mut((p) => { p.data.X = [1, 2, 3]; }), field: "data.X[0]" },
  { name: "Y row not an array", input: mut((p) => { p.data.Y = [[1, 2, 3], 4]; }), field: "data.Y[1]" },
  { name: "init.WE wrong shape (D rows)", input: mut((p) => { p.init.WE.pop(); }), field: "init.WE", contains: "4×2 was expected" },
  { name: "init.WE wrong shape (d_in cols)", input: mut((p) => { p.init.WE = p.init.WE.map((r: number[]) => [...r, 0]); }), field: "init.WE", contains: "4×3 but 4×2" },
  { name: "init.WU wrong shape", input: mut((p) => { p.init.WU = [[1, 2], [1, 2], [1, 2], [1, 2]]; }), field: "init.WU" },
  { name: "init.U wrong layer count", input: mut((p) => { p.init.U.pop(); }), field: "init.U", contains: "model.L = 2" },
  { name: "init.U layer with wrong D", input: mut((p) => { p.init.U[1].pop(); }), field: "init.U[1]", contains: "4×3 was expected" },
  { name: "init.V layer with wrong M", input: mut((p) => { p.init.V[0] = p.init.V[0].map((r: number[]) => r.slice(1)); }), field: "init.V[0]", contains: "4×3 was expected" },
  { name: "init.U not an array", input: mut((p) => { p.init.U = 3; }), field: "init.U" },
  // non-numbers in arrays
  { name: "string in X", input: mut((p) => { p.data.X[0][1] = "2"; }), field: "data.X[0][1]", contains: "finite number" },
  { name: "null in Y", input: mut((p) => { p.data.Y[0][2] = null; }), field: "data.Y[0][2]" },
  { name: "boolean in init.WE", input: mut((p) => { p.init.WE[2][1] = true; }), field: "init.WE[2][1]" },
  { name: "string in init.U", input: mut((p) => { p.init.U[1][3][2] = "x"; }), field: "init.U[1][3][2]" },
  // sizes
  { name: "model.D = -3", input: mut((p) => { p.model.D = -3; }), field: "model.D", contains: "model.D must be a positive integer (got -3)" },
  { name: "model.D = 0", input: mut((p) => { p.model.D = 0; }), field: "model.D" },
  { name: "model.L fractional", input: mut((p) => { p.model.L = 2.5; }), field: "model.L", contains: "(got 2.5)" },
  { name: "model.M negative", input: mut((p) => { p.model.M = -1; }), field: "model.M" },
  { name: "model.D a string", input: mut((p) => { p.model.D = "4"; }), field: "model.D", contains: '(got "4")' },
  { name: "train.steps = 0", input: mut((p) => { p.train.steps = 0; }), field: "train.steps", contains: "(got 0)" },
  { name: "train.steps fractional", input: mut((p) => { p.train.steps = 1.5; }), field: "train.steps" },
  // rates and scales
  { name: "negative etaU", input: mut((p) => { p.train.etaU = -0.1; }), field: "train.etaU", contains: "(got -0.1)" },
  { name: "negative etaV", input: mut((p) => { p.train.etaV = -2; }), field: "train.etaV" },
  { name: "negative etaE", input: mut((p) => { p.train.etaE = -1; }), field: "train.etaE" },
  { name: "negative etaO", input: mut((p) => { p.train.etaO = -1e-9; }), field: "train.etaO" },
  { name: "etaU a string", input: mut((p) => { p.train.etaU = "0.1"; }), field: "train.etaU" },
  { name: "alpha = 0", input: mut((p) => { p.model.alpha = 0; }), field: "model.alpha" },
  { name: "sigmaU negative", input: mut((p) => { p.model.sigmaU = -1; }), field: "model.sigmaU" },
  { name: "sigmaOut a string", input: mut((p) => { p.model.sigmaOut = "1"; }), field: "model.sigmaOut" },
  // activation
  { name: "unknown activation", input: mut((p) => { p.model.activation = "relu"; }), field: "model.activation", contains: '"relu"' },
  { name: "activation a number", input: mut((p) => { p.model.activation = 3; }), field: "model.activation" },
  { name: "activation object without f (JSON)", input: mut((p) => { p.model.activation = { name: "x" }; }), field: "model.activation.f" },
  // missing fields
  { name: "missing model", input: mut((p) => { delete p.model; }), field: "model", contains: "required" },
  { name: "missing data", input: mut((p) => { delete p.data; }), field: "data", contains: "required" },
  { name: "missing train", input: mut((p) => { delete p.train; }), field: "train", contains: "required" },
  { name: "missing model.D", input: mut((p) => { delete p.model.D; }), field: "model.D", contains: "required" },
  { name: "missing data.Y", input: mut((p) => { delete p.data.Y; }), field: "data.Y", contains: "required" },
  { name: "missing train.steps", input: mut((p) => { delete p.train.steps; }), field: "train.steps", contains: "required" },
  { name: "missing train.etaU", input: mut((p) => { delete p.train.etaU; }), field: "train.etaU", contains: "required" },
  { name: "model not an object", input: mut((p) => { p.model = [4]; }), field: "model" },
  { name: "problem not an object", input: [1, 2], field: "problem" },
  { name: "problem null", input: null, field: "problem" },
  // unknown keys (typos)
  { name: "typo model.d", input: mut((p) => { p.model.d = 4; }), field: "model.d", contains: "not a known key" },
  { name: "typo train.etau", input: mut((p) => { p.train.etau = 0.1; }), field: "train.etau", contains: "not a known key" },
  { name: "typo top-level modle", input: mut((p) => { p.modle = p.model; }), field: "problem.modle" },
  { name: "typo data.x", input: mut((p) => { p.data.x = p.data.X; }), field: "data.x" },
  { name: "typo init.We", input: mut((p) => { p.init.We = p.init.WE; }), field: "init.We" },
  // seed
  { name: "negative seed", input: mut((p) => { p.seed = -1; }), field: "seed", contains: "(got -1)" },
  { name: "fractional seed", input: mut((p) => { p.seed = 1.5; }), field: "seed" },
  { name: "seed ≥ 2^32", input: mut((p) => { p.seed = 2 ** 32; }), field: "seed" },
  { name: "seed a string", input: mut((p) => { p.seed = "1"; }), field: "seed" },
  // init U without V (and vice versa)
  { name: "init.U without init.V", input: mut((p) => { delete p.init.V; }), field: "init.V", contains: "init.U" },
  { name: "init.V without init.U", input: mut((p) => { delete p.init.U; }), field: "init.U", contains: "init.V" },
  // teacher data and solver block
  { name: "teacher data with dIn = 0", input: mut((p) => { p.data = { generator: "teacher", dIn: 0, dOut: 1, N: 3 }; }), field: "data.dIn" },
  { name: "unknown data generator", input: mut((p) => { p.data = { generator: "mnist" }; }), field: "data.generator" },
  { name: "solver not an object", input: mut((p) => { p.solver = "heun"; }), field: "solver" },
];

test("the valid base problem is accepted by every entry and solves", () => {
  const p = makeProblem(valid());
  assert.equal(p.model.D, 4);
  parseProblem(JSON.stringify(valid()));
  const t = solve(p, finiteResNet());
  assert.equal(t.K, 2);
  assert.ok(t.loss.every(Number.isFinite));
});

const dir = mkdtempSync(join(tmpdir(), "limitdyn-bad-input-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

for (const [i, c] of CASES.entries()) {
  test(`bad input (${c.name}) → ValidationError naming ${c.field}`, () => {
    expectValidation(() => makeProblem(c.input), c.field, c.contains);
    const text = JSON.stringify(c.input);
    expectValidation(() => parseProblem(text), c.field, c.contains);
    const path = join(dir, `case${i}.json`);
    writeFileSync(path, text);
    expectValidation(() => loadProblem(path), c.field, c.contains);
  });
}

// ---- API-only inputs: NaN / ±Infinity (JSON cannot carry them), typed arrays, functions ----

test("NaN and ±Infinity in API arrays name the entry", () => {
  expectValidation(() => makeProblem(mut((p) => { p.data.X[1][2] = NaN; })), "data.X[1][2]", "(got NaN)");
  expectValidation(() => makeProblem(mut((p) => { p.data.Y[0][0] = Infinity; })), "data.Y[0][0]", "(got Infinity)");
  expectValidation(() => makeProblem(mut((p) => { p.init.WU[3][0] = -Infinity; })), "init.WU[3][0]");
  expectValidation(() => makeProblem(mut((p) => { p.init.V[1][0][2] = NaN; })), "init.V[1][0][2]");
  // Flat typed arrays for init.U (L×D×M = 24 entries).
  const flatU = new Float64Array(24).fill(0.5);
  flatU[5] = NaN;
  expectValidation(() => makeProblem(mut((p) => { p.init.U = flatU; })), "init.U[5]");
  expectValidation(() => makeProblem(mut((p) => { p.init.U = new Float64Array(23); })), "init.U", "L×D×M");
  // Scalars.
  expectValidation(() => makeProblem(mut((p) => { p.model.alpha = NaN; })), "model.alpha", "(got NaN)");
  expectValidation(() => makeProblem(mut((p) => { p.model.D = Infinity; })), "model.D");
  expectValidation(() => makeProblem(mut((p) => { p.train.etaV = Infinity; })), "train.etaV");
  expectValidation(() => makeProblem(mut((p) => { p.train.steps = NaN; })), "train.steps");
  expectValidation(() => makeProblem(mut((p) => { p.seed = NaN; })), "seed");
});

test("NaN / Infinity in JSON text: invalid JSON, overflowing literals, and the string \"NaN\"", () => {
  const text = JSON.stringify(valid());
  // A bare NaN is not JSON: the parser error names the source.
  const nanText = text.replace('"X":[[1,2,-1]', '"X":[[1,NaN,-1]');
  assert.notEqual(nanText, text);
  expectValidation(() => parseProblem(nanText), "problem", "is not valid JSON");
  expectValidation(() => parseProblem(nanText, "my.json"), "my.json", "is not valid JSON");
  // 1e999 parses to Infinity: caught as a non-finite entry.
  expectValidation(() => parseProblem(text.replace('"Y":[[1,', '"Y":[[1e999,')), "data.Y[0][0]", "(got Infinity)");
  // "NaN" as a string.
  expectValidation(() => parseProblem(text.replace('"X":[[1,2,-1]', '"X":[[1,"NaN",-1]')), "data.X[0][1]", '(got "NaN")');
});

test("malformed JSON text and unreadable files", () => {
  expectValidation(() => parseProblem("{ \"model\": { \"D\": 4 }, "), "problem", "is not valid JSON");
  expectValidation(() => parseProblem(""), "problem", "is not valid JSON");
  const path = join(dir, "broken.json");
  writeFileSync(path, "{ model: 1 }");
  expectValidation(() => loadProblem(path), path, "is not valid JSON");
  expectValidation(() => loadProblem(join(dir, "does-not-exist.json")), "--config", "cannot be read");
});

test("custom activations: missing f or df are named; a spoofed built-in kind is not trusted", () => {
  expectValidation(() => makeProblem(mut((p) => { p.model.activation = { name: "x", df: () => 1 }; })), "model.activation.f");
  expectValidation(() => makeProblem(mut((p) => { p.model.activation = { name: "x", f: (x: number) => x }; })), "model.activation.df");
  expectValidation(() => makeProblem(mut((p) => { p.model.activation = { name: "", f: (x: number) => x, df: () => 1 }; })), "model.activation.name");
  // An object carrying kind/sup but no df used to pass validation and fail with a TypeError in the kernels.
  expectValidation(() => makeProblem(mut((p) => { p.model.activation = { name: "x", f: (x: number) => x, kind: -1, sup: { f: 1, df: 1, d2f: 1 } }; })), "model.activation.df");
  // { ...tanh, f, df } must run the user's f, df — not tanh via its `kind`.
  const twice = makeProblem(mut((p) => { p.model.activation = { ...tanh, name: "twice", f: (x: number) => 2 * x, df: () => 2 }; }));
  const lin = makeProblem(mut((p) => { p.model.activation = "linear"; p.model.alpha = 2; }));
  assert.equal(twice.model.activation.kind, -1);
  assert.equal(solve(twice, finiteResNet()).loss[0], solve(lin, finiteResNet()).loss[0]); // α·(2x) ≡ (2α)·x at step 0
  // A valid custom activation works and the built-in objects are accepted as they are.
  assert.equal(makeProblem(mut((p) => { p.model.activation = tanh; })).model.activation, tanh);
});

// ---- algorithm options and solve ----

test("withChanges validates every changed field as makeProblem does, and rejects unknown keys", () => {
  const p = makeProblem(valid());
  expectValidation(() => withChanges(p, { model: { alpha: -1 } }), "model.alpha");
  expectValidation(() => withChanges(p, { model: { sigmaIn: 0 } }), "model.sigmaIn");
  expectValidation(() => withChanges(p, { model: { L: 1.5 } }), "model.L");
  expectValidation(() => withChanges(p, { train: { etaO: Number.NaN } }), "train.etaO");
  expectValidation(() => withChanges(p, { model: { Q: 1 } as never }), "model.Q");
  expectValidation(() => withChanges(p, { train: { eta: 1 } as never }), "train.eta");
  expectValidation(() => withChanges(p, { seed: -1 }), "seed");
  const q = withChanges(p, { model: { M: 7 }, train: { steps: 2 } });
  assert.equal(q.model.M, 7);
  assert.equal(q.train.steps, 2);
  assert.equal(q.model.activation, p.model.activation);
});

test("finiteResNet options and solve: bad values name the option", () => {
  const p = makeProblem(valid());
  expectValidation(() => finiteResNet({ recrod: ["h"] } as never), "options.recrod", "not a known key");
  expectValidation(() => finiteResNet({ record: ["h", "x"] } as never), "options.record[1]");
  expectValidation(() => finiteResNet({ record: "h" } as never), "options.record");
  expectValidation(() => finiteResNet({ record: ["h"], recordSteps: [-1] }), "options.recordSteps[0]");
  expectValidation(() => finiteResNet({ record: ["h"], recordSteps: "all" } as never), "options.recordSteps");
  expectValidation(() => finiteResNet(3 as never), "options");
  expectValidation(() => solve(p, finiteResNet({ record: ["h"], recordSteps: [0, 2] })), "options.recordSteps[1]", "train.steps = 2");
  // Start weights of the wrong shape or with NaN.
  const w = initWeights(p);
  expectValidation(() => solve(p, finiteResNet({ weights: { ...w, U: w.U.subarray(1) } })), "options.weights.U", "needs 24");
  const bad = { ...w, V: Float64Array.from(w.V) };
  bad.V[3] = NaN;
  expectValidation(() => solve(p, finiteResNet({ weights: bad })), "options.weights.V[3]");
  // solve with something that is not a validated Problem / algorithm.
  expectValidation(() => solve(null as never, finiteResNet()), "problem");
  expectValidation(() => solve(valid() as never, finiteResNet()), "problem", "makeProblem");
  expectValidation(() => solve(p, {} as never), "algorithm");
});

// ---- divergence ----

function divergent(eta: number, steps = 10): Problem {
  return makeProblem(mut((p) => {
    p.model.activation = "linear";
    p.train = { steps, etaU: eta, etaV: eta };
  }));
}

test("a huge learning rate throws DivergenceError naming the step and the quantity", () => {
  let err: unknown;
  try {
    solve(divergent(1e6), finiteResNet());
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof DivergenceError, `expected DivergenceError, got ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
  assert.ok(Number.isInteger(err.step) && err.step >= 1 && err.step < 10, `step ${err.step}`);
  assert.equal(typeof err.quantity, "string");
  assert.ok(err.quantity.length > 0);
  assert.ok(err.message.includes(`step ${err.step}`), err.message);
  assert.ok(err.message.includes(err.quantity), err.message);
  // The run up to the failing step was finite: a K = step run returns finite losses.
  const ok = solve(divergent(1e6, err.step), finiteResNet());
  assert.ok(ok.loss.every(Number.isFinite) && (ok.f.data as Float64Array).every(Number.isFinite));
});

test("over a ladder of rates a run either diverges with DivergenceError or returns finite values — never NaN", () => {
  // η = 1e3, 1e4 overflow the loss while h stays finite (this used to throw a ValidationError).
  for (const eta of [1, 10, 1e2, 1e3, 1e4, 1e5, 1e8, 1e12]) {
    try {
      const t = trainResNet(divergent(eta), { returnWeights: true });
      assert.ok(t.loss.every(Number.isFinite), `η=${eta}: non-finite loss returned`);
      assert.ok((t.f.data as Float64Array).every(Number.isFinite), `η=${eta}: non-finite f returned`);
    } catch (e) {
      assert.ok(e instanceof DivergenceError, `η=${eta}: ${(e as Error).constructor.name}: ${(e as Error).message}`);
      assert.ok(Number.isInteger(e.step) && e.step >= 0 && e.step < 10);
    }
  }
  // gdStep in a loop: the step that meets non-finite weights throws DivergenceError, not a NaN loss.
  const p = divergent(1e6);
  const w = initWeights(p);
  let thrown: unknown;
  for (let k = 0; k < 20 && !thrown; k++) {
    try {
      const l = gdStep(p, w);
      assert.ok(Number.isFinite(l), `gdStep returned loss ${l} at step ${k}`);
    } catch (e) {
      thrown = e;
    }
  }
  assert.ok(thrown instanceof DivergenceError || thrown instanceof ValidationError, `gdStep: ${(thrown as Error)?.message}`);
});
