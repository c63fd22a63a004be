/**
 * The fuzz campaign of issue 10: valid inputs of every public entry, mutated
 * by fast-check (fixed seed), run and classified.
 *
 * A case is an entry (makeProblem, solve with each solver, the lower-level
 * finite-ResNet API, the samplers, the verify checkers, the arbitraries,
 * sweeps …) and 0–3 mutations of its valid input tree: a value replaced by
 * one of a pool of nasty values (NaN, ±Infinity, null, 1e308, 1.5, -1, "abc",
 * [], {}, a Float64Array, a function …), a number scaled up (×1e3 … ×1e300)
 * or made fractional, a key deleted, an unknown key added, one entry of an
 * array set. The outcome of each case is one of
 *
 *   ok        returned, and every number in the result is finite
 *   rejected  ValidationError whose field is non-empty and starts its message
 *   refused   the same, from the resource model (ResourceError)
 *   diverged  DivergenceError naming a step (integer ≥ 0) and a quantity
 *   — failures —
 *   library   another LimitdynError (names no field)
 *   unnamed   a ValidationError / DivergenceError that names no field / step
 *   raw       anything else thrown (TypeError, RangeError, …)
 *   nonfinite returned a non-finite number (NaN / ±Infinity anywhere in it)
 *   slow      took longer than the time bound
 *   hang      no answer within the watchdog's limit (the worker is terminated)
 *   memory    the process grew beyond the memory bound (the worker is terminated)
 *
 * The campaign runs in a worker thread (fuzz-worker.ts) under a watchdog in
 * the calling thread, which polls the process's resident memory and the time
 * since the current case started: a hang or a memory blow-up terminates the
 * worker, is recorded against the case, and the campaign resumes after it.
 */
import fc from "fast-check";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as api from "../../src/index.ts";
import { limitLawSamples } from "../../src/skeleton/sampler.ts";
import { vectorPairArb, problemArb, lawArb } from "../../src/verify/arbitraries.ts";
import { checkLipschitz, checkSubGaussian, estimatePsi2 } from "../../src/verify/checkers.ts";
import { expandSweep } from "../../src/experiments/spec.ts";
import { runSweep } from "../../src/experiments/sweep.ts";
import { loadTrajectory } from "../../src/problem/io.ts";
import { chaosDiagnostics } from "../../src/chaos/simulate.ts";

export const OUTCOMES = ["ok", "rejected", "refused", "diverged", "library", "unnamed", "raw", "nonfinite", "slow", "hang", "memory"] as const;
export type Outcome = (typeof OUTCOMES)[number];
export const FAILURES: readonly Outcome[] = ["library", "unnamed", "raw", "nonfinite", "slow", "hang", "memory"];

type Tree = unknown;
/** `wrapper`: the input's root is the harness's container of the call's arguments (not mutated itself). */
type Entry = { name: string; base: () => Tree; run: (input: any) => unknown; wrapper?: boolean }; // eslint-disable-line @typescript-eslint/no-explicit-any

// ---------------------------------------------------------------- valid inputs

const layer = (s: number, D: number, M: number) => Array.from({ length: D }, (_, d) => Array.from({ length: M }, (_, j) => 0.5 * Math.sin(s + 3 * d + j)));

/** The valid base problem: L = 2, M = 3, D = 4, d_in = 2, d_out = 1, N = 3, K = 3, tanh. */
export function baseProblem(): Record<string, any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return {
    model: { L: 2, M: 3, D: 4, activation: "tanh", alpha: 1, sigmaU: 1, sigmaV: 1, sigmaIn: 1, sigmaOut: 1 },
    data: { X: [[1, 0.5, -1], [0.5, -1, 0.8]], Y: [[0.3, -0.2, 0.5]] },
    train: { steps: 3, etaU: 0.5, etaV: 0.5, etaE: 0, etaO: 0 },
    seed: 1,
  };
}

function withInit(): Record<string, any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const p = baseProblem();
  p.init = {
    WE: [[1, 0], [0, 1], [0.5, 0.5], [-1, 0.5]],
    WU: [[1], [-1], [0.5], [0.2]],
    U: [layer(0, 4, 3), layer(1, 4, 3)],
    V: [layer(2, 4, 3), layer(3, 4, 3)],
  };
  return p;
}

