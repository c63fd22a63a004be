/**
 * What a solver records besides f and loss: depth profiles (`record`) at some
 * GD steps (`recordSteps`). One validation for every solver; errors name
 * `<field>.record…` / `<field>.recordSteps…`.
 */
import { ValidationError } from "../core/errors.ts";
import { nonNegativeInt, show } from "../core/validate.ts";
import { requireResources } from "../core/resources.ts";

/** Validate `record`: an array of distinct names from `allowed` (default []). */
export function recordOption<T extends string>(field: string, v: unknown, allowed: readonly T[]): T[] {
  if (v === undefined) return [];
  const names = allowed.map((a) => JSON.stringify(a));
  const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(", ")} or ${names[names.length - 1]}`;
  if (!Array.isArray(v)) throw new ValidationError(`${field}.record`, `must be an array of ${names.join(", ")} (got ${show(v)})`);
  v.forEach((r, i) => {
    if (!(allowed as readonly unknown[]).includes(r)) throw new ValidationError(`${field}.record[${i}]`, `must be ${list} (got ${show(r)})`);
    if (v.indexOf(r) !== i) throw new ValidationError(`${field}.record[${i}]`, `repeats ${show(r)} (record lists each quantity once)`);
  });
  return [...v] as T[];
}

/** Validate `recordSteps` without the problem: distinct non-negative integers, or undefined. */
export function recordStepsOption(field: string, v: unknown): number[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw new ValidationError(`${field}.recordSteps`, `must be an array of step indices (got ${show(v)})`);
  v.forEach((k, i) => nonNegativeInt(`${field}.recordSteps[${i}]`, k));
  v.forEach((k, i) => {
    if (v.indexOf(k) !== i) throw new ValidationError(`${field}.recordSteps[${i}]`, `repeats step ${k} (each step is recorded once)`);
  });
  return [...v] as number[];
}

/**
 * `record` and `recordSteps` of an options object, validated together: recordSteps (non-empty)
 * needs a recorded profile (one of `profiles`, default every allowed name) — the steps would
 * otherwise be silently ignored.
 */
export function recordSpec<T extends string>(field: string, o: Record<string, unknown>, allowed: readonly T[], profiles: readonly T[] = allowed): { record: T[]; recordSteps?: number[] } {
  const record = recordOption(field, o.record, allowed);
  const recordSteps = recordStepsOption(field, o.recordSteps);
  if (recordSteps && recordSteps.length > 0 && !record.some((r) => profiles.includes(r))) {
    const names = profiles.map((a) => JSON.stringify(a)).join(", ");
    throw new ValidationError(`${field}.recordSteps`, `needs ${field}.record with a profile to record at these steps (${names}); got record ${record.length ? JSON.stringify(record) : "none"}`);
  }
  return recordSteps ? { record, recordSteps } : { record };
}

/** The recorded steps for K GD steps: none without `record`, default every step; each must be < K. */
export function bindRecordSteps(field: string, record: readonly string[], steps: readonly number[] | undefined, K: number): number[] {
  if (record.length === 0) return [];
  if (!steps) requireResources({ what: `recording ${record.join(", ")} at every step`, drivers: [["train.steps", K]], bytes: 16 * K, detail: `${field}.recordSteps defaults to every step` });
  const out = steps ? [...steps] : Array.from({ length: K }, (_, k) => k);
  out.forEach((k, i) => {
    if (k >= K) throw new ValidationError(`${field}.recordSteps[${i}]`, `is step ${k} but train.steps = ${K} (steps are 0..${K - 1})`);
  });
  return out;
}
