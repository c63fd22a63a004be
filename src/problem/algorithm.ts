/**
 * Problem → solve(problem, algorithm) → Trajectory. An algorithm is a value
 * (its name, its resolved options and a run function), not a code path.
 */
import { ValidationError } from "../core/errors.ts";
import type { Problem } from "./problem.ts";
import type { Trajectory } from "./trajectory.ts";

export interface Algorithm {
  readonly name: string;
  readonly options: Record<string, unknown>;
  run(problem: Problem): Trajectory;
}

export function solve(problem: Problem, algorithm: Algorithm): Trajectory {
  // A validated Problem has typed data, a resolved activation and an init object; a raw
  // ProblemInput (or anything else) would fail later with a TypeError deep in a solver.
  const p = problem as Partial<Problem> | null | undefined;
  if (!p || typeof p !== "object" || !p.model || !p.data || !(p.data.X instanceof Float64Array) || !(p.data.Y instanceof Float64Array)
    || typeof p.model.activation?.f !== "function" || !p.train || !p.init || typeof p.init !== "object") {
    throw new ValidationError("problem", "must be a Problem from makeProblem / parseProblem / loadProblem (got an unvalidated object; pass it through makeProblem first)");
  }
  if (!algorithm || typeof algorithm.run !== "function") {
    throw new ValidationError("algorithm", "must be an algorithm value such as finiteResNet() or meanOde({...})");
  }
  return algorithm.run(problem);
}
