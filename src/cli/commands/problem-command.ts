/**
 * The shape of every solver command (train, meanode, dmft, chaos): parse
 * `--config`, `--out` (+ the command's flags, + progress flags), load the
 * problem, solve it with progress on stderr, write the result file with its
 * metadata. Imports no solver: each command module brings its own, so
 * `limitdyn train` loads only the finite ResNet.
 */
import { loadProblem, type Problem } from "../../problem/problem.ts";
import { trajectoryToJSON, type Trajectory } from "../../problem/trajectory.ts";
import { checkOutPath, parseKnownFlags, requireFlag, writeResult } from "../flags.ts";
import { progressMode, withProgress } from "../progress.ts";
import { resultMeta } from "../result.ts";

/** Flags every solver command takes: progress on stderr (src/cli/progress.ts). */
export const RUN_FLAGS = ["progress", "quiet"];

/**
 * Parse `--config`, `--out` (+ extra flags), load the problem, solve it, write
 * the result file: the trajectory (without the extras in `drop`) and `shape`'s
 * changes to it.
 */
export function problemCommand<T extends Trajectory>(
  command: string, args: string[], extra: string[], run: (problem: Problem, flags: Record<string, string>) => T, drop: string[] = [],
  shape: (json: Record<string, unknown>, traj: T) => Record<string, unknown> = (json) => json,
): void {
  const flags = parseKnownFlags(args, ["config", "out", ...RUN_FLAGS, ...extra]);
  const problem = loadProblem(requireFlag(flags, "config"));
  const out = checkOutPath(requireFlag(flags, "out"));
  const mode = progressMode(flags);
  const traj = withProgress(command, { mode }, () => run(problem, flags));
  const json = trajectoryToJSON(traj);
  const extras = json.extras as Record<string, unknown> | undefined;
  for (const k of drop) delete extras?.[k];
  // the package version, the resolved problem (+ SHA-256, config path); the resolved options are json.options
  writeResult(out, { ...resultMeta(`limitdyn ${command}`, problem, flags.config), ...shape(json, traj), solver: traj.algorithm, time: traj.timings.totalMs / 1000 });
}