function teacherProblem(): Record<string, any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const p = baseProblem();
  p.data = { generator: "teacher", dIn: 2, dOut: 1, N: 3, seed: 2, nonlinearity: "tanh" };
  return p;
}

const cheapExpectation = () => ({ rule: "sobol" as const, points: 64, randomizations: 2, seed: 3 });

function weightsOf(): Record<string, unknown> {
  const p = api.makeProblem(baseProblem());
  const w = api.initWeights(p);
  return { ...w };
}

let cachedTraj: { skel?: api.Trajectory; dmft?: api.Trajectory } = {};
function skelTraj(): api.Trajectory {
  return (cachedTraj.skel ??= api.solve(api.makeProblem(baseProblem()), api.meanOde({ expectation: cheapExpectation(), depthSteps: 2 })));
}
function dmftTraj(): api.Trajectory {
  return (cachedTraj.dmft ??= api.solve(api.makeProblem(baseProblem()), api.dmft({ expectation: cheapExpectation(), depthSteps: 2 })));
}

let cachedJson: unknown;
/** A result file's content (a small finite-ResNet run with profiles), as parsed JSON. */
function resultJson(): unknown {
  cachedJson ??= JSON.parse(JSON.stringify(api.trajectoryToJSON(api.solve(api.makeProblem(baseProblem()), api.finiteResNet({ record: ["h"], recordSteps: [1], threads: 1 })))));
  return structuredClone(cachedJson);
}

