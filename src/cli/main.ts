/**
 * The `limitdyn` command.
 *
 *   limitdyn train   --config problem.json --out result.json [--record h,b,p]
 *   limitdyn sweep   --config sweep.json --out rows.jsonl [--workers n] [--shard i/n]
 *   limitdyn merge   --out merged.jsonl shard1.jsonl shard2.jsonl ...
 *   limitdyn chaos   --config problem.json --out result.json
 *
 * Exit codes: 0 success; 2 bad usage, bad input, or a diverging run (DivergenceError: the
 * problem's rates make the loss non-finite); 1 other failures.
 */
import { existsSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { LimitdynError, ValidationError } from "../core/errors.ts";
import { loadProblem } from "../problem/problem.ts";
import { solve } from "../problem/algorithm.ts";
import { jsonable, trajectoryToJSON, type Trajectory } from "../problem/trajectory.ts";
import { finiteResNet, type Recordable } from "../resnet/solver.ts";
import { cmdSweep, mergeCommand } from "../experiments/cli.ts";
import { cmdReproduce } from "../experiments/reproduce-cli.ts";
import { meanOde, type MeanOdeOptions } from "../meanode/solver.ts";
import { dmft, type DmftOptions } from "../dmft/solver.ts";
import { chaos, chaosToJSON, type ChaosOptions } from "../chaos/simulate.ts";
import { BOOLEAN_FLAGS, parseFlags, unknownFlag, UsageError } from "./flags.ts";
import { commandHelp, usage } from "./help.ts";
import { quickAnswer } from "./entry.ts";
import { progressMode, withProgress } from "./progress.ts";
import { resultMeta } from "./result.ts";
import { cmdExport } from "./export.ts";
import { packageVersion } from "../version.ts";
import type { Problem } from "../problem/problem.ts";

export { parseFlags, UsageError };

export const USAGE = usage(packageVersion());

function requireFlag(flags: Record<string, string>, name: string): string {
  const v = flags[name];
  if (v === undefined) throw new UsageError(`missing --${name}`);
  return v;
}

function checkFlags(flags: Record<string, string>, allowed: string[]): void {
  for (const k of Object.keys(flags)) if (!allowed.includes(k)) throw unknownFlag(k, allowed);
}

function writeResult(path: string, result: unknown): void {
  try {
    writeFileSync(path, JSON.stringify(result) + "\n");
  } catch (e) {
    throw new ValidationError("--out", `cannot be written: ${(e as Error).message}`);
  }
}

/** Fail before a long run when the output file's folder does not exist. */
function checkOutPath(path: string): string {
  const dir = dirname(resolve(path));
  if (!existsSync(dir)) throw new ValidationError("--out", `cannot be written: folder ${dir} does not exist`);
  return path;
}

export function cmdTrain(args: string[]): void {
  const flags = parseFlags(args);
  checkFlags(flags, ["config", "out", "record", "threads", ...RUN_FLAGS]);
  const problem = loadProblem(requireFlag(flags, "config"));
  const out = checkOutPath(requireFlag(flags, "out"));
  const record = flags.record ? (flags.record.split(",").map((s) => s.trim()).filter(Boolean) as Recordable[]) : undefined;
  const threads = flags.threads === undefined || flags.threads === "auto" ? undefined : Number(flags.threads);
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) throw new UsageError(`--threads must be a positive integer or auto (got ${JSON.stringify(flags.threads)})`);
  const traj = withProgress("train", { mode: progressMode(flags) }, () => solve(problem, finiteResNet({ record, threads })));
  writeResult(out, { ...meta("train", problem, flags), ...trajectoryToJSON(traj), solver: "finiteResNet", time: traj.timings.totalMs / 1000 });
}

export function cmdMeanOde(args: string[]): void {
  const flags = parseFlags(args);
  checkFlags(flags, ["config", "out", ...RUN_FLAGS]);
  const problem = loadProblem(requireFlag(flags, "config"));
  const out = checkOutPath(requireFlag(flags, "out"));
  const alg = meanOde(problem.solver as MeanOdeOptions, "solver");
  const traj = withProgress("meanode", { mode: progressMode(flags) }, () => solve(problem, alg));
  writeTrajectory(out, traj, ["coefficients", "skeletonParams"], meta("meanode", problem, flags));
}

/** Write a trajectory result file, without the extras that are internal or too large. */
function writeTrajectory(out: string, traj: Trajectory, drop: string[], metadata: Record<string, unknown>): void {
  const json = trajectoryToJSON(traj);
  const extras = json.extras as Record<string, unknown> | undefined;
  for (const k of drop) delete extras?.[k];
  writeResult(out, { ...metadata, ...json, solver: traj.algorithm, time: traj.timings.totalMs / 1000 });
}

/** Flags every run command takes (progress on stderr). */
const RUN_FLAGS = ["progress", "quiet"];

/** Package version, command, resolved problem, its hash and path (src/cli/result.ts). */
function meta(command: string, problem: Problem, flags: Record<string, string>): Record<string, unknown> {
  return resultMeta(`limitdyn ${command}`, problem, flags.config);
}

export function cmdDmft(args: string[]): void {
  const flags = parseFlags(args);
  checkFlags(flags, ["config", "out", ...RUN_FLAGS]);
  const problem = loadProblem(requireFlag(flags, "config"));
  const out = checkOutPath(requireFlag(flags, "out"));
  const alg = dmft(problem.solver as DmftOptions, "solver");
  const traj = withProgress("dmft", { mode: progressMode(flags) }, () => solve(problem, alg));
  writeTrajectory(out, traj, ["skeletonParams"], meta("dmft", problem, flags));
}

export function cmdChaos(args: string[]): void {
  const flags = parseFlags(args);
  checkFlags(flags, ["config", "out", ...RUN_FLAGS]);
  const problem = loadProblem(requireFlag(flags, "config"));
  const out = checkOutPath(requireFlag(flags, "out"));
  const res = withProgress("chaos", { mode: progressMode(flags) }, () => chaos(problem, problem.solver as ChaosOptions, "solver"));
  writeResult(out, jsonable({ ...meta("chaos", problem, flags), ...chaosToJSON(res), solver: "chaos", time: res.timings.totalMs / 1000 }));
}

const COMMANDS: Record<string, (args: string[]) => void> = { train: cmdTrain, meanode: cmdMeanOde, dmft: cmdDmft, chaos: cmdChaos, sweep: cmdSweep, merge: mergeCommand, reproduce: cmdReproduce, export: cmdExport };

export function main(argv: string[]): number {
  const quick = quickAnswer(argv); // --help, <command> --help, --version, unknown commands (did you mean)
  if (quick !== null) return quick;
  const [cmd, ...given] = argv;
  // --flag=value → --flag value, for the commands with their own parsers (reproduce); booleans stay as they are
  const rest = given.flatMap((a) => (/^--[^=]+=/.test(a) && !BOOLEAN_FLAGS.has(a.slice(2, a.indexOf("="))) ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a]));
  const fn = COMMANDS[cmd];
  try {
    if (!fn) throw new UsageError(`unknown command ${JSON.stringify(cmd)}`);
    fn(rest);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`limitdyn ${cmd}: ${e.message}\n\n${commandHelp(cmd).split("\n").find((l) => l.startsWith("usage:"))}\n(limitdyn ${cmd} --help lists the flags and solver options)`);
      return 2;
    }
    if (e instanceof LimitdynError) {
      console.error(`limitdyn ${cmd}: ${e.message}`);
      return 2;
    }
    throw e;
  }
}
