/**
 * `limitdyn sweep --config sweep.json --out rows.jsonl [--workers n] [--shard i/n] [--max-runs r] [--progress auto|bar|lines|none]`
 * (resumable: completed run ids in --out are skipped).
 */
import { availableParallelism } from "node:os";
import { reportError } from "../report.ts";
import { checkOutPath, intFlag, parseKnownFlags, UsageError } from "../flags.ts";
import type { ProgressMode } from "../../experiments/progress.ts";
import { loadSweepFile } from "../../experiments/spec.ts";
import { runSweep } from "../../experiments/sweep.ts";


/** Parse the sweep flags (synchronously: usage errors are thrown here). */
export function parseSweepArgs(args: string[]): { config: string; out: string; workers: number; shard?: string; maxRuns?: number; progress: ProgressMode } {
  const flags = parseKnownFlags(args, ["config", "out", "workers", "shard", "max-runs", "progress"]);
  if (!flags.config) throw new UsageError("missing --config");
  if (!flags.out) throw new UsageError("missing --out");
  const workers = flags.workers === undefined ? availableParallelism() : intFlag("workers", flags.workers, 0);
  const maxRuns = flags["max-runs"] === undefined ? undefined : intFlag("max-runs", flags["max-runs"], 0);
  const progress = (flags.progress ?? "auto") as ProgressMode;
  if (!["auto", "bar", "lines", "none"].includes(progress)) throw new UsageError(`--progress must be auto, bar, lines or none (got ${JSON.stringify(progress)})`);
  checkOutPath(flags.out);
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
    return reportError("sweep", e);
  }
}

/** COMMANDS entry for `sweep`: usage errors throw synchronously; the run sets process.exitCode when it ends. */
export function cmdSweep(args: string[]): void {
  parseSweepArgs(args);
  void sweepCommand(args).then((code) => {
    if (code !== 0) process.exitCode = code;
  });
}

