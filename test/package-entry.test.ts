/**
 * The compiled package as a user's Node sees it (dist/, imported by name through a
 * symlinked node_modules/limitdyn, no tsx anywhere in the process):
 *  - the core entry loads no plotting, progress or property-testing library;
 *  - every subpath entry resolves and exposes its layer;
 *  - the worker pools (finite ResNet, skeleton, sweeps) start their compiled entries;
 *  - `require("limitdyn")` works or says the package is ESM-only.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBuilt, ROOT } from "./helpers/built.ts";

ensureBuilt();
const dir = mkdtempSync(join(tmpdir(), "limitdyn-entry-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, "node_modules"));
symlinkSync(ROOT, join(dir, "node_modules", "limitdyn"), "dir");
writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));

/** Run an ES module script in the consumer folder with plain node; returns stdout and the modules it resolved. */
function run(name: string, code: string, env: Record<string, string> = {}): { out: string; loads: string[] } {
  const script = join(dir, name);
  const loadsFile = join(dir, name + ".loads");
  writeFileSync(script, code);
  writeFileSync(loadsFile, "");
  const out = execFileSync(process.execPath, ["--import", join(ROOT, "test/helpers/record-loads.mjs"), script], {
    cwd: dir, encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "", LIMITDYN_LOADS_FILE: loadsFile, ...env },
  });
  return { out, loads: readFileSync(loadsFile, "utf8").split("\n").filter(Boolean) };
}

const FORBIDDEN = ["vega", "vega-lite", "cli-progress", "fast-check", "tsx", "esbuild"];
const pkgOf = (url: string) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];

test("import \"limitdyn\" loads no vega, vega-lite, cli-progress, fast-check (nor tsx) and solves", () => {
  const { out, loads } = run("core.mjs", `
import { createRequire } from "node:module";
import { makeProblem, solve, finiteResNet, loadTrajectory } from "limitdyn";
const p = makeProblem({ model: { L: 2, M: 3, D: 4 }, data: { generator: "teacher", dIn: 2, dOut: 1, N: 2 }, train: { steps: 2, etaU: 0.1, etaV: 0.1 } });
const t = solve(p, finiteResNet());
const cjs = Object.keys(createRequire(import.meta.url).cache);
console.log(JSON.stringify({ loss: Array.from(t.loss), load: typeof loadTrajectory, cjs }));
`);
  const r = JSON.parse(out.trim().split("\n").pop()!);
  assert.equal(r.loss.length, 2);
  assert.equal(r.load, "function");
  const loaded = new Set([...loads, ...r.cjs].map(pkgOf).filter(Boolean));
  for (const f of FORBIDDEN) assert.ok(!loaded.has(f), `the core entry loaded ${f} (loaded: ${[...loaded].join(", ")})`);
  assert.ok(loads.some((u) => u.includes("/dist/index.js")), "the core entry resolves to dist/index.js");
  assert.ok(!loads.some((u) => u.endsWith(".ts")), "no TypeScript source is loaded");
});

test("subpath entries limitdyn/experiments, /verify, /skeleton, /chaos resolve to dist and expose their layers", () => {
  const { out, loads } = run("subpaths.mjs", `
import * as ex from "limitdyn/experiments";
import * as ve from "limitdyn/verify";
import * as sk from "limitdyn/skeleton";
import * as ch from "limitdyn/chaos";
import pkg from "limitdyn/package.json" with { type: "json" };
console.log(JSON.stringify({
  ex: ["runSweep", "plotErrorVs", "fitPowerLaw", "runPreset"].map((n) => typeof ex[n]),
  ve: ["checkLipschitz", "estimatePsi2", "checkSubGaussian", "vectorPairArb"].map((n) => typeof ve[n]),
  sk: ["skeletonMaps", "expectationEngine"].map((n) => typeof sk[n]),
  ch: ["chaos", "largeWidth"].map((n) => typeof ch[n]),
  version: pkg.version,
}));
`);
  const r = JSON.parse(out.trim().split("\n").pop()!);
  for (const k of ["ex", "ve", "sk", "ch"]) assert.deepEqual(r[k], r[k].map(() => "function"), k);
  assert.equal(r.version, JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
  assert.ok(!loads.some((u) => u.endsWith(".ts")));
});

test("worker pools start their compiled entries in plain Node: finite ResNet, skeleton, sweep", () => {
  const { out, loads } = run("workers.mjs", `
import { makeProblem, solve, finiteResNet, meanOde } from "limitdyn";
import { runSweep } from "limitdyn/experiments";
const p = makeProblem({ model: { L: 3, M: 4, D: 4 }, data: { generator: "teacher", dIn: 2, dOut: 1, N: 3 }, train: { steps: 2, etaU: 0.1, etaV: 0.1 } });
const wide = makeProblem({ model: { L: 2, M: 130, D: 4 }, data: { generator: "teacher", dIn: 2, dOut: 1, N: 3 }, train: { steps: 2, etaU: 0.1, etaV: 0.1 } });
const one = solve(wide, finiteResNet({ threads: 1 }));
const two = solve(wide, finiteResNet({ threads: 2 })); // M = 130: two unit blocks, so two threads
const s1 = solve(p, meanOde({ depthSteps: 4, expectation: { kind: "qmc", samples: 512, threads: 1 } }));
const s2 = solve(p, meanOde({ depthSteps: 4, expectation: { kind: "qmc", samples: 512, threads: 2 } }));
const sweep = await runSweep({ problem: { model: { D: 4 }, data: { generator: "teacher", dIn: 2, dOut: 1, N: 2 }, train: { steps: 2, etaU: 0.1, etaV: 0.1 } },
  grid: { L: [2, 3] }, repetitions: 2, task: "finite-vs-reference", taskOptions: { reference: { L: 4, M: 4 } } }, { workers: 2 });
console.log(JSON.stringify({ same: Array.from(one.f.data).every((x, i) => x === two.f.data[i]),
  sameSk: Array.from(s1.f.data).every((x, i) => x === s2.f.data[i]), rows: sweep.rows.length, failed: sweep.failed }));
`);
  const r = JSON.parse(out.trim().split("\n").pop()!);
  assert.deepEqual(r, { same: true, sameSk: true, rows: 4, failed: 0 });
  assert.ok(!loads.some((u) => u.endsWith(".ts") || pkgOf(u) === "tsx"), "no tsx / .ts in the process or its workers");
  // (a worker that cannot load its entry is an error of the pool, never a silent fallback)
});

test("require(\"limitdyn\") works, or fails saying the package is ESM-only and how to import it", () => {
  writeFileSync(join(dir, "req.cjs"), `
try { const ld = require("limitdyn"); console.log("ok " + typeof ld.solve); }
catch (e) { console.log("err " + e.message); }
`);
  const out = execFileSync(process.execPath, [join(dir, "req.cjs")], { cwd: dir, encoding: "utf8" }).trim();
  if (out.startsWith("ok ")) assert.equal(out, "ok function");
  else assert.match(out, /ESM-only.*import/s);
});
