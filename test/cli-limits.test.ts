/** CLI end to end for the limit solvers: `limitdyn meanode` and `limitdyn dmft` equal the API results. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { skeletonExtras } from "../src/skeleton/solve.ts";
import { loadProblem } from "../src/problem/problem.ts";
import { solve } from "../src/problem/algorithm.ts";
import { meanOde, type MeanOdeOptions } from "../src/limits/mean-ode.ts";
import { dmft, type DmftOptions } from "../src/limits/dmft.ts";
import { finiteResNet } from "../src/resnet/solver.ts";
import type { Trajectory } from "../src/problem/trajectory.ts";

const bin = resolve("bin/limitdyn.mjs");
const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });

const problem = {
  model: { L: 4, M: 5, D: 8, activation: "tanh" },
  data: { X: [[1, 0.5], [0, -1]], Y: [[0.3, -0.2]] },
  train: { steps: 3, etaU: 0.5, etaV: 0.5 },
  seed: 1,
  solver: { depthSteps: 4, expectation: { kind: "qmc", samples: 1024 } },
};

for (const cmd of ["meanode", "dmft"] as const) {
  test(`limitdyn ${cmd}: result file equals the API result; bad options exit 2 naming solver.<field>`, () => {
    const dir = mkdtempSync(join(tmpdir(), `limitdyn-${cmd}-`));
    const cfg = join(dir, "p.json"), out = join(dir, "r.json");
    writeFileSync(cfg, JSON.stringify(problem));
    const r = run([cmd, "--config", cfg, "--out", out]);
    assert.equal(r.status, 0, r.stderr);
    const res = JSON.parse(readFileSync(out, "utf8"));
    const p = loadProblem(cfg);
    const api = cmd === "meanode" ? solve(p, meanOde(p.solver as MeanOdeOptions)) : solve(p, dmft(p.solver as DmftOptions));
    assert.deepEqual(res.f.flat(2), Array.from(api.f.data));
    assert.deepEqual(res.loss, Array.from(api.loss));
    assert.equal(res.solver, api.algorithm);
    if (cmd === "dmft") {
      assert.equal(res.extras.grams.H.length, skeletonExtras(api).depthGrid.length);
      assert.deepEqual(res.f[0], [[0, 0]]); // f_0 = 0 in the DMFT limit
    }
    writeFileSync(cfg, JSON.stringify({ ...problem, solver: { depthSteps: 0 } }));
    const bad = run([cmd, "--config", cfg, "--out", out]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /solver\.depthSteps must be a positive integer/);
  });
}

test("--record gram,kl (train, meanode, dmft): the result file carries gram, gramLambdaMin, kl, klProfile, fTest, lossTest equal to the API's; a name the solver cannot record exits 2 naming --record", () => {
  const dir = mkdtempSync(join(tmpdir(), "limitdyn-record-"));
  const cfg = join(dir, "p.json"), out = join(dir, "r.json");
  writeFileSync(cfg, JSON.stringify({ ...problem, data: { generator: "two-spirals", N: 4, NTest: 3, seed: 2 } }));
  const p = loadProblem(cfg);
  const cases: [string, string, () => Trajectory][] = [
    ["train", "gram", () => solve(p, finiteResNet({ record: ["gram"] }))],
    ["meanode", "gram,kl", () => solve(p, meanOde({ ...(p.solver as MeanOdeOptions), record: ["gram", "kl"] }))],
    ["dmft", "kl,gram", () => solve(p, dmft({ ...(p.solver as DmftOptions), record: ["kl", "gram"] }))],
  ];
  for (const [cmd, rec, api] of cases) {
    const r = run([cmd, "--config", cfg, "--out", out, "--record", rec]);
    assert.equal(r.status, 0, r.stderr);
    const res = JSON.parse(readFileSync(out, "utf8"));
    const t = api();
    assert.deepEqual(res.gram.flat(2), Array.from(t.gram!.data), `${cmd} gram`);
    assert.deepEqual(res.gramLambdaMin, Array.from(t.gramLambdaMin!));
    assert.deepEqual(res.fTest.flat(2), Array.from(t.fTest!.data), `${cmd} fTest`);
    assert.deepEqual(res.lossTest, Array.from(t.lossTest!));
    if (rec.includes("kl")) {
      assert.deepEqual(res.kl, Array.from(t.kl!));
      assert.deepEqual(res.klProfile.flat(), Array.from(t.klProfile!.data));
    }
  }
  for (const [cmd, rec, re] of [["train", "gram,kl", /--record\[1\] "kl" is not available for the finite ResNet/], ["dmft", "h", /--record\[0\] "h" does not apply to the DMFT/], ["meanode", "gramm", /--record\[0\] must be "h", "b", "gram" or "kl"/]] as const) {
    const bad = run([cmd, "--config", cfg, "--out", out, "--record", rec]);
    assert.equal(bad.status, 2, `${cmd} --record ${rec}`);
    assert.match(bad.stderr, re);
  }
});
