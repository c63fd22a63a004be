/** Input validation helpers shared by every public entry. All throw ValidationError naming the field. */
import { DivergenceError, ValidationError } from "./errors.ts";

export function show(v: unknown): string {
  if (typeof v === "string") return v.length > 60 ? `${JSON.stringify(v.slice(0, 60))}…` : JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean" || v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return `array of length ${v.length}`;
  if (ArrayBuffer.isView(v)) return `${v.constructor.name} of length ${(v as unknown as ArrayLike<number>).length}`;
  return typeof v;
}

export function requireDefined(field: string, v: unknown): void {
  if (v === undefined) throw new ValidationError(field, "is required (missing)");
  if (v === null) throw new ValidationError(field, "is required (got null)");
}

/** `v` unless it is undefined (null is a value — and an error where a number is required —, not "use the default"). */
export function dflt<T>(v: unknown, d: T): unknown {
  return v === undefined ? d : v;
}

export function finiteNumber(field: string, v: unknown): number {
  requireDefined(field, v);
  if (typeof v !== "number" || !Number.isFinite(v)) throw new ValidationError(field, `must be a finite number (got ${show(v)})`);
  return v;
}

export function positiveNumber(field: string, v: unknown): number {
  const x = finiteNumber(field, v);
  if (!(x > 0)) throw new ValidationError(field, `must be a positive number (got ${show(v)})`);
  return x;
}

export function nonNegativeNumber(field: string, v: unknown): number {
  const x = finiteNumber(field, v);
  if (!(x >= 0)) throw new ValidationError(field, `must be a non-negative number (got ${show(v)})`);
  return x;
}

export function positiveInt(field: string, v: unknown): number {
  requireDefined(field, v);
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) throw new ValidationError(field, `must be a positive integer (got ${show(v)})`);
  if (v > Number.MAX_SAFE_INTEGER) throw new ValidationError(field, `must be a positive integer at most 2^53 − 1 (got ${show(v)})`);
  return v;
}

export function nonNegativeInt(field: string, v: unknown): number {
  requireDefined(field, v);
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw new ValidationError(field, `must be a non-negative integer (got ${show(v)})`);
  if (v > Number.MAX_SAFE_INTEGER) throw new ValidationError(field, `must be a non-negative integer at most 2^53 − 1 (got ${show(v)})`);
  return v;
}

/** An integer in [min, max]. */
export function intInRange(field: string, v: unknown, min: number, max: number): number {
  requireDefined(field, v);
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) throw new ValidationError(field, `must be an integer in ${min}..${max} (got ${show(v)})`);
  return v;
}

/** A finite number in [min, max] (open ends with `open`). */
export function numberInRange(field: string, v: unknown, min: number, max: number, open: { min?: boolean; max?: boolean } = {}): number {
  const x = finiteNumber(field, v);
  const lo = open.min ? x > min : x >= min, hi = open.max ? x < max : x <= max;
  if (!lo || !hi) throw new ValidationError(field, `must be a number in ${open.min ? "(" : "["}${min}, ${max}${open.max ? ")" : "]"} (got ${show(v)})`);
  return x;
}

/** true or false. */
export function booleanValue(field: string, v: unknown): boolean {
  requireDefined(field, v);
  if (typeof v !== "boolean") throw new ValidationError(field, `must be true or false (got ${show(v)})`);
  return v;
}

/** A function. */
export function functionValue<F extends (...a: never[]) => unknown>(field: string, v: unknown): F {
  requireDefined(field, v);
  if (typeof v !== "function") throw new ValidationError(field, `must be a function (got ${show(v)})`);
  return v as F;
}

/** An options object: undefined is {}, anything but a plain object (arrays, typed arrays, numbers, strings, booleans, null) an error. */
export function optionsObject(field: string, v: unknown, keys?: readonly string[]): Record<string, unknown> {
  if (v === undefined) return {};
  if (!isPlainObject(v)) throw new ValidationError(field, `must be an object of options (got ${show(v)})`);
  if (keys) knownKeys(field, v, keys);
  return v;
}

