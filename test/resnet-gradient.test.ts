/**
 * Gradient check of the finite ResNet (MATH §1).
 *
 * One GD step must equal
 *   Δθ = −η_θ (L M D/α²) ∂𝓛/∂θ      for θ ∈ {U, V},
 *   ΔW = −(η/α) D ∂𝓛/∂W              for W ∈ {W_E, W_U} (when trained; else ΔW = 0),
 * with ∂𝓛/∂θ from finite differences of the loss returned by
 * ResNetEngine.forward(). `gradient()` is checked against the same FD values.
 *
 * FD: fourth-order central stencil (−𝓛(2h)+8𝓛(h)−8𝓛(−h)+𝓛(−2h))/(12h) with
 * h = 1e-3·max(1, |θ|): truncation O(h⁴) ≈ 1e-12 relative, round-off
 * ≈ 1e-16·𝓛/h ≈ 1e-13 — both far below the 1e-6 tolerance. Every parameter
 * entry is checked. Tolerance: for each block, max_i |g_i − fd_i| ≤ 1e-6 ·
 * max_i |fd_i|, and every entry with |fd_i| ≥ 1e-3·max|fd| also has relative
 * error < 1e-6 (deterministic; no false failures).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  makeProblem, initWeights, cloneWeights, gdStep, gradient, trainResNet, ResNetEngine,
  type ResNetWeights, type Problem, type ActivationName,
} from "../src/index.ts";

type Block = "U" | "V" | "WE" | "WU";
const BLOCKS: Block[] = ["U", "V", "WE", "WU"];

/** ∂𝓛/∂θ for every entry of every block (internal layouts), by the 4th-order central stencil. */
function fdGradient(problem: Problem, w0: ResNetWeights): Record<Block, Float64Array> {
  const w = cloneWeights(w0);
  const eng = new ResNetEngine(problem, w);
  const out = {} as Record<Block, Float64Array>;
  for (const blk of BLOCKS) {
    const a = w[blk];
    const g = new Float64Array(a.length);
    for (let i = 0; i < a.length; i++) {
      const x = a[i];
      const h = 1e-3 * Math.max(1, Math.abs(x));
      const at = (t: number) => { a[i] = x + t; return eng.forward(); };
      g[i] = (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h);
      a[i] = x;
    }
    out[blk] = g;
  }
  return out;
}

function assertGradClose(label: string, got: Float64Array, fd: Float64Array, tol = 1e-6): void {
  assert.equal(got.length, fd.length);
  let scale = 0;
  for (const v of fd) scale = Math.max(scale, Math.abs(v));
  assert.ok(scale > 1e-8, `${label}: FD gradient is ~0 (degenerate test)`);
  for (let i = 0; i < fd.length; i++) {
    const err = Math.abs(got[i] - fd[i]);
    assert.ok(err <= tol * scale, `${label}[${i}]: ${got[i]} vs FD ${fd[i]} (abs err ${err}, block scale ${scale})`);
    if (Math.abs(fd[i]) >= 1e-3 * scale) {
      assert.ok(err <= tol * Math.abs(fd[i]), `${label}[${i}]: relative error ${err / Math.abs(fd[i])} ≥ ${tol} (${got[i]} vs FD ${fd[i]})`);
    }
  }
}

interface Case {
  act: ActivationName; trained: boolean;
  L: number; M: number; D: number; dIn: number; dOut: number; N: number; alpha: number;
}

const ETA = { etaU: 0.3, etaV: 0.7, etaE: 0.2, etaO: 0.45 };

function makeCase(c: Case, seed: number): Problem {
  // Data in fixed closed form (no RNG): varied signs and magnitudes.
  const X = Array.from({ length: c.dIn }, (_, i) => Array.from({ length: c.N }, (_, n) => Math.sin(1.3 * i + 0.7 * n + 0.4) * 1.2));
  const Y = Array.from({ length: c.dOut }, (_, o) => Array.from({ length: c.N }, (_, n) => Math.cos(0.9 * o - 1.1 * n)));
  return makeProblem({
    model: { L: c.L, M: c.M, D: c.D, activation: c.act, alpha: c.alpha },
    data: { X, Y },
    train: { steps: 1, etaU: ETA.etaU, etaV: ETA.etaV, etaE: c.trained ? ETA.etaE : 0, etaO: c.trained ? ETA.etaO : 0 },
    seed,
  });
}

