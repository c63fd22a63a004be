/**
 * The command line as users call it (bin/limitdyn.mjs → dist/): --help, per-command help
 * listing the flags and every solver option the command reads, --version, --flag=value,
 * "did you mean", progress on stderr (lines off a terminal, --quiet), and result files
 * that record the package version, the resolved problem and the solver options.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBuilt, ROOT } from "./helpers/built.ts";
import { COMMAND_HELP, COMMAND_NAMES } from "../src/cli/help.ts";
import { makeProblem, parseProblem } from "../src/problem/problem.ts";
import { problemHash } from "../src/problem/io.ts";
import { meanOde } from "../src/limits/mean-ode.ts";
import { solve } from "../src/problem/algorithm.ts";
import { dmft } from "../src/limits/dmft.ts";
import { chaosDiagnostics as chaos } from "../src/chaos/simulate.ts";
import { COMMANDS } from "../src/cli/main.ts";
import { LAZY_COMMANDS } from "../src/cli/entry.ts";

ensureBuilt();
const BIN = join(ROOT, "bin/limitdyn.mjs");
const VERSION = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version;
const dir = mkdtempSync(join(tmpdir(), "limitdyn-help-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", cwd: dir, env: { ...process.env, ...env } });

const problemJson = {
  model: { L: 3, M: 4, D: 5 },
  data: { generator: "teacher", dIn: 2, dOut: 1, N: 3, seed: 2 },
  train: { steps: 4, etaU: 0.3, etaV: 0.3 },
  seed: 7,
  solver: { depthSteps: 2, expectation: { kind: "qmc", samples: 256 } },
};
const cfg = join(dir, "p.json");
writeFileSync(cfg, JSON.stringify(problemJson));

test("the help, main() and the lazy entry know the same commands", () => {
  assert.deepEqual([...COMMAND_NAMES].sort(), Object.keys(COMMANDS).sort());
  assert.deepEqual([...COMMAND_NAMES].sort(), [...LAZY_COMMANDS].sort());
});

test("--help lists every command, --version prints the package version", () => {
  const h = cli(["--help"]);
  assert.equal(h.status, 0, h.stderr);
  for (const c of COMMAND_NAMES) assert.match(h.stdout, new RegExp(`^  ${c}\\s`, "m"), c);
  assert.match(h.stdout, /--flag=value/);
  for (const v of ["--version", "-v", "version"]) {
    const r = cli([v]);
    assert.equal(r.status, 0);
    assert.equal(r.stdout.trim(), VERSION);
  }
});

test("<command> --help (and -h, help <command>) prints the command's flags and solver options, exit 0", () => {
  for (const c of COMMAND_NAMES) {
    const r = cli([c, "--help"]);
    assert.equal(r.status, 0, `${c}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`usage: limitdyn ${c} `));
    for (const [flag] of COMMAND_HELP[c].flags) assert.ok(r.stdout.includes(flag), `${c} --help shows ${flag}`);
    for (const [key] of COMMAND_HELP[c].solver ?? []) assert.ok(r.stdout.includes(key), `${c} --help shows solver.${key}`);
  }
  assert.equal(cli(["train", "-h"]).stdout, cli(["train", "--help"]).stdout);
  assert.equal(cli(["help", "dmft"]).stdout, cli(["dmft", "--help"]).stdout);
  assert.equal(cli(["train", "--config", cfg, "--help"]).status, 0, "--help wins over other flags");
});

/** The keys a solver accepts, from its own "is not a known key (allowed: ...)" error. */
function allowedKeys(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    const m = /allowed: ([^)]*)\)/.exec((e as Error).message);
    if (m) return m[1].split(",").map((s) => s.trim());
    throw e;
  }
  throw new Error("no error for an unknown key");
}

test("the solver options in each command's help are exactly the keys the solver reads", () => {
  const p = makeProblem(problemJson);
  const documented = (c: string) => new Set((COMMAND_HELP[c].solver ?? []).map(([k]) => k));
  const exp = allowedKeys(() => solve(p, meanOde({ depthSteps: 1, expectation: { bogus: 1 } as never })));
  const mo = allowedKeys(() => meanOde({ bogus: 1 } as never));
  const legacy = ["kind", "samples", "factor", "antithetic"];
  for (const k of [...mo.filter((k) => k !== "expectation"), ...exp.filter((k) => !legacy.includes(k)).map((k) => `expectation.${k}`)]) {
    assert.ok(documented("meanode").has(k), `meanode --help documents solver.${k}`);
  }
  for (const k of legacy) assert.ok(exp.includes(k), `expectation.${k} is read`);
  const notDmft = new Set(["method", "particles", "particleSeed", "record", "recordSteps"]);
  for (const k of mo.filter((k) => k !== "expectation" && !notDmft.has(k))) assert.ok(documented("dmft").has(k), `dmft --help documents solver.${k}`);
  for (const k of notDmft) {
    assert.ok(!documented("dmft").has(k), `dmft --help does not offer ${k}`);
    assert.throws(() => dmft({ [k]: 1 } as never));
  }
  const ch = allowedKeys(() => chaos(p, { bogus: 1 } as never));
  for (const k of ch.filter((k) => k !== "expectation")) assert.ok(documented("chaos").has(k), `chaos --help documents solver.${k}`);
  // and nothing documented that the solver would refuse
  for (const [c, keys] of [["meanode", mo], ["dmft", mo], ["chaos", ch]] as const) {
    for (const k of documented(c)) assert.ok(keys.includes(k.split(".")[0]), `${c}: documented ${k} is read by the solver`);
  }
});

