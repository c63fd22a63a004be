/**
 * `limitdyn sweep` and `limitdyn merge` (wired into src/cli/main.ts).
 *
 *   limitdyn sweep --config sweep.json --out rows.jsonl [--workers n] [--shard i/n] [--max-runs r] [--progress auto|bar|lines|none]
 *   limitdyn merge --out merged.jsonl shard1.jsonl shard2.jsonl ...
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, isAbsolute, resolve } from "node:path";
import { parseArgs } from "node:util";
import { LimitdynError, ValidationError } from "../core/errors.ts";
import { isPlainObject } from "../core/validate.ts";
import { parseFlags, UsageError } from "../cli/main.ts";
import { unknownFlag } from "../cli/flags.ts";
import type { ProgressMode } from "./progress.ts";
import { mergeRowFiles } from "./rows.ts";
import type { SweepSpec } from "./spec.ts";
import { runSweep } from "./sweep.ts";

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

function report(cmd: string, e: unknown): number {
  if (e instanceof LimitdynError) {
    console.error(`limitdyn ${cmd}: ${e.message}`);
    return 2;
  }
  console.error(`limitdyn ${cmd}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  return 1;
}

/** Parse the sweep flags (synchronously: usage errors are thrown here). */
export function parseSweepArgs(args: string[]): { config: string; out: string; workers: number; shard?: string; maxRuns?: number; progress: ProgressMode } {
  const flags = parseFlags(args);
  for (const k of Object.keys(flags)) {
    if (!["config", "out", "workers", "shard", "max-runs", "progress"].includes(k)) throw unknownFlag(k, ["config", "out", "workers", "shard", "max-runs", "progress"]);
  }
  if (!flags.config) throw new UsageError("missing --config");
  if (!flags.out) throw new UsageError("missing --out");
  const int = (name: string, v: string, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min} (got ${JSON.stringify(v)})`);
    return n;
  };
  const workers = flags.workers === undefined ? availableParallelism() : int("workers", flags.workers, 0);
  const maxRuns = flags["max-runs"] === undefined ? undefined : int("max-runs", flags["max-runs"], 0);
  const progress = (flags.progress ?? "auto") as ProgressMode;
  if (!["auto", "bar", "lines", "none"].includes(progress)) throw new UsageError(`--progress must be auto, bar, lines or none (got ${JSON.stringify(progress)})`);
  return { config: flags.config, out: flags.out, workers, shard: flags.shard, maxRuns, progress };
}

/** `limitdyn sweep`: resolves to the exit code. */
export async function sweepCommand(args: string[]): Promise<number> {
  const a = parseSweepArgs(args);
  try {
    const spec = loadSweepFile(a.config);
    const r = await runSweep(spec, { out: a.out, workers: a.workers, shard: a.shard, maxRuns: a.maxRuns, progress: a.progress });
    if (a.progress !== "none") {
      console.error(`sweep${a.shard ? ` shard ${a.shard}` : ""}: ${r.planned} runs planned, ${r.skipped} already in ${a.out}, ${r.ran} run now, ${r.failed} failed${r.complete ? "" : `, ${r.planned - r.rows.length} left (rerun the same command to resume)`}`);
    }
    return 0;
  } catch (e) {
    return report("sweep", e);
  }
}

/** `limitdyn merge --out merged.jsonl a.jsonl b.jsonl ...` (merge errors are LimitdynErrors: main prints them, exit code 2). */
export function mergeCommand(args: string[]): void {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { out: { type: "string" } }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const out = parsed.values.out;
  if (!out) throw new UsageError("missing --out");
  if (parsed.positionals.length === 0) throw new UsageError("merge needs input files: limitdyn merge --out merged.jsonl a.jsonl b.jsonl ...");
  const r = mergeRowFiles(parsed.positionals, out);
  console.error(`merge: ${r.read} rows read from ${parsed.positionals.length} files, ${r.duplicates} duplicates dropped, ${r.rows.length} rows → ${out}`
    + (r.truncatedInputs.length ? ` (ignored a damaged last line in ${r.truncatedInputs.join(", ")})` : ""));
}

/** COMMANDS entry for `sweep`: usage errors throw synchronously; the run sets process.exitCode when it ends. */
export function cmdSweep(args: string[]): void {
  parseSweepArgs(args);
  void sweepCommand(args).then((code) => {
    if (code !== 0) process.exitCode = code;
  });
}