/** A seed: an integer in [0, 2^32). */
export function seedValue(field: string, v: unknown): number {
  requireDefined(field, v);
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ValidationError(field, `must be an integer seed in [0, 2^32) (got ${show(v)})`);
  return v;
}

export function oneOf<T extends string>(field: string, v: unknown, allowed: readonly T[]): T {
  requireDefined(field, v);
  if (typeof v !== "string" || !(allowed as readonly string[]).includes(v)) {
    throw new ValidationError(field, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")} (got ${show(v)})`);
  }
  return v as T;
}

/** An object literal (or JSON object, or Object.create(null)): not an array, a typed array, a Map, a class instance. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null || Object.getPrototypeOf(proto) === null;
}

export function plainObject(field: string, v: unknown): Record<string, unknown> {
  requireDefined(field, v);
  if (!isPlainObject(v)) throw new ValidationError(field, `must be an object (got ${show(v)})`);
  return v;
}

/** Reject keys not in `allowed` (catches typos such as `etau`). */
export function knownKeys(field: string, obj: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) throw new ValidationError(`${field}.${k}`, `is not a known key (allowed: ${allowed.join(", ")})`);
  }
}

/**
 * Read a nested-array matrix (rows of numbers) into a row-major Float64Array.
 * `rows`/`cols` (if given) are the expected shape; mismatches name both shapes.
 */
export function matrixFromNested(field: string, v: unknown, rows?: number, cols?: number): { data: Float64Array; rows: number; cols: number } {
  requireDefined(field, v);
  if (!Array.isArray(v) || v.length === 0) throw new ValidationError(field, `must be a non-empty array of rows (got ${show(v)})`);
  const r = v.length;
  const first = v[0];
  if (!Array.isArray(first) || first.length === 0) throw new ValidationError(`${field}[0]`, `must be a non-empty array of numbers (got ${show(first)})`);
  const c = first.length;
  const data = new Float64Array(r * c);
  for (let i = 0; i < r; i++) {
    const row = v[i];
    if (!Array.isArray(row)) throw new ValidationError(`${field}[${i}]`, `must be an array of numbers (got ${show(row)})`);
    if (row.length !== c) throw new ValidationError(field, `is ragged: row ${i} has length ${row.length}, row 0 has length ${c}`);
    for (let j = 0; j < c; j++) {
      const x = row[j];
      if (typeof x !== "number" || !Number.isFinite(x)) throw new ValidationError(`${field}[${i}][${j}]`, `must be a finite number (got ${show(x)})`);
      data[i * c + j] = x;
    }
  }
  if ((rows !== undefined && rows !== r) || (cols !== undefined && cols !== c)) {
    throw new ValidationError(field, `has shape ${r}×${c} but ${rows ?? "?"}×${cols ?? "?"} was expected`);
  }
  return { data, rows: r, cols: c };
}

/** Check every entry of a typed array is finite. */
export function finiteArray(field: string, a: ArrayLike<number>): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new ValidationError(`${field}[${i}]`, `must be finite (got ${a[i]})`);
  }
}

/** Index of the first non-finite entry of a[off..off+n), or −1 (relative to off). */
export function firstNonFinite(a: Float64Array, n = a.length, off = 0): number {
  for (let i = off; i < off + n; i++) if (!Number.isFinite(a[i])) return i - off;
  return -1;
}

/** Throw a DivergenceError (step, quantity) if any entry of a[off..off+n) is not finite. */
export function assertFinite(step: number, quantity: string, a: Float64Array, n = a.length, off = 0): void {
  const i = firstNonFinite(a, n, off);
  if (i >= 0) throw new DivergenceError(step, quantity, `entry ${i} is ${a[off + i]}`);
}