let dir: string | undefined;
function tmpFile(name: string, text: string): string {
  dir ??= mkdtempSync(join(tmpdir(), "limitdyn-fuzz-"));
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const solveWith = (make: (o: unknown) => api.Algorithm) => (i: { problem: unknown; options: unknown }) => {
  const t = api.solve(api.makeProblem(i.problem), make(i.options));
  return { traj: t, json: api.trajectoryToJSON(t) };
};

/** Every public entry with a valid input tree. */
export const ENTRIES: Entry[] = [
  { name: "makeProblem", base: () => withInit(), run: (p) => api.makeProblem(p) },
  { name: "makeProblem/teacher", base: () => teacherProblem(), run: (p) => api.makeProblem(p) },
  { name: "parseProblem", base: () => withInit(), run: (p) => api.parseProblem(JSON.stringify(p) ?? "") },
  { name: "loadProblem", base: () => baseProblem(), run: (p) => api.loadProblem(tmpFile("p.json", JSON.stringify(p) ?? "")) },
  { name: "teacherData", base: () => ({ dIn: 2, dOut: 1, N: 3, seed: 1, nonlinearity: "linear" }), run: (s) => api.teacherData(s) },
  { name: "withChanges", wrapper: true, base: () => ({ problem: baseProblem(), changes: { model: { M: 5, alpha: 2 }, train: { steps: 2 }, seed: 4 } }), run: (i) => api.withChanges(api.makeProblem(i.problem), i.changes) },
  {
    name: "finiteResNet", wrapper: true, base: () => ({ problem: withInit(), options: { record: ["h", "b", "p"], recordSteps: [0, 2], returnWeights: true, threads: 1 } }),
    run: solveWith((o) => api.finiteResNet(o as api.FiniteResNetOptions)),
  },
  { name: "trainResNet", wrapper: true, base: () => ({ problem: teacherProblem(), options: { record: ["h"], threads: 1 } }), run: (i) => api.trainResNet(api.makeProblem(i.problem), i.options) },
  {
    name: "meanOde/skeleton", wrapper: true, base: () => ({ problem: baseProblem(), options: { expectation: cheapExpectation(), depthSteps: 2, record: ["h", "gram"], recordSteps: [1] } }),
    run: solveWith((o) => api.meanOde(o as api.MeanOdeOptions)),
  },
  {
    name: "meanOde/linear", wrapper: true, base: () => { const p = baseProblem(); p.model.activation = "linear"; return { problem: p, options: { scheme: "heun", depthSteps: 4, tol: 1e-3, budget: { points: 256, depthSteps: 8 } } }; },
    run: solveWith((o) => api.meanOde(o as api.MeanOdeOptions)),
  },
  {
    name: "meanOde/particles", wrapper: true, base: () => ({ problem: baseProblem(), options: { method: "particles", particles: 64, depthSteps: 4, particleSeed: 5, record: ["b"] } }),
    run: solveWith((o) => api.meanOde(o as api.MeanOdeOptions)),
  },
  {
    name: "solveParticleMeanOde", wrapper: true, base: () => ({ problem: baseProblem(), options: { scheme: "rk4", depthSteps: 2, initialParticles: { U: new Float64Array(16).map((_, i) => Math.sin(i)), V: new Float64Array(16).map((_, i) => Math.cos(i)) } } }),
    run: (i) => api.solveParticleMeanOde(api.makeProblem(i.problem), i.options),
  },
  {
    name: "dmft", wrapper: true, base: () => ({ problem: baseProblem(), options: { expectation: cheapExpectation(), depthSteps: 2, record: ["gram", "kl"] } }),
    run: solveWith((o) => api.dmft(o as api.DmftOptions)),
  },
  {
    name: "largeWidth", wrapper: true, base: () => ({ problem: baseProblem(), options: { expectation: { ...cheapExpectation(), estimator: "ibp" }, record: ["h"] } }),
    run: solveWith((o) => api.largeWidth(o as api.LargeWidthOptions)),
  },
  {
    name: "chaosSimulator", wrapper: true, base: () => ({ problem: baseProblem(), options: { R: 2, widths: [2, 4], steps: 2, lawSamples: 64, expectation: cheapExpectation() } }),
    run: solveWith((o) => api.chaosSimulator(o as api.ChaosOptions)),
  },
  {
    name: "chaosDiagnostics", wrapper: true, base: () => ({ problem: baseProblem(), options: { R: 2, widths: [2, 3], diagnostics: ["coupling", "tagged"], method: "particles", particles: 32 } }),
    run: (i) => chaosDiagnostics(api.makeProblem(i.problem), i.options),
  },
  { name: "initWeights", base: () => withInit(), run: (p) => api.initWeights(api.makeProblem(p)) },
  { name: "forward", wrapper: true, base: () => ({ problem: baseProblem(), weights: weightsOf() }), run: (i) => api.forward(api.makeProblem(i.problem), i.weights) },
  { name: "gradient", wrapper: true, base: () => ({ problem: baseProblem(), weights: weightsOf() }), run: (i) => api.gradient(api.makeProblem(i.problem), i.weights) },
  { name: "gdStep", wrapper: true, base: () => ({ problem: baseProblem(), weights: weightsOf() }), run: (i) => { const w = i.weights; const l = api.gdStep(api.makeProblem(i.problem), w); return { l, w }; } },
  { name: "limitLawSamples", base: () => ({ step: 1, node: 1, samples: 64, seed: 2, what: ["p", "q"] }), run: (o) => limitLawSamples(skelTraj(), o) },
  { name: "dmftCoordinates", base: () => ({ R: 2, e: new Float64Array([1, 0.5, -0.5, 1]), o: new Float64Array([0.3, -1]) }), run: (rows) => api.dmftCoordinates(dmftTraj(), rows) },
  { name: "sampleEmbeddingRows", base: () => [3, 2, 1, 1, 1, 7], run: (a) => (api.sampleEmbeddingRows as (...x: unknown[]) => unknown)(...(Array.isArray(a) ? a : [a])) },
  {
    name: "checkLipschitz", base: () => ({ f: (x: number[]) => x.map(Math.tanh), pairs: vectorPairArb(2), bound: 1, numRuns: 20, seed: 3, norm: "l2", relTol: 1e-12 }),
    run: (o) => checkLipschitz(o),
  },
  { name: "estimatePsi2", wrapper: true, base: () => ({ samples: new Float64Array(64).map((_, i) => Math.sin(i * 1.7)), options: { confidence: 0.9, support: 1 } }), run: (i) => estimatePsi2(i.samples, i.options) },
  { name: "checkSubGaussian", base: () => ({ sample: (rng: () => number) => rng() - 0.5, proxy: 1, n: 200, confidence: 0.99, seed: 4 }), run: (o) => checkSubGaussian(o) },
  { name: "problemArb", wrapper: true, base: () => ({ options: { model: { L: 2, M: 2, D: 2 } }, seed: 5 }), run: (i) => fc.sample(problemArb(i.options), { numRuns: 1, seed: i.seed }) },
  { name: "vectorPairArb", wrapper: true, base: () => ({ dim: 3, options: { scale: 1 } }), run: (i) => fc.sample(vectorPairArb(i.dim, i.options), { numRuns: 2, seed: 1 }) },
  { name: "lawArb", base: () => ({ kinds: ["gaussian", "uniform"] }), run: (o) => fc.sample(lawArb(o), { numRuns: 1, seed: 1 }).map((l) => l.psi2) },
  { name: "loadTrajectory", base: () => resultJson(), run: (o) => loadTrajectory(o) },
  {
    name: "runSweep", wrapper: true, base: () => ({ spec: { problem: baseProblem(), grid: { "model.L": [1, 2] }, repetitions: 2, task: "synthetic-rate", taskOptions: { a: 1, tau: 0.2 } }, options: { workers: 0, maxRuns: 3 } }),
    run: (i) => runSweep(i.spec, i.options),
  },
  { name: "expandSweep", base: () => ({ problem: baseProblem(), grid: { "model.M": [2, 4] }, repetitions: 2, task: "finite-vs-meanode", seed: 1 }), run: (s) => expandSweep(s).length },
];

// ---------------------------------------------------------------- mutations

/** Values a mutation may put anywhere (built fresh per case). */
function poolValue(i: number): unknown {
  const pool: (() => unknown)[] = [
    () => -1, () => 0, () => 0.5, () => 1.5, () => 1.0000001, () => 2, () => 7, () => 1e3, () => 1e6, () => 1e9,
    () => 2147483647, () => 2 ** 32, () => 1e15, () => 1e308, () => -1e308, () => Number.MAX_SAFE_INTEGER, () => NaN,
    () => Infinity, () => -Infinity, () => -0, () => 1e-308, () => 5e-324, () => 1e200, () => -1e200,
    () => null, () => undefined, () => true, () => false, () => "", () => "abc", () => "1", () => "tanh",
    () => [], () => [1, 2], () => [[1]], () => ({}), () => ({ a: 1 }), () => new Float64Array(2), () => new Float64Array([NaN, 1]),
    () => (x: number) => x * NaN, () => () => 1, () => [NaN], () => [1e308, -1e308], () => ["h", "h"], () => [0, 0],
  ];
  return pool[i % pool.length]();
}
export const POOL_SIZE = 45;

const FACTORS = [1e3, 1e6, 1e9, 1e12, 1e300, -1, 0.5];

type Path = (string | number)[];

function isContainer(v: unknown): v is Record<string | number, unknown> {
  return (typeof v === "object" && v !== null && !(v instanceof fc.Arbitrary)) || ArrayBuffer.isView(v);
}

/** Paths to every node of the tree (long arrays: first two and last entries only). */
function paths(tree: unknown, max = 400): Path[] {
  const out: Path[] = [];
  const walk = (v: unknown, p: Path, depth: number) => {
    if (out.length >= max || depth > 8) return;
    out.push(p);
    if (!isContainer(v)) return;
    if (Array.isArray(v) || ArrayBuffer.isView(v)) {
      const n = (v as ArrayLike<unknown>).length;
      const idx = n <= 4 ? [...Array(n).keys()] : [0, 1, n - 1];
      for (const i of idx) walk((v as ArrayLike<unknown>)[i], [...p, i], depth + 1);
    } else for (const k of Object.keys(v)) walk((v as Record<string, unknown>)[k], [...p, k], depth + 1);
  };
  walk(tree, [], 0);
  return out;
}

function getAt(tree: unknown, p: Path): unknown {
  let v = tree;
  for (const k of p) v = (v as Record<string | number, unknown>)[k];
  return v;
}

export interface Mutation { op: "set" | "scale" | "delete" | "addKey" | "entry"; path: number; value: number; factor: number }

/** Apply a mutation to the tree (returns the new root; the root itself may be replaced unless it is a wrapper). */
function mutate(tree: unknown, m: Mutation, wrapper = false): { tree: unknown; text: string } {
  const all = paths(tree);
  const ps = wrapper ? all.slice(1) : all;
  if (ps.length === 0) return { tree, text: "(nothing left to mutate)" };
  const p = ps[m.path % ps.length];
  const name = p.length === 0 ? "(input)" : p.join(".");
  const target = getAt(tree, p);
  const setAt = (v: unknown): unknown => {
    if (p.length === 0) return v;
    const parent = getAt(tree, p.slice(0, -1)) as Record<string | number, unknown>;
    const k = p[p.length - 1];
    if (v === undefined && !Array.isArray(parent) && !ArrayBuffer.isView(parent)) delete parent[k];
    else if (ArrayBuffer.isView(parent)) (parent as unknown as number[])[k as number] = typeof v === "number" ? v : NaN;
    else parent[k] = v;
    return tree;
  };
  switch (m.op) {
    case "scale":
    case "set": {
      if (m.op === "scale" && typeof target === "number") {
        const f = FACTORS[m.factor % FACTORS.length];
        return { tree: setAt(target * f), text: `${name} ×= ${f}` };
      }
      const v = poolValue(m.value);
      return { tree: setAt(v), text: `${name} = ${describe(v)}` };
    }
    case "delete":
      return { tree: setAt(undefined), text: `delete ${name}` };
    case "addKey": {
      if (isContainer(target) && !Array.isArray(target) && !ArrayBuffer.isView(target)) {
        const keys = Object.keys(target);
        const key = keys.length > 0 && m.value % 2 === 0 ? keys[m.value % keys.length].toUpperCase() + "x" : ["foo", "samples", "engine", "0", "seeds"][m.value % 5];
        (target as Record<string, unknown>)[key] = poolValue(m.factor + m.value);
        return { tree, text: `${name}.${key} = (unknown key)` };
      }
      const v = poolValue(m.value);
      return { tree: setAt(v), text: `${name} = ${describe(v)}` };
    }
    case "entry": {
      if ((Array.isArray(target) || ArrayBuffer.isView(target)) && (target as ArrayLike<unknown>).length > 0) {
        const a = target as unknown as unknown[];
        const i = m.factor % a.length;
        const v = poolValue(m.value);
        if (ArrayBuffer.isView(a)) (a as unknown as number[])[i] = typeof v === "number" ? v : 1e200;
        else a[i] = v;
        return { tree, text: `${name}[${i}] = ${describe(ArrayBuffer.isView(a) ? (a as unknown as number[])[i] : v)}` };
      }
      const v = poolValue(m.value);
      return { tree: setAt(v), text: `${name} = ${describe(v)}` };
    }
  }
}

export function describe(v: unknown): string {
  if (typeof v === "function") return "function";
  if (ArrayBuffer.isView(v)) return `Float64Array(${(v as Float64Array).length})`;
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  if (v === undefined) return "undefined";
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === "number" && !Number.isFinite(x) ? String(x) : x)) ?? String(v);
  } catch {
    return String(v);
  }
}

