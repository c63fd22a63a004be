/**
 * `limitdyn reproduce <name> [--scale small|paper] [--out dir] [--workers n] [--progress mode] [--bootstrap B]`:
 * runs a reproduction preset (src/experiments/presets/, docs/presets/).
 */
import { ValidationError } from "../../core/errors.ts";
import { reportError } from "../report.ts";
import { PRESET_NAMES, runPreset, type Scale } from "../../experiments/presets/index.ts";
import { allShapesPaper } from "../../experiments/presets/all-shapes-paper.ts";
import type { ProgressMode } from "../../experiments/progress.ts";

export const REPRODUCE_USAGE = `limitdyn reproduce <${PRESET_NAMES.join("|")}> [--scale small|paper] [--out dir] [--workers n] [--progress auto|bar|lines|none] [--bootstrap B]
       limitdyn reproduce all-shapes-paper [--max-width W] [--repetitions R] [--prepare-only true] [--out dir] [--workers n] [--progress mode] [--bootstrap B]`;
const NAMES = [...PRESET_NAMES, "all-shapes-paper"];

export interface ReproduceArgs {
  name: string;
  scale: Scale;
  out?: string;
  workers?: number;
  progress: ProgressMode;
  B?: number;
  /** all-shapes-paper only. */
  maxWidth?: number;
  reps?: number;
  prepareOnly?: boolean;
}

export function parseReproduceArgs(args: string[]): ReproduceArgs {
  const [name, ...rest] = args;
  if (!name || name.startsWith("--")) throw new ValidationError("reproduce", `needs a preset name: ${NAMES.join(", ")}\nusage: ${REPRODUCE_USAGE}`);
  if (!NAMES.includes(name)) throw new ValidationError("reproduce", `unknown preset ${JSON.stringify(name)} (known: ${NAMES.join(", ")})`);
  const paper = name === "all-shapes-paper";
  const out: ReproduceArgs = { name, scale: "small", progress: "auto" };
  for (let i = 0; i < rest.length; i += 2) {
    const flag = rest[i], v = rest[i + 1];
    if (v === undefined || v.startsWith("--")) throw new ValidationError(flag, "needs a value");
    if (flag === "--scale") {
      if (v !== "small" && v !== "paper") throw new ValidationError("--scale", `must be small or paper (got ${JSON.stringify(v)})`);
      out.scale = v;
    } else if (flag === "--out") out.out = v;
    else if (flag === "--workers") {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new ValidationError("--workers", `must be a non-negative integer (got ${JSON.stringify(v)})`);
      out.workers = n;
    } else if (flag === "--progress") {
      if (!["auto", "bar", "lines", "none"].includes(v)) throw new ValidationError("--progress", `must be auto, bar, lines or none (got ${JSON.stringify(v)})`);
      out.progress = v as ProgressMode;
    } else if (flag === "--bootstrap") {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 10) throw new ValidationError("--bootstrap", `must be an integer ≥ 10 (got ${JSON.stringify(v)})`);
      out.B = n;
    } else if (paper && (flag === "--max-width" || flag === "--repetitions")) {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new ValidationError(flag, `must be a positive integer (got ${JSON.stringify(v)})`);
      if (flag === "--max-width") out.maxWidth = n; else out.reps = n;
    } else if (paper && flag === "--prepare-only") {
      if (v !== "true" && v !== "false") throw new ValidationError(flag, `must be true or false (got ${JSON.stringify(v)})`);
      out.prepareOnly = v === "true";
    } else throw new ValidationError(flag, `unknown flag (usage: ${REPRODUCE_USAGE})`);
  }
  return out;
}

/** COMMANDS entry: bad arguments throw synchronously; the run sets process.exitCode when it ends. */
export function cmdReproduce(args: string[]): void {
  const a = parseReproduceArgs(args);
  const run = a.name === "all-shapes-paper"
    ? allShapesPaper({ out: a.out, workers: a.workers, progress: a.progress, B: a.B, maxWidth: a.maxWidth, reps: a.reps, prepareOnly: a.prepareOnly })
    : runPreset(a.name, { scale: a.scale, out: a.out, workers: a.workers, progress: a.progress, B: a.B });
  void run.catch((e: unknown) => {
    process.exitCode = reportError("reproduce", e);
  });
}
