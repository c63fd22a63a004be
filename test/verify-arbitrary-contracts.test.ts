/**
 * fast-check's arbitrary contracts over every arbitrary exported by
 * src/verify/arbitraries.ts (test/helpers/arbitrary-contracts.ts): the same
 * seed gives the same value, every shrink step is strictly smaller (on the
 * drawn components), and every value along shrink paths is valid — e.g. a
 * shrunk problem input is still accepted by makeProblem with stable rates.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type fc from "fast-check";
import { makeProblem, type Problem } from "../src/problem/problem.ts";
import * as arbs from "../src/verify/arbitraries.ts";
import { sameValueForSameSeed, shrinkContract } from "./helpers/arbitrary-contracts.ts";

const RANK: Record<string, number> = {
  linear: 0, tanh: 1, gelu: 2, sin: 3, // activations, simplest first
  gaussian: 0, rademacher: 1, uniform: 2, mixture: 3, irwinHall: 4, // law kinds
};
const rank = (c: string) => {
  assert.ok(c in RANK, `unranked choice ${c}`);
  return RANK[c];
};

const finite = (xs: number[]) => xs.every((x) => Number.isFinite(x) && !Object.is(x, -0));
const inRange = (x: number, lo: number, hi: number) => Number.isInteger(x) && x >= lo && x <= hi;
const onGrid = (x: number, origin: number, step: number) => Math.abs((x - origin) / step - Math.round((x - origin) / step)) < 1e-9;
const shaped = (m: number[][], r: [number, number], c: [number, number]) =>
  inRange(m.length, ...r) && m.every((row) => row.length === m[0].length) && inRange(m[0].length, ...c) && m.every(finite);
const tinyData = { X: [[0.5]], Y: [[0.25]] };

/** Every exported arbitrary with its validity predicate (a few option variants where they matter). */
const cases: { name: string; arb: fc.Arbitrary<unknown>; valid: (v: never) => boolean }[] = [
  { name: "sizeArb", arb: arbs.sizeArb("n", { min: 2, max: 9 }), valid: (n: number) => inRange(n, 2, 9) },
  { name: "simpleNumber", arb: arbs.simpleNumber({ min: 0.5, max: 2, origin: 1 }), valid: (x: number) => x >= 0.5 && x <= 2 && onGrid(x, 1, 0.25) },
  { name: "simpleNumber (step 0.05)", arb: arbs.simpleNumber({ min: -1, max: 1, step: 0.05 }), valid: (x: number) => Math.abs(x) <= 1 + 1e-12 && onGrid(x, 0, 0.05) },
  { name: "entryArb", arb: arbs.entryArb(), valid: (x: number) => Math.abs(x) <= 2 && onGrid(x, 0, 0.25) && finite([x]) },
  { name: "entryArb (continuous)", arb: arbs.entryArb({ entries: "continuous", bound: 3 }), valid: (x: number) => Math.abs(x) <= 3 && finite([x]) },
  { name: "matrixArb", arb: arbs.matrixArb({ max: 3 }, { min: 2, max: 4 }), valid: (m: number[][]) => shaped(m, [1, 3], [2, 4]) },
  { name: "vectorArb", arb: arbs.vectorArb({ max: 5 }), valid: (v: number[]) => inRange(v.length, 1, 5) && finite(v) },
  {
    name: "vectorPairArb", arb: arbs.vectorPairArb({ max: 4 }),
    valid: ([x, y]: [number[], number[]]) => x.length === y.length && inRange(x.length, 1, 4) && finite(x) && finite(y),
  },
  {
    name: "vectorPairArb (continuous)", arb: arbs.vectorPairArb(3, { entries: "continuous" }),
    valid: ([x, y]: [number[], number[]]) => x.length === 3 && y.length === 3 && finite(x) && finite(y),
  },
  {
    name: "modelSpecArb", arb: arbs.modelSpecArb({ L: { max: 6 } }),
    valid: (m: arbs.ModelSpecInput) => makeProblem({ model: m, data: tinyData, train: { steps: 1, etaU: 0, etaV: 0 } }).model.L <= 6,
  },
  {
    name: "datasetArb", arb: arbs.datasetArb(),
    valid: (d: { X: number[][]; Y: number[][] }) => shaped(d.X, [1, 3], [1, 4]) && shaped(d.Y, [1, 2], [1, 4]) && d.X[0].length === d.Y[0].length,
  },
  {
    name: "scheduleArb (trained embeddings)", arb: arbs.scheduleArb({ trainEmbeddings: true }),
    valid: (t: { steps: number; etaU: number; etaV: number; etaE?: number; etaO?: number }) =>
      makeProblem({ model: { D: 1 }, data: tinyData, train: t }).train.steps <= 3 && [t.etaU, t.etaV, t.etaE!, t.etaO!].every((e) => e >= 0 && e <= 0.5),
  },
  {
    name: "problemInputArb", arb: arbs.problemInputArb(),
    valid: (p: Parameters<typeof makeProblem>[0]) => arbs.stepSizeBound(makeProblem(p)) <= 1 + 1e-12,
  },
  {
    name: "problemInputArb (trained embeddings, target 0.5)", arb: arbs.problemInputArb({ train: { trainEmbeddings: true }, stableRates: 0.5 }),
    valid: (p: Parameters<typeof makeProblem>[0]) => arbs.stepSizeBound(makeProblem(p)) <= 0.5 + 1e-12,
  },
  {
    name: "problemArb", arb: arbs.problemArb(),
    valid: (p: Problem) => p.data.X instanceof Float64Array && arbs.stepSizeBound(p) <= 1 + 1e-12,
  },
  {
    name: "lawArb", arb: arbs.lawArb(),
    valid: (l: { psi2: number; sample: (r: () => number) => number }) => l.psi2 > 0 && Number.isFinite(l.psi2) && Number.isFinite(l.sample(() => 0.3)),
  },
  {
    name: "particlesArb", arb: arbs.particlesArb(),
    valid: (z: number[][]) => inRange(z.length, 1, 8) && z.every((r) => r.length === z[0].length && r.length % 2 === 0 && finite(r)) && inRange(z[0].length / 2, 1, 3),
  },
  {
    name: "depthProfileArb", arb: arbs.depthProfileArb(),
    valid: (h: number[][][]) => inRange(h.length - 1, 1, 4) && h.every((s) => s.length === h[0].length && s.every((r) => r.length === h[0][0].length && finite(r))),
  },
];

test("every arbitrary exported by src/verify/arbitraries.ts has a contract case here", () => {
  const exported = Object.entries(arbs).filter(([k, v]) => typeof v === "function" && k.endsWith("Arb") || k === "simpleNumber").map(([k]) => k).sort();
  const covered = new Set(cases.map((c) => c.name.split(" ")[0]));
  assert.deepEqual(exported.filter((k) => !covered.has(k)), []);
});

for (const c of cases) {
  test(`${c.name}: same seed → same value; shrink steps strictly smaller and valid along shrink paths`, () => {
    sameValueForSameSeed(c.arb, c.name);
    const { steps, candidates, unchanged } = shrinkContract(c.arb, c.name, c.valid as (v: unknown) => boolean, rank);
    assert.ok(steps > 0, `${c.name}: no shrink step was taken`);
    assert.ok(unchanged < candidates / 4, `${c.name}: ${unchanged} of ${candidates} shrink candidates change nothing`);
  });
}
