/**
 * The `limitdyn` command: dispatch to the commands in ./commands/ (train,
 * meanode, dmft, chaos: solve.ts; export, sweep, merge, reproduce), one flag
 * parser (./flags.ts), the help texts of ./help.ts. bin/limitdyn.mjs enters
 * through ./entry.ts, which answers --help / --version without loading this
 * module; main() here answers them too (for callers that import it).
 *
 * Exit codes: 0 success; 2 bad usage, bad input, or a diverging run (DivergenceError: the
 * problem's rates make the loss non-finite); 1 other failures.
 */
import { LimitdynError } from "../core/errors.ts";
import { BOOLEAN_FLAGS, UsageError } from "./flags.ts";
import { commandHelp, usage } from "./help.ts";
import { quickAnswer } from "./quick.ts";
import { packageVersion } from "../core/version.ts";
import { cmdChaos, cmdDmft, cmdMeanOde, cmdTrain } from "./commands/solve.ts";
import { cmdSweep } from "./commands/sweep.ts";
import { cmdMerge } from "./commands/merge.ts";
import { cmdReproduce } from "./commands/reproduce.ts";
import { cmdExport } from "./commands/export.ts";

export const USAGE = usage(packageVersion());

const COMMANDS: Record<string, (args: string[]) => void> = {
  train: cmdTrain, meanode: cmdMeanOde, dmft: cmdDmft, chaos: cmdChaos, export: cmdExport, sweep: cmdSweep, merge: cmdMerge, reproduce: cmdReproduce,
};

/** The command names main() dispatches (test/cli-help.test.ts checks they match help.ts). */
export const COMMANDS_RUN = Object.keys(COMMANDS);

export function main(argv: string[]): number {
  const quick = quickAnswer(argv); // --help, <command> --help, --version, unknown commands (did you mean)
  if (quick !== null) return quick;
  const [cmd, ...given] = argv;
  // --flag=value → --flag value, for the commands with their own parsers (reproduce, merge); booleans stay as they are
  const rest = given.flatMap((a) => (/^--[^=]+=/.test(a) && !BOOLEAN_FLAGS.has(a.slice(2, a.indexOf("="))) ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a]));
  const fn = COMMANDS[cmd];
  try {
    if (!fn) throw new UsageError(`unknown command ${JSON.stringify(cmd)}`);
    fn(rest);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      const line = cmd in COMMANDS ? commandHelp(cmd).split("\n").find((l) => l.startsWith("usage:")) : USAGE;
      console.error(`limitdyn ${cmd}: ${e.message}\n\n${line}\n(limitdyn ${cmd} --help lists the flags and solver options)`);
      return 2;
    }
    if (e instanceof LimitdynError) {
      console.error(`limitdyn ${cmd}: ${e.message}`);
      return 2;
    }
    throw e;
  }
}
