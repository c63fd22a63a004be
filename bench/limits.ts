/**
 * Benchmarks of the limit solvers (not tests): `npm run bench:limits`.
 *
 * 1. Skeleton Mean ODE (MATH §3), tanh, D = 256, N = 2, K = 5: time to reach
 *    1e-4 RMS on f_k against a converged reference, and the extrapolated time a
 *    finite ResNet needs for the same accuracy (measured error model
 *    a/√(LM) + c/L fitted on a few sizes, cost measured per L·M).
 * 2. Expectation engines: throughput (samples·dim²/s) and Sobol vs MC error.
 * 3. DMFT (MATH §5), linear σ, d_in = d_out = 3, N = 1, K = 15: time to 1e-6 on
 *    f_k, next to the public reference implementation (Python + scipy,
 *    `CorrelationGenerator` of arXiv 2603.18168's code) when it is available:
 *    set LIMITDYN_REF_DIR to a folder holding its linear_correlations.py (it is
 *    not part of this repository). Nonlinear DMFT: time per GD step vs samples.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeProblem, withChanges, type Problem } from "../src/problem/problem.ts";
import { solve } from "../src/problem/algorithm.ts";
import { trainResNet } from "../src/resnet/solver.ts";
import { initEmbeddings } from "../src/problem/embeddings.ts";
import { meanOde } from "../src/limits/mean-ode.ts";
import { dmft } from "../src/limits/dmft.ts";
import { expectationEngine } from "../src/skeleton/expectation.ts";
import { forwardCoefficients } from "../src/skeleton/coefficients.ts";

const rms = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s / a.length);
};
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};
function timed<T>(fn: () => T, reps = 3): { v: T; ms: number } {
  let best = Infinity, v!: T;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    v = fn();
    best = Math.min(best, performance.now() - t0);
  }
  return { v, ms: best };
}
const only = process.argv.slice(2);
const want = (name: string) => only.length === 0 || only.includes(name);

// ------------------------------------------------------------------ 1. skeleton vs finite ResNet
if (want("skeleton")) {
  const p0 = makeProblem({
    model: { L: 1, M: 1, D: 256, activation: "tanh" },
    data: { generator: "teacher", dIn: 3, dOut: 1, N: 2, seed: 2, nonlinearity: "tanh" },
    train: { steps: 5, etaU: 1, etaV: 1 },
    seed: 1,
  });
  const { WE, WU } = initEmbeddings(p0);
  const p: Problem = { ...p0, init: { WE, WU } };
  console.log("\n# Skeleton Mean ODE vs finite ResNet (tanh, D = 256, N = 2, K = 5, d_in = 3, d_out = 1)");
  // reference: mean of 4 independently scrambled QMC runs at 2^16 points (rk4, S = 8);
  // its error is estimated from the spread of the 4 runs (standard error of their mean)
  const refs = [11, 12, 13, 14].map((seed) => solve(p, meanOde({ scheme: "rk4", depthSteps: 8, richardson: false, expectation: { kind: "qmc", samples: 65536, factor: "embedding", seed } })).f.data);
  const ref = refs[0].map((_, i) => refs.reduce((a, f) => a + f[i], 0) / refs.length);
  const refSe = Math.sqrt(refs.reduce((a, f) => a + rms(f, ref) ** 2, 0) / (refs.length - 1) / refs.length);
  console.log(`reference: mean of 4 scrambled QMC runs at 2^16 points, rk4 S = 8; its standard error ≈ ${refSe.toExponential(2)} RMS`);
  let skeletonMs = NaN;
  // RMS error over 3 independently scrambled point sets (one run's error is heavy-tailed)
  for (const samples of [1024, 4096, 16384, 32768, 65536]) {
    let e2 = 0, msSum = 0;
    for (const seed of [3, 4, 5]) {
      const { v, ms } = timed(() => solve(p, meanOde({ expectation: { kind: "qmc", samples, seed } })).f.data, 1);
      e2 += rms(v, ref) ** 2;
      msSum += ms;
    }
    const e = Math.sqrt(e2 / 3), ms = msSum / 3;
    if (e <= 1e-4 && Number.isNaN(skeletonMs)) skeletonMs = ms;
    console.log(`defaults (rk4 S=3), qmc ${String(samples).padEnd(6)}  RMS err over 3 seeds ${e.toExponential(2)}   ${(ms / 1000).toFixed(2)} s per solve`);
  }
  // finite ResNet: error model a/√(LM) + c/L from RMS over seeds; cost ∝ L·M
  const shapes = [[8, 64], [16, 256], [32, 1024]] as const;
  const R = 6;
  const rowsFit: { L: number; M: number; err: number; ms: number }[] = [];
  for (const [L, M] of shapes) {
    let s = 0, ms = 0;
    for (let r = 0; r < R; r++) {
      const q = { ...withChanges(p, { model: { L, M }, seed: 100 + r }), init: { WE, WU } };
      const t0 = performance.now();
      const f = trainResNet(q).f.data;
      ms += performance.now() - t0;
      for (let i = 0; i < f.length; i++) s += (f[i] - ref[i]) ** 2;
    }
    rowsFit.push({ L, M, err: Math.sqrt(s / (R * ref.length)), ms: ms / R });
  }
  // least squares for (a, c) in err ≈ a/√(LM) + c/L
  let A11 = 0, A12 = 0, A22 = 0, b1 = 0, b2 = 0;
  for (const r of rowsFit) {
    const x1 = 1 / Math.sqrt(r.L * r.M), x2 = 1 / r.L;
    A11 += x1 * x1; A12 += x1 * x2; A22 += x2 * x2; b1 += x1 * r.err; b2 += x2 * r.err;
  }
  const det = A11 * A22 - A12 * A12;
  const a = (A22 * b1 - A12 * b2) / det, c = Math.max(0, (A11 * b2 - A12 * b1) / det);
  const msPerLM = rowsFit[rowsFit.length - 1].ms / (shapes[shapes.length - 1][0] * shapes[shapes.length - 1][1]);
  for (const r of rowsFit) console.log(`finite L=${r.L} M=${r.M}: single-run RMS err ${r.err.toExponential(2)}, ${r.ms.toFixed(1)} ms`);
  // cheapest (L, M) with a/√(LM) + c/L ≤ 1e-4: L = 2c/1e-4 and LM = (2a/1e-4)² (each term half the budget)
  const Lneed = Math.max(1, (2 * c) / 1e-4), LMneed = ((2 * a) / 1e-4) ** 2;
  const finiteMs = msPerLM * Math.max(LMneed, Lneed);
  console.log(`fitted finite error ≈ ${a.toFixed(3)}/√(LM) + ${c.toFixed(4)}/L → 1e-4 needs L ≈ ${Lneed.toFixed(0)}, L·M ≈ ${LMneed.toExponential(2)}: ≈ ${(finiteMs / 1000).toFixed(0)} s (extrapolated at ${(msPerLM * 1e3).toFixed(3)} µs per unit of L·M)`);
  if (Number.isNaN(skeletonMs)) console.log("skeleton did not reach 1e-4 RMS at the sample counts tried");
  else console.log(`skeleton ${(skeletonMs / 1000).toFixed(2)} s vs finite ResNet ≈ ${(finiteMs / 1000).toFixed(0)} s: ratio ≈ ${(finiteMs / skeletonMs).toFixed(0)}× (goal ≥ 20×)`);
}

// ------------------------------------------------------------------ 2. engines
if (want("engines")) {
  console.log("\n# Expectation engines (forward coefficients, tanh, k = 4, N = 2; dimG = 18 with the eigen root)");
  const k = 4, N = 2, nU = (k + 1) * N, nB = k * N;
  // a random SPD Gram pair
  const gram = (n: number, seed: number) => {
    const A = new Float64Array(n * n);
    let x = seed;
    for (let i = 0; i < n * n; i++) { x = (x * 1103515245 + 12345) % 2147483648; A[i] = x / 2147483648 - 0.5; }
    const G = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) { let s = 0; for (let l = 0; l < n; l++) s += A[i * n + l] * A[j * n + l]; G[i * n + j] = s + (i === j ? 0.5 : 0); }
    return G;
  };
  const GH = gram(nU, 1), GB = gram(nB, 2);
  const params = { etaU: 1, etaV: 1, alpha: 1, activation: "tanh" as const };
  const exact = forwardCoefficients(k, N, GH, GB, params, expectationEngine({ kind: "qmc", samples: 1 << 18, seed: 99 })).C;
  for (const samples of [4096, 16384]) {
    for (const kind of ["mc", "qmc"] as const) {
      let e2 = 0, ms = 0;
      const seeds = 6;
      for (let s = 1; s <= seeds; s++) {
        const eng = expectationEngine({ kind, samples, seed: s });
        forwardCoefficients(k, N, GH, GB, params, eng); // build the point set outside the timing
        const t = timed(() => forwardCoefficients(k, N, GH, GB, params, eng).C, 1);
        ms += t.ms;
        e2 += rms(t.v, exact) ** 2;
      }
      const dim = nU + nB;
      console.log(`${kind.padEnd(4)} ${String(samples).padEnd(6)} RMS err ${Math.sqrt(e2 / seeds).toExponential(2)}  ${(ms / seeds).toFixed(1)} ms/call  throughput ${((samples * dim * dim) / (ms / seeds / 1000)).toExponential(2)} samples·dim²/s`);
    }
  }
}

// ------------------------------------------------------------------ 3. DMFT
if (want("dmft")) {
  console.log("\n# DMFT, linear σ, d_in = d_out = 3, N = 1, K = 15 (η_u = η_v = 0.1, α = 1)");
  const x = [0.5, -1.0, 0.3], y = [0.4, -0.2, 0.7];
  const p = makeProblem({ model: { D: 1, activation: "linear" }, data: { X: x.map((v) => [v]), Y: y.map((v) => [v]) }, train: { steps: 15, etaU: 0.1, etaV: 0.1 } });
  const ref = solve(p, dmft({ scheme: "rk4", depthSteps: 128, richardson: false })).f.data;
  const cold = (() => { const t0 = performance.now(); solve(p, dmft({ scheme: "rk4", depthSteps: 3, richardson: false })); return performance.now() - t0; })();
  const { v, ms } = timed(() => solve(p, dmft({ scheme: "rk4", depthSteps: 3, richardson: false })).f.data, 10);
  console.log(`ours: rk4 S = 3 (closed form): max err ${maxAbs(v, ref).toExponential(2)} vs rk4 S = 128; ${ms.toFixed(1)} ms warm, ${cold.toFixed(0)} ms first call (JIT)`);
  const dir = process.env.LIMITDYN_REF_DIR;
  if (dir && existsSync(join(dir, "linear_correlations.py"))) {
    const tmp = mkdtempSync(join(tmpdir(), "limitdyn-ref-"));
    const script = join(tmp, "run.py");
    writeFileSync(script, `import sys, json, time\nsys.path.insert(0, ${JSON.stringify(dir)})\nt0 = time.time()\nimport numpy as np\nfrom linear_correlations import CorrelationGenerator\nt1 = time.time()\ng = CorrelationGenerator(np.array(${JSON.stringify(x)}), np.array(${JSON.stringify(y)}), K=15, a=1.0, eta_u=0.1, eta_v=0.1)\nimport contextlib, io\nwith contextlib.redirect_stdout(io.StringIO()):\n    out = g.run()\nprint(json.dumps({"f": out["f"].tolist(), "solve": time.time() - t1, "total": time.time() - t0}))\n`);
    const t0 = performance.now();
    const r = JSON.parse(execFileSync("python3", [script]).toString().trim().split("\n").pop()!);
    const wall = performance.now() - t0;
    const fr = (r.f as number[][]).flat();
    console.log(`reference (python + scipy, num_s = 1000, rtol 1e-5): solve ${r.solve.toFixed(2)} s, whole process ${(wall / 1000).toFixed(2)} s; max |f_ref − f_ours| = ${maxAbs(fr, ref).toExponential(2)}`);
    console.log(`speed-up: ${((r.solve * 1000) / ms).toFixed(0)}× (solve vs warm solve), ${((r.solve * 1000) / cold).toFixed(0)}× (vs our first call)`);
  } else {
    console.log("reference implementation not found (set LIMITDYN_REF_DIR to a folder with linear_correlations.py to compare)");
  }
  console.log("\n# DMFT, tanh, d_in = 2, d_out = 1, N = 2, K = 5: time per GD step vs samples (defaults: RK4 S = 3)");
  const q = makeProblem({ model: { D: 1, activation: "tanh" }, data: { generator: "teacher", dIn: 2, dOut: 1, N: 2, seed: 3 }, train: { steps: 5, etaU: 1, etaV: 1 } });
  for (const samples of [1024, 4096, 16384]) {
    const { ms: m } = timed(() => solve(q, dmft({ expectation: { kind: "qmc", samples } })), 2);
    console.log(`qmc ${String(samples).padEnd(6)} ${(m / 5).toFixed(0)} ms per GD step`);
  }
}
