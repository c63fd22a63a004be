/**
 * The two-thread QMC path of the skeleton coefficients (src/skeleton/parallel.ts, on the pool of src/parallel/pool.ts):
 * bit-identical to one thread (coefficients, standard errors, whole Mean ODE and
 * DMFT solves), worker failures are clear errors (never hangs), `threads` is validated.
 */
import { test } from "node:test";
import { gspace } from "./helpers/gspace.ts";
import assert from "node:assert/strict";
import { stream } from "../src/core/rng.ts";
import { ValidationError } from "../src/core/errors.ts";
import { backwardCoefficients, forwardCoefficients, type CovarianceFactors } from "../src/skeleton/coefficients.ts";
import { expectationEngine } from "../src/skeleton/expectation.ts";
import { SKELETON_WORKERS, SkeletonWorkerError } from "../src/skeleton/parallel.ts";
import { injectWorkerFaultForTests, poolInfo, setPoolOptions, shutdownPool } from "../src/parallel/pool.ts";
import { makeProblem } from "../src/problem/problem.ts";
import { solve } from "../src/problem/algorithm.ts";
import { meanOde } from "../src/limits/mean-ode.ts";
import { dmft } from "../src/limits/dmft.ts";

const sameBits = (a: ArrayLike<number> | null, b: ArrayLike<number> | null, what: string) => {
  assert.ok(a !== null && b !== null, `${what}: missing array`);
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) assert.ok(Object.is(a[i], b[i]), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};

/** n × r factor F and its Gram F Fᵀ. */
function factor(n: number, r: number, seed: number): { F: Float64Array; G: Float64Array } {
  const F = new Float64Array(n * r);
  stream(seed, n * 100 + r).fillNormal(F);
  for (let i = 0; i < F.length; i++) F[i] *= 0.6;
  const G = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let l = 0; l < r; l++) s += F[i * r + l] * F[j * r + l];
    G[i * n + j] = s;
  }
  for (let i = 0; i < n; i++) G[i * n + i] += 0.1; // full rank for the eigen root
  return { F, G };
}

test("coefficients: threads 2 ≡ threads 1 bit for bit (tanh, gelu; forward, backward; several k, N; eigen root and low-rank factors)", () => {
  const engine = expectationEngine({ kind: "qmc", samples: 4096, randomizations: 8, seed: 3 });
  const odd = expectationEngine({ kind: "qmc", samples: 1536, randomizations: 3, seed: 5 });
  for (const activation of ["tanh", "gelu"] as const) {
    const params = { etaU: 0.8, etaV: 1.1, alpha: 1.2, activation, sigmaU: 0.9, sigmaV: 1.1 };
    for (const [k, N] of [[1, 1], [2, 2], [3, 1]] as const) {
      for (const dir of ["forward", "backward"] as const) {
        const nU = (k + 1) * N, nV = (dir === "forward" ? k : k + 1) * N;
        const H = factor(nU, 3, 1 + k), Bf = factor(nV, 3, 7 + k);
        // the factors' Grams (without the ridge) for the low-rank path
        const strip = (G: Float64Array, n: number) => { const g = G.slice(); for (let i = 0; i < n; i++) g[i * n + i] -= 0.1; return g; };
        const fac: CovarianceFactors = { U: H.F, ru: 3, V: Bf.F, rv: 3 };
        const fn = dir === "forward" ? forwardCoefficients : backwardCoefficients;
        for (const eng of [engine, odd]) {
          for (const useF of [false, true]) {
            const GH = useF ? strip(H.G, nU) : H.G, GB = useF ? strip(Bf.G, nV) : Bf.G;
            const f = useF ? fac : undefined;
            const r1 = fn(k, N, GH, GB, params, eng, undefined, f, 1);
            const r2 = fn(k, N, GH, GB, params, eng, undefined, f, 2);
            const what = `${activation} ${dir} k=${k} N=${N} R=${eng.randomizations} ${useF ? "factors" : "eigen"}`;
            sameBits(r1.C, r2.C, `${what} C`);
            sameBits(r1.stderr, r2.stderr, `${what} stderr`);
            assert.ok(r1.C.some((x) => x !== 0), `${what}: non-trivial`);
          }
        }
      }
    }
  }
});

