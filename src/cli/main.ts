/**
 * The `limitdyn` command: dispatch to the commands in ./commands/ (train.ts;
 * meanode, dmft, chaos: solve.ts; export, sweep, merge, reproduce), one flag
 * parser (./flags.ts), the help texts of ./help.ts. This module loads every
 * command (for callers that import main() and the tests); bin/limitdyn.mjs
 * enters through ./entry.ts, which loads only the called command's module.
 *
 * Exit codes: 0 success; 2 bad usage, bad input, or a diverging run (DivergenceError: the
 * problem's rates make the loss non-finite); 1 other failures.
 */
import { usage } from "./help.ts";
import { quickAnswer } from "./quick.ts";
import { runCommand, type Command } from "./run.ts";
import { packageVersion } from "../core/version.ts";
import { cmdTrain } from "./commands/train.ts";
import { cmdChaos, cmdDmft, cmdMeanOde } from "./commands/solve.ts";
import { cmdSweep } from "./commands/sweep.ts";
import { cmdMerge } from "./commands/merge.ts";
import { cmdReproduce } from "./commands/reproduce.ts";
import { cmdExport } from "./commands/export.ts";

export { parseFlags, UsageError } from "./flags.ts";
export const USAGE = usage(packageVersion());

export const COMMANDS: Record<string, Command> = {
  train: cmdTrain, meanode: cmdMeanOde, dmft: cmdDmft, chaos: cmdChaos, export: cmdExport, sweep: cmdSweep, merge: cmdMerge, reproduce: cmdReproduce,
};

export function main(argv: string[]): number {
  const quick = quickAnswer(argv); // --help, <command> --help, --version, unknown commands (did you mean)
  if (quick !== null) return quick;
  const [cmd, ...rest] = argv;
  return runCommand(cmd, COMMANDS[cmd], rest);
}
