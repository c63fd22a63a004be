/**
 * Sweep specifications: a base problem file, a grid (cartesian product) or an
 * explicit list of points over any problem field (dotted paths), a number of
 * repetitions, and a named task. `expandSweep` turns a spec into the ordered
 * list of runs (point-major, repetition-minor). Every run has
 *
 *   - a deterministic id built from its point and repetition
 *     (`model.L=4,model.M=8#3`, keys sorted), independent of the grid order;
 *   - an index (its position in the expanded list: used for sharding and for
 *     the order of merged files);
 *   - a seed = hash(base seed, point restricted to `seedAxes`, repetition),
 *     a pure function of the run's content — never of the execution order.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { ValidationError } from "../core/errors.ts";
import { isPlainObject, knownKeys, positiveInt, seedValue, show } from "../core/validate.ts";
import { requireResources } from "../core/resources.ts";

export type AxisValue = number | string | boolean;
export type Point = Record<string, AxisValue>;

/** The sweep file (`limitdyn sweep --config sweep.json`). */
export interface SweepSpec {
  /** A problem file (docs/problem-file.md), as parsed JSON. */
  problem: Record<string, unknown>;
  /** Cartesian product of these axes (first key varies slowest). */
  grid?: Record<string, AxisValue[]>;
  /** Explicit list of points (alternative to `grid`). */
  list?: Point[];
  /** Repetitions per point (default 1). */
  repetitions?: number;
  /** Name of a registered task (src/experiments/tasks.ts). */
  task: string;
  /** Options passed to the task (axes named `taskOptions.x.y` override them per point). */
  taskOptions?: Record<string, unknown>;
  /** Modules imported (by every worker) before running: they register extra tasks. Paths are relative to the cwd. */
  taskModules?: string[];
  /** Base seed (default: the problem's seed, else 0). */
  seed?: number;
  /** Axes the run seed depends on (default: all axes). `[]` = common random numbers: one seed per repetition. */
  seedAxes?: string[];
  comment?: unknown;
  $schema?: unknown;
}

/** A validated, normalised spec: canonical axis names, defaults filled in. */
export interface NormalizedSweep {
  problem: Record<string, unknown>;
  axes: string[];
  points: Point[];
  repetitions: number;
  task: string;
  taskOptions: Record<string, unknown>;
  taskModules: string[];
  seed: number;
  seedAxes: string[];
  /** Hash of everything that defines a run's result except its point and repetition. */
  fingerprint: string;
}

export interface RunSpec {
  index: number;
  id: string;
  point: Point;
  rep: number;
  seed: number;
}

/** Short axis names accepted for convenience. */
export const AXIS_ALIASES: Readonly<Record<string, string>> = {
  L: "model.L", M: "model.M", D: "model.D", activation: "model.activation", alpha: "model.alpha",
  steps: "train.steps", etaU: "train.etaU", etaV: "train.etaV", etaE: "train.etaE", etaO: "train.etaO",
  N: "data.N",
};

const ROOTS = ["model", "data", "train", "seed", "init", "solver", "taskOptions"];

export function canonicalAxis(name: string): string {
  const c = AXIS_ALIASES[name] ?? name;
  const root = c.split(".")[0];
  if (!ROOTS.includes(root) || c.split(".").some((s) => s === "")) {
    throw new ValidationError(`axis ${JSON.stringify(name)}`, `must be a dotted path into the problem (${ROOTS.filter((r) => r !== "taskOptions").join(", ")}) or taskOptions, or one of ${Object.keys(AXIS_ALIASES).join(", ")}`);
  }
  if (c === "seed") throw new ValidationError("axis \"seed\"", "cannot be swept: run seeds are derived from the base seed, the point and the repetition (use repetitions)");
  return c;
}

function axisValue(field: string, v: unknown): AxisValue {
  if ((typeof v === "number" && Number.isFinite(v)) || typeof v === "string" || typeof v === "boolean") return v;
  throw new ValidationError(field, `must be a finite number, a string or a boolean (got ${show(v)})`);
}

/** JSON with object keys sorted recursively (for hashes and comparisons). */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v && typeof v === "object" && !(ArrayBuffer.isView(v))) {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(",")}}`;
  }
  if (ArrayBuffer.isView(v)) return canonicalJson(Array.from(v as unknown as ArrayLike<number>));
  return JSON.stringify(v) ?? "null";
}

function sha256(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}

/** Id of a point: `k=v` pairs with sorted keys, values as JSON. */
export function pointId(point: Point, keys: string[] = Object.keys(point)): string {
  return [...keys].sort().map((k) => `${k}=${JSON.stringify(point[k])}`).join(",");
}

export function runId(point: Point, rep: number): string {
  return `${pointId(point)}#${rep}`;
}

/** Seed of a sweep run: first 32 bits of sha256(`limitdyn-sweep|base|point(seedAxes)|rep`). */
export function sweepRunSeed(base: number, point: Point, rep: number, seedAxes: string[]): number {
  const keys = seedAxes.filter((k) => k in point);
  return sha256(`limitdyn-sweep|${base}|${pointId(point, keys)}|${rep}`).readUInt32BE(0);
}

