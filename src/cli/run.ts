/**
 * Running one command: `--flag=value` normalised for the commands with their own
 * parsers, usage errors (exit 2, with the command's usage line), LimitdynErrors
 * (exit 2, the message naming the field), any other error in one line (./report.ts). Shared by main.ts (every command loaded)
 * and entry.ts (only the called command's module loaded).
 */
import { reportError } from "./report.ts";
import { BOOLEAN_FLAGS, UsageError } from "./flags.ts";
import { COMMAND_NAMES, commandHelp } from "./help.ts";

export type Command = (args: string[]) => void;

/** Run `fn` as command `cmd` with the arguments after the command name; returns the exit code. */
export function runCommand(cmd: string, fn: Command, given: string[]): number {
  // --flag=value → --flag value, for the commands with their own parsers (reproduce, merge); booleans stay as they are
  const rest = given.flatMap((a) => (/^--[^=]+=/.test(a) && !BOOLEAN_FLAGS.has(a.slice(2, a.indexOf("="))) ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a]));
  try {
    fn(rest);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      const line = COMMAND_NAMES.includes(cmd) ? commandHelp(cmd).split("\n").find((l) => l.startsWith("usage:")) : "";
      console.error(`limitdyn ${cmd}: ${e.message}\n\n${line}\n(limitdyn ${cmd} --help lists the flags and solver options)`);
      return 2;
    }
    // library errors (exit 2), running out of memory (2), anything else (a bug: 1) — one line, no stack trace
    return reportError(cmd, e);
  }
}
