/**
 * The worker-thread path of the finite ResNet: bit-identical trajectories and
 * weights for 1, 2 and 3 threads, and agreement with a plain (unblocked,
 * single-loop) implementation of MATH §1. No timing assertions here: timings
 * are `npm run bench`. Then the pool's robustness: workers that fail to
 * start, throw, hang or exit give a WorkerThreadError (never a hang); many
 * engines in sequence, interleaved, and across a pool shutdown.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { makeProblem } from "../src/problem/problem.ts";
import { injectWorkerFaultForTests, poolInfo, setPoolOptions, shutdownPool, WorkerThreadError } from "../src/parallel/pool.ts";
import { finiteResNet, trainResNet } from "../src/resnet/solver.ts";
import { initWeights, type ResNetWeights } from "../src/resnet/weights.ts";
import { ResNetEngine } from "../src/resnet/engine.ts";

after(() => shutdownPool());

type Case = { L: number; M: number; D: number; N: number; K: number; act: string; emb: number };
const CASES: Case[] = [
  { L: 3, M: 70, D: 9, N: 5, K: 4, act: "tanh", emb: 1 }, // 2 blocks
  { L: 4, M: 300, D: 65, N: 7, K: 3, act: "gelu", emb: 0 }, // many blocks, D not a multiple of 4
  { L: 5, M: 200, D: 100, N: 1, K: 3, act: "sin", emb: 0 }, // N = 1
];

function problemOf(c: Case) {
  return makeProblem({
    model: { L: c.L, M: c.M, D: c.D, activation: c.act },
    data: { generator: "teacher", dIn: 3, dOut: 2, N: c.N, seed: 4 },
    train: { steps: c.K, etaU: 0.4, etaV: 0.6, etaE: 0.1 * c.emb, etaO: 0.1 * c.emb },
    seed: 9,
  });
}

/** MATH §1 written out plainly (one unit at a time, no blocks), for comparison. */
function plainTrain(p: ReturnType<typeof problemOf>, w: ResNetWeights): number[] {
  const { L, M, D, alpha, activation: act } = p.model;
  const { N, dIn, dOut, X, Y } = p.data;
  const { etaU, etaV, etaE, etaO, steps } = p.train;
  const c = alpha / (L * M);
  const losses: number[] = [];
  for (let k = 0; k < steps; k++) {
    const h: number[][][] = [], pre: number[][][] = [];
    h.push(Array.from({ length: N }, (_, n) => Array.from({ length: D }, (_, d) => { let s = 0; for (let i = 0; i < dIn; i++) s += w.WE[d * dIn + i] * X[i * N + n]; return s; })));
    for (let l = 0; l < L; l++) {
      const hn = h[l].map((r) => r.slice());
      const pl: number[][] = [];
      for (let j = 0; j < M; j++) {
        const u = (l * M + j) * D;
        pl.push(h[l].map((hr) => { let s = 0; for (let d = 0; d < D; d++) s += w.U[u + d] * hr[d]; return s / D; }));
        for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) hn[n][d] += c * act.f(pl[j][n]) * w.V[u + d];
      }
      pre.push(pl); h.push(hn);
    }
    const r = Array.from({ length: dOut }, (_, o) => Array.from({ length: N }, (_, n) => { let s = 0; for (let d = 0; d < D; d++) s += w.WU[d * dOut + o] * h[L][n][d]; return s / D - Y[o * N + n]; }));
    losses.push(r.flat().reduce((a, x) => a + 0.5 * x * x, 0) / N);
    let b = Array.from({ length: N }, (_, n) => Array.from({ length: D }, (_, d) => { let s = 0; for (let o = 0; o < dOut; o++) s += w.WU[d * dOut + o] * r[o][n]; return s; }));
    for (let d = 0; d < D; d++) for (let o = 0; o < dOut; o++) { let s = 0; for (let n = 0; n < N; n++) s += h[L][n][d] * r[o][n]; w.WU[d * dOut + o] -= (etaO / (alpha * N)) * s; }
    for (let l = L - 1; l >= 0; l--) {
      const bn = b.map((x) => x.slice());
      for (let j = 0; j < M; j++) {
        const u = (l * M + j) * D;
        const g = b.map((br, n) => { let s = 0; for (let d = 0; d < D; d++) s += w.V[u + d] * br[d]; return act.df(pre[l][j][n]) * s / D; });
        for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) bn[n][d] += c * g[n] * w.U[u + d];
        for (let d = 0; d < D; d++) {
          let sv = 0, su = 0;
          for (let n = 0; n < N; n++) { sv += act.f(pre[l][j][n]) * b[n][d]; su += g[n] * h[l][n][d]; }
          w.V[u + d] -= (etaV / (alpha * N)) * sv;
          w.U[u + d] -= (etaU / (alpha * N)) * su;
        }
      }
      b = bn;
    }
    for (let d = 0; d < D; d++) for (let i = 0; i < dIn; i++) { let s = 0; for (let n = 0; n < N; n++) s += b[n][d] * X[i * N + n]; w.WE[d * dIn + i] -= (etaE / (alpha * N)) * s; }
  }
  return losses;
}

