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
import { solve } from "../../problem/algorithm.ts";
import { meanOde, type MeanOdeOptions } from "../../limits/mean-ode.ts";
import { dmft, type DmftOptions } from "../../limits/dmft.ts";
import { chaosSimulator, type ChaosOptions } from "../../chaos/simulate.ts";
import { toNested } from "../../core/arrays.ts";
import { problemCommand } from "./problem-command.ts";

export { cmdTrain } from "./train.ts";

export function cmdMeanOde(args: string[]): void {
  problemCommand("meanode", args, [], (problem) => solve(problem, meanOde(problem.solver as MeanOdeOptions, "solver")), ["coefficients", "skeletonParams"]);
}

export function cmdDmft(args: string[]): void {
  problemCommand("dmft", args, [], (problem) => solve(problem, dmft(problem.solver as DmftOptions, "solver")), ["skeletonParams"]);
}

/** The chaos result file: the diagnostics at the top level (docs/chaos.md), the limit's f̄, loss̄ under `limit` and as f, loss. */
export function cmdChaos(args: string[]): void {
  problemCommand("chaos", args, [], (problem) => solve(problem, chaosSimulator(problem.solver as ChaosOptions, "solver")), [], ({ extras, ...json }, traj) => {
    const { limit, ...diagnostics } = extras as Record<string, unknown> & { limit: Record<string, unknown> };
    return { ...diagnostics, ...json, limit: { ...limit, f: toNested(traj.f.data, traj.f.shape), loss: Array.from(traj.loss) } };
  });
}
