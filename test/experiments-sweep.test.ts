/**
 * Sweep runner: deterministic ids and seeds, worker-count invariance,
 * sharding + merge = unsharded sweep, resume after maxRuns / a torn last line
 * / a SIGKILLed CLI process gives the rows of an uninterrupted run.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, truncateSync, statSync, writeFileSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  expandSweep, mergeRowFiles, normalizeSweep, readRows, rowKey, runSweep, type SweepRow, type SweepSpec, parseShard,
} from "../src/experiments/index.ts";
import { main } from "../src/cli/main.ts";
import { writeHangTask } from "./helpers/built.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "limitdyn-sweep-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

const problem = {
  model: { D: 6 },
  data: { generator: "teacher", dIn: 3, dOut: 2, N: 3, seed: 1 },
  train: { steps: 3, etaU: 0.2, etaV: 0.2 },
  seed: 11,
};
const spec: SweepSpec = {
  problem,
  grid: { L: [2, 3], M: [2, 4], "train.etaU": [0.1, 0.3] },
  repetitions: 3,
  task: "finite-vs-reference",
  taskOptions: { reference: { L: 6, M: 6 } },
};

/** Rows without timings, ordered by run index: the canonical content. */
const canon = (rows: SweepRow[]) => [...rows].sort((a, b) => a.index - b.index).map(rowKey);

let reference: SweepRow[] | undefined;
async function referenceRows(): Promise<SweepRow[]> {
  reference ??= (await runSweep(spec, { workers: 0 })).rows;
  return reference;
}

test("expansion: ids and seeds are deterministic, unique, independent of grid order", () => {
  const runs = expandSweep(spec);
  assert.equal(runs.length, 2 * 2 * 2 * 3);
  assert.equal(new Set(runs.map((r) => r.id)).size, runs.length);
  assert.equal(new Set(runs.map((r) => r.seed)).size, runs.length);
  assert.deepEqual(runs.map((r) => r.index), runs.map((_, i) => i));
  assert.equal(runs[0].id, "model.L=2,model.M=2,train.etaU=0.1#0");
  // reordering the grid keys (and using canonical names) changes indices but not (id → seed)
  const reordered = expandSweep({ ...spec, grid: { "train.etaU": [0.3, 0.1], "model.M": [4, 2], "model.L": [3, 2] } });
  const seedOf = new Map(runs.map((r) => [r.id, r.seed]));
  for (const r of reordered) assert.equal(r.seed, seedOf.get(r.id), r.id);
  // seedAxes: [] → one seed per repetition (common random numbers across points)
  const crn = expandSweep({ ...spec, seedAxes: [] });
  assert.equal(new Set(crn.map((r) => r.seed)).size, 3);
  // the base seed changes every seed
  const other = expandSweep({ ...spec, seed: 12 });
  assert.ok(other.every((r, i) => r.seed !== runs[i].seed));
  assert.deepEqual(parseShard("2/5"), { index: 2, count: 5 });
  assert.throws(() => parseShard("0/5"), /1 ≤ i ≤ n/);
  assert.throws(() => normalizeSweep({ ...spec, grid: { "modle.L": [1] } }), /must be a dotted path into the problem/);
  assert.throws(() => normalizeSweep({ ...spec, grid: { seed: [1, 2] } }), /cannot be swept/);
});

test("rows: the point is applied to the problem, the row holds id, config, seed and values", async () => {
  const rows = await referenceRows();
  assert.equal(rows.length, 24);
  const r = rows[5];
  assert.deepEqual(r.shape, { L: r.point["model.L"], M: r.point["model.M"], D: 6, N: 3, steps: 3 });
  assert.equal(r.task, "finite-vs-reference");
  assert.ok(r.values);
  for (const k of ["errLast", "errAll", "lossLast", "refLossLast"]) assert.equal(typeof r.values![k], "number", k);
  assert.equal((r.values!.fLast as number[]).length, 2 * 3);
  assert.equal((r.values!.loss as number[]).length, 3);
  assert.ok(rows.every((x) => x.error === undefined));
  // etaU is applied: the two rates give different losses at the last step for the same (L, M, rep)
  const a = rows.find((x) => x.id === "model.L=2,model.M=2,train.etaU=0.1#0")!;
  const b = rows.find((x) => x.id === "model.L=2,model.M=2,train.etaU=0.3#0")!;
  assert.notEqual(a.values!.lossLast, b.values!.lossLast);
});

