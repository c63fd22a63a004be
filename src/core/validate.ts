/** Input validation helpers shared by every public entry. All throw ValidationError naming the field. */
import { ValidationError } from "./errors.ts";

export function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean" || v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return `array of length ${v.length}`;
  return typeof v;
}

export function requireDefined(field: string, v: unknown): void {
  if (v === undefined || v === null) throw new ValidationError(field, "is required (missing)");
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
  return v;
}

export function nonNegativeInt(field: string, v: unknown): number {
  requireDefined(field, v);
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw new ValidationError(field, `must be a non-negative integer (got ${show(v)})`);
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

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
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
