/**
 * The `limitdyn` command.
 *
 *   limitdyn train   --config problem.json --out result.json [--record h,b,p]
 *   limitdyn sweep   --config sweep.json --out rows.jsonl [--workers n] [--shard i/n]
 *   limitdyn merge   --out merged.jsonl shard1.jsonl shard2.jsonl ...
 *
 * Exit codes: 0 success, 2 bad usage or bad input, 1 other failures.
 */
import { writeFileSync } from "node:fs";
import { LimitdynError } from "../core/errors.ts";
import { loadProblem } from "../problem/problem.ts";
import { solve } from "../problem/algorithm.ts";
import { trajectoryToJSON } from "../problem/trajectory.ts";
import { finiteResNet, type Recordable } from "../resnet/solver.ts";
import { cmdSweep, mergeCommand } from "../experiments/cli.ts";

export const USAGE = `usage: limitdyn <command> [options]

commands:
  train   --config problem.json --out result.json [--record h,b,p]   finite ResNet (MATH §1)
  sweep   --config sweep.json --out rows.jsonl [--workers n] [--shard i/n] [--max-runs r] [--progress auto|bar|lines|none]
          runs a sweep (resumes: completed run ids in --out are skipped)
  merge   --out merged.jsonl shard1.jsonl shard2.jsonl ...             joins shard files

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
  writeFileSync(path, JSON.stringify(result) + "\n");
}

export function cmdTrain(args: string[]): void {
  const flags = parseFlags(args);
  checkFlags(flags, ["config", "out", "record"]);
  const problem = loadProblem(requireFlag(flags, "config"));
  const out = requireFlag(flags, "out");
  const record = flags.record ? (flags.record.split(",").map((s) => s.trim()).filter(Boolean) as Recordable[]) : undefined;
  const traj = solve(problem, finiteResNet({ record }));
  writeResult(out, { ...trajectoryToJSON(traj), solver: "finiteResNet", time: traj.timings.totalMs / 1000 });
}

const COMMANDS: Record<string, (args: string[]) => void> = { train: cmdTrain, sweep: cmdSweep, merge: mergeCommand };

export function main(argv: string[]): number {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === "--help" || cmd === "-h" || cmd === "help") {
    console.log(USAGE);
    return cmd ? 0 : 2;
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
