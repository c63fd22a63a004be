/**
 * The `limitdyn` command: dispatch to the commands in ./commands/ (train,
 * meanode, dmft, chaos: solve.ts; sweep, merge, reproduce), one flag parser
 * (./flags.ts), the usage text below.
 *
 * Exit codes: 0 success; 2 bad usage, bad input, or a diverging run (DivergenceError: the
 * problem's rates make the loss non-finite); 1 other failures.
 */
import { installLastResort, reportError } from "./report.ts";
import { UsageError } from "./flags.ts";
import { cmdChaos, cmdDmft, cmdMeanOde, cmdTrain } from "./commands/solve.ts";
import { cmdSweep } from "./commands/sweep.ts";
import { cmdMerge } from "./commands/merge.ts";
import { cmdReproduce } from "./commands/reproduce.ts";

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

const COMMANDS: Record<string, (args: string[]) => void> = { train: cmdTrain, meanode: cmdMeanOde, dmft: cmdDmft, chaos: cmdChaos, sweep: cmdSweep, merge: cmdMerge, reproduce: cmdReproduce };

/**
 * Run the command of `argv`; returns the exit code (the asynchronous commands, sweep and reproduce,
 * set process.exitCode when they end). `lastResort`: also report errors that escape the asynchronous
 * commands in one line (the `limitdyn` bin sets it; in-process callers such as tests do not).
 */
export function main(argv: string[], opts: { lastResort?: boolean } = {}): number {
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
  if (opts.lastResort) installLastResort(cmd);
  try {
    if (!fn) throw new UsageError(`unknown command ${JSON.stringify(cmd)}`);
    fn(rest);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`limitdyn: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    return reportError(cmd, e);
  }
}