test("worker-count invariance: workers 0, 1, 2 give identical rows", async () => {
  const ref = canon(await referenceRows());
  const [w1, w2] = await Promise.all([runSweep(spec, { workers: 1 }), runSweep(spec, { workers: 2 })]);
  assert.deepEqual(canon(w1.rows), ref);
  assert.deepEqual(canon(w2.rows), ref);
});

test("sharding: the union of shards 1/3, 2/3, 3/3 equals the unsharded sweep, row for row; merge dedupes and rejects conflicts", async () => {
  const ref = canon(await referenceRows());
  const files = [1, 2, 3].map((i) => join(dir, `shard${i}.jsonl`));
  const results = await Promise.all(files.map((out, i) => runSweep(spec, { out, shard: `${i + 1}/3`, workers: 0 })));
  assert.deepEqual(results.map((r) => r.planned), [8, 8, 8]);
  for (const [i, r] of results.entries()) assert.ok(r.rows.every((row) => row.index % 3 === i));
  const merged = join(dir, "merged.jsonl");
  const m = mergeRowFiles([...files, files[0]], merged); // an input given twice: exact duplicates are dropped
  assert.equal(m.read, 32);
  assert.equal(m.duplicates, 8);
  assert.deepEqual(canon(m.rows), ref);
  // the merged file is ordered by run index and holds exactly the unsharded rows
  const back = readRows(merged).rows;
  assert.deepEqual(back.map((r) => r.index), ref.map((_, i) => i));
  assert.deepEqual(back.map(rowKey), ref);
  // the CLI merge (positional inputs) gives the same file content
  const cliOut = join(dir, "merged-cli.jsonl");
  assert.equal(main(["merge", "--out", cliOut, ...files]), 0);
  assert.deepEqual(readRows(cliOut).rows.map(rowKey), ref);
  // a conflicting duplicate (same run id, different value) is an error
  const bad = join(dir, "bad.jsonl");
  const row = { ...readRows(files[0]).rows[0] };
  row.values = { ...row.values, errLast: 123 };
  writeFileSync(bad, JSON.stringify(row) + "\n");
  assert.throws(() => mergeRowFiles([files[0], bad]), /conflicting rows for run/);
  assert.equal(main(["merge", "--out", join(dir, "x.jsonl"), files[0], bad]), 2);
});

test("resume after maxRuns and after a torn last line: same rows, no duplicates", async () => {
  const ref = canon(await referenceRows());
  const out = join(dir, "resume.jsonl");
  const first = await runSweep(spec, { out, maxRuns: 7, workers: 0 });
  assert.equal(first.ran, 7);
  assert.equal(first.complete, false);
  // simulate a crash in the middle of writing the 8th row: append half a line
  const line = JSON.stringify((await referenceRows())[20]);
  appendFileSync(out, line.slice(0, Math.floor(line.length / 2)));
  const r0 = readRows(out);
  assert.equal(r0.rows.length, 7);
  assert.equal(r0.truncatedTail, true);
  const second = await runSweep(spec, { out, maxRuns: 6, workers: 2 });
  assert.equal(second.skipped, 7);
  assert.equal(second.ran, 6);
  // and a crash that cut a row in the middle of the file's last line (no newline), then resume to the end
  const size = statSync(out).size;
  truncateSync(out, size - 10);
  const third = await runSweep(spec, { out, workers: 0 });
  assert.equal(third.skipped, 12);
  assert.equal(third.ran, 12);
  assert.equal(third.complete, true);
  const final = readRows(out);
  assert.equal(final.truncatedTail, false);
  assert.equal(final.rows.length, 24, "no duplicated or lost rows");
  assert.equal(new Set(final.rows.map((r) => r.id)).size, 24);
  assert.deepEqual(canon(final.rows), ref);
  // a completed sweep resumes to a no-op
  const again = await runSweep(spec, { out, workers: 0 });
  assert.equal(again.ran, 0);
  assert.equal(readRows(out).rows.length, 24);
  // an output file of another sweep is refused
  await assert.rejects(runSweep({ ...spec, taskOptions: { reference: { L: 7, M: 6 } } }, { out }), /different sweep/);
});

