/**
 * The solver commands: one problem file in, one result file out.
 *
 *   limitdyn train   --config problem.json --out result.json [--record h,b,p]   finite ResNet
 *   limitdyn meanode --config problem.json --out result.json                    Mean ODE
 *   limitdyn dmft    --config problem.json --out result.json                    D → ∞
 *   limitdyn chaos   --config problem.json --out result.json                    large M
 *
 * Algorithm options come from the problem file's "solver" object (errors name `solver.<key>`).
 */
import { loadProblem, type Problem } from "../../problem/problem.ts";
import { solve } from "../../problem/algorithm.ts";
import { trajectoryToJSON, type Trajectory } from "../../problem/trajectory.ts";
import { finiteResNet, type Recordable } from "../../resnet/solver.ts";
import { meanOde, type MeanOdeOptions } from "../../limits/mean-ode.ts";
import { dmft, type DmftOptions } from "../../limits/dmft.ts";
import { chaosSimulator, type ChaosOptions } from "../../chaos/simulate.ts";
import { toNested } from "../../core/arrays.ts";
import { ValidationError } from "../../core/errors.ts";
import { checkOutPath, parseKnownFlags, requireFlag, writeResult } from "../flags.ts";

/**
 * Parse `--config`, `--out` (+ extra flags), load the problem, solve it, write
 * the result file: the trajectory (without the extras in `drop`) and `shape`'s
 * changes to it.
 */
function problemCommand<T extends Trajectory>(
  args: string[], extra: string[], run: (problem: Problem, flags: Record<string, string>) => T, drop: string[] = [],
  shape: (json: Record<string, unknown>, traj: T) => Record<string, unknown> = (json) => json,
): void {
  const flags = parseKnownFlags(args, ["config", "out", ...extra]);
  const problem = loadProblem(requireFlag(flags, "config"));
  const out = checkOutPath(requireFlag(flags, "out"));
  const traj = run(problem, flags);
  const json = trajectoryToJSON(traj);
  const extras = json.extras as Record<string, unknown> | undefined;
  for (const k of drop) delete extras?.[k];
  writeResult(out, { ...shape(json, traj), solver: traj.algorithm, time: traj.timings.totalMs / 1000 });
}


/** `train`: the finite ResNet with the problem file's "solver" options (validated: a typo is an error naming solver.<key>); --record overrides solver.record. */
export function cmdTrain(args: string[]): void {
  problemCommand(args, ["record"], (problem, flags) => {
    const options: Record<string, unknown> = { ...problem.solver };
    if (flags.record !== undefined) {
      const record = flags.record.split(",").map((s) => s.trim()).filter(Boolean) as Recordable[];
      for (const r of record) if (!["h", "b", "p"].includes(r)) throw new ValidationError("--record", `lists ${JSON.stringify(r)}; it takes a comma-separated list of h, b, p`);
      options.record = record;
    }
    return solve(problem, finiteResNet(options, "solver"));
  });
}

export function cmdMeanOde(args: string[]): void {
  problemCommand(args, [], (problem) => solve(problem, meanOde(problem.solver as MeanOdeOptions, "solver")), ["coefficients", "skeletonParams"]);
}

export function cmdDmft(args: string[]): void {
  problemCommand(args, [], (problem) => solve(problem, dmft(problem.solver as DmftOptions, "solver")), ["skeletonParams"]);
}

/** The chaos result file: the diagnostics at the top level (docs/chaos.md), the limit's f̄, loss̄ under `limit` and as f, loss. */
export function cmdChaos(args: string[]): void {
  problemCommand(args, [], (problem) => solve(problem, chaosSimulator(problem.solver as ChaosOptions, "solver")), [], ({ extras, ...json }, traj) => {
    const { limit, ...diagnostics } = extras as Record<string, unknown> & { limit: Record<string, unknown> };
    return { ...diagnostics, ...json, limit: { ...limit, f: toNested(traj.f.data, traj.f.shape), loss: Array.from(traj.loss) } };
  });
}
