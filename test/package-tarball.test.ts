/**
 * The packed tarball installed into a temporary project, used there as a user would:
 * plain Node ESM import and a solve, CommonJS require, a `tsc --strict` NodeNext
 * consumer type-checking against the shipped .d.ts with no extra flags, `npx limitdyn
 * --help` and a `train` run; the tarball holds dist/, docs, README, LICENSE, bin, and no
 * test/, bench/, verify/ or TypeScript sources.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./helpers/built.ts";
import { packAndInstall } from "./helpers/tarball.ts";

const proj = packAndInstall();
after(() => proj.cleanup());
const node = (args: string[]) => execFileSync(process.execPath, args, { cwd: proj.dir, encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" } });

test("the tarball ships dist (js, d.ts, maps), docs, README, LICENSE, bin — no test/, bench/, verify/, src/", () => {
  const f = proj.files;
  for (const must of ["package.json", "README.md", "LICENSE", "bin/limitdyn.mjs", "dist/index.js", "dist/index.d.ts", "dist/index.js.map", "dist/cli/entry.js", "dist/cli/bundle/entry.js",
    "dist/cli/bundle/parallel-worker.js", "dist/cli/bundle/skeleton-worker.js", "dist/cli/bundle/sweep-worker.js",
    "dist/resnet/parallel-worker.js", "dist/skeleton/skeleton-worker.js", "dist/experiments/sweep-worker.js", "cjs/limitdyn.cjs", "docs/problem-file.md"]) {
    assert.ok(f.includes(must), `tarball has ${must}`);
  }
  for (const p of f) {
    assert.ok(!/^(test|bench|verify|src|examples|scripts|\.ci)\//.test(p), `tarball must not hold ${p}`);
    assert.ok(!p.startsWith("dist/bench/") && !p.endsWith(".tsbuildinfo"), `tarball must not hold ${p}`);
    assert.ok(!p.endsWith(".ts") || p.endsWith(".d.ts"), `no TypeScript sources (${p})`);
  }
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  assert.ok(!("tsx" in pkg.dependencies) && !("esbuild" in pkg.dependencies), "tsx and esbuild are devDependencies only");
});

test("plain Node ESM: import limitdyn by name and solve", () => {
  writeFileSync(join(proj.dir, "esm.mjs"), `
import { makeProblem, solve, finiteResNet, meanOde, outputRms, loadTrajectory } from "limitdyn";
import { estimatePsi2 } from "limitdyn/verify";
const problem = makeProblem({ model: { L: 4, M: 8, D: 4 }, data: { generator: "teacher", dIn: 2, dOut: 1, N: 3 }, train: { steps: 3, etaU: 0.5, etaV: 0.5 } });
const fin = solve(problem, finiteResNet());
const ode = solve(problem, meanOde({ depthSteps: 2, expectation: { kind: "qmc", samples: 256 } }));
console.log(JSON.stringify({ K: fin.K, rms: outputRms(fin, ode), psi2: typeof estimatePsi2, load: typeof loadTrajectory }));
`);
  const r = JSON.parse(node(["esm.mjs"]).trim());
  assert.equal(r.K, 3);
  assert.ok(Number.isFinite(r.rms));
  assert.equal(r.psi2, "function");
});

test("CommonJS: require(\"limitdyn\") works, or fails saying the package is ESM-only and how to import it", () => {
  writeFileSync(join(proj.dir, "cjs.cjs"), `
try { const ld = require("limitdyn"); console.log("ok " + typeof ld.solve + " " + typeof require("limitdyn/experiments").runSweep); }
catch (e) { console.log("err " + e.message); }
`);
  const out = node(["cjs.cjs"]).trim();
  if (out.startsWith("ok")) assert.equal(out, "ok function function");
  else assert.match(out, /ESM-only.*import/s);
});

test("a tsc --strict NodeNext consumer type-checks against the shipped .d.ts with no extra flags", () => {
  writeFileSync(join(proj.dir, "consumer.ts"), `
import { makeProblem, solve, finiteResNet, dmft, loadTrajectory, outputRms, type Trajectory, type Problem, type NdArray } from "limitdyn";
import { runSweep, type SweepSpec, plotLossCurves } from "limitdyn/experiments";
import { checkLipschitz, vectorPairArb } from "limitdyn/verify";
import { skeletonMaps } from "limitdyn/skeleton";
import { chaos, type ChaosResult } from "limitdyn/chaos";
const problem: Problem = makeProblem({ model: { L: 2, M: 3, D: 4 }, data: { generator: "teacher", dIn: 2, dOut: 1, N: 2 }, train: { steps: 2, etaU: 0.1, etaV: 0.1 } });
const t: Trajectory = solve(problem, finiteResNet({ record: ["h"] }));
const f: NdArray<Float64Array> = t.f;
const x: number = f.get(0, 0, 0) + t.loss[0] + outputRms(t, loadTrajectory("r.json"));
const spec: SweepSpec = { problem: { model: { D: 4 }, data: { generator: "teacher", dIn: 2, dOut: 1, N: 2 }, train: { steps: 2, etaU: 0.1, etaV: 0.1 } }, grid: { L: [2] }, task: "finite-vs-reference" };
void runSweep(spec, { workers: 0 });
const r = checkLipschitz({ f: (v: number[]) => v, pairs: vectorPairArb(2), bound: 1 });
const ok: boolean = r.ok;
let c: ChaosResult | undefined;
void [x, ok, c, skeletonMaps, chaos, dmft, plotLossCurves];
`);
  writeFileSync(join(proj.dir, "tsconfig.json"), JSON.stringify({
    compilerOptions: { strict: true, module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", noEmit: true },
    files: ["consumer.ts"],
  }));
  const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
  const r = spawnSync(process.execPath, [tsc, "-p", "."], { cwd: proj.dir, encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test("npx limitdyn --help, and a train run, in the consumer project", () => {
  const npx = (args: string[]) => spawnSync("npx", ["--no-install", "limitdyn", ...args], { cwd: proj.dir, encoding: "utf8" });
  const h = npx(["--help"]);
  assert.equal(h.status, 0, h.stderr);
  assert.match(h.stdout, /usage: limitdyn <command>/);
  writeFileSync(join(proj.dir, "p.json"), JSON.stringify({ model: { L: 4, M: 8, D: 4 }, data: { generator: "teacher", dIn: 2, dOut: 1, N: 3 }, train: { steps: 5, etaU: 0.5, etaV: 0.5 }, seed: 1 }));
  const r = npx(["train", "--config", "p.json", "--out", "r.json"]);
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(readFileSync(join(proj.dir, "r.json"), "utf8"));
  assert.equal(res.loss.length, 5);
  assert.equal(res.version, JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
  assert.ok(!r.stderr.includes("tsx"), "the bin runs dist, not the sources");
});