export interface FuzzCase { entry: number; muts: Mutation[] }

/** The case arbitrary: an entry and 0–3 mutations (about 1 case in 12 unmutated: the valid baseline). */
export const caseArb: fc.Arbitrary<FuzzCase> = fc.record({
  entry: fc.nat({ max: ENTRIES.length - 1 }),
  muts: fc.oneof(
    { weight: 1, arbitrary: fc.constant([] as Mutation[]) },
    {
      weight: 11,
      arbitrary: fc.array(fc.record({
        op: fc.constantFrom("set", "set", "scale", "scale", "delete", "addKey", "entry") as fc.Arbitrary<Mutation["op"]>,
        path: fc.nat({ max: 10000 }), value: fc.nat({ max: 10000 }), factor: fc.nat({ max: 1000 }),
      }), { minLength: 1, maxLength: 3 }),
    },
  ),
});

/** Build a case's input: the entry's base tree with the mutations applied, and a readable description. */
export function buildCase(c: FuzzCase): { entry: Entry; input: unknown; text: string } {
  const entry = ENTRIES[c.entry];
  let tree = entry.base();
  const texts: string[] = [];
  for (const m of c.muts) {
    const r = mutate(tree, m, entry.wrapper === true);
    tree = r.tree;
    texts.push(r.text);
  }
  return { entry, input: tree, text: `${entry.name}: ${texts.length ? texts.join("; ") : "(valid input)"}` };
}

