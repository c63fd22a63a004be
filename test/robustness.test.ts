/**
 * Issue 10, table-driven: every example of the issue (bad input, huge input,
 * divergence, silent non-finite results, loose types, damaged arguments) run
 * against the current code. Each row is a call and the library error it must
 * throw — a ValidationError (or ResourceError, its resource-model subclass)
 * whose field starts its message, or a DivergenceError naming a step and a
 * quantity — or a check of the finite result it must return. The CLI
 * examples (exit codes, one-line messages, sweep locks) are in
 * test/cli-robustness.test.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  chaosDiagnostics, chaosSimulator, customActivation, DivergenceError, dmft, dmftCoordinates,
  finiteResNet, forward, gdStep, gradient, initWeights, largeWidth, LimitdynError, loadProblem, makeProblem, meanOde, ResourceError,
  resourceLimits, sampleEmbeddingRows, setResourceLimits, solve, trainResNet, trajectoryToJSON, ValidationError,
} from "../src/index.ts";
import { limitLawSamples } from "../src/skeleton/sampler.ts";
import { checkLipschitz, checkSubGaussian, estimatePsi2 } from "../src/verify/index.ts";
import { lawArb, problemArb, vectorPairArb } from "../src/verify/arbitraries.ts";
import { expandSweep, normalizeSweep } from "../src/experiments/spec.ts";
import { jsonable } from "../src/problem/trajectory.ts";
import { loadTrajectory } from "../src/problem/io.ts";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The small problem: L = 2, M = 3, D = 4, d_in = 2, d_out = 1, N = 3, K = 3 (tanh unless changed). */
function input(edit: (p: Json) => void = () => {}): Json {
  const p: Json = {
    model: { L: 2, M: 3, D: 4, activation: "tanh" },
    data: { X: [[1, 0.5, -1], [0.5, -1, 0.8]], Y: [[0.3, -0.2, 0.5]] },
    train: { steps: 3, etaU: 0.5, etaV: 0.5 },
    seed: 1,
  };
  edit(p);
  return p;
}
const problem = (edit?: (p: Json) => void) => makeProblem(input(edit));
const cheap = { rule: "sobol" as const, points: 64, randomizations: 2 };

interface Expect {
  /** The error class: ValidationError (any subclass), ResourceError, DivergenceError. */
  error: "validation" | "resource" | "divergence";
  /** ValidationError: the field (exact), or a prefix ending in "*". */
  field?: string;
  /** Substrings of the message. */
  contains?: string[];
}

