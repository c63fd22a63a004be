/**
 * The one flag parser of the `limitdyn` command — `--flag value` and
 * `--flag=value`, boolean flags (`--quiet`, `--help`, `--flag=true|false`), a
 * "did you mean" for mistyped flags and commands — and the helpers every
 * command shares: required and known flags, result files. Loads no solver (the
 * CLI entry answers --help and --version from here and help.ts).
 */
import { existsSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ValidationError } from "../core/errors.ts";

/** Bad usage: main prints the message and the command's usage line, exit code 2. */
export class UsageError extends Error {}

/** Flags that take no value anywhere in the CLI (`--quiet` is the same as `--quiet=true`). */
export const BOOLEAN_FLAGS = new Set(["quiet", "help"]);

/** Edit distance with adjacent transpositions (optimal string alignment; small strings). */
export function editDistance(a: string, b: string): number {
  const m = a.length, n = b.length;
  const d = Array.from({ length: m + 1 }, (_, i) => Array.from({ length: n + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[m][n];
}

/** The closest candidate to `word` when it is close enough to be a typo (or a prefix of exactly one candidate), else null. */
export function didYouMean(word: string, candidates: readonly string[]): string | null {
  const w = word.toLowerCase();
  let best: string | null = null, bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestD) { best = c; bestD = d; }
  }
  if (best !== null && bestD <= Math.max(1, Math.floor(best.length / 3))) return best;
  const prefixed = candidates.filter((c) => c.startsWith(w) && w.length >= 2);
  return prefixed.length === 1 ? prefixed[0] : null;
}

/** `unknown flag --x (did you mean --y?) (allowed: ...)` */
export function unknownFlag(flag: string, allowed: readonly string[]): UsageError {
  const guess = didYouMean(flag, allowed);
  return new UsageError(`unknown flag --${flag}${guess ? ` (did you mean --${guess}?)` : ""} (allowed: ${allowed.map((a) => "--" + a).join(", ")})`);
}

/**
 * Parse `--key value` / `--key=value` pairs (and the boolean flags alone).
 * Positional arguments are refused unless `positionals` is given, which
 * receives them in order.
 */
export function parseFlags(args: string[], positionals?: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "-h") { out.help = "true"; continue; }
    if (!a.startsWith("--") || a === "--") {
      if (positionals) { positionals.push(a); continue; }
      throw new UsageError(`unexpected argument ${JSON.stringify(a)}`);
    }
    const eq = a.indexOf("=");
    const key = eq < 0 ? a.slice(2) : a.slice(2, eq);
    if (key === "") throw new UsageError(`bad flag ${JSON.stringify(a)}`);
    if (eq >= 0) {
      const v = a.slice(eq + 1);
      if (BOOLEAN_FLAGS.has(key) && v !== "true" && v !== "false") throw new UsageError(`--${key} takes no value (or =true / =false; got ${JSON.stringify(v)})`);
      out[key] = v;
      continue;
    }
    if (BOOLEAN_FLAGS.has(key)) { out[key] = "true"; continue; }
    const val = args[i + 1];
    if (val === undefined || val.startsWith("--")) throw new UsageError(`flag --${key} needs a value (--${key} <value> or --${key}=<value>)`);
    out[key] = val;
    i++;
  }
  for (const k of BOOLEAN_FLAGS) if (out[k] === "false") delete out[k];
  return out;
}

/** Is `--help` (or `-h`) among the arguments? (Before the value of a flag counts too: `--config --help` asks for help.) */
export function wantsHelp(args: readonly string[]): boolean {
  return args.some((a) => a === "--help" || a === "-h" || a === "--help=true");
}

/** parseFlags, rejecting flags not in `allowed` (with a did-you-mean). */
export function parseKnownFlags(args: string[], allowed: string[]): Record<string, string> {
  const flags = parseFlags(args);
  for (const k of Object.keys(flags)) if (!allowed.includes(k)) throw unknownFlag(k, allowed);
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