// ---------------------------------------------------------------- classification

/** The path of the first non-finite number in a result (null: all finite). Activation objects and functions are skipped. */
export function firstNonFinite(v: unknown, path = "result", seen = new WeakSet<object>(), depth = 0): string | null {
  if (typeof v === "number") return Number.isFinite(v) ? null : `${path} = ${v}`;
  if (v === null || typeof v !== "object" || depth > 24) return null;
  if (ArrayBuffer.isView(v)) {
    const a = v as unknown as ArrayLike<number>;
    if (typeof a[0] !== "number") return null;
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return `${path}[${i}] = ${a[i]}`;
    return null;
  }
  if (seen.has(v)) return null;
  seen.add(v);
  if (v instanceof fc.Arbitrary) return null;
  const o = v as Record<string, unknown>;
  if (typeof o.f === "function" && typeof o.df === "function") return null; // an Activation (its sup may be Infinity by definition)
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) { const r = firstNonFinite(v[i], `${path}[${i}]`, seen, depth + 1); if (r) return r; }
    return null;
  }
  for (const k of Object.keys(o)) {
    if (k === "timings") continue;
    const r = firstNonFinite(o[k], `${path}.${k}`, seen, depth + 1);
    if (r) return r;
  }
  return null;
}

export interface CaseResult { outcome: Outcome; ms: number; detail: string }

