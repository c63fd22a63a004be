/**
 * Order of accuracy of every solver against an INDEPENDENT fine solution
 * (not the solver's own finer grid, which a consistently wrong field would
 * match): a test that solves the wrong ODE fails here even if it converges.
 *
 *   meanOde (skeleton, linear σ)  vs the second-moment ODE in R^D (test/helpers/linear-moments.ts:
 *                                   no coefficient coordinates, no skeleton maps, no integration by parts)
 *   dmft (linear σ)               vs the same moment ODE with embeddings W = √r·diag(σ_in, σ_out)
 *                                   (D = r: WᵀW/D is exactly the limit Gram matrix)
 *   largeWidth (in 1/L)           vs the moment ODE
 *   meanOde (particles)           vs the finite ResNet whose L layers all start from the same P units
 *                                   (the engine of src/resnet/, Richardson over L = 2048, 4096)
 *   finiteResNet (in 1/L)         vs the particle Mean ODE with those units (RK4, 256 steps)
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeProblem, type Problem, type ProblemInput } from "../src/problem/problem.ts";
import { solve } from "../src/problem/algorithm.ts";
import { initEmbeddings } from "../src/problem/embeddings.ts";
import { DepthGrid } from "../src/depth/grid.ts";
import { richardson } from "../src/depth/richardson.ts";
import { meanOde } from "../src/limits/mean-ode.ts";
import { dmft } from "../src/limits/dmft.ts";
import { largeWidth } from "../src/limits/large-width.ts";
import { drawParticles, solveParticleMeanOde, type ParticleSet } from "../src/particles/mean-ode.ts";
import { trainResNet } from "../src/resnet/solver.ts";
import { linearMomentMeanOde } from "./helpers/linear-moments.ts";
import { assertOrder, maxAbsDiff } from "./helpers/numeric.ts";
import { sameUnits } from "./helpers/problems.ts";

const linear: ProblemInput = {
  model: { D: 5, activation: "linear", alpha: 1.2, sigmaU: 0.9, sigmaV: 1.1 },
  data: { generator: "teacher", dIn: 2, dOut: 2, N: 2, seed: 4 },
  train: { steps: 4, etaU: 0.6, etaV: 0.5 },
  seed: 3,
};

/** The moment ODE of a linear problem with embeddings WE, WU (D rows), on an RK4 grid of S steps: f. */
function moments(p: Problem, WE: Float64Array, WU: Float64Array, D: number, S = 256): Float64Array {
  const { alpha, sigmaU, sigmaV } = p.model;
  return linearMomentMeanOde({ ...p.data, K: p.train.steps, D, WE, WU, alpha, sigmaU, sigmaV, etaU: p.train.etaU, etaV: p.train.etaV, grid: new DepthGrid("rk4", S) }).f;
}

test("meanOde (skeleton, linear σ) vs the moment ODE: euler 1, heun 2, rk4 4", () => {
  const p = makeProblem(linear);
  const { WE, WU } = initEmbeddings(p);
  const ref = moments(p, WE, WU, p.model.D);
  for (const [scheme, Ss, order] of [["euler", [8, 16, 32, 64], 1], ["heun", [4, 8, 16, 32], 2], ["rk4", [2, 4, 8, 16], 4]] as const) {
    assertOrder(`meanOde ${scheme}`, [...Ss], (S) => maxAbsDiff(solve(p, meanOde({ scheme, depthSteps: S, richardson: false })).f.data, ref), order);
  }
});

test("dmft (linear σ) vs the moment ODE with embeddings whose Gram matrix is the limit one: heun 2, rk4 4", () => {
  const p = makeProblem({ ...linear, model: { ...linear.model, sigmaIn: 0.8, sigmaOut: 1.3 } });
  const { dIn, dOut } = p.data;
  const r = dIn + dOut;
  // W = [W_E W_U] = √r · diag(σ_in, …, σ_out) (D = r rows): WᵀW / D = diag(σ_in² I, σ_out² I), the D → ∞ Gram matrix
  const WE = new Float64Array(r * dIn), WU = new Float64Array(r * dOut);
  for (let i = 0; i < dIn; i++) WE[i * dIn + i] = Math.sqrt(r) * p.model.sigmaIn;
  for (let o = 0; o < dOut; o++) WU[(dIn + o) * dOut + o] = Math.sqrt(r) * p.model.sigmaOut;
  const ref = moments(p, WE, WU, r);
  // (rk4 from S = 4: at S = 2 the closed-form DMFT is pre-asymptotic, measured ratio 23 between S = 2 and 4)
  for (const [scheme, Ss, order] of [["heun", [4, 8, 16, 32], 2], ["rk4", [4, 8, 16, 32], 4]] as const) {
    assertOrder(`dmft ${scheme}`, [...Ss], (S) => maxAbsDiff(solve(p, dmft({ scheme, depthSteps: S, richardson: false })).f.data, ref), order);
  }
});

test("largeWidth (the M = ∞ ResNet at depth L) vs the moment ODE: order 1 in 1/L", () => {
  const p = makeProblem(linear);
  const { WE, WU } = initEmbeddings(p);
  const ref = moments(p, WE, WU, p.model.D);
  assertOrder("largeWidth", [4, 8, 16, 32], (L) => maxAbsDiff(solve({ ...p, model: { ...p.model, L } }, largeWidth()).f.data, ref), 1, 0.15);
});

// ---------------------------------------------------------------- particles ↔ finite ResNet

const tanhSpec: ProblemInput = {
  model: { D: 4, activation: "tanh", alpha: 1.3 },
  data: { generator: "teacher", dIn: 3, dOut: 2, N: 2, seed: 5 },
  train: { steps: 3, etaU: 0.7, etaV: 0.4 },
  seed: 21,
};


test("meanOde (particles) vs the finite ResNet of L layers of the same units (Richardson over L = 2048, 4096): euler 1, heun 2, rk4 4", () => {
  const p = makeProblem(tanhSpec);
  const units = drawParticles(p, 24, 7);
  const fin = (L: number) => trainResNet(sameUnits(p, units, L), { threads: 1 }).f.data;
  const ref = richardson(fin(2048), fin(4096), 1);
  for (const [scheme, Ss, order] of [["euler", [8, 16, 32, 64], 1], ["heun", [4, 8, 16, 32], 2], ["rk4", [2, 4, 8], 4]] as const) {
    assertOrder(`particles ${scheme}`, [...Ss], (S) => maxAbsDiff(solveParticleMeanOde(p, { scheme, depthSteps: S, initialParticles: units }).f.data, ref), order);
  }
});

test("finiteResNet (L layers of the same units) vs the particle Mean ODE of those units (RK4, 256 steps): order 1 in 1/L", () => {
  const p = makeProblem(tanhSpec);
  const units = drawParticles(p, 24, 7);
  const ref = solveParticleMeanOde(p, { scheme: "rk4", depthSteps: 256, initialParticles: units }).f.data;
  const errors = assertOrder("finiteResNet", [8, 16, 32, 64], (L) => maxAbsDiff(trainResNet(sameUnits(p, units, L)).f.data, ref), 1, 0.15);
  assert.ok(errors[3] < errors[0] / 6, "the error falls with L");
});
