/** `limitdyn train --config problem.json --out result.json [--record h,b,p,gram] [--threads n|auto]`: the finite ResNet (MATH §1). */
import { ValidationError } from "../../core/errors.ts";
import { solve } from "../../problem/algorithm.ts";
import { finiteResNet, type Recordable } from "../../resnet/solver.ts";
import { UsageError } from "../flags.ts";
import { COMMAND_HELP } from "../help.ts";
import { problemCommand, recordFlag } from "./problem-command.ts";

/** The keys of the problem file's "solver" block some command reads (the limit solvers' options; train reads none). */
export function solverBlockKeys(): string[] {
  const keys = new Set<string>();
  for (const h of Object.values(COMMAND_HELP)) for (const [k] of h.solver ?? []) keys.add(k.split(".")[0]);
  return [...keys].sort();
}

/**
 * The finite ResNet takes its options from the flags; the problem file's "solver" block holds the
 * limit solvers' options and may stay in the file, but a key that no solver reads (a typo) is an
 * error naming solver.<key> — it is never silently ignored.
 */
export function cmdTrain(args: string[]): void {
  problemCommand("train", args, ["record", "threads"], (problem, flags) => {
    const known = solverBlockKeys();
    for (const k of Object.keys(problem.solver)) {
      if (!known.includes(k)) throw new ValidationError(`solver.${k}`, `is not a known key of any solver (train reads its options from --record / --threads; the solver block holds the options of meanode, dmft, chaos: ${known.join(", ")})`);
    }
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
