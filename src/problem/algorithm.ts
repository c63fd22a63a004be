/**
 * Problem → solve(problem, algorithm) → Trajectory (ARCHITECTURE.md).
 *
 * An algorithm is a value: its name, what it requires of a problem, `bind`
 * (the options given to its constructor, validated there, completed with
 * every default that depends on the problem) and `run` (which uses exactly
 * the bound options). `solve` binds, checks the declared requirements once,
 * runs, and the Trajectory records the bound options — so what an algorithm
 * shows, what runs and what a result file records are one and the same, and
 * `solve(problem, ctor(traj.options))` reruns a solve bit for bit.
 */
import { requireSecondDerivative } from "../core/activations.ts";
import { ValidationError } from "../core/errors.ts";
import { assertProblem, embeddingsTrained, type Problem } from "./problem.ts";
import type { Trajectory } from "./trajectory.ts";

/**
 * What an algorithm needs from a problem:
 *  - "frozenEmbeddings": η_E = η_O = 0 (the limit solvers of MATH §2–5 assume it);
 *  - "secondDerivative": the activation has σ″ (the skeleton maps, MATH §3).
 */
export type Requirement = "frozenEmbeddings" | "secondDerivative";

export interface Algorithm<Options extends object = object, Extras extends object = object> {
  readonly name: string;
  readonly requires: readonly Requirement[];
  /** The complete options for this problem (defaults resolved; problem-dependent checks). */
  bind(problem: Problem): Options;
  /** Solve with bound options (from bind, or recorded in a Trajectory). */
  run(problem: Problem, options: Options): Trajectory<Extras, Options>;
}

/**
 * Throw the requirement's one ValidationError if the problem does not meet it
 * (`who` names the solver; σ″ has the text of core/activations
 * requireSecondDerivative, which the skeleton maps use too).
 */
export function checkRequirement(problem: Problem, r: Requirement, who: string): void {
  if (r === "frozenEmbeddings") {
    if (!embeddingsTrained(problem)) return;
    const field = problem.train.etaE !== 0 ? "train.etaE" : "train.etaO";
    throw new ValidationError(field, `must be 0: ${who} assumes frozen embeddings (MATH §1); set train.etaE = train.etaO = 0 (got etaE = ${problem.train.etaE}, etaO = ${problem.train.etaO})`);
  }
  requireSecondDerivative(problem.model.activation, "model.activation");
}

/** checkRequirement for each requirement. */
export function checkRequirements(problem: Problem, requires: readonly Requirement[], who: string): void {
  for (const r of requires) checkRequirement(problem, r, who);
}

export function solve<Options extends object, Extras extends object>(problem: Problem, algorithm: Algorithm<Options, Extras>): Trajectory<Extras, Options> {
  assertProblem(problem);
  if (!algorithm || typeof algorithm !== "object" || typeof algorithm.run !== "function" || typeof algorithm.bind !== "function") {
    throw new ValidationError("algorithm", "must be an algorithm value such as finiteResNet() or meanOde({...})");
  }
  checkRequirements(problem, algorithm.requires, algorithm.name);
  const options = algorithm.bind(problem);
  return algorithm.run(problem, options);
}
