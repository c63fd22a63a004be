/** `limitdyn train --config problem.json --out result.json [--record h,b,p] [--threads n|auto]`: the finite ResNet (MATH §1). */
import { solve } from "../../problem/algorithm.ts";
import { finiteResNet, type Recordable } from "../../resnet/solver.ts";
import { UsageError } from "../flags.ts";
import { problemCommand } from "./problem-command.ts";

export function cmdTrain(args: string[]): void {
  problemCommand("train", args, ["record", "threads"], (problem, flags) => {
    const record = flags.record ? (flags.record.split(",").map((s) => s.trim()).filter(Boolean) as Recordable[]) : undefined;
    const threads = flags.threads === undefined || flags.threads === "auto" ? undefined : Number(flags.threads);
    if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) throw new UsageError(`--threads must be a positive integer or auto (got ${JSON.stringify(flags.threads)})`);
    return solve(problem, finiteResNet({ record, threads }));
  });
}
