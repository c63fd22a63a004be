/**
 * The `limitdyn` command's entry (bin/limitdyn.mjs runs dist/cli/entry.js).
 * `--help`, `<command> --help`, `--version` and mistyped commands are answered
 * from plain data (./quick.ts, ./help.ts) without loading the engine, so they
 * take about as long as a bare `node` start; a command loads only its own
 * module (`limitdyn train` loads the finite ResNet, not the limit solvers,
 * the experiments or the plotting libraries).
 */
import { quickAnswer } from "./quick.ts";
import { runCommand, type Command } from "./run.ts";
import { installLastResort } from "./report.ts";

/** Command → its module and export (the same functions main.ts dispatches). */
const LAZY: Record<string, () => Promise<Command>> = {
  train: async () => (await import("./commands/train.ts")).cmdTrain,
  meanode: async () => (await import("./commands/solve.ts")).cmdMeanOde,
  dmft: async () => (await import("./commands/solve.ts")).cmdDmft,
  chaos: async () => (await import("./commands/solve.ts")).cmdChaos,
  export: async () => (await import("./commands/export.ts")).cmdExport,
  sweep: async () => (await import("./commands/sweep.ts")).cmdSweep,
  merge: async () => (await import("./commands/merge.ts")).cmdMerge,
  reproduce: async () => (await import("./commands/reproduce.ts")).cmdReproduce,
};

/** Run the command line; resolves to the exit code (async commands may set process.exitCode later). */
export async function main(argv: string[]): Promise<number> {
  const quick = quickAnswer(argv);
  if (quick !== null) return quick;
  const [cmd, ...rest] = argv;
  installLastResort(cmd); // errors escaping the asynchronous commands (sweep, reproduce): one line too
  return runCommand(cmd, await LAZY[cmd](), rest);
}

/** The commands this entry can load (test/cli-help.test.ts checks them against main.ts and help.ts). */
export const LAZY_COMMANDS = Object.keys(LAZY);
