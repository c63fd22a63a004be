/**
 * Long studies of the factor-form skeleton engine (npm run verify); the short versions are
 * in test/skeleton-factor.test.ts.
 *
 * Error-estimate coverage: over 60 random small problems (tanh / sin / gelu, d ≤ 5, N ≤ 3,
 * K ≤ 5, random α, σ_u, σ_v, η, finite D or the DMFT limit), the default solve's largest
 * error against an independent heavy reference (ibp, 8 × 2^15 points, rk4 S = 12: its own
 * error is ≈ 10× below the defaults') must be below 2× the default's own estimate in ≥ 90%
 * of them. The measured rate is printed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeProblem } from "../../src/problem/problem.ts";
import { type Algorithm, solve } from "../../src/problem/algorithm.ts";
import type { SkeletonExtras } from "../../src/skeleton/solve.ts";
import { embeddingGram, initEmbeddings, limitEmbeddingGram } from "../../src/problem/embeddings.ts";
import { meanOde } from "../../src/limits/mean-ode.ts";
import { dmft } from "../../src/limits/dmft.ts";
import { factorModelOf, solveFactor } from "../../src/skeleton/factor-solve.ts";
import { threadedRunner } from "../../src/skeleton/factor-parallel.ts";
import { StreamFamily } from "../../src/core/rng.ts";
import { DivergenceError } from "../../src/core/errors.ts";

test("verify: error-estimate coverage of the defaults over 60 random small problems: true error ≤ 2× estimate in ≥ 90%", () => {
  const u = new StreamFamily(2026).get(0);
  const unif = () => (u.nextInt32() >>> 0) / 2 ** 32;
  let ok = 0;
  const n = 60;
  const ratios: number[] = [];
  const diverged: string[] = [];
  // draw problems until n have a finite limit; a problem whose default solve diverges must
  // diverge in the heavy reference too (else the divergence is the sampler's, a failure)
  for (let j = 0, solved = 0; solved < n; j++) {
    if (j >= 2 * n) assert.fail(`more than ${n} of ${j} random problems diverged: ${diverged.join("; ")}`);
    const act = ["tanh", "sin", "gelu"][j % 3];
    const dIn = 1 + Math.floor(unif() * 3), dOut = 1 + Math.floor(unif() * 2);
    const N = 1 + Math.floor(unif() * 3), K = 2 + Math.floor(unif() * 4);
    const limit = unif() < 0.3;
    const p = makeProblem({
      model: { D: 6 + Math.floor(unif() * 10), activation: act, alpha: 0.6 + unif(), sigmaU: 0.7 + 0.6 * unif(), sigmaV: 0.7 + 0.6 * unif(), sigmaIn: 0.7 + 0.6 * unif(), sigmaOut: 0.7 + 0.6 * unif() },
      data: { generator: "teacher", dIn, dOut, N, seed: 10 + j },
      train: { steps: K, etaU: 0.2 + unif(), etaV: 0.2 + unif() },
      seed: 100 + j,
    });
    let E: Float64Array;
    if (limit) E = limitEmbeddingGram(dIn, dOut, p.model.sigmaIn, p.model.sigmaOut);
    else { const { WE, WU } = initEmbeddings(p); E = embeddingGram(WE, WU, p.model.D, dIn, dOut); }
    const reference = () => solveFactor(factorModelOf(p), E, {
      scheme: "rk4", depthSteps: 12, rule: "sobol", points: 1 << 15, randomizations: 8, seed: 777, nodes: 0,
      estimator: "ibp", controlVariate: "none", depthError: false, tol: null, maxPoints: 1 << 20, maxDepthSteps: 64,
    }, {}, threadedRunner("auto"));
    let t;
    try {
      t = solve(p, (limit ? dmft() : meanOde()) as Algorithm<object, SkeletonExtras>);
    } catch (e) {
      if (!(e instanceof DivergenceError)) throw e;
      assert.throws(reference, DivergenceError, `problem ${j}: the default solve diverged at step ${e.step} (${e.quantity}) but the heavy reference did not`);
      diverged.push(`#${j} (${act}, η_u = ${p.train.etaU.toFixed(2)}, η_v = ${p.train.etaV.toFixed(2)}, α = ${p.model.alpha.toFixed(2)}): step ${e.step}`);
      continue;
    }
    solved++;
    const ref = reference();
    let err = 0;
    for (let i = 0; i < ref.f.length; i++) err = Math.max(err, Math.abs(t.f.data[i] - ref.f[i]));
    const ratio = err / t.extras.error.max;
    ratios.push(ratio);
    if (ratio <= 2) ok++;
  }
  ratios.sort((a, b) => a - b);
  const rate = ok / n;
  if (diverged.length) console.log(`${diverged.length} problems diverged in both the default solve and the reference and were replaced: ${diverged.join("; ")}`);
  console.log(`coverage: ${ok}/${n} = ${(100 * rate).toFixed(0)}% with true error ≤ 2× estimate; ratio quantiles 50% ${ratios[n >> 1].toFixed(2)}, 90% ${ratios[Math.floor(0.9 * n)].toFixed(2)}, max ${ratios[n - 1].toFixed(2)}`);
  assert.ok(rate >= 0.9, `coverage ${rate}`);
});
