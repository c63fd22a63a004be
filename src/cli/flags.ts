/**
 * The one flag parser of the `limitdyn` command (`--name value` pairs) and
 * the helpers every command shares: required and known flags, result files.
 */
import { existsSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ValidationError } from "../core/errors.ts";

/** Bad usage: main prints the message and the usage text, exit code 2. */
export class UsageError extends Error {}

/** `--name value` pairs (a flag without a value, or a bare argument, is a UsageError). */
export function parseFlags(args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith("--")) throw new UsageError(`unexpected argument ${JSON.stringify(a)}`);
    const key = a.slice(2);
    const val = args[i + 1];
    if (val === undefined || val.startsWith("--")) throw new UsageError(`flag --${key} needs a value`);
    out[key] = val;
    i++;
  }
  return out;
}

/** parseFlags, rejecting flags not in `allowed`. */
export function parseKnownFlags(args: string[], allowed: string[]): Record<string, string> {
  const flags = parseFlags(args);
  for (const k of Object.keys(flags)) if (!allowed.includes(k)) throw new UsageError(`unknown flag --${k} (allowed: ${allowed.map((a) => "--" + a).join(", ")})`);
  return flags;
}

export function requireFlag(flags: Record<string, string>, name: string): string {
  const v = flags[name];
  if (v === undefined) throw new UsageError(`missing --${name}`);
  return v;
}

/** An integer flag value ≥ min (UsageError otherwise). */
export function intFlag(name: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min} (got ${JSON.stringify(v)})`);
  return n;
}

export function writeResult(path: string, result: unknown): void {
  try {
    writeFileSync(path, JSON.stringify(result) + "\n");
  } catch (e) {
    throw new ValidationError("--out", `cannot be written: ${(e as Error).message}`);
  }
}

/** Fail before a long run when the output file's folder does not exist. */
export function checkOutPath(path: string): string {
  const dir = dirname(resolve(path));
  if (!existsSync(dir)) throw new ValidationError("--out", `cannot be written: folder ${dir} does not exist`);
  return path;
}
