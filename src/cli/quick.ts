/**
 * The answers that need no engine: --help, <command> --help, help <command>,
 * --version, and unknown commands (with a did-you-mean). Used by the fast
 * entry (./entry.ts) and by main() (./main.ts).
 */
import { COMMAND_NAMES, commandHelp, usage } from "./help.ts";
import { didYouMean, wantsHelp } from "./flags.ts";
import { packageVersion } from "../core/version.ts";

/**
 * The exit code when the arguments ask for help, the version, or name no
 * known command (printing the answer); null when a command should run.
 */
export function quickAnswer(argv: readonly string[]): number | null {
  const [cmd, ...rest] = argv;
  if (cmd === undefined) {
    console.error(usage(packageVersion()));
    return 2;
  }
  if (cmd === "--help" || cmd === "-h") {
    console.log(usage(packageVersion()));
    return 0;
  }
  if (cmd === "help") {
    const topic = rest[0];
    if (topic === undefined) console.log(usage(packageVersion()));
    else if (COMMAND_NAMES.includes(topic)) console.log(commandHelp(topic));
    else return unknownCommand(topic);
    return 0;
  }
  if (cmd === "--version" || cmd === "-v" || cmd === "version") {
    console.log(packageVersion());
    return 0;
  }
  if (!COMMAND_NAMES.includes(cmd)) return unknownCommand(cmd);
  if (wantsHelp(rest)) {
    console.log(commandHelp(cmd));
    return 0;
  }
  return null;
}

function unknownCommand(cmd: string): number {
  const guess = cmd.startsWith("-") ? didYouMean(cmd.replace(/^-+/, ""), ["help", "version"]) : didYouMean(cmd, COMMAND_NAMES);
  const hint = guess === null ? "" : cmd.startsWith("-") ? ` (did you mean --${guess}?)` : ` (did you mean "${guess}"?)`;
  console.error(`limitdyn: unknown ${cmd.startsWith("-") ? "flag" : "command"} ${JSON.stringify(cmd)}${hint}\n\n${usage(packageVersion())}`);
  return 2;
}