/** Run `fn` and check the error it throws (and that it is a library error, never a TypeError / RangeError). */
function expectError(name: string, fn: () => unknown, e: Expect): void {
  let err: unknown;
  try {
    fn();
  } catch (x) {
    err = x;
  }
  assert.ok(err !== undefined, `${name}: nothing was thrown`);
  assert.ok(err instanceof LimitdynError, `${name}: ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
  if (e.error === "divergence") {
    assert.ok(err instanceof DivergenceError, `${name}: expected a DivergenceError, got ${err.constructor.name}: ${err.message}`);
    assert.ok(Number.isInteger(err.step) && err.step >= 0, `${name}: step ${err.step}`);
    assert.ok(err.quantity.length > 0 && err.message.includes(`step ${err.step}`) && err.message.includes(err.quantity), `${name}: ${err.message}`);
  } else {
    assert.ok(err instanceof ValidationError, `${name}: expected a ValidationError, got ${err.constructor.name}: ${err.message}`);
    if (e.error === "resource") assert.ok(err instanceof ResourceError, `${name}: expected a ResourceError, got ${err.constructor.name}: ${err.message}`);
    assert.ok(err.message.startsWith(err.field + " "), `${name}: message "${err.message}" does not start with its field ${err.field}`);
    if (e.field !== undefined) {
      if (e.field.endsWith("*")) assert.ok(err.field.startsWith(e.field.slice(0, -1)), `${name}: field ${err.field}, expected ${e.field}`);
      else assert.equal(err.field, e.field, `${name}: ${err.message}`);
    }
  }
  for (const c of e.contains ?? []) assert.ok((err as Error).message.includes(c), `${name}: "${(err as Error).message}" lacks "${c}"`);
}

/** A custom activation that returns NaN for arguments above 0.5 (σ″ given, so the limit solvers accept it). */
const badAct = customActivation({ name: "bad", f: (x) => (x > 0.5 ? NaN : Math.tanh(x)), df: (x) => 1 - Math.tanh(x) ** 2, d2f: () => 0 });

const linear6 = () => problem((p) => { p.model.activation = "linear"; p.train = { steps: 6, etaU: 1e6, etaV: 1e6 }; });

interface Row { name: string; run: () => unknown; expect: Expect }

const ROWS: Row[] = [
  // ---- 1. sizes are refused before anything is allocated (resource model)
  { name: "1. model.D = 1e9 (L = 2, M = 3): finite ResNet", run: () => solve(problem((p) => { p.model.D = 1e9; }), finiteResNet()), expect: { error: "resource", field: "model.D", contains: ["GB", "LIMITDYN_MAX_MEMORY"] } },
  { name: "1. model.L = 1e9: initWeights", run: () => initWeights(problem((p) => { p.model.L = 1e9; })), expect: { error: "resource", field: "model.L", contains: ["weights"] } },
  { name: "1. model.M = 1e9: finite ResNet", run: () => solve(problem((p) => { p.model.M = 1e9; }), finiteResNet()), expect: { error: "resource", field: "model.M" } },
  { name: "1. teacher N = 1e9: makeProblem", run: () => makeProblem(input((p) => { p.data = { generator: "teacher", dIn: 2, dOut: 1, N: 1e9 }; })), expect: { error: "resource", field: "data.N" } },
  { name: "1. teacher dIn = 2147483647: makeProblem", run: () => makeProblem(input((p) => { p.data = { generator: "teacher", dIn: 2147483647, dOut: 1, N: 3 }; })), expect: { error: "resource", field: "data.dIn" } },
  { name: "1. train.steps = 1e9: skeleton Mean ODE", run: () => solve(problem((p) => { p.train.steps = 1e9; }), meanOde()), expect: { error: "resource", field: "train.steps" } },
  { name: "1. train.steps = 1e9: finite ResNet", run: () => solve(problem((p) => { p.train.steps = 1e9; }), finiteResNet()), expect: { error: "resource", field: "train.steps" } },
  { name: "1. train.steps = 1e9: particles", run: () => solve(problem((p) => { p.train.steps = 1e9; }), meanOde({ method: "particles", particles: 64 })), expect: { error: "resource", field: "train.steps" } },
  { name: "1. train.steps = 1e9: DMFT", run: () => solve(problem((p) => { p.train.steps = 1e9; }), dmft()), expect: { error: "resource", field: "train.steps" } },
  { name: "1. expectation.samples = 3.3e7", run: () => solve(problem(), meanOde({ expectation: { samples: 3.3e7 } })), expect: { error: "resource", field: "options.expectation.points" } },
  { name: "1. chaos R = 1e9", run: () => solve(problem(), chaosSimulator({ R: 1e9 })), expect: { error: "resource", field: "solver.R" } },
  { name: "1. chaos widths up to 1e9", run: () => chaosDiagnostics(problem(), { R: 2, widths: [2, 1e9] }), expect: { error: "resource", field: "solver.widths (largest)" } },
  { name: "1. sweep repetitions = 1e308", run: () => expandSweep({ problem: input(), task: "finite-vs-meanode", repetitions: 1e308 }), expect: { error: "validation", field: "sweep.repetitions" } },
  { name: "1. sweep repetitions = 1e12", run: () => normalizeSweep({ problem: input(), task: "finite-vs-meanode", repetitions: 1e12 }), expect: { error: "resource", field: "sweep.repetitions" } },
  { name: "1. limitLawSamples samples = 1e12", run: () => limitLawSamples(solve(problem(), meanOde({ expectation: cheap, depthSteps: 2 })), { step: 1, node: 1, samples: 1e12 }), expect: { error: "resource", field: "options.samples" } },
  { name: "1. sampleEmbeddingRows R = 1e12", run: () => sampleEmbeddingRows(1e12, 2, 1, 1, 1, 1), expect: { error: "resource", field: "R" } },
  { name: "1. checkLipschitz numRuns = 1e12", run: () => checkLipschitz({ f: (x) => x, pairs: vectorPairArb(2), bound: 1, numRuns: 1e12 }), expect: { error: "resource", field: "options.numRuns" } },
  { name: "1. checkSubGaussian n = 1e12", run: () => checkSubGaussian({ sample: (r) => r(), proxy: 1, n: 1e12 }), expect: { error: "resource", field: "options.n" } },
  { name: "1. vectorPairArb dim = 1e9", run: () => vectorPairArb(1e9), expect: { error: "validation", field: "dim" } },

  // ---- 2. divergence names the step and the quantity (never an internal `gammaB[3][3] must be finite`)
  { name: "2. meanOde linear η = 1e6", run: () => solve(linear6(), meanOde()), expect: { error: "divergence" } },
  { name: "2. dmft linear η = 1e6", run: () => solve(linear6(), dmft()), expect: { error: "divergence" } },
  { name: "2. largeWidth linear η = 1e6 (K = 6)", run: () => solve(linear6(), largeWidth()), expect: { error: "divergence" } },
  { name: "2. chaos (skeleton limit) linear η = 1e6", run: () => solve(linear6(), chaosSimulator({ R: 2, widths: [2, 4], lawSamples: 64 })), expect: { error: "divergence" } },
  { name: "2. custom activation returning NaN: meanOde", run: () => solve(problem((p) => { p.model.activation = badAct; }), meanOde({ expectation: cheap })), expect: { error: "validation", field: "model.activation", contains: ['"bad"', "finite argument"] } },
  { name: "2. custom activation returning NaN: dmft", run: () => solve(problem((p) => { p.model.activation = badAct; }), dmft({ expectation: cheap })), expect: { error: "validation", field: "model.activation", contains: ['"bad"'] } },
  { name: "2. custom activation returning NaN: finite ResNet", run: () => solve(problem((p) => { p.model.activation = badAct; }), finiteResNet()), expect: { error: "validation", field: "model.activation", contains: ['"bad"', "finite argument"] } },
  { name: "2. custom activation returning NaN: particles", run: () => solve(problem((p) => { p.model.activation = badAct; }), meanOde({ method: "particles", particles: 64 })), expect: { error: "validation", field: "model.activation", contains: ['"bad"'] } },
  { name: "2. custom activation returning NaN: chaos", run: () => chaosDiagnostics(problem((p) => { p.model.activation = badAct; }), { R: 2, widths: [2, 4], method: "particles", particles: 64, diagnostics: ["coupling"] }), expect: { error: "validation", field: "model.activation", contains: ['"bad"'] } },

  // ---- 3. no silent non-finite result
  {
    name: "3. chaos sin, L = M = 2, D = 3, α = 0.7, η_u = 1e7",
    run: () => solve(problem((p) => {
      p.model = { L: 2, M: 2, D: 3, activation: "sin", alpha: 0.7 };
      p.data = { X: [[1, 2, -1], [0.5, -1, 2]], Y: [[1, -1, 0.5]] };
      p.train = { steps: 3, etaU: 1e7, etaV: 0.1 };
    }), chaosSimulator({ R: 2, widths: [2, 4], lawSamples: 256 })),
    expect: { error: "divergence" },
  },
  { name: "3. forward with U entries at 1e200 (linear)", run: () => { const p = problem((q) => { q.model.activation = "linear"; }); const w = initWeights(p); w.U.fill(1e200); return forward(p, w); }, expect: { error: "validation", field: "weights.U", contains: ["1.00e+200", "overflows"] } },
  { name: "3. gradient with U entries at 1e200 (linear)", run: () => { const p = problem((q) => { q.model.activation = "linear"; }); const w = initWeights(p); w.U.fill(1e200); return gradient(p, w); }, expect: { error: "validation", field: "weights.U" } },
  { name: "3. gdStep with U entries at 1e200 (linear)", run: () => { const p = problem((q) => { q.model.activation = "linear"; }); const w = initWeights(p); w.U.fill(1e200); return gdStep(p, w); }, expect: { error: "divergence" } },
  { name: "3. sigmaU = 1e308 (initWeights would give ±Infinity)", run: () => initWeights(problem((p) => { p.model.sigmaU = 1e308; })), expect: { error: "validation", field: "model.sigmaU", contains: ["1e+100"] } },
  { name: "3. jsonable of a non-finite number", run: () => jsonable({ qRms: [Infinity, 1] }), expect: { error: "validation", field: "result.qRms[0]", contains: ["JSON"] } },

  // ---- 4. wrong data, no error
  { name: "4. recordSteps [0, 0]", run: () => finiteResNet({ record: ["h", "b", "p"], recordSteps: [0, 0] }), expect: { error: "validation", field: "options.recordSteps[1]", contains: ["repeats"] } },
  { name: "4. recordSteps without record", run: () => finiteResNet({ recordSteps: [0] }), expect: { error: "validation", field: "options.recordSteps", contains: ["needs options.record"] } },
  { name: "4. recordSteps \"abc\"", run: () => finiteResNet({ record: ["h"], recordSteps: "abc" as never }), expect: { error: "validation", field: "options.recordSteps" } },
  { name: "4. record twice the same profile", run: () => meanOde({ record: ["h", "h"] }), expect: { error: "validation", field: "options.record[1]" } },
  { name: "4. meanOde recordSteps with only gram recorded", run: () => meanOde({ record: ["gram"], recordSteps: [0] }), expect: { error: "validation", field: "options.recordSteps" } },

  // ---- 5. the verify API: no hang, library errors, unknown keys, integers
  { name: "5. checkLipschitz numRuns = 1.0000001", run: () => checkLipschitz({ f: (x) => x, pairs: vectorPairArb(2), bound: 1, numRuns: 1.0000001 }), expect: { error: "validation", field: "options.numRuns" } },
  { name: "5. checkLipschitz numRuns = 1.5", run: () => checkLipschitz({ f: (x) => x, pairs: vectorPairArb(2), bound: 1, numRuns: 1.5 }), expect: { error: "validation", field: "options.numRuns" } },
  { name: "5. checkLipschitz numRuns = 2.5", run: () => checkLipschitz({ f: (x) => x, pairs: vectorPairArb(2), bound: 1, numRuns: 2.5 }), expect: { error: "validation", field: "options.numRuns" } },
  { name: "5. checkLipschitz numRuns = 0", run: () => checkLipschitz({ f: (x) => x, pairs: vectorPairArb(2), bound: 1, numRuns: 0 }), expect: { error: "validation", field: "options.numRuns" } },
  { name: "5. checkLipschitz seed = -1", run: () => checkLipschitz({ f: (x) => x, pairs: vectorPairArb(2), bound: 1, seed: -1 }), expect: { error: "validation", field: "options.seed" } },
  { name: "5. checkLipschitz unknown key", run: () => checkLipschitz({ f: (x: number[]) => x, pairs: vectorPairArb(2), bound: 1, numRun: 3 } as never), expect: { error: "validation", field: "options.numRun", contains: ["not a known key"] } },
  { name: "5. checkLipschitz bound = -1", run: () => checkLipschitz({ f: (x) => x, pairs: vectorPairArb(2), bound: -1 }), expect: { error: "validation", field: "options.bound" } },
  { name: "5. checkLipschitz norm = \"l3\"", run: () => checkLipschitz({ f: (x) => x, pairs: vectorPairArb(2), bound: 1, norm: "l3" as never }), expect: { error: "validation", field: "options.norm" } },
  { name: "5. checkLipschitz pairs not an arbitrary", run: () => checkLipschitz({ f: (x: number[]) => x, pairs: [[1], [2]] as never, bound: 1 }), expect: { error: "validation", field: "options.pairs" } },
  { name: "5. estimatePsi2 confidence = 2", run: () => estimatePsi2([1, 2], { confidence: 2 }), expect: { error: "validation", field: "options.confidence" } },
  { name: "5. estimatePsi2 unknown key", run: () => estimatePsi2([1, 2], { confidense: 0.9 } as never), expect: { error: "validation", field: "options.confidense" } },
  { name: "5. checkSubGaussian n = 1.5", run: () => checkSubGaussian({ sample: (r) => r(), proxy: 1, n: 1.5 }), expect: { error: "validation", field: "options.n" } },
  { name: "5. checkSubGaussian sample returning NaN", run: () => checkSubGaussian({ sample: () => NaN, proxy: 1, n: 10 }), expect: { error: "validation", field: "options.sample" } },
  { name: "5. problemArb unknown key", run: () => problemArb({ model: { L: 2 }, modle: {} } as never), expect: { error: "validation", field: "options.modle" } },
  { name: "5. lawArb kinds = []", run: () => lawArb({ kinds: [] }), expect: { error: "validation", field: "options.kinds" } },

  // ---- 6. damaged arguments: library errors, not TypeErrors
  { name: "6. trainResNet(p, { weights: {} })", run: () => trainResNet(problem(), { weights: {} as never }), expect: { error: "validation", field: "options.weights.*" } },
  { name: "6. gdStep with an unknown key in the weights (found by the long fuzz campaign)", run: () => { const p = problem(); return gdStep(p, { ...initWeights(p), Ux: 1 } as never); }, expect: { error: "validation", field: "weights.Ux", contains: ["not a known key"] } },
  { name: "6. loadTrajectory(\"\") (found by the long fuzz campaign)", run: () => loadTrajectory(""), expect: { error: "validation", field: "path", contains: ["empty"] } },
  { name: "6. gdStep(p, null)", run: () => gdStep(problem(), null as never), expect: { error: "validation", field: "weights" } },
  { name: "6. forward(p, { ...weights, U: [1, 2] })", run: () => { const p = problem(); return forward(p, { ...initWeights(p), U: [1, 2] as never }); }, expect: { error: "validation", field: "weights.U" } },
  { name: "6. forward(raw input)", run: () => forward(input() as never), expect: { error: "validation", field: "problem" } },
  { name: "6. solve on an edited problem (model.D changed after makeProblem)", run: () => { const p = problem(); p.model.D = 1e9; return solve(p, finiteResNet()); }, expect: { error: "resource", field: "model.D" } },
  { name: "6. solve on an edited problem (data.X shortened)", run: () => { const p = problem(); p.data.X = p.data.X.subarray(1); return solve(p, finiteResNet()); }, expect: { error: "validation", field: "data.X" } },

  // ---- 7. loose types
  { name: "7. dmft(true)", run: () => dmft(true as never), expect: { error: "validation", field: "options" } },
  { name: "7. dmft(3)", run: () => dmft(3 as never), expect: { error: "validation", field: "options" } },
  { name: "7. dmft(\"fast\")", run: () => dmft("fast" as never), expect: { error: "validation", field: "options" } },
  { name: "7. dmft(null)", run: () => dmft(null as never), expect: { error: "validation", field: "options" } },
  { name: "7. a Float64Array as expectation", run: () => meanOde({ expectation: new Float64Array(3) as never }), expect: { error: "validation", field: "options.expectation" } },
  { name: "7. model.M = null", run: () => makeProblem(input((p) => { p.model.M = null; })), expect: { error: "validation", field: "model.M", contains: ["null"] } },
  { name: "7. seed = null", run: () => makeProblem(input((p) => { p.seed = null; })), expect: { error: "validation", field: "seed" } },
  { name: "7. sampleEmbeddingRows without dIn", run: () => sampleEmbeddingRows(3, undefined as never, 1, 1, 1, 1), expect: { error: "validation", field: "dIn" } },
  { name: "7. sampleEmbeddingRows with sigma NaN", run: () => sampleEmbeddingRows(3, 2, 1, NaN, 1, 1), expect: { error: "validation", field: "sigmaIn" } },
  { name: "7. dmftCoordinates with NaN / Infinity rows", run: () => dmftCoordinates(solve(problem(), dmft({ expectation: cheap, depthSteps: 2 })), { R: 1, e: new Float64Array([NaN, 1]), o: new Float64Array([Infinity]) }), expect: { error: "validation", field: "rows.e[0]" } },
  { name: "7. expectation.samples named under options.expectation", run: () => solve(problem(), meanOde({ expectation: { samples: -1 } })), expect: { error: "validation", field: "options.expectation.samples" } },
  { name: "7. particleSeed named as options.particleSeed", run: () => meanOde({ method: "particles", particleSeed: -1 }), expect: { error: "validation", field: "options.particleSeed" } },
  { name: "7. chaos expectation unknown key", run: () => chaosSimulator({ expectation: { sampels: 3 } as never }), expect: { error: "validation", field: "solver.expectation.sampels" } },
  { name: "7. setResourceLimits({ memory: -1 })", run: () => setResourceLimits({ memory: -1 }), expect: { error: "validation", field: "limits.memory" } },
];

for (const r of ROWS) test(`issue 10: ${r.name}`, { timeout: 60_000 }, () => expectError(r.name, r.run, r.expect));

// ---- results that must be finite (or carry the documented warning)

test("issue 10 (2): DMFT, tanh, η = 1e12, K = 20: a DivergenceError naming the step, or finite values with the explosion warning", () => {
  try {
    const t = solve(problem((p) => { p.train = { steps: 20, etaU: 1e12, etaV: 1e12 }; }), dmft({ expectation: cheap }));
    assert.ok(t.loss.every(Number.isFinite));
    const ratio = Math.max(...t.loss) / t.loss[0];
    if (ratio > 1e12) assert.ok(t.warnings?.some((w) => w.includes("explodes")), `loss grew ×${ratio} without a warning`);
  } catch (e) {
    assert.ok(e instanceof DivergenceError, `${(e as Error).message}`);
    assert.ok(e.step >= 1 && e.step < 20);
  }
});

test("issue 10 (3): forward / gradient at moderate weights stay finite; tanh saturates at U = 1e200 without overflow", () => {
  const p = problem();
  const w = initWeights(p);
  w.U.fill(1e200);
  const r = forward(p, w);
  assert.ok(Number.isFinite(r.loss) && (r.f.data as Float64Array).every(Number.isFinite));
  const g = gradient(p, w);
  for (const k of ["U", "V", "WE", "WU"] as const) assert.ok(g[k].every(Number.isFinite));
});

test("issue 10 (3): a chaos result and its JSON hold finite numbers only (undefined statistics are null, typed number | null)", () => {
  const t = solve(problem(), chaosSimulator({ R: 2, widths: [2, 4], lawSamples: 256, expectation: cheap }));
  const json = JSON.stringify(trajectoryToJSON(t));
  assert.ok(!/NaN|Infinity/.test(json));
  // the displacement tag functional is 0 at k = 0: its intraclass correlation is undefined (null), never NaN
  assert.equal(t.extras.detail[0].tag!.displacement.intraclassByStep[0], null);
  for (const v of [...t.extras.pRms, ...t.extras.qRms, ...t.extras.couplingRms]) assert.ok(v === null || Number.isFinite(v));
});

test("issue 10 (4): recorded profiles are those of their steps (no zero record for a repeated step)", () => {
  const p = problem();
  const t = solve(p, finiteResNet({ record: ["h"], recordSteps: [2, 0] }));
  const all = solve(p, finiteResNet({ record: ["h"] }));
  const per = (p.model.L + 1) * p.data.N * p.model.D;
  const h = t.profiles!.h!.data as Float64Array, hAll = all.profiles!.h!.data as Float64Array;
  assert.deepEqual(Array.from(h.subarray(0, per)), Array.from(hAll.subarray(2 * per, 3 * per)));
  assert.deepEqual(Array.from(h.subarray(per, 2 * per)), Array.from(hAll.subarray(0, per)));
});

test("issue 10 (1): a large problem file is refused by the solver's resource estimate, not by a RangeError", () => {
  const dir = mkdtempSync(join(tmpdir(), "limitdyn-robust-"));
  try {
    const N = 200_000;
    const row = (f: (n: number) => number) => Array.from({ length: N }, (_, n) => Math.round(f(n) * 1000) / 1000);
    const file = join(dir, "big.json");
    writeFileSync(file, JSON.stringify({ model: { D: 4 }, data: { X: [row(Math.sin)], Y: [row(Math.cos)] }, train: { steps: 40, etaU: 1, etaV: 1 } }));
    const p = loadProblem(file);
    assert.equal(p.data.N, N);
    expectError("meanOde on N = 2e5", () => solve(p, meanOde()), { error: "resource", field: "*", contains: ["data.N = 200000"] });
    expectError("dmft on N = 2e5", () => solve(p, dmft()), { error: "resource" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("resource limits: the default is half the machine's memory and 1e12 operations; setResourceLimits raises and restores them", () => {
  const prev = setResourceLimits(null);
  try {
    const base = resourceLimits();
    assert.ok(base.memory > 0 && base.work === (process.env.LIMITDYN_MAX_WORK ? Number(process.env.LIMITDYN_MAX_WORK) : 1e12));
    const p = problem((q) => { q.model.M = 300_000; q.model.L = 64; });
    setResourceLimits({ memory: 2 ** 20 });
    expectError("1 MB", () => initWeights(p), { error: "resource", field: "model.M", contains: ["1.0 MB allowed"] });
    setResourceLimits({ work: 10 });
    expectError("work 10", () => solve(problem(), finiteResNet()), { error: "resource", contains: ["operations", "LIMITDYN_MAX_WORK"] });
    setResourceLimits(null);
    assert.deepEqual(resourceLimits(), base);
  } finally {
    setResourceLimits(prev);
  }
});
