/** Problem builders shared by the tests. */
import { makeProblem, type Problem, type ProblemInput } from "../../src/problem/problem.ts";
import { initEmbeddings } from "../../src/problem/embeddings.ts";

/** A problem with explicit, fixed embeddings: changing its seed then only redraws U, V of finite models. */
export function fixedEmbeddings(input: ProblemInput): Problem {
  const p = makeProblem(input);
  const { WE, WU } = initEmbeddings(p);
  return { ...p, init: { WE, WU } };
}
