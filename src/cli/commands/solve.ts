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
import { chaos, chaosToJSON, type ChaosOptions } from "../../chaos/simulate.ts";
import { jsonable } from "../../problem/trajectory.ts";
import { checkOutPath, parseKnownFlags, requireFlag, writeResult } from "../flags.ts";

/** Parse `--config`, `--out` (+ extra flags), load the problem, solve it, write the result file. */
function problemCommand(args: string[], extra: string[], run: (problem: Problem, flags: Record<string, string>) => Trajectory, drop: string[] = []): void {
  const flags = parseKnownFlags(args, ["config", "out", ...extra]);
  const problem = loadProblem(requireFlag(flags, "config"));
  const out = checkOutPath(requireFlag(flags, "out"));
  const traj = run(problem, flags);
  const json = trajectoryToJSON(traj);
  const extras = json.extras as Record<string, unknown> | undefined;
  for (const k of drop) delete extras?.[k];
  writeResult(out, { ...json, solver: traj.algorithm, time: traj.timings.totalMs / 1000 });
}


export function cmdTrain(args: string[]): void {
  problemCommand(args, ["record"], (problem, flags) => {
    const record = flags.record ? (flags.record.split(",").map((s) => s.trim()).filter(Boolean) as Recordable[]) : undefined;
    return solve(problem, finiteResNet({ record }));
  });
}

export function cmdMeanOde(args: string[]): void {
  problemCommand(args, [], (problem) => solve(problem, meanOde(problem.solver as MeanOdeOptions, "solver")), ["coefficients", "skeletonParams"]);
}

export function cmdDmft(args: string[]): void {
  problemCommand(args, [], (problem) => solve(problem, dmft(problem.solver as DmftOptions, "solver")), ["skeletonParams"]);
}

export function cmdChaos(args: string[]): void {
  const flags = parseKnownFlags(args, ["config", "out"]);
  const problem = loadProblem(requireFlag(flags, "config"));
  const out = checkOutPath(requireFlag(flags, "out"));
  const res = chaos(problem, problem.solver as ChaosOptions, "solver");
  writeResult(out, jsonable({ ...chaosToJSON(res), solver: "chaos", time: res.timings.totalMs / 1000 }));
}
