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

export const USAGE = `usage: limitdyn <command> [options]

commands:
  train   --config problem.json --out result.json [--record h,b,p]   finite ResNet (MATH §1)
  sweep   --config sweep.json --out rows.jsonl [--workers n] [--shard i/n] [--max-runs r] [--progress auto|bar|lines|none]
          runs a sweep (resumes: completed run ids in --out are skipped)
  merge   --out merged.jsonl shard1.jsonl shard2.jsonl ...             joins shard files
  meanode --config problem.json --out result.json                    Mean ODE, L → ∞ at fixed D (MATH §2–3);
                                                                     options under "solver" in the problem file
  dmft    --config problem.json --out result.json                    DMFT limit D → ∞ (MATH §5): f, loss, Gram
                                                                     matrices and coefficient vectors on the depth grid
  chaos   --config problem.json --out result.json                    large M at fixed L: coupling, tagged particles,
                                                                     empirical vs limit law over a ladder of widths
                                                                     (MATH §4; options under "solver", docs/chaos.md)
  reproduce <hidden-width|all-shapes|trajectories> [--scale small|paper] [--out dir] [--workers n]
          sweeps against the limits, exponent fits with bootstrap intervals (fit.json), figures (docs/presets/)

The problem file is described in docs/problem-file.md, sweep files in docs/experiments.md.`;

export class UsageError extends Error {}

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

function requireFlag(flags: Record<string, string>, name: string): string {
  const v = flags[name];
  if (v === undefined) throw new UsageError(`missing --${name}`);
  return v;
}

function checkFlags(flags: Record<string, string>, allowed: string[]): void {
  for (const k of Object.keys(flags)) if (!allowed.includes(k)) throw new UsageError(`unknown flag --${k} (allowed: ${allowed.map((a) => "--" + a).join(", ")})`);
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
  checkFlags(flags, ["config", "out", "record"]);
  const problem = loadProblem(requireFlag(flags, "config"));
  const out = checkOutPath(requireFlag(flags, "out"));
  const record = flags.record ? (flags.record.split(",").map((s) => s.trim()).filter(Boolean) as Recordable[]) : undefined;
  const traj = solve(problem, finiteResNet({ record }));
  writeResult(out, { ...trajectoryToJSON(traj), solver: "finiteResNet", time: traj.timings.totalMs / 1000 });
}

export function cmdMeanOde(args: string[]): void {
  const flags = parseFlags(args);
  checkFlags(flags, ["config", "out"]);
  const problem = loadProblem(requireFlag(flags, "config"));
  const out = checkOutPath(requireFlag(flags, "out"));
  const traj = solve(problem, meanOde(problem.solver as MeanOdeOptions, "solver"));
  writeTrajectory(out, traj, ["coefficients", "skeletonParams"]);
}

/** Write a trajectory result file, without the extras that are internal or too large. */
function writeTrajectory(out: string, traj: Trajectory, drop: string[]): void {
  const json = trajectoryToJSON(traj);
  const extras = json.extras as Record<string, unknown> | undefined;
  for (const k of drop) delete extras?.[k];
  writeResult(out, { ...json, solver: traj.algorithm, time: traj.timings.totalMs / 1000 });
}

export function cmdDmft(args: string[]): void {
  const flags = parseFlags(args);
  checkFlags(flags, ["config", "out"]);
  const problem = loadProblem(requireFlag(flags, "config"));
  const out = checkOutPath(requireFlag(flags, "out"));
  const traj = solve(problem, dmft(problem.solver as DmftOptions, "solver"));
  writeTrajectory(out, traj, ["skeletonParams"]);
}

export function cmdChaos(args: string[]): void {
  const flags = parseFlags(args);
  checkFlags(flags, ["config", "out"]);
  const problem = loadProblem(requireFlag(flags, "config"));
  const out = checkOutPath(requireFlag(flags, "out"));
  const res = chaos(problem, problem.solver as ChaosOptions, "solver");
  writeResult(out, jsonable({ ...chaosToJSON(res), solver: "chaos", time: res.timings.totalMs / 1000 }));
}

const COMMANDS: Record<string, (args: string[]) => void> = { train: cmdTrain, meanode: cmdMeanOde, dmft: cmdDmft, chaos: cmdChaos, sweep: cmdSweep, merge: mergeCommand, reproduce: cmdReproduce };

export function main(argv: string[]): number {
  const [cmd, ...rest] = argv;
  if (!cmd) {
    console.error(USAGE);
    return 2;
  }
  if (cmd === "--help" || cmd === "-h" || cmd === "help") {
    console.log(USAGE);
    return 0;
  }
  const fn = COMMANDS[cmd];
  try {
    if (!fn) throw new UsageError(`unknown command ${JSON.stringify(cmd)}`);
    fn(rest);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`limitdyn: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    if (e instanceof LimitdynError) {
      console.error(`limitdyn ${cmd}: ${e.message}`);
      return 2;
    }
    throw e;
  }
}