export function classifyError(e: unknown): { outcome: Outcome; detail: string } {
  if (e instanceof api.ValidationError) {
    const named = typeof e.field === "string" && e.field.length > 0 && e.message.startsWith(e.field);
    const resource = e.constructor.name === "ResourceError";
    return { outcome: named ? (resource ? "refused" : "rejected") : "unnamed", detail: `${e.constructor.name}: ${e.message}` };
  }
  if (e instanceof api.DivergenceError) {
    const named = Number.isInteger(e.step) && e.step >= 0 && typeof e.quantity === "string" && e.quantity.length > 0;
    return { outcome: named ? "diverged" : "unnamed", detail: `${e.constructor.name}: ${e.message}` };
  }
  if (e instanceof api.LimitdynError) return { outcome: "library", detail: `${e.constructor.name}: ${e.message}` };
  const err = e as Error;
  return { outcome: "raw", detail: `${err?.constructor?.name ?? typeof e}: ${String(err?.message ?? e).slice(0, 300)} ${String(err?.stack ?? "").split("\n").slice(1, 3).join(" ").trim()}` };
}

/** Run one case in this thread. */
export async function runCase(c: FuzzCase, slowMs: number): Promise<CaseResult & { text: string }> {
  let built: ReturnType<typeof buildCase>;
  try {
    built = buildCase(c);
  } catch (e) {
    return { outcome: "raw", ms: 0, detail: `building the case failed: ${(e as Error).message}`, text: `entry ${c.entry}` };
  }
  const t0 = performance.now();
  let res: { outcome: Outcome; detail: string };
  try {
    const out = await built.entry.run(built.input);
    const bad = firstNonFinite(out);
    res = bad ? { outcome: "nonfinite", detail: bad } : { outcome: "ok", detail: "" };
  } catch (e) {
    res = classifyError(e);
  }
  const ms = performance.now() - t0;
  if (ms > slowMs && !FAILURES.includes(res.outcome)) res = { outcome: "slow", detail: `${ms.toFixed(0)} ms (${res.outcome}: ${res.detail})` };
  return { ...res, ms, text: built.text };
}