/** The expanded run list holds ≈ 512 bytes per run (id, point, seed: one sha256 each). */
function checkRunCount(points: number, repetitions: number, pointsField: string): void {
  const runs = points * repetitions;
  requireResources({ what: "the sweep's run list", drivers: [["sweep.repetitions", repetitions], [pointsField, points]], bytes: 512 * runs, work: 5000 * runs });
}

const SPEC_KEYS = ["problem", "grid", "list", "repetitions", "task", "taskOptions", "taskModules", "seed", "seedAxes", "comment", "$schema"];

/** Validate a sweep spec and fill in defaults. */
/** A sweep holds JSON-like values only (it is copied to every run and worker): no functions, symbols or bigints. */
function checkJsonLike(v: unknown, path: string, depth = 0): void {
  if (typeof v === "function" || typeof v === "symbol" || typeof v === "bigint") throw new ValidationError(path, `must be a JSON value (got a ${typeof v}): a sweep is copied to its runs and workers`);
  if (typeof v !== "object" || v === null || ArrayBuffer.isView(v) || depth > 64) return;
  if (Array.isArray(v)) v.forEach((x, i) => checkJsonLike(x, `${path}[${i}]`, depth + 1));
  else for (const [k, x] of Object.entries(v)) checkJsonLike(x, `${path}.${k}`, depth + 1);
}

export function normalizeSweep(input: unknown): NormalizedSweep {
  if (!isPlainObject(input)) throw new ValidationError("sweep", `must be an object (got ${show(input)})`);
  knownKeys("sweep", input, SPEC_KEYS);
  checkJsonLike(input, "sweep");
  const s = input as unknown as SweepSpec;
  if (!isPlainObject(s.problem)) throw new ValidationError("sweep.problem", `must be a problem-file object (got ${show(s.problem)})`);
  if (typeof s.task !== "string" || s.task === "") throw new ValidationError("sweep.task", `must be a task name (got ${show(s.task)})`);
  const repetitions = positiveInt("sweep.repetitions", s.repetitions ?? 1);
  if (s.grid !== undefined && s.list !== undefined) throw new ValidationError("sweep", "give either grid or list, not both");
  let axes: string[] = [];
  let points: Point[] = [];
  if (s.grid !== undefined) {
    if (!isPlainObject(s.grid)) throw new ValidationError("sweep.grid", `must be an object axis → array of values (got ${show(s.grid)})`);
    const entries = Object.entries(s.grid).map(([k, vs]) => {
      if (!Array.isArray(vs) || vs.length === 0) throw new ValidationError(`sweep.grid.${k}`, `must be a non-empty array of values (got ${show(vs)})`);
      const vals = vs.map((v, i) => axisValue(`sweep.grid.${k}[${i}]`, v));
      if (new Set(vals.map((v) => JSON.stringify(v))).size !== vals.length) throw new ValidationError(`sweep.grid.${k}`, "has repeated values");
      return [canonicalAxis(k), vals] as const;
    });
    axes = entries.map((e) => e[0]);
    if (new Set(axes).size !== axes.length) throw new ValidationError("sweep.grid", `names an axis twice (${axes.join(", ")})`);
    checkRunCount(entries.reduce((n, e) => n * e[1].length, 1), repetitions, "sweep.grid (points)");
    points = [{}];
    for (const [k, vals] of entries) {
      const next: Point[] = [];
      for (const p of points) for (const v of vals) next.push({ ...p, [k]: v });
      points = next;
    }
  } else if (s.list !== undefined) {
    if (!Array.isArray(s.list) || s.list.length === 0) throw new ValidationError("sweep.list", `must be a non-empty array of points (got ${show(s.list)})`);
    const seen = new Set<string>();
    points = s.list.map((p, i) => {
      if (!isPlainObject(p)) throw new ValidationError(`sweep.list[${i}]`, `must be an object axis → value (got ${show(p)})`);
      const q: Point = {};
      for (const [k, v] of Object.entries(p)) {
        const c = canonicalAxis(k);
        if (c in q) throw new ValidationError(`sweep.list[${i}]`, `names axis ${c} twice`);
        q[c] = axisValue(`sweep.list[${i}].${k}`, v);
        if (!axes.includes(c)) axes.push(c);
      }
      const id = pointId(q);
      if (seen.has(id)) throw new ValidationError(`sweep.list[${i}]`, `repeats the point ${id}`);
      seen.add(id);
      return q;
    });
  } else {
    points = [{}];
  }
  checkRunCount(points.length, repetitions, s.list !== undefined ? "sweep.list (points)" : "sweep.grid (points)");
  const problemSeed = s.problem.seed;
  const seed = seedValue("sweep.seed", s.seed ?? (typeof problemSeed === "number" ? problemSeed : 0));
  let seedAxes = axes;
  if (s.seedAxes !== undefined) {
    if (!Array.isArray(s.seedAxes)) throw new ValidationError("sweep.seedAxes", `must be an array of axis names (got ${show(s.seedAxes)})`);
    seedAxes = s.seedAxes.map((a, i) => {
      if (typeof a !== "string") throw new ValidationError(`sweep.seedAxes[${i}]`, `must be an axis name (got ${show(a)})`);
      const c = canonicalAxis(a);
      if (!axes.includes(c)) throw new ValidationError(`sweep.seedAxes[${i}]`, `names ${c}, which is not an axis of the sweep (${axes.join(", ") || "none"})`);
      return c;
    });
  }
  const taskOptions = s.taskOptions ?? {};
  if (!isPlainObject(taskOptions)) throw new ValidationError("sweep.taskOptions", `must be an object (got ${show(taskOptions)})`);
  const taskModules = s.taskModules ?? [];
  if (!Array.isArray(taskModules) || taskModules.some((m) => typeof m !== "string")) throw new ValidationError("sweep.taskModules", "must be an array of module paths");
  const fingerprint = sha256(canonicalJson({ problem: s.problem, task: s.task, taskOptions, seed, seedAxes: [...seedAxes].sort() })).toString("hex").slice(0, 16);
  return { problem: s.problem, axes, points, repetitions, task: s.task, taskOptions, taskModules, seed, seedAxes, fingerprint };
}

