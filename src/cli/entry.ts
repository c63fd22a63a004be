/**
 * The `limitdyn` command's entry (bin/limitdyn.mjs runs dist/cli/entry.js).
 * `--help`, `<command> --help`, `--version` and mistyped commands are answered
 * here from plain data (help.ts), without loading the engine, so they take
 * about as long as a bare `node` start; every other command loads main.ts.
 */
import { quickAnswer } from "./quick.ts";

/** Run the command line; resolves to the exit code (async commands may set process.exitCode later). */
export async function main(argv: string[]): Promise<number> {
  const quick = quickAnswer(argv);
  if (quick !== null) return quick;
  const m = await import("./main.ts");
  return m.main(argv);
}
