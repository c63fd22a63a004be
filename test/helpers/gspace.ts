/**
 * The G-space skeleton solver (src/skeleton/gspace.ts) as the tests' independent second
 * algorithm: it is no longer behind meanOde / dmft, which run the factor form.
 */
import { solveSkeletonCore } from "../../src/skeleton/core.ts";
import { embeddingGram, initEmbeddings, limitEmbeddingGram } from "../../src/problem/embeddings.ts";
import type { Problem } from "../../src/problem/problem.ts";
import { gspaceTrajectory } from "../../src/skeleton/gspace.ts";
import { bindExpectation } from "../../src/skeleton/options.ts";
import type { Scheme } from "../../src/depth/integrators.ts";

export interface GspaceOptions {
  scheme?: Scheme;
  depthSteps?: number;
  richardson?: boolean;
  /** G-space engine options: kind, samples, randomizations, seed, factor, threads, nodes. */
  expectation?: Record<string, unknown>;
  /** "dmft": the limit E instead of the problem's embeddings. */
  limit?: "meanOde" | "dmft";
}

/** The G-space skeleton trajectory of a problem (Mean ODE at finite D, or the DMFT limit). */
export function gspace(p: Problem, o: GspaceOptions = {}) {
  const { dIn, dOut } = p.data;
  let E: Float64Array;
  if (o.limit === "dmft") E = limitEmbeddingGram(dIn, dOut, p.model.sigmaIn, p.model.sigmaOut);
  else {
    const { WE, WU } = initEmbeddings(p);
    E = embeddingGram(WE, WU, p.model.D, dIn, dOut);
  }
  const expectation = bindExpectation(p.model.activation, o.expectation, "expectation");
  return gspaceTrajectory(p, E, { scheme: o.scheme ?? "rk4", depthSteps: o.depthSteps ?? 3, richardson: o.richardson ?? false, expectation });
}

export { solveSkeletonCore };