/** All runs of a sweep, point-major and repetition-minor: index = point · R + rep. */
export function expandSweep(spec: SweepSpec | NormalizedSweep): RunSpec[] {
  const s = isPlainObject(spec) && "fingerprint" in spec ? (spec as NormalizedSweep) : normalizeSweep(spec);
  const runs: RunSpec[] = [];
  for (const point of s.points) {
    for (let rep = 0; rep < s.repetitions; rep++) {
      runs.push({ index: runs.length, id: runId(point, rep), point, rep, seed: sweepRunSeed(s.seed, point, rep, s.seedAxes) });
    }
  }
  return runs;
}

export interface Shard {
  /** 1-based shard number i (1 ≤ i ≤ n). */
  index: number;
  count: number;
}

/** Parse `i/n` (1-based, as SLURM_ARRAY_TASK_ID with --array=1-n). */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new ValidationError("--shard", `must look like i/n, e.g. 2/8 (got ${JSON.stringify(text)})`);
  const index = Number(m[1]), count = Number(m[2]);
  if (count < 1 || index < 1 || index > count) throw new ValidationError("--shard", `must have 1 ≤ i ≤ n (got ${index}/${count})`);
  return { index, count };
}

/** Shard i/n holds the runs whose index satisfies index mod n = i − 1 (round robin: balances cheap and expensive shapes). */
export function inShard(run: { index: number }, shard: Shard | undefined): boolean {
  return !shard || run.index % shard.count === shard.index - 1;
}

/** The problem-file JSON of a run: the base problem with the point's fields set and `seed` = the run seed; and the task options. */
export function runInputs(s: NormalizedSweep, run: RunSpec): { problem: Record<string, unknown>; taskOptions: Record<string, unknown> } {
  const problem = structuredClone(s.problem);
  const taskOptions = structuredClone(s.taskOptions);
  for (const [path, v] of Object.entries(run.point)) {
    const parts = path.split(".");
    let target: Record<string, unknown> = parts[0] === "taskOptions" ? taskOptions : problem;
    const rest = parts[0] === "taskOptions" ? parts.slice(1) : parts;
    for (let i = 0; i < rest.length - 1; i++) {
      const next = target[rest[i]];
      if (next === undefined) target[rest[i]] = {};
      else if (!isPlainObject(next)) throw new ValidationError(`axis ${path}`, `cannot be set: ${rest.slice(0, i + 1).join(".")} is not an object`);
      target = target[rest[i]] as Record<string, unknown>;
    }
    target[rest[rest.length - 1]] = v;
  }
  problem.seed = run.seed;
  return { problem, taskOptions };
}

/**
 * Read a sweep file. `problem` may be an inline problem object or a path to a
 * problem file; relative paths (problem, taskModules) are relative to the sweep file.
 */
export function loadSweepFile(path: string): SweepSpec {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new ValidationError("--config", `cannot be read as JSON: ${(e as Error).message}`);
  }
  if (!isPlainObject(json)) throw new ValidationError(path, "must hold a JSON object");
  const dir = dirname(resolve(path));
  const spec = { ...json } as Record<string, unknown>;
  if (typeof spec.problem === "string") {
    const p = resolve(dir, spec.problem);
    try {
      spec.problem = JSON.parse(readFileSync(p, "utf8"));
    } catch (e) {
      throw new ValidationError(`${path}: problem`, `cannot be read from ${p}: ${(e as Error).message}`);
    }
  }
  if (Array.isArray(spec.taskModules)) {
    spec.taskModules = spec.taskModules.map((m) => (typeof m === "string" && (m.startsWith(".") || isAbsolute(m)) ? resolve(dir, m) : m));
  }
  return spec as unknown as SweepSpec;
}