test("resume after SIGKILL of `limitdyn sweep` (CLI, mid-run): same rows as an uninterrupted run", { timeout: 300_000 }, async () => {
  // The child's task is finite-vs-reference, except that run 5 (and later) never finishes when
  // LIMITDYN_TEST_HANG_AT = 5 is set (only in the child): it is killed with exactly 5 rows written,
  // whatever the machine's speed (no race between the kill and the runs).
  // plain JavaScript: the CLI runs the compiled package (no tsx), and every copy of the task
  // module (the CLI bundle's, dist's, the sources') shares one registry
  const mod = writeHangTask(dir, "reference-or-hang", "finite-vs-reference");
  const big: SweepSpec = { ...spec, problem: { ...problem, model: { D: 16 }, data: { ...problem.data, N: 8 }, train: { ...problem.train, steps: 6 } }, grid: { L: [4, 8], M: [4, 8] }, repetitions: 15, taskOptions: { reference: { L: 24, M: 24 } }, task: "reference-or-hang", taskModules: [mod] };
  const cfg = join(dir, "big.json");
  writeFileSync(cfg, JSON.stringify(big));
  const out = join(dir, "killed.jsonl");
  const child = spawn(process.execPath, [join(ROOT, "bin/limitdyn.mjs"), "sweep", "--config", cfg, "--out", out, "--workers", "0", "--progress", "none", "--max-runs", "1000"], { stdio: "ignore", env: { ...process.env, LIMITDYN_TEST_HANG_AT: "5" } });
  const exited = new Promise((r) => child.on("exit", r));
  let early: unknown = null;
  child.on("exit", (code) => { early ??= code; });
  const lines = () => { try { return readFileSync(out, "utf8").split("\n").length - 1; } catch { return 0; } };
  while (lines() < 5 && early === null) await new Promise((r) => setTimeout(r, 20));
  assert.equal(early, null, "the child exited before it was killed");
  child.kill("SIGKILL");
  await exited;
  const killedAt = readRows(out).rows.length;
  assert.equal(killedAt, 5, `killed after ${killedAt} of 60 rows`);
  const resumed = await runSweep(big, { out, workers: 2 });
  assert.equal(resumed.skipped, 5);
  const final = readRows(out).rows;
  assert.equal(final.length, 60);
  assert.equal(new Set(final.map((r) => r.id)).size, 60);
  const full = await runSweep(big, { workers: 0 });
  assert.deepEqual(canon(final), canon(full.rows));
});

test("tasks: taskModules register tasks for workers; unknown tasks and task errors", async () => {
  const mod = join(dir, "my-task.mts"); // outside a "type": "module" package a .ts file would load as CommonJS (another registry instance)
  const tasksUrl = new URL("../src/experiments/tasks.ts", import.meta.url).href;
  writeFileSync(mod, `import { registerTask } from ${JSON.stringify(tasksUrl)};
registerTask("square-L", (p, ctx) => ({ y: p.model.L ** 2, seed: ctx.run.seed, opt: ctx.options.k ?? null }));\n`);
  const s: SweepSpec = { problem, grid: { L: [1, 2, 3], "taskOptions.k": [5] }, task: "square-L", taskModules: [mod] };
  const r1 = await runSweep(s, { workers: 1 });
  const r0 = await runSweep(s, { workers: 0 });
  assert.deepEqual(r1.rows.map((r) => r.values), [1, 4, 9].map((y, i) => ({ y, seed: r1.rows[i].seed, opt: 5 })));
  assert.deepEqual(canon(r1.rows), canon(r0.rows));
  await assert.rejects(runSweep({ ...s, task: "no-such-task" }), /unknown task "no-such-task"/);
  // a field the problem does not accept fails before any run, naming the point and the field
  await assert.rejects(runSweep({ ...spec, grid: { "model.Q": [1] } }), /point model.Q=1: model has unknown key|model\.Q|Q/);
  // a failing run is recorded (error, no values) and counted; the others go on
  const bad = await runSweep({ ...spec, grid: { L: [2] }, repetitions: 2, taskOptions: { reference: { L: 0 } } });
  assert.equal(bad.failed, 2);
  assert.match(bad.rows[0].error!, /taskOptions.reference.L must be a positive integer/);
});

test("abort: stops dispatching, keeps the rows written; a resume completes the sweep", async () => {
  const ref = canon(await referenceRows());
  const out = join(dir, "abort.jsonl");
  const ac = new AbortController();
  let seen = 0;
  const r = await runSweep(spec, { out, workers: 2, signal: ac.signal, onRow: () => { if (++seen === 4) ac.abort(); } });
  assert.equal(r.complete, false);
  assert.ok(r.ran >= 4 && r.ran < 24, `ran ${r.ran}`);
  assert.equal(readRows(out).rows.length, r.ran);
  const done = await runSweep(spec, { out, workers: 0 });
  assert.equal(done.skipped, r.ran);
  assert.deepEqual(canon(readRows(out).rows), ref);
});
