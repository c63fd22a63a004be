/**
 * The CLI examples of issue 10: a user error (missing folder, unreadable or
 * malformed file, huge sizes, divergence, a typo in the solver block) exits
 * with code 2 and one line on stderr — never a stack trace, never a result
 * file with `null` for a number — and sweeps lock their rows file: a second
 * writer is refused with a clear message, a lock left by a killed sweep is
 * taken over.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readRows } from "../src/experiments/rows.ts";
import { main } from "../src/cli/main.ts";
import { ensureBuilt, writeHangTask } from "./helpers/built.ts";

const BIN = resolve(fileURLToPath(import.meta.url), "../../bin/limitdyn.mjs");
ensureBuilt(); // the bin runs the compiled package
const dir = mkdtempSync(join(tmpdir(), "limitdyn-cli-robust-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: "utf8", timeout: 120_000, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The synchronous commands in this process (main(), stderr captured): what the bin prints, without a process start per case. */
function inProcess(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const err: string[] = [], out: string[] = [];
  const [e0, l0] = [console.error, console.log];
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) { saved[k] = process.env[k]; process.env[k] = v; }
  console.error = (...a: unknown[]) => { err.push(a.map(String).join(" ")); };
  console.log = (...a: unknown[]) => { out.push(a.map(String).join(" ")); };
  try {
    return { status: main(args), stdout: out.join("\n"), stderr: err.join("\n") + (err.length ? "\n" : "") };
  } finally {
    console.error = e0; console.log = l0;
    for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
  }
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const base = (): Json => ({
  model: { L: 2, M: 3, D: 4, activation: "tanh" },
  data: { X: [[1, 2, -1], [0.5, -1, 2]], Y: [[1, -1, 0.5]] },
  train: { steps: 3, etaU: 0.1, etaV: 0.1 },
  seed: 1,
});
function file(name: string, content: Json | string): string {
  const p = join(dir, name);
  writeFileSync(p, typeof content === "string" ? content : JSON.stringify(content));
  return p;
}
const edit = (f: (p: Json) => void): Json => { const p = base(); f(p); return p; };

