/** `limitdyn train --config problem.json --out result.json [--record h,b,p] [--threads n|auto]`: the finite ResNet (MATH §1). */
import { ValidationError } from "../../core/errors.ts";
import { solve } from "../../problem/algorithm.ts";
import { finiteResNet, type Recordable } from "../../resnet/solver.ts";
import { UsageError } from "../flags.ts";
import { COMMAND_HELP } from "../help.ts";
import { problemCommand } from "./problem-command.ts";

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
    let record: Recordable[] | undefined;
    if (flags.record !== undefined) {
      record = flags.record.split(",").map((s) => s.trim()).filter(Boolean) as Recordable[];
      for (const r of record) if (!["h", "b", "p"].includes(r)) throw new ValidationError("--record", `lists ${JSON.stringify(r)}; it takes a comma-separated list of h, b, p`);
    }
    const threads = flags.threads === undefined || flags.threads === "auto" ? undefined : Number(flags.threads);
    if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) throw new UsageError(`--threads must be a positive integer or auto (got ${JSON.stringify(flags.threads)})`);
    return solve(problem, finiteResNet({ record, threads }));
  });
}
