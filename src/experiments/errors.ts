/**
 * Errors of finite runs against a reference or limit (MATH §6 "Error rates"),
 * and aggregation of sweep rows into per-shape tables.
 *
 * Conventions: an output error is the RMS over outputs o and data points n
 * (one step, or all steps); over repetitions errors are combined as RMS too,
 * sqrt(mean_r err_r²), which for equal-sized runs equals the RMS over
 * outputs, data points and repetitions together (the papers' convention).
 */
import { ValidationError } from "../core/errors.ts";
import type { Trajectory } from "../problem/trajectory.ts";
import type { SweepRow } from "./rows.ts";
import type { AxisValue } from "./spec.ts";
import { AXIS_ALIASES } from "./spec.ts";
import { rms } from "../stats/fit.ts";

type Outputs = Trajectory | ArrayLike<number>;

/** Outputs at one step (or all steps) as a flat array: a Trajectory's f, or an array given as-is. */
function outputsOf(x: Outputs, step: number | "last" | "all"): ArrayLike<number> {
  if (!("f" in x) || !("K" in x)) return x as ArrayLike<number>;
  const t = x as Trajectory;
  if (step === "all") return t.f.data;
  const k = step === "last" ? t.K - 1 : step;
  if (!Number.isInteger(k) || k < 0 || k >= t.K) throw new ValidationError("step", `is ${k}, outside 0..${t.K - 1}`);
  const per = t.dOut * t.N;
  return t.f.data.subarray(k * per, (k + 1) * per);
}

/** RMS of a − b over all entries (equal lengths). */
export function rmsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new ValidationError("arrays", `differ in length: ${a.length} vs ${b.length}`);
  if (a.length === 0) throw new ValidationError("arrays", "are empty");
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return Math.sqrt(s / a.length);
}

export { rms };

/**
 * Output error of one run against a reference: RMS over outputs and data
 * points of f_k − f^ref_k at `step` (default "last"), or over all steps
 * ("all"). Arrays (e.g. a row's `fLast`, d_out × N) are compared as given.
 */
export function outputError(run: Outputs, ref: Outputs, step: number | "last" | "all" = "last"): number {
  const a = outputsOf(run, step);
  const b = outputsOf(ref, step);
  return rmsDiff(a, b);
}

/**
 * RMS output error over outputs, data points and repetitions: runs[r] against
 * ref (one reference for all) or refs[r] (one per repetition, e.g. limits
 * computed with each repetition's embeddings).
 */
export function outputErrorRms(runs: Outputs[], ref: Outputs | Outputs[], step: number | "last" | "all" = "last"): number {
  if (runs.length === 0) throw new ValidationError("runs", "is empty");
  const refs = Array.isArray(ref) && ref.length > 0 && typeof ref[0] !== "number" ? (ref as Outputs[]) : null;
  if (refs && refs.length !== runs.length) throw new ValidationError("refs", `has ${refs.length} references for ${runs.length} runs`);
  return rms(runs.map((r, i) => outputError(r, refs ? refs[i] : (ref as Outputs), step)));
}

/**
 * Embedding-space error: RMS over coordinates (all data points n and
 * coordinates d) of h − h^ref, e.g. h_L of a finite model against h(1) of a
 * limit or coordinates from a D → ∞ coordinate sampler, both as flat arrays
 * in the same layout (N × D).
 */
export function embeddingError(h: ArrayLike<number>, hRef: ArrayLike<number>): number {
  return rmsDiff(h, hRef);
}

/** h at the last depth grid point (s = 1) at GD step `step`, N × D row-major, from a trajectory's depth profiles. */
export function finalHidden(t: Trajectory, step: number): Float64Array {
  const p = t.profiles;
  if (!p?.h) throw new ValidationError("trajectory", `${t.algorithm}: has no recorded h profiles`);
  const r = p.steps.indexOf(step);
  if (r < 0) throw new ValidationError("step", `${step}: the ${t.algorithm} trajectory has no h profile there (recorded: ${p.steps.join(", ")})`);
  const [, S1, N, D] = p.h.shape;
  if (Math.abs(p.s[S1 - 1] - 1) > 1e-12) throw new ValidationError("trajectory", `${t.algorithm}: its depth grid ends at s = ${p.s[S1 - 1]}, not 1`);
  const out = new Float64Array(N * D);
  for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) out[n * D + d] = p.h.get(r, S1 - 1, n, d);
  return out;
}

/**
 * A field of a sweep row by name: a measured value (`values.x` or `x`), a
 * shape field (L, M, D, N, steps), a point axis (canonical or alias, e.g.
 * "model.activation" or "activation"), or rep / seed / index / id.
 */
export function rowField(row: SweepRow, name: string): unknown {
  const path = name.startsWith("values.") ? name.slice(7) : name;
  if (row.values && path in row.values) return row.values[path];
  if (name in row.shape) return row.shape[name as keyof SweepRow["shape"]];
  const axis = AXIS_ALIASES[name] ?? name;
  if (axis in row.point) return row.point[axis];
  if (name === "rep" || name === "seed" || name === "index" || name === "id") return row[name];
  return undefined;
}

/** Per-group statistics of a value over repetitions. */
export interface ShapeStats {
  /** Values of the group-by fields. */
  key: Record<string, AxisValue>;
  /** Shape of the group (NaN for a field that varies within the group). */
  L: number;
  M: number;
  D: number;
  /** Number of runs with a value. */
  n: number;
  /** sqrt(mean v²) over repetitions. */
  rms: number;
  mean: number;
  /** Per-run values, ordered by run index. */
  values: number[];
  /** Runs of the group that failed or had no finite value. */
  missing: number;
  /** Optional interval of rms (e.g. bootstrap over repetitions), drawn as error bars by plotErrorVs. */
  ci?: [number, number];
}

export interface AggregateOptions {
  /** Field name (see rowField) or a function of the row; undefined / non-finite = missing. */
  value: string | ((row: SweepRow) => number | undefined);
  /** Group-by fields (default ["L", "M", "D"]). */
  by?: string[];
}

/** Aggregate sweep rows into a table: one entry per group (shape), RMS over repetitions. Groups are ordered by first run index. */
export function aggregateRows(rows: SweepRow[], opts: AggregateOptions): ShapeStats[] {
  const by = opts.by ?? ["L", "M", "D"];
  const get = typeof opts.value === "function" ? opts.value : (r: SweepRow) => rowField(r, opts.value as string) as number | undefined;
  const groups = new Map<string, { key: Record<string, AxisValue>; rows: SweepRow[] }>();
  for (const row of [...rows].sort((a, b) => a.index - b.index)) {
    const key: Record<string, AxisValue> = {};
    for (const f of by) {
      const v = rowField(row, f);
      if (v === undefined) throw new ValidationError(f, `is not a field of row ${row.id}`);
      key[f] = v as AxisValue;
    }
    const k = JSON.stringify(by.map((f) => key[f]));
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { key, rows: [] }));
    g.rows.push(row);
  }
  return [...groups.values()].map(({ key, rows: rs }) => {
    const values: number[] = [];
    let missing = 0;
    for (const r of rs) {
      const v = r.error === undefined ? get(r) : undefined;
      if (typeof v === "number" && Number.isFinite(v)) values.push(v);
      else missing++;
    }
    const shapeField = (f: "L" | "M" | "D") => {
      const s = new Set(rs.map((r) => r.shape[f]));
      return s.size === 1 ? rs[0].shape[f] : NaN;
    };
    const mean = values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
    return { key, L: shapeField("L"), M: shapeField("M"), D: shapeField("D"), n: values.length, rms: rms(values), mean, values, missing };
  });
}