test("mistyped commands and flags get a did-you-mean; usage errors exit 2 with the command's usage", () => {
  const r = cli(["trian", "--config", cfg]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command "trian" \(did you mean "train"\?\)/);
  const f = cli(["meanode", "--config", cfg, "--otu", "x.json"]);
  assert.equal(f.status, 2);
  assert.match(f.stderr, /unknown flag --otu \(did you mean --out\?\)/);
  assert.match(f.stderr, /usage: limitdyn meanode/);
  const v = cli(["--verison"]);
  assert.equal(v.status, 2);
  assert.match(v.stderr, /did you mean --version/);
});

test("--flag=value works; result files record version, resolved problem (+ hash, path) and solver options", () => {
  const out = join(dir, "r.json");
  const r = cli(["train", `--config=${cfg}`, `--out=${out}`, "--record=h", "--quiet"]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, "");
  const res = JSON.parse(readFileSync(out, "utf8"));
  assert.equal(res.version, VERSION);
  assert.equal(res.command, "limitdyn train");
  assert.equal(res.problemPath, cfg);
  const p = makeProblem(problemJson);
  assert.equal(res.problemHash, problemHash(p));
  assert.equal(problemHash(parseProblem(JSON.stringify(res.problem))), res.problemHash, "the embedded problem is the resolved problem");
  assert.deepEqual(res.problem.model, { L: 3, M: 4, D: 5, activation: "tanh", alpha: 1, sigmaU: 1, sigmaV: 1, sigmaIn: 1, sigmaOut: 1 });
  assert.deepEqual(res.options.record, ["h"]);

  const m = cli(["meanode", "--config", cfg, "--out", out, "--quiet"]);
  assert.equal(m.status, 0, m.stderr);
  const mr = JSON.parse(readFileSync(out, "utf8"));
  assert.equal(mr.version, VERSION);
  assert.equal(mr.options.depthSteps, 2);
  assert.equal(mr.options.expectation.rule, "sobol", "the legacy kind: qmc is bound to its factor-form rule");
  assert.equal(mr.options.scheme, "rk4", "defaults filled in");
});

test("progress on stderr: periodic lines off a terminal for train, meanode, dmft, chaos; none with --quiet", () => {
  const env = { LIMITDYN_PROGRESS_DELAY_MS: "0" };
  const out = join(dir, "prog.json");
  const chaosCfg = join(dir, "chaos.json");
  writeFileSync(chaosCfg, JSON.stringify({ ...problemJson, solver: { R: 2, widths: [4, 8], diagnostics: ["coupling"], expectation: { kind: "qmc", samples: 256 } } }));
  const expect: Record<string, RegExp> = {
    train: /limitdyn train: GD steps \(finite ResNet\) [1-4]\/4 \(\d+%\)/,
    meanode: /limitdyn meanode: GD steps \(skeleton[^)]*\) [1-4]\/4/,
    dmft: /limitdyn dmft: GD steps \(skeleton[^)]*\) [1-4]\/4/,
    chaos: /limitdyn chaos: (coupled runs[^\n]* \d+\/16|GD steps \(skeleton)/,
  };
  for (const [c, re] of Object.entries(expect)) {
    const r = cli([c, "--config", c === "chaos" ? chaosCfg : cfg, "--out", out], env);
    assert.equal(r.status, 0, `${c}: ${r.stderr}`);
    assert.match(r.stderr, re, c);
    assert.match(r.stderr, new RegExp(`limitdyn ${c}: done in`));
    const q = cli([c, "--config", c === "chaos" ? chaosCfg : cfg, "--out", out, "--quiet"], env);
    assert.equal(q.status, 0);
    assert.equal(q.stderr, "", `${c} --quiet prints nothing`);
  }
  const short = cli(["train", "--config", cfg, "--out", out]);
  assert.equal(short.stderr, "", "runs shorter than the delay print nothing");
});

test("the bundled CLI (dist/cli/bundle) starts its worker entries: train --threads 2, sweep --workers 2", () => {
  assert.ok(readFileSync(join(ROOT, "dist/cli/bundle/entry.js"), "utf8").length > 0, "the CLI bundle is built");
  const wide = join(dir, "wide.json"), out = join(dir, "wide-r.json");
  writeFileSync(wide, JSON.stringify({ ...problemJson, model: { L: 2, M: 130, D: 4 } }));
  const one = cli(["train", "--config", wide, "--out", out, "--threads", "1", "--quiet"]);
  assert.equal(one.status, 0, one.stderr);
  const f1 = JSON.parse(readFileSync(out, "utf8")).f;
  const two = cli(["train", "--config", wide, "--out", out, "--threads=2", "--quiet"]);
  assert.equal(two.status, 0, two.stderr);
  assert.deepEqual(JSON.parse(readFileSync(out, "utf8")).f, f1, "bit-identical on 2 threads");
  const sweep = join(dir, "sweep.json"), rows = join(dir, "rows.jsonl");
  writeFileSync(sweep, JSON.stringify({ problem: { ...problemJson, solver: undefined }, grid: { L: [2, 3] }, repetitions: 2, task: "finite-vs-reference", taskOptions: { reference: { L: 4, M: 4 } } }));
  const s = cli(["sweep", "--config", sweep, "--out", rows, "--workers", "2", "--progress", "none"]);
  assert.equal(s.status, 0, s.stderr);
  assert.equal(readFileSync(rows, "utf8").trim().split("\n").length, 4);
});