for (const c of CASES) {
  test(`threads 1, 2, 3 give bit-identical trajectories (L=${c.L}, M=${c.M}, D=${c.D}, N=${c.N}, ${c.act})`, () => {
    const p = problemOf(c);
    const runs = [1, 2, 3].map((threads) => trainResNet(p, { threads, returnWeights: true, record: ["h", "b"] }));
    const ref = runs[0];
    for (const t of runs.slice(1)) {
      assert.deepEqual(Array.from(t.loss), Array.from(ref.loss));
      assert.deepEqual(Array.from(t.f.data as Float64Array), Array.from(ref.f.data as Float64Array));
      assert.deepEqual(Array.from(t.profiles!.b!.data as Float64Array), Array.from(ref.profiles!.b!.data as Float64Array));
      for (const key of ["U", "V", "WE", "WU"] as const) {
        assert.deepEqual(Array.from((t.extras!.weights as ResNetWeights)[key]), Array.from((ref.extras!.weights as ResNetWeights)[key]), key);
      }
    }
  });

  test(`blocked engine matches the plain implementation of MATH §1 (L=${c.L}, M=${c.M}, D=${c.D}, N=${c.N}, ${c.act})`, () => {
    const p = problemOf(c);
    const w = initWeights(p);
    const t = trainResNet(p, { weights: w, threads: 2, returnWeights: true });
    const wPlain = { ...w, U: Float64Array.from(w.U), V: Float64Array.from(w.V), WE: Float64Array.from(w.WE), WU: Float64Array.from(w.WU) };
    const losses = plainTrain(p, wPlain);
    losses.forEach((l, k) => assert.ok(Math.abs(l - t.loss[k]) <= 1e-12 * Math.abs(l), `loss ${k}: ${l} vs ${t.loss[k]}`));
    const wt = t.extras!.weights as ResNetWeights;
    for (const key of ["U", "V", "WE", "WU"] as const) {
      let err = 0, mag = 0;
      for (let i = 0; i < wt[key].length; i++) { err = Math.max(err, Math.abs(wt[key][i] - wPlain[key][i])); mag = Math.max(mag, Math.abs(wPlain[key][i])); }
      assert.ok(err <= 1e-12 * mag, `${key}: max diff ${err}`);
    }
  });
}

test("threads: initialisation drawn in worker threads equals the serial draws; engine threads option and close()", () => {
  const p = problemOf(CASES[1]);
  const serial = initWeights(p);
  const t = trainResNet(p, { threads: 2, returnWeights: true, weights: undefined });
  const t1 = trainResNet(p, { threads: 1, returnWeights: true });
  assert.deepEqual(Array.from((t.extras!.weights as ResNetWeights).U), Array.from((t1.extras!.weights as ResNetWeights).U));
  const w = initWeights(p);
  assert.deepEqual(Array.from(w.U), Array.from(serial.U));
  const eng = new ResNetEngine(p, w, { threads: 2 });
  assert.equal(eng.threads, 2);
  const l0 = eng.forward();
  eng.backwardAndUpdate();
  eng.close();
  const eng1 = new ResNetEngine(p, initWeights(p));
  assert.equal(eng1.forward(), l0);
  assert.throws(() => finiteResNet({ threads: 0 }), /options\.threads/);
  assert.throws(() => finiteResNet({ threads: "many" as unknown as number }), /options\.threads/);
});

// ---------------------------------------------------------------- pool robustness

const bits = (t: ReturnType<typeof trainResNet>) => [Array.from(t.loss), Array.from((t.extras!.weights as ResNetWeights).U)];
/** Many tasks per step (5 blocks, 4 layers): a worker surely takes some. */
const busyProblem = () => problemOf({ L: 4, M: 300, D: 65, N: 7, K: 6, act: "tanh", emb: 0 });

/** Run f with a short stall limit and the fault hook cleared afterwards. */
function withFault<T>(f: () => T): T {
  const prev = setPoolOptions({ stallMs: 400 });
  try {
    return f();
  } finally {
    injectWorkerFaultForTests(null);
    setPoolOptions(prev);
  }
}

