/** `limitdyn train --config problem.json --out result.json [--record h,b,p,gram] [--threads n|auto]`: the finite ResNet (MATH §1). */
import { solve } from "../../problem/algorithm.ts";
import { finiteResNet, type Recordable } from "../../resnet/solver.ts";
import { UsageError } from "../flags.ts";
import { ValidationError } from "../../core/errors.ts";
import { problemCommand, recordFlag } from "./problem-command.ts";

export function cmdTrain(args: string[]): void {
  problemCommand("train", args, ["record", "threads"], (problem, flags) => {
    const record = recordFlag(flags) as Recordable[] | undefined;
    const threads = flags.threads === undefined || flags.threads === "auto" ? undefined : Number(flags.threads);
    if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) throw new UsageError(`--threads must be a positive integer or auto (got ${JSON.stringify(flags.threads)})`);
    let alg;
    try {
      alg = finiteResNet({ record, threads }, "train");
    } catch (e) {
      // name the flag: --record[i] (the record option comes from it)
      if (e instanceof ValidationError && e.field.startsWith("train.record")) throw new ValidationError(`--record${e.field.slice("train.record".length)}`, e.message.slice(e.message.indexOf(" ") + 1));
      throw e;
    }
    return solve(problem, alg);
  });
}
