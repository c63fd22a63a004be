/**
 * What every result file of `limitdyn train | meanode | dmft | chaos` records
 * besides the solver's output: the package version, the command, the
 * resolved problem (every default filled in; explicit initial weights above
 * MAX_EMBEDDED_INIT entries are left out), its SHA-256 and the config path.
 * The resolved solver options are the trajectory's own `options`.
 */
import { resolve } from "node:path";
import type { Problem } from "../problem/problem.ts";
import { problemHash, problemToJSON } from "../problem/io.ts";
import { packageVersion } from "../core/version.ts";

export function resultMeta(command: string, problem: Problem, configPath: string): Record<string, unknown> {
  return {
    version: packageVersion(),
    command,
    problemPath: resolve(configPath),
    problemHash: problemHash(problem),
    problem: problemToJSON(problem),
  };
}
