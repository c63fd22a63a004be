/**
 * CLI end to end: `node bin/limitdyn.mjs train --config p.json --out r.json
 * [--record h,b]` as a child process. The result file must equal the API
 * result solve(loadProblem(path), finiteResNet(...)) exactly (JSON carries
 * doubles losslessly), with f of shape K × d_out × N and the metadata; bad
 * usage and bad input exit with code 2 and a message naming the problem.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadProblem, solve, finiteResNet, toNested } from "../src/index.ts";

const BIN = resolve(fileURLToPath(import.meta.url), "../../bin/limitdyn.mjs");
const dir = mkdtempSync(join(tmpdir(), "limitdyn-cli-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** Run the CLI; never throws, returns status and output. */
function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// L=3, M=2, D=5, d_in=2, d_out=2, N=4, K=4, explicit init in the ARCHITECTURE.md layout.
const L = 3, M = 2, D = 5, dIn = 2, dOut = 2, N = 4, K = 4;
const val = (a: number, b: number, c = 0) => Math.sin(1.7 * a + 0.61 * b + 2.3 * c + 0.3);
const problemJson = {
  model: { L, M, D, activation: "tanh", alpha: 1.2, sigmaU: 1, sigmaV: 1, sigmaIn: 1, sigmaOut: 1 },
  data: {
    X: Array.from({ length: dIn }, (_, i) => Array.from({ length: N }, (_, n) => val(i, n))),
    Y: Array.from({ length: dOut }, (_, o) => Array.from({ length: N }, (_, n) => 0.5 * val(n, o, 1))),
  },
  train: { steps: K, etaU: 0.4, etaV: 0.6, etaE: 0.1, etaO: 0.2 },
  seed: 17,
  init: {
    WE: Array.from({ length: D }, (_, d) => Array.from({ length: dIn }, (_, i) => val(d, i, 2))),
    WU: Array.from({ length: D }, (_, d) => Array.from({ length: dOut }, (_, o) => val(d, o, 3))),
    U: Array.from({ length: L }, (_, l) => Array.from({ length: D }, (_, d) => Array.from({ length: M }, (_, j) => 2 * val(l, d, j + 4)))),
    V: Array.from({ length: L }, (_, l) => Array.from({ length: D }, (_, d) => Array.from({ length: M }, (_, j) => 2 * val(j, l, d + 5)))),
  },
};
const configPath = join(dir, "p.json");
writeFileSync(configPath, JSON.stringify(problemJson, null, 2));

test("train: result file equals the API result exactly, with shapes and metadata", () => {
  const out = join(dir, "r.json");
  const r = cli(["train", "--config", configPath, "--out", out]);
  assert.equal(r.status, 0, `exit ${r.status}; stderr: ${r.stderr}`);
  const res = JSON.parse(readFileSync(out, "utf8"));
  const api = solve(loadProblem(configPath), finiteResNet());
  // f: K × d_out × N nested arrays, equal to the API's bit for bit.
  assert.equal(res.f.length, K);
  for (const fk of res.f) {
    assert.equal(fk.length, dOut);
    for (const row of fk) assert.equal(row.length, N);
  }
  assert.deepEqual(res.f, toNested(api.f.data, [K, dOut, N]));
  assert.deepEqual(res.loss, Array.from(api.loss));
  assert.ok(res.loss.every((x: number) => Number.isFinite(x) && x > 0));
  assert.ok(res.loss[K - 1] < res.loss[0], "training should reduce the loss on this problem");
  // Metadata.
  assert.equal(res.solver, "finiteResNet");
  assert.equal(res.algorithm, "finiteResNet");
  assert.equal(res.seed, 17);
  assert.equal(res.K, K);
  assert.equal(res.dOut, dOut);
  assert.equal(res.N, N);
  assert.ok(res.options && typeof res.options === "object", "options missing");
  assert.deepEqual(res.options.record, []);
  assert.equal(typeof res.time, "number");
  assert.ok(res.time >= 0 && res.time < 60, `time ${res.time} s`);
  assert.equal(typeof res.timings.totalMs, "number");
  assert.equal(res.profiles, undefined);
});

