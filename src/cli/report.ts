/** How the `limitdyn` command reports an error: one line, an exit code (docs/robustness.md). */
import { LimitdynError } from "../core/errors.ts";

/**
 * One line on stderr for any error, never a stack trace (unless LIMITDYN_DEBUG is set):
 * library errors (bad input, resources, divergence) exit 2; so does running out of memory
 * (the resource model should have refused it first); anything else is a bug: exit 1.
 */
export function reportError(cmd: string, e: unknown): number {
  const debug = !!process.env.LIMITDYN_DEBUG;
  const err = e instanceof Error ? e : new Error(String(e));
  const first = (err.message ?? String(e)).split("\n")[0];
  if (e instanceof LimitdynError) {
    console.error(`limitdyn ${cmd}: ${first}`);
    if (debug) console.error(err.stack);
    return 2;
  }
  if (/Invalid typed array length|Array buffer allocation failed|Invalid array length|out of memory/i.test(first)) {
    console.error(`limitdyn ${cmd}: out of memory (${first}); use smaller sizes (see docs/robustness.md)`);
    if (debug) console.error(err.stack);
    return 2;
  }
  console.error(`limitdyn ${cmd}: internal error: ${err.name}: ${first} (this is a bug in limitdyn: please report it; LIMITDYN_DEBUG=1 prints the stack trace)`);
  if (debug) console.error(err.stack);
  return 1;
}

let lastResort = false;

/** Errors of the asynchronous commands (sweep, reproduce) that escape them: one line too. */
export function installLastResort(cmd: string): void {
  if (lastResort) return;
  lastResort = true;
  const onError = (e: unknown) => {
    process.exitCode = reportError(cmd, e);
  };
  process.on("uncaughtException", onError);
  process.on("unhandledRejection", onError);
}