const CASES: Case[] = [];
for (const act of ["tanh", "linear", "gelu", "sin"] as ActivationName[])
  for (const trained of [false, true])
    CASES.push({ act, trained, L: 3, M: 2, D: 5, dIn: 2, dOut: 2, N: 3, alpha: act === "linear" ? 0.6 : 1.7 });
// An odd shape: D odd, M > L, d_out = 1, N = 4.
CASES.push({ act: "tanh", trained: true, L: 2, M: 4, D: 7, dIn: 3, dOut: 1, N: 4, alpha: 2.5 });

for (const [ci, c] of CASES.entries()) {
  const label = `${c.act} ${c.trained ? "trained" : "frozen"} embeddings, L=${c.L} M=${c.M} D=${c.D} N=${c.N} α=${c.alpha}`;
  test(`one GD step = −η·scale·∂𝓛/∂θ (FD), ${label}`, () => {
    const problem = makeCase(c, 31 + ci);
    const w0 = initWeights(problem);
    const fd = fdGradient(problem, w0);
    const { L, M, D, alpha } = c;
    const etaOf: Record<Block, number> = {
      U: ETA.etaU, V: ETA.etaV, WE: c.trained ? ETA.etaE : 0, WU: c.trained ? ETA.etaO : 0,
    };
    // Δθ = −η·s_θ·∂𝓛/∂θ with s = LMD/α² (U, V) and D/α (W_E, W_U)  ⇒  ∂𝓛/∂θ = −Δθ/(η·s).
    const scaleOf: Record<Block, number> = { U: (L * M * D) / alpha ** 2, V: (L * M * D) / alpha ** 2, WE: D / alpha, WU: D / alpha };

    // Route 1: gdStep in place.
    const w1 = cloneWeights(w0);
    const loss0 = gdStep(problem, w1);
    // Route 2: trainResNet with K = 1 and returnWeights.
    const traj = trainResNet(problem, { weights: w0, returnWeights: true });
    const w2 = traj.extras!.weights as ResNetWeights;
    assert.equal(traj.loss[0], loss0);
    assert.equal(loss0, new ResNetEngine(problem, cloneWeights(w0)).forward());

    for (const [route, w] of [["gdStep", w1], ["trainResNet", w2]] as const) {
      for (const blk of BLOCKS) {
        const delta = w[blk].map((x, i) => x - w0[blk][i]);
        if (etaOf[blk] === 0) {
          assert.deepEqual(w[blk], w0[blk], `${route}: frozen ${blk} must not change`);
          continue;
        }
        const g = delta.map((d) => -d / (etaOf[blk] * scaleOf[blk]));
        assertGradClose(`${route} ${blk}`, g, fd[blk]);
      }
    }
    // The exported gradient() against FD, every block (whatever the rates).
    const gr = gradient(problem, w0);
    assert.equal(gr.loss, loss0);
    for (const blk of BLOCKS) assertGradClose(`gradient().${blk}`, gr[blk], fd[blk]);
    // gradient() does not modify its input.
    assert.deepEqual(w0, initWeights(problem));
  });
}

test("gradient check on a larger shape, random subset of 200 entries per block", () => {
  const c: Case = { act: "tanh", trained: true, L: 8, M: 6, D: 16, dIn: 3, dOut: 2, N: 5, alpha: 1.3 };
  const problem = makeCase(c, 7);
  const w0 = initWeights(problem);
  const w1 = cloneWeights(w0);
  gdStep(problem, w1);
  const eng = new ResNetEngine(problem, cloneWeights(w0));
  const s = (c.L * c.M * c.D) / c.alpha ** 2;
  const scaleOf: Record<Block, number> = { U: ETA.etaU * s, V: ETA.etaV * s, WE: (ETA.etaE * c.D) / c.alpha, WU: (ETA.etaO * c.D) / c.alpha };
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (const blk of BLOCKS) {
    const a = eng.w[blk];
    const idx = a.length <= 200 ? Array.from({ length: a.length }, (_, i) => i) : Array.from({ length: 200 }, () => Math.floor(rand() * a.length));
    const got = new Float64Array(idx.length), fd = new Float64Array(idx.length);
    idx.forEach((i, r) => {
      const x = a[i];
      const h = 1e-3 * Math.max(1, Math.abs(x));
      const at = (t: number) => { a[i] = x + t; return eng.forward(); };
      fd[r] = (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h);
      a[i] = x;
      got[r] = -(w1[blk][i] - w0[blk][i]) / scaleOf[blk];
    });
    assertGradClose(`large ${blk}`, got, fd);
  }
});
