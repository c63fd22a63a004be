/**
 * The algorithm contract (src/problem/algorithm.ts): a Trajectory's `options`
 * are exactly the options the algorithm was bound to — what `bind` returns,
 * with no internal flags — and rerunning any solver from the recorded options
 * alone (as objects, and after a JSON round trip through a result file) gives
 * bit-identical outputs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeProblem, type ProblemInput } from "../src/problem/problem.ts";
import { type Algorithm, solve } from "../src/problem/algorithm.ts";
import { jsonable, type Trajectory } from "../src/problem/trajectory.ts";
import { finiteResNet } from "../src/resnet/solver.ts";
import { meanOde } from "../src/limits/mean-ode.ts";
import { dmft } from "../src/limits/dmft.ts";
import { largeWidth } from "../src/limits/large-width.ts";
import { chaosSimulator } from "../src/chaos/simulate.ts";

const spec = (activation: string, L = 2): ProblemInput => ({
  model: { L, M: 3, D: 6, activation },
  data: { generator: "teacher", dIn: 2, dOut: 1, N: 2, seed: 3 },
  train: { steps: 3, etaU: 0.8, etaV: 0.8 },
  seed: 5,
});

const sameBits = (a: ArrayLike<number>, b: ArrayLike<number>, what: string) => {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) assert.ok(Object.is(a[i], b[i]), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};

type Ctor = (options: never) => Algorithm<object, object>;
const cases: { name: string; ctor: Ctor; options: object; activation: string }[] = [
  { name: "finiteResNet", ctor: finiteResNet as Ctor, options: { record: ["h"] }, activation: "tanh" },
  { name: "meanOde skeleton, sampled defaults", ctor: meanOde as Ctor, options: { expectation: { samples: 1000 } }, activation: "tanh" },
  { name: "meanOde skeleton, closed form", ctor: meanOde as Ctor, options: { record: ["h", "b"], recordSteps: [2] }, activation: "linear" },
  { name: "meanOde skeleton, mc + heun", ctor: meanOde as Ctor, options: { scheme: "heun", depthSteps: 2, expectation: { kind: "mc", samples: 301 } }, activation: "gelu" },
  { name: "meanOde particles + Richardson", ctor: meanOde as Ctor, options: { method: "particles", particles: 64, depthSteps: 4 }, activation: "tanh" },
  { name: "dmft", ctor: dmft as Ctor, options: { expectation: { kind: "qmc", samples: 512, randomizations: 4 } }, activation: "tanh" },
  { name: "dmft with tol (refinement replays from the options)", ctor: dmft as Ctor, options: { tol: 2e-3, expectation: { points: 64, randomizations: 4, estimator: "direct" } }, activation: "tanh" },
  { name: "largeWidth skeleton", ctor: largeWidth as Ctor, options: { record: ["h"], expectation: { samples: 512 } }, activation: "sin" },
  { name: "largeWidth particles", ctor: largeWidth as Ctor, options: { method: "particles", particles: 32 }, activation: "tanh" },
  { name: "chaosSimulator", ctor: chaosSimulator as Ctor, options: { R: 2, widths: [4, 8], diagnostics: ["coupling", "tagged", "laws"], lawSamples: 64, expectation: { samples: 256 } }, activation: "tanh" },
];

const INTERNAL = ["depthStepsDefault", "schemeDefault", "largeWidth"];

for (const c of cases) {
  test(`${c.name}: options are the bound options; rerunning from them (object and JSON) is bit-identical`, () => {
    const p = makeProblem(spec(c.activation));
    const alg = c.ctor(c.options as never);
    const t: Trajectory<object, object> = solve(p, alg);
    assert.deepEqual(t.options, alg.bind(p), "trajectory options = bind(problem)");
    for (const k of INTERNAL) assert.ok(!(k in t.options), `internal flag ${k} in the options`);
    for (const opts of [t.options, JSON.parse(JSON.stringify(jsonable(t.options)))]) {
      const again = solve(p, c.ctor(opts as never));
      sameBits(again.f.data, t.f.data, `${c.name} f`);
      sameBits(again.loss, t.loss, `${c.name} loss`);
      assert.deepEqual(jsonable(again.options), jsonable(t.options), "rebinding the bound options changes nothing");
      if (t.profiles?.h) sameBits(again.profiles!.h!.data, t.profiles.h.data, `${c.name} h`);
    }
  });
}

test("the bound options show what runs: the skeleton's per-problem defaults", () => {
  const tanh = makeProblem(spec("tanh")), lin = makeProblem(spec("linear"));
  const sampled = meanOde().bind(tanh);
  assert.deepEqual({ scheme: sampled.scheme, depthSteps: sampled.depthSteps, richardson: sampled.richardson }, { scheme: "rk4", depthSteps: 3, richardson: false });
  // tanh, d = 3, N = 2: 2d·N = 12 ≤ 24, so "auto" is the ibp estimator (skeleton/factor-options.ts)
  assert.deepEqual(sampled.expectation, { rule: "sobol", points: 4096, randomizations: 8, seed: 1, estimator: "ibp", controlVariate: "none", threads: "auto" });
  assert.deepEqual({ tol: sampled.tol, budget: sampled.budget, depthError: sampled.depthError }, { tol: null, budget: { randomizations: 128, points: 1 << 18, depthSteps: 64 }, depthError: true });
  const big = meanOde().bind(makeProblem({ ...spec("tanh"), data: { generator: "teacher", dIn: 3, dOut: 2, N: 4, seed: 1 } }));
  assert.deepEqual([big.expectation.estimator, big.expectation.controlVariate], ["direct", "linear"]);
  const closed = meanOde().bind(lin);
  assert.deepEqual({ scheme: closed.scheme, depthSteps: closed.depthSteps, richardson: closed.richardson }, { scheme: "rk4", depthSteps: 8, richardson: false });
  assert.deepEqual(closed.expectation, { rule: "degree3", estimator: "direct", controlVariate: "none", threads: "auto" });
  assert.deepEqual(meanOde({ scheme: "heun" }).bind(tanh).depthSteps, 16);
  assert.deepEqual(meanOde({ method: "particles" }).bind(tanh), { method: "particles", scheme: "heun", depthSteps: 32, richardson: true, particles: 4096, particleSeed: 5, record: [], recordSteps: [] });
  const lw = largeWidth().bind(makeProblem(spec("tanh", 4)));
  assert.deepEqual({ scheme: lw.scheme, depthSteps: lw.depthSteps, richardson: lw.richardson }, { scheme: "staggered-euler", depthSteps: 4, richardson: false });
  assert.throws(() => largeWidth({ depthSteps: 3 }).bind(makeProblem(spec("tanh", 4))), /options\.depthSteps must be the problem's L = 4/);
});