const spec = (activation: "tanh" | "gelu") => ({
  model: { L: 1, M: 1, D: 16, activation },
  data: { generator: "teacher" as const, dIn: 2, dOut: 1, N: 2, seed: 2, nonlinearity: "tanh" as const },
  train: { steps: 3, etaU: 1, etaV: 1 },
  seed: 1,
});

test("whole G-space solves (the tests' cross-check engine): eigen and embedding factor, finite D and the limit E, with threads 2 ≡ threads 1 bit for bit", () => {
  for (const activation of ["tanh", "gelu"] as const) {
    const p = makeProblem(spec(activation));
    for (const factor of ["eigen", "embedding"] as const) {
      const run = (threads: 1 | 2) => gspace(p, { scheme: "heun", depthSteps: 2, richardson: true, expectation: { kind: "qmc", samples: 2048, factor, threads } });
      const a = run(1), b = run(2);
      sameBits(a.f.data, b.f.data, `${activation} meanOde ${factor} f`);
    }
    const d = (threads: 1 | 2) => gspace(p, { limit: "dmft", scheme: "heun", depthSteps: 2, richardson: true, expectation: { kind: "qmc", samples: 2048, threads } });
    sameBits(d(1).f.data, d(2).f.data, `${activation} dmft f`);
  }
});

test("worker failures (throw, hang, failed load) are SkeletonWorkerErrors, not hangs; the next call starts a new worker", async () => {
  const engine = expectationEngine({ kind: "qmc", samples: 8192, randomizations: 8, seed: 1 });
  const params = { etaU: 1, etaV: 1, alpha: 1, activation: "tanh" as const };
  const H = factor(4, 4, 1), B = factor(2, 2, 2);
  const call = (threads: 1 | 2) => forwardCoefficients(1, 2, H.G, B.G, params, engine, undefined, undefined, threads);
  const ref = call(1);
  sameBits(call(2).C, ref.C, "warm-up");
  const prev = setPoolOptions({ stallMs: 400 });
  try {
    for (const kind of ["throw", "hang", "load"] as const) {
      if (kind === "load") await shutdownPool(SKELETON_WORKERS);
      injectWorkerFaultForTests(kind);
      const t0 = performance.now();
      assert.throws(() => call(2), (e: unknown) => {
        assert.ok(e instanceof SkeletonWorkerError, `${kind}: ${e}`);
        const m = (e as Error).message;
        assert.match(m, /skeleton worker thread #\d+/);
        assert.match(m, kind === "throw" ? /injected fault/ : kind === "hang" ? /no heartbeat/ : /could not load/);
        return true;
      });
      injectWorkerFaultForTests(null);
      assert.ok(performance.now() - t0 < 20000, `${kind}: took ${performance.now() - t0} ms`);
      sameBits(call(2).C, ref.C, `after ${kind}`);
    }
  } finally {
    injectWorkerFaultForTests(null);
    setPoolOptions(prev);
  }
  await shutdownPool(SKELETON_WORKERS);
  assert.equal(poolInfo(SKELETON_WORKERS).workers, 0);
});

test("bad threads values are ValidationErrors naming the field", () => {
  const p = makeProblem(spec("tanh"));
  for (const threads of [0, 3, 1.5, "two", null, true]) {
    assert.throws(() => solve(p, meanOde({ expectation: { kind: "qmc", samples: 256, threads } as never })),
      (e: unknown) => e instanceof ValidationError && e.field === "options.expectation.threads", `threads = ${String(threads)}`);
    const engine = expectationEngine({ kind: "qmc", samples: 256 });
    assert.throws(() => forwardCoefficients(1, 1, [1, 0, 0, 1], [1], { etaU: 1, etaV: 1, alpha: 1, activation: "tanh" }, engine, undefined, undefined, threads as never),
      (e: unknown) => e instanceof ValidationError && e.field === "threads");
  }
});
