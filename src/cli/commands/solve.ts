/**
 * The solver commands: one problem file in, one result file out.
 *
 *   limitdyn train   --config problem.json --out result.json [--record h,b,p,gram]   finite ResNet
 *   limitdyn meanode --config problem.json --out result.json [--record gram,kl,h,b] Mean ODE
 *   limitdyn dmft    --config problem.json --out result.json [--record gram,kl]     D → ∞
 *   limitdyn chaos   --config problem.json --out result.json                    large M
 *
 * Algorithm options come from the problem file's "solver" object (errors name `solver.<key>`);
 * `--record a,b` adds to its `record` list (the MATH §8 diagnostics "gram", "kl"; profiles);
 * a name the solver cannot record is an error naming --record.
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


/** The names of `--record a,b` (none: undefined). */
function recordFlag(flags: Record<string, string>): string[] | undefined {
  if (flags.record === undefined) return undefined;
  const names = flags.record.split(",").map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new ValidationError("--record", `needs a comma-separated list of names (got ${JSON.stringify(flags.record)})`);
  return names;
}

/**
 * The solver options with `--record` names added to solver.record; the constructor's errors
 * about a flag name are reported as errors of --record (others keep their solver.<key> field).
 */
function withRecord<T>(problem: Problem, flags: Record<string, string>, build: (opts: Record<string, unknown>) => T): T {
  const names = recordFlag(flags);
  const solver = { ...problem.solver };
  const given = Array.isArray(solver.record) ? (solver.record as unknown[]) : [];
  if (names) solver.record = [...given, ...names.filter((n) => !given.includes(n))];
  try {
    return build(solver);
  } catch (e) {
    const m = e instanceof ValidationError ? /^solver\.record\[(\d+)\]$/.exec(e.field) : null;
    if (!m || !names || Number(m[1]) < given.length) throw e;
    const i = names.indexOf((solver.record as unknown[])[Number(m[1])] as string);
    throw new ValidationError(`--record[${i}]`, (e as Error).message.slice((e as Error).message.indexOf(" ") + 1));
  }
}

export function cmdTrain(args: string[]): void {
  problemCommand(args, ["record"], (problem, flags) => {
    const record = recordFlag(flags) as Recordable[] | undefined;
    let alg;
    try {
      alg = finiteResNet({ record }, "train");
    } catch (e) {
      if (e instanceof ValidationError && e.field.startsWith("train.record")) throw new ValidationError(`--record${e.field.slice("train.record".length)}`, e.message.slice(e.message.indexOf(" ") + 1));
      throw e;
    }
    return solve(problem, alg);
  });
}

export function cmdMeanOde(args: string[]): void {
  problemCommand(args, ["record"], (problem, flags) => solve(problem, withRecord(problem, flags, (o) => meanOde(o as MeanOdeOptions, "solver"))), ["coefficients", "skeletonParams"]);
}

export function cmdDmft(args: string[]): void {
  problemCommand(args, ["record"], (problem, flags) => solve(problem, withRecord(problem, flags, (o) => dmft(o as DmftOptions, "solver"))), ["skeletonParams"]);
}

/** The chaos result file: the diagnostics at the top level (docs/chaos.md), the limit's f̄, loss̄ under `limit` and as f, loss. */
export function cmdChaos(args: string[]): void {
  problemCommand(args, [], (problem) => solve(problem, chaosSimulator(problem.solver as ChaosOptions, "solver")), [], ({ extras, ...json }, traj) => {
    const { limit, ...diagnostics } = extras as Record<string, unknown> & { limit: Record<string, unknown> };
    return { ...diagnostics, ...json, limit: { ...limit, f: toNested(traj.f.data, traj.f.shape), loss: Array.from(traj.loss) } };
  });
}