test("train --record h,b: profiles equal the API's, shapes [K, L+1, N, D]", () => {
  const out = join(dir, "r-rec.json");
  const r = cli(["train", "--config", configPath, "--out", out, "--record", "h,b"]);
  assert.equal(r.status, 0, `exit ${r.status}; stderr: ${r.stderr}`);
  const res = JSON.parse(readFileSync(out, "utf8"));
  const api = solve(loadProblem(configPath), finiteResNet({ record: ["h", "b"] }));
  assert.deepEqual(res.f, toNested(api.f.data, [K, dOut, N]));
  assert.deepEqual(res.loss, Array.from(api.loss));
  assert.deepEqual(res.options.record, ["h", "b"]);
  assert.deepEqual(res.profiles.steps, [0, 1, 2, 3]);
  assert.deepEqual(res.profiles.s, Array.from({ length: L + 1 }, (_, l) => l / L));
  for (const key of ["h", "b"] as const) {
    const a = res.profiles[key];
    assert.equal(a.length, K);
    assert.equal(a[0].length, L + 1);
    assert.equal(a[0][0].length, N);
    assert.equal(a[0][0][0].length, D);
    assert.deepEqual(a, toNested(api.profiles![key]!.data, [K, L + 1, N, D]));
  }
  assert.equal(res.profiles.p, undefined);
  // h_0 = W_E x for the explicit init: check one entry by hand.
  const h0 = problemJson.init.WE[3][0] * problemJson.data.X[0][2] + problemJson.init.WE[3][1] * problemJson.data.X[1][2];
  assert.ok(Math.abs(res.profiles.h[0][0][2][3] - h0) <= 1e-15 * Math.max(1, Math.abs(h0)));
});

test("usage errors exit with 2 and print the usage", () => {
  const missing = cli(["train", "--out", join(dir, "x.json")]);
  assert.equal(missing.status, 2, missing.stderr);
  assert.match(missing.stderr, /missing --config/);
  assert.match(missing.stderr, /usage: limitdyn/);
  assert.ok(!existsSync(join(dir, "x.json")));

  const unknown = cli(["frobnicate", "--config", configPath]);
  assert.equal(unknown.status, 2, unknown.stderr);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
  assert.match(unknown.stderr, /usage: limitdyn/);

  const flag = cli(["train", "--config", configPath, "--out", join(dir, "y.json"), "--recrod", "h"]);
  assert.equal(flag.status, 2, flag.stderr);
  assert.match(flag.stderr, /unknown flag --recrod/);

  const none = cli([]);
  assert.equal(none.status, 2);
  assert.match(none.stdout + none.stderr, /usage: limitdyn/);

  const help = cli(["--help"]);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /train\s+finite ResNet/);
});

test("bad problem files and bad options exit with 2 and name the field on stderr", () => {
  const bad = join(dir, "bad.json");
  writeFileSync(bad, JSON.stringify({ ...problemJson, model: { ...problemJson.model, D: -3 } }));
  const r = cli(["train", "--config", bad, "--out", join(dir, "z.json")]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /model\.D must be a positive integer \(got -3\)/);
  assert.ok(!existsSync(join(dir, "z.json")), "no result file on error");

  const wrongInit = join(dir, "bad-init.json");
  writeFileSync(wrongInit, JSON.stringify({ ...problemJson, init: { ...problemJson.init, U: problemJson.init.U.slice(1) } }));
  const r2 = cli(["train", "--config", wrongInit, "--out", join(dir, "z.json")]);
  assert.equal(r2.status, 2, r2.stderr);
  assert.match(r2.stderr, /init\.U has 2 layers but model\.L = 3/);

  const malformed = join(dir, "malformed.json");
  writeFileSync(malformed, "{ \"model\": ");
  const r3 = cli(["train", "--config", malformed, "--out", join(dir, "z.json")]);
  assert.equal(r3.status, 2, r3.stderr);
  assert.match(r3.stderr, /is not valid JSON/);

  const r4 = cli(["train", "--config", join(dir, "nope.json"), "--out", join(dir, "z.json")]);
  assert.equal(r4.status, 2, r4.stderr);
  assert.match(r4.stderr, /--config cannot be read/);

  const r5 = cli(["train", "--config", configPath, "--out", join(dir, "z.json"), "--record", "h,x"]);
  assert.equal(r5.status, 2, r5.stderr);
  assert.match(r5.stderr, /--record lists "x"/);

  // A diverging run names the step (exit code 2, like other LimitdynErrors), and writes no result.
  const div = join(dir, "div.json");
  writeFileSync(div, JSON.stringify({ ...problemJson, model: { ...problemJson.model, activation: "linear" }, train: { steps: 10, etaU: 1e6, etaV: 1e6 } }));
  const r6 = cli(["train", "--config", div, "--out", join(dir, "z.json")]);
  assert.equal(r6.status, 2, r6.stderr);
  assert.match(r6.stderr, /divergence at step \d+/);
  assert.ok(!existsSync(join(dir, "z.json")));
});

test("execFileSync round trip: the documented invocation works as written", () => {
  const out = join(dir, "r2.json");
  execFileSync(process.execPath, [BIN, "train", "--config", configPath, "--out", out], { cwd: dir, stdio: "pipe" });
  const res = JSON.parse(readFileSync(out, "utf8"));
  assert.deepEqual(res.f, toNested(solve(loadProblem(configPath), finiteResNet()).f.data, [K, dOut, N]));
});
