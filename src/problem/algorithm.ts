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
  if (!problem || typeof problem !== "object" || !("model" in problem) || !("data" in problem)) {
    throw new ValidationError("problem", "must be a Problem from makeProblem / parseProblem / loadProblem");
  }
  if (!algorithm || typeof algorithm.run !== "function") {
    throw new ValidationError("algorithm", "must be an algorithm value such as finiteResNet() or meanOde({...})");
  }
  return algorithm.run(problem);
}
