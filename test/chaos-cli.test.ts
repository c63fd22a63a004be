/**
 * `limitdyn chaos --config p.json --out r.json` end to end (child process):
 * the result file holds the documented keys (arrays indexed like widths,
 * slopes, per-width detail) and equals the API result `chaosDiagnostics(problem,
 * problem.solver)` on its headline values; bad options exit with code 2 and
 * name `solver.<field>`; trained embeddings are rejected.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadProblem } from "../src/problem/problem.ts";
import { chaosDiagnostics, type ChaosOptions } from "../src/chaos/index.ts";
import { main } from "../src/cli/main.ts";

const BIN = resolve(fileURLToPath(import.meta.url), "../../bin/limitdyn.mjs");
const dir = mkdtempSync(join(tmpdir(), "limitdyn-chaos-cli-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const base = {
  model: { L: 2, M: 4, D: 6, activation: "tanh" },
  data: { generator: "teacher", dIn: 2, dOut: 1, N: 3, seed: 2 },
  train: { steps: 3, etaU: 1, etaV: 1 },
  seed: 4,
  solver: { R: 4, widths: [8, 32], diagnostics: ["coupling", "tagged", "laws"], expectation: { kind: "qmc", samples: 1024 }, lawSamples: 2048 },
};

test("chaos: result file has the documented shape and equals the API result", () => {
  const cfg = join(dir, "p.json"), out = join(dir, "r.json");
  writeFileSync(cfg, JSON.stringify(base));
  const r = cli(["chaos", "--config", cfg, "--out", out]);
  assert.equal(r.status, 0, `exit ${r.status}; stderr: ${r.stderr}`);
  const res = JSON.parse(readFileSync(out, "utf8"));
  assert.deepEqual(res.widths, [8, 32]);
  for (const key of ["couplingRms", "outputGapRms", "tagCorrelation", "w1", "ks", "w1Twins", "pRms", "qRms"]) {
    assert.equal(res[key].length, 2, key);
    for (const v of res[key]) assert.equal(typeof v, "number", `${key}: ${v}`);
  }
  for (const key of ["coupling", "outputGap", "tagCorrelation", "w1", "p", "q"]) assert.ok(key in res.slopes, key);
  assert.equal(typeof res.slopes.coupling, "number");
  assert.equal(res.solver, "chaos");
  assert.equal(res.detail.length, 2);
  const d = res.detail[1];
  assert.equal(d.M, 32);
  assert.equal(d.couplingByStepLayer.length, 3);
  assert.equal(d.couplingByStepLayer[0].length, 2);
  assert.equal(d.outputGapByStep.length, 3);
  assert.equal(d.w1ByStepLayer.length, 3);
  assert.equal(d.tag.displacement.intraclass.length, 3);
  assert.equal(d.tag.displacement.intraclassByStep[0], null); // NaN at k = 0 → null in JSON
  assert.equal(res.limit.f.length, 3);
  const api = chaosDiagnostics(loadProblem(cfg), loadProblem(cfg).solver as ChaosOptions, "solver");
  assert.deepEqual(res.couplingRms, api.couplingRms);
  assert.deepEqual(res.outputGapRms, api.outputGapRms);
  assert.deepEqual(res.tagCorrelation, api.tagCorrelation);
  assert.deepEqual(res.w1, api.w1);
});

/** main() in process (no child start-up cost); returns the exit code and what went to stderr. */
function mainInProcess(args: string[]): { status: number; stderr: string } {
  const orig = console.error;
  let err = "";
  console.error = (...a: unknown[]) => { err += a.join(" ") + "\n"; };
  try {
    return { status: main(args), stderr: err };
  } finally {
    console.error = orig;
  }
}

test("chaos: bad options exit 2 naming solver.<field>; trained embeddings rejected", () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ ...base, solver: { ...base.solver, widths: [32, 8] } }, "solver.widths"],
    [{ ...base, solver: { ...base.solver, R: 1 } }, "solver.R"],
    [{ ...base, solver: { ...base.solver, diagnostic: ["laws"] } }, "solver.diagnostic"],
    [{ ...base, solver: { ...base.solver, diagnostics: ["law"] } }, "solver.diagnostics[0]"],
    [{ ...base, solver: { ...base.solver, expectation: { kind: "qmc", nodes: 3 } } }, "nodes"],
    [{ ...base, train: { ...base.train, etaO: 0.1 } }, "train.etaO"],
  ];
  cases.forEach(([json, field], i) => {
    const cfg = join(dir, `bad${i}.json`);
    writeFileSync(cfg, JSON.stringify(json));
    const r = mainInProcess(["chaos", "--config", cfg, "--out", join(dir, `bad${i}.out.json`)]);
    assert.equal(r.status, 2, `case ${i}: exit ${r.status}; stderr: ${r.stderr}`);
    assert.ok(r.stderr.includes(field), `case ${i}: stderr should name ${field}: ${r.stderr}`);
  });
  const r = mainInProcess(["chaos", "--config", join(dir, "bad0.json")]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--out/);
  // the same through the real binary, once
  const c = cli(["chaos", "--config", join(dir, "bad0.json"), "--out", join(dir, "x.json")]);
  assert.equal(c.status, 2);
  assert.ok(c.stderr.includes("solver.widths"), c.stderr);
});