test("a worker that fails to load its module gives a WorkerThreadError naming the cause (not a hang); the pool recovers", async () => {
  await shutdownPool();
  const p = busyProblem();
  const t0 = performance.now();
  withFault(() => {
    setPoolOptions({ stallMs: 30000 }); // a load error is reported at once, not by a time-out
    injectWorkerFaultForTests("load");
    assert.throws(() => trainResNet(p, { threads: 2 }), (e: Error) => e instanceof WorkerThreadError && /failed to start: could not load .*parallel-worker-missing/.test(e.message));
  });
  assert.ok(performance.now() - t0 < 20000);
  await new Promise((r) => setTimeout(r, 50)); // let the 'exit' events of terminated workers arrive
  assert.deepEqual(bits(trainResNet(p, { threads: 2, returnWeights: true })), bits(trainResNet(p, { threads: 1, returnWeights: true })));
});

for (const [kind, re] of [["throw", /failed during the (forward|backward) pass: task threw: Error: injected fault/], ["hang", /stopped responding during the (forward|backward) pass/], ["exit", /stopped responding|died/]] as const) {
  test(`a worker that ${kind === "throw" ? "throws" : kind === "hang" ? "hangs without a heartbeat" : "exits"} mid-step gives a WorkerThreadError, the engine refuses to go on, the next run works`, () => {
    const p = busyProblem();
    const ref = bits(trainResNet(p, { threads: 1, returnWeights: true }));
    trainResNet(p, { threads: 2 }); // workers loaded and idle
    const eng = new ResNetEngine(p, initWeights(p), { threads: 2 });
    const t0 = performance.now();
    withFault(() => {
      injectWorkerFaultForTests(kind, 2);
      assert.throws(() => { for (let k = 0; k < 50; k++) { eng.forward(); eng.backwardAndUpdate(); } }, (e: Error) => e instanceof WorkerThreadError && re.test(e.message));
    });
    assert.ok(performance.now() - t0 < 20000);
    assert.throws(() => eng.forward(), /worker threads failed earlier/);
    eng.close(); // no-op, never throws or waits
    assert.deepEqual(bits(trainResNet(p, { threads: 2, returnWeights: true })), ref);
  });
}

test("many engines: in sequence over changing shapes, and interleaved (alive at once) give the single-thread bits", () => {
  const shapes: Case[] = [CASES[0], CASES[1], CASES[2], { L: 2, M: 129, D: 33, N: 3, K: 2, act: "sin", emb: 1 }];
  for (let r = 0; r < 3; r++)
    for (const c of shapes) {
      const p = problemOf(c);
      assert.deepEqual(bits(trainResNet(p, { threads: 2, returnWeights: true })), bits(trainResNet(p, { threads: 1, returnWeights: true })));
    }
  // three engines open at once, their steps interleaved, one of them with 3 threads
  const ps = [problemOf(CASES[0]), problemOf(CASES[1]), problemOf(CASES[2])];
  const engs = ps.map((p, i) => new ResNetEngine(p, initWeights(p), { threads: i === 1 ? 3 : 2 }));
  const refs = ps.map((p) => new ResNetEngine(p, initWeights(p), { threads: 1 }));
  for (let k = 0; k < 3; k++)
    for (let i = 0; i < 3; i++) {
      assert.equal(engs[i].forward(), refs[i].forward());
      engs[i].backwardAndUpdate(); refs[i].backwardAndUpdate();
    }
  engs.forEach((e, i) => assert.deepEqual(Array.from(e.V), Array.from(refs[i].V)));
  engs.forEach((e) => e.close());
  assert.equal(poolInfo().openSessions, 0);
  assert.equal(poolInfo().busy, 0);
});

test("shutdownPool while an engine is open: the engine goes on single-threaded with the same bits; the pool restarts", async () => {
  const p = busyProblem();
  const eng = new ResNetEngine(p, initWeights(p), { threads: 2 });
  const ref = new ResNetEngine(p, initWeights(p), { threads: 1 });
  assert.equal(eng.forward(), ref.forward());
  eng.backwardAndUpdate(); ref.backwardAndUpdate();
  await shutdownPool();
  assert.equal(poolInfo().workers, 0);
  assert.equal(eng.forward(), ref.forward());
  eng.backwardAndUpdate(); ref.backwardAndUpdate();
  assert.deepEqual(Array.from(eng.U), Array.from(ref.U));
  eng.close(); eng.close();
  await shutdownPool(); // twice is fine
  assert.deepEqual(bits(trainResNet(p, { threads: 2, returnWeights: true })), bits(trainResNet(p, { threads: 1, returnWeights: true })));
  assert.ok(poolInfo().workers >= 1);
});