/** Exit 2, one line on stderr naming `contains`, no stack trace, no output file (`spawned`: through the bin, else in this process). */
function userError(name: string, args: string[], contains: RegExp, env: Record<string, string> = {}, out?: string, spawned = false): void {
  // --quiet: no progress lines on stderr (the solver commands print them after ~1 s off a terminal)
  const a = ["train", "meanode", "dmft", "chaos"].includes(args[0]) ? [...args, "--quiet"] : args;
  const r = spawned || args[0] === "sweep" ? cli(a, env) : inProcess(a, env);
  assert.equal(r.status, 2, `${name}: exit ${r.status}; stderr: ${r.stderr}`);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `${name}: stderr has ${lines.length} lines:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at |node:internal|\.ts:\d+:\d+/, `${name}: a stack trace: ${r.stderr}`);
  assert.match(lines[0], contains, name);
  if (out) assert.equal(existsSync(out), false, `${name}: ${out} was written`);
}

test("CLI: user errors exit 2 with one line and no stack trace", { timeout: 300_000 }, () => {
  const ok = file("ok.json", base());
  userError("missing config file", ["train", "--config", join(dir, "nope.json"), "--out", join(dir, "r.json")], /--config cannot be read/, {}, undefined, true);
  mkdirSync(join(dir, "adir"), { recursive: true });
  userError("config is a folder", ["train", "--config", join(dir, "adir"), "--out", join(dir, "r.json")], /--config cannot be read/);
  userError("bad JSON", ["meanode", "--config", file("bad.json", "{ \"model\": "), "--out", join(dir, "r.json")], /is not valid JSON/);
  userError("output folder missing", ["train", "--config", ok, "--out", join(dir, "no/dir/r.json")], /--out cannot be written: folder .* does not exist/);
  userError("model.D = 1e9", ["train", "--config", file("d.json", edit((p) => { p.model.D = 1e9; })), "--out", join(dir, "d.out.json")], /^limitdyn train: model\.D = 1\.00e9 .*GB of memory/, {}, join(dir, "d.out.json"), true);
  userError("model.L = 1e9", ["train", "--config", file("l.json", edit((p) => { p.model.L = 1e9; })), "--out", join(dir, "l.out.json")], /model\.L = 1\.00e9/);
  userError("train.steps = 1e9 (meanode)", ["meanode", "--config", file("k.json", edit((p) => { p.train.steps = 1e9; })), "--out", join(dir, "k.out.json")], /train\.steps = 1\.00e9/);
  userError("a typo in the solver block of train", ["train", "--config", file("typo.json", edit((p) => { p.solver = { depthStep: 3 }; })), "--out", join(dir, "t.json")], /solver\.depthStep is not a known key of any solver/);
  userError("a bad --record", ["train", "--config", ok, "--out", join(dir, "t.json"), "--record", "h,x"], /--record\[1\] must be "h", "b", "p" or "gram" \(got "x"\)/);
  userError("meanode linear η = 1e6 diverges", ["meanode", "--config", file("div.json", edit((p) => { p.model.activation = "linear"; p.train = { steps: 6, etaU: 1e6, etaV: 1e6 }; })), "--out", join(dir, "div.out.json")], /divergence at step \d+: /, {}, join(dir, "div.out.json"));
  userError("dmft linear η = 1e6 diverges", ["dmft", "--config", join(dir, "div.json"), "--out", join(dir, "div2.out.json")], /divergence at step \d+: /);
  userError("chaos sin η_u = 1e7 diverges (no qRms: [null, null])", ["chaos", "--config", file("chaos.json", edit((p) => {
    p.model = { L: 2, M: 2, D: 3, activation: "sin", alpha: 0.7 };
    p.train = { steps: 3, etaU: 1e7, etaV: 0.1 };
    p.solver = { R: 2, widths: [2, 4], lawSamples: 256 };
  })), "--out", join(dir, "chaos.out.json")], /divergence at step \d+: /, {}, join(dir, "chaos.out.json"), true);
  userError("LIMITDYN_MAX_MEMORY unreadable", ["train", "--config", ok, "--out", join(dir, "t.json")], /LIMITDYN_MAX_MEMORY must be a positive size/, { LIMITDYN_MAX_MEMORY: "lots" });
  userError("LIMITDYN_MAX_MEMORY too small for the problem", ["train", "--config", ok, "--out", join(dir, "t.json")], /more than the 1\.0 kB allowed/, { LIMITDYN_MAX_MEMORY: "1k" });
  userError("sweep --out in a missing folder", ["sweep", "--config", file("sw.json", { problem: base(), task: "synthetic-rate" }), "--out", join(dir, "no/dir/rows.jsonl")], /--out cannot be written: folder .* does not exist/);
  userError("sweep with repetitions = 1e12", ["sweep", "--config", file("sw2.json", { problem: base(), task: "synthetic-rate", repetitions: 1e12 }), "--out", join(dir, "rows2.jsonl"), "--workers", "0"], /sweep\.repetitions = 1\.00e12/);
  const shard = file("a.jsonl", "");
  userError("merge --out in a missing folder", ["merge", "--out", join(dir, "no/dir/m.jsonl"), shard], /--out cannot be written: folder .* does not exist/);
  userError("merge of a missing file", ["merge", "--out", join(dir, "m.jsonl"), join(dir, "missing.jsonl")], /missing\.jsonl does not exist/);
});

test("CLI: a large problem file is refused by the resource estimate (exit 2, one line), not by a RangeError", { timeout: 120_000 }, () => {
  const N = 200_000;
  const row = (f: (n: number) => number) => Array.from({ length: N }, (_, n) => Math.round(f(n) * 1000) / 1000);
  const big = file("big.json", { model: { D: 4 }, data: { X: [row(Math.sin)], Y: [row(Math.cos)] }, train: { steps: 40, etaU: 1, etaV: 1 } });
  userError("meanode on N = 2e5", ["meanode", "--config", big, "--out", join(dir, "big.out.json")], /data\.N = 200000 .*the skeleton solve \(factor form\) needs .* of memory/, {}, undefined, true);
});

test("CLI: a valid run still writes its result (exit 0), with finite numbers only", { timeout: 120_000 }, () => {
  const out = join(dir, "good.json");
  const r = cli(["chaos", "--config", file("good-chaos.json", edit((p) => { p.solver = { R: 2, widths: [2, 4], lawSamples: 256, expectation: { points: 64, randomizations: 2 } }; })), "--out", out]);
  assert.equal(r.status, 0, r.stderr);
  const text = readFileSync(out, "utf8");
  assert.doesNotMatch(text, /NaN|Infinity/);
  const res = JSON.parse(text);
  for (const v of [...res.qRms, ...res.pRms, ...res.loss]) assert.ok(typeof v === "number" && Number.isFinite(v));
});

test("CLI sweeps lock their rows file: a second writer is refused; a killed sweep's lock is taken over and the sweep resumes", { timeout: 300_000 }, async () => {
  // run 2 (and later) of the first sweep never finishes (LIMITDYN_TEST_HANG_AT = 2, set in that child only)
  // plain JavaScript against dist: the CLI runs the compiled package (one task registry for every copy)
  const mod = writeHangTask(dir, "rate-or-hang", "synthetic-rate");
  const cfg = file("lock-sweep.json", { problem: base(), grid: { L: [1, 2, 3] }, repetitions: 2, task: "rate-or-hang", taskModules: [mod] });
  const out = join(dir, "locked.jsonl");
  const lock = `${out}.lock`;
  const first = spawn(process.execPath, [BIN, "sweep", "--config", cfg, "--out", out, "--workers", "0", "--progress", "none"], { cwd: dir, stdio: "ignore", env: { ...process.env, LIMITDYN_TEST_HANG_AT: "2" } });
  const exited = new Promise((r) => first.on("exit", r));
  let early: unknown = null;
  first.on("exit", (code) => { early ??= code; });
  const lines = () => { try { return readFileSync(out, "utf8").split("\n").length - 1; } catch { return 0; } };
  while ((lines() < 2 || !existsSync(lock)) && early === null) await new Promise((r) => setTimeout(r, 20));
  assert.equal(early, null, "the first sweep exited early");
  assert.equal(JSON.parse(readFileSync(lock, "utf8")).pid, first.pid);
  // a second writer on the same rows file is refused, and writes nothing
  userError("second sweep on a locked rows file", ["sweep", "--config", cfg, "--out", out, "--workers", "0", "--progress", "none"], new RegExp(`locked\\.jsonl is being written by another sweep \\(pid ${first.pid} on `));
  assert.equal(readRows(out).rows.length, 2);
  // kill the first: its lock is stale and taken over by the next sweep, which completes the file
  first.kill("SIGKILL");
  await exited;
  assert.ok(existsSync(lock), "the killed sweep's lock stays behind");
  const r = cli(["sweep", "--config", cfg, "--out", out, "--workers", "0", "--progress", "none"]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(existsSync(lock), false, "the lock is released at the end");
  const rows = readRows(out).rows;
  assert.equal(rows.length, 6);
  assert.equal(new Set(rows.map((x) => x.id)).size, 6, "no duplicated rows");
});
