/**
 * Results in and out: loadTrajectory round-trips every solver's result file (values and
 * shapes equal), outputRms works on loaded files, and the .npy / .npz / CSV exports read
 * back with numpy (python3 + numpy when available, else an independent parser written here)
 * give the same arrays.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../src/cli/main.ts";
import { loadProblem } from "../src/problem/problem.ts";
import { solve } from "../src/problem/algorithm.ts";
import { outputRms, trajectoryToJSON, type Trajectory } from "../src/problem/trajectory.ts";
import { finiteResNet } from "../src/resnet/solver.ts";
import { meanOde, type MeanOdeOptions } from "../src/limits/mean-ode.ts";
import { dmft, type DmftOptions } from "../src/limits/dmft.ts";
import { largeWidth } from "../src/limits/large-width.ts";
import { chaosDiagnostics as chaos, type ChaosOptions } from "../src/chaos/simulate.ts";
import { exportTrajectory, fromNpy, fromNpz, loadTrajectory, toNpy, toNpz, trajectoryArrays } from "../src/problem/io.ts";
import { ensureBuilt, ROOT } from "./helpers/built.ts";

const dir = mkdtempSync(join(tmpdir(), "limitdyn-io-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

const base = {
  model: { L: 3, M: 4, D: 5 },
  data: { generator: "teacher", dIn: 2, dOut: 2, N: 3, seed: 2 },
  train: { steps: 3, etaU: 0.3, etaV: 0.3 },
  seed: 5,
};
const skeletonSolver = { depthSteps: 2, expectation: { kind: "qmc", samples: 256 }, record: ["h", "b"] };
const cases: { name: string; cmd: string; solver?: object; flags?: string[]; api: (p: ReturnType<typeof loadProblem>) => Trajectory }[] = [
  { name: "finiteResNet", cmd: "train", flags: ["--record", "h,b,p"], api: (p) => solve(p, finiteResNet({ record: ["h", "b", "p"] })) },
  { name: "meanOde/skeleton", cmd: "meanode", solver: skeletonSolver, api: (p) => solve(p, meanOde(p.solver as MeanOdeOptions)) },
  { name: "meanOde/particles", cmd: "meanode", solver: { method: "particles", particles: 64, depthSteps: 4, record: ["h"] }, api: (p) => solve(p, meanOde(p.solver as MeanOdeOptions)) },
  { name: "dmft", cmd: "dmft", solver: { depthSteps: 2, expectation: { kind: "qmc", samples: 256 } }, api: (p) => solve(p, dmft(p.solver as DmftOptions)) },
];

const quietly = <T>(fn: () => T): T => {
  const err = console.error;
  console.error = () => {};
  try { return fn(); } finally { console.error = err; }
};

function sameTrajectory(got: Trajectory, want: Trajectory, what: string): void {
  assert.equal(got.K, want.K, what);
  assert.equal(got.dOut, want.dOut, what);
  assert.equal(got.N, want.N, what);
  assert.deepEqual(got.f.shape, [want.K, want.dOut, want.N], what);
  assert.deepEqual(Array.from(got.f.data), Array.from(want.f.data), `${what}: f`);
  assert.ok(got.loss instanceof Float64Array);
  assert.deepEqual(Array.from(got.loss), Array.from(want.loss), `${what}: loss`);
  assert.equal(got.f.get(want.K - 1, want.dOut - 1, want.N - 1), want.f.get(want.K - 1, want.dOut - 1, want.N - 1), `${what}: ndarray view`);
  assert.equal(!!got.profiles, !!want.profiles, `${what}: profiles`);
  if (want.profiles) {
    assert.deepEqual(got.profiles!.steps, want.profiles.steps);
    assert.deepEqual(Array.from(got.profiles!.s), Array.from(want.profiles.s));
    for (const k of ["h", "b", "p"] as const) {
      assert.equal(!!got.profiles![k], !!want.profiles[k], `${what}: profiles.${k}`);
      if (!want.profiles[k]) continue;
      assert.deepEqual(got.profiles![k]!.shape, want.profiles[k]!.shape, `${what}: profiles.${k} shape`);
      assert.deepEqual(Array.from(got.profiles![k]!.data), Array.from(want.profiles[k]!.data), `${what}: profiles.${k}`);
    }
  }
  assert.deepEqual(got.options, JSON.parse(JSON.stringify(trajectoryToJSON(want).options)), `${what}: options`);
}

const files: Record<string, string> = {};
for (const c of cases) {
  test(`loadTrajectory round-trips the ${c.name} result file of limitdyn ${c.cmd}`, () => {
    const cfg = join(dir, `${c.name.replace("/", "-")}.problem.json`);
    const out = join(dir, `${c.name.replace("/", "-")}.json`);
    writeFileSync(cfg, JSON.stringify({ ...base, ...(c.solver ? { solver: c.solver } : {}) }));
    assert.equal(quietly(() => main([c.cmd, "--config", cfg, "--out", out, "--quiet", ...(c.flags ?? [])])), 0);
    const want = c.api(loadProblem(cfg));
    const got = loadTrajectory(out);
    assert.equal(got.algorithm, want.algorithm);
    sameTrajectory(got, want, c.name);
    assert.equal(((got.extras as Record<string, unknown>).meta as Record<string, unknown>).version, JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
    sameTrajectory(loadTrajectory(JSON.parse(readFileSync(out, "utf8"))), want, `${c.name} (parsed object)`);
    assert.equal(loadTrajectory(want), want, "a Trajectory passes through");
    files[c.name] = out;
  });
}

test("outputRms(loadTrajectory(a), loadTrajectory(b)) compares result files", () => {
  const a = loadTrajectory(files["finiteResNet"]), b = loadTrajectory(files["meanOde/skeleton"]);
  const r = outputRms(a, b);
  assert.ok(Number.isFinite(r) && r > 0);
  assert.equal(outputRms(a, loadTrajectory(files["finiteResNet"])), 0);
});

test("loadTrajectory: largeWidth trajectories and chaos result files (the M = ∞ limit, diagnostics in extras.chaos)", () => {
  const cfg = join(dir, "chaos.problem.json"), out = join(dir, "chaos.json");
  const solver = { R: 2, widths: [4, 8], diagnostics: ["coupling"], expectation: { kind: "qmc", samples: 256 } };
  writeFileSync(cfg, JSON.stringify({ ...base, solver }));
  assert.equal(quietly(() => main(["chaos", "--config", cfg, "--out", out, "--quiet"])), 0);
  const p = loadProblem(cfg);
  const got = loadTrajectory(out);
  const res = chaos(p, p.solver as ChaosOptions);
  assert.deepEqual(got.f.shape, [3, 2, 3]);
  assert.deepEqual(Array.from(got.f.data), res.limit.f.flat(2));
  assert.deepEqual(Array.from(got.loss), res.limit.loss);
  assert.deepEqual(((got.extras as Record<string, unknown>).chaos as { widths: number[] }).widths, [4, 8]);
  const lw = solve(p, largeWidth({ expectation: { kind: "qmc", samples: 256 }, record: ["h"] }));
  sameTrajectory(loadTrajectory(JSON.parse(JSON.stringify(trajectoryToJSON(lw)))), lw, "largeWidth");
  assert.ok(outputRms(lw, got) < 1e-12, "the chaos limit is the largeWidth trajectory");
});

test("loadTrajectory names what is wrong with a bad file", () => {
  const bad = join(dir, "bad.json");
  writeFileSync(bad, JSON.stringify({ f: [[[1, 2]], [[3]]], loss: [0, 0] }));
  assert.throws(() => loadTrajectory(bad), /not rectangular/);
  writeFileSync(bad, JSON.stringify({ f: [[[1]]], loss: [0, 0] }));
  assert.throws(() => loadTrajectory(bad), /loss must be an array of length K = 1/);
  writeFileSync(bad, "{");
  assert.throws(() => loadTrajectory(bad), /not valid JSON/);
  assert.throws(() => loadTrajectory(join(dir, "missing.json")), /cannot be read/);
  assert.throws(() => loadTrajectory({ rows: [] }), /must hold f/);
});

/** An independent .npy reader (v1.0, '<f8' / '<i4', C order) for machines without numpy. */
function parseNpyIndependently(b: Buffer): { shape: number[]; values: number[] } {
  assert.equal(b.subarray(0, 6).toString("latin1"), "\x93NUMPY");
  const hlen = b.readUInt16LE(8);
  const header = b.subarray(10, 10 + hlen).toString("latin1");
  assert.equal((10 + hlen) % 64, 0, "header padded to 64 bytes");
  const shape = /'shape': \(([^)]*)\)/.exec(header)![1].split(",").filter((s) => s.trim()).map(Number);
  const i4 = header.includes("'<i4'");
  const n = shape.reduce((x, y) => x * y, 1);
  const values = Array.from({ length: n }, (_, i) => (i4 ? b.readInt32LE(10 + hlen + 4 * i) : b.readDoubleLE(10 + hlen + 8 * i)));
  return { shape, values };
}

const hasNumpy = spawnSync("python3", ["-c", "import numpy"], { encoding: "utf8" }).status === 0;

test(`.npy / .npz exports read back ${hasNumpy ? "with numpy" : "with an independent parser (numpy not available)"} give the same arrays`, () => {
  const t = loadTrajectory(files["finiteResNet"]);
  const npyDir = join(dir, "npy"), npz = join(dir, "r.npz");
  const written = exportTrajectory(files["finiteResNet"], { format: "npy", out: npyDir });
  exportTrajectory(t, { format: "npz", out: npz });
  const arrays = trajectoryArrays(t);
  assert.deepEqual(written.map((f) => f.slice(npyDir.length + 1)).sort(), Object.keys(arrays).map((k) => `${k}.npy`).sort());
  assert.deepEqual(Object.keys(arrays).sort(), ["b", "f", "h", "loss", "p", "s", "steps"]);
  let read: Record<string, { shape: number[]; values: number[] }>;
  let readNpz: Record<string, { shape: number[]; values: number[] }>;
  if (hasNumpy) {
    const py = `
import json, sys, numpy as np
d, z = sys.argv[1], sys.argv[2]
names = ${JSON.stringify(Object.keys(arrays))}
out = {n: (lambda a: {"shape": list(a.shape), "values": a.ravel().tolist(), "dtype": str(a.dtype)})(np.load(f"{d}/{n}.npy")) for n in names}
with np.load(z) as f:
    outz = {n: {"shape": list(f[n].shape), "values": f[n].ravel().tolist()} for n in f.files}
print(json.dumps({"npy": out, "npz": outz}))`;
    const r = spawnSync("python3", ["-c", py, npyDir, npz], { encoding: "utf8", maxBuffer: 1 << 26 });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    read = j.npy;
    readNpz = j.npz;
    assert.equal(j.npy.f.dtype, "float64");
    assert.equal(j.npy.steps.dtype, "int32");
  } else {
    read = Object.fromEntries(Object.keys(arrays).map((n) => [n, parseNpyIndependently(readFileSync(join(npyDir, `${n}.npy`)))]));
    readNpz = Object.fromEntries(Object.entries(fromNpz(readFileSync(npz))).map(([n, a]) => [n, { shape: a.shape, values: Array.from(a.data) }]));
  }
  for (const [n, a] of Object.entries(arrays)) {
    assert.deepEqual(read[n].shape, a.shape, `${n}.npy shape`);
    assert.deepEqual(read[n].values, Array.from(a.data), `${n}.npy values`);
    assert.deepEqual(readNpz[n].shape, a.shape, `npz[${n}] shape`);
    assert.deepEqual(readNpz[n].values, Array.from(a.data), `npz[${n}] values`);
  }
  assert.deepEqual(read.f.shape, [3, 2, 3]);
  assert.deepEqual(read.h.shape, [3, 4, 3, 5]);
  // and the reverse: our readers on what numpy writes
  if (hasNumpy) {
    const r = spawnSync("python3", ["-c", `import numpy as np; a = np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 7; np.save("${dir}/np.npy", a); np.savez("${dir}/np.npz", x=a, y=np.arange(5, dtype=np.int32))`]);
    assert.equal(r.status, 0);
    const a = fromNpy(readFileSync(join(dir, "np.npy")));
    assert.deepEqual(a.shape, [2, 3, 4]);
    assert.deepEqual(Array.from(a.data), Array.from({ length: 24 }, (_, i) => i / 7));
    const z = fromNpz(readFileSync(join(dir, "np.npz")));
    assert.deepEqual(Array.from(z.y.data), [0, 1, 2, 3, 4]);
  }
  const back = fromNpy(toNpy(t.f));
  assert.deepEqual(back.shape, [3, 2, 3]);
  assert.deepEqual(Array.from(back.data), Array.from(t.f.data));
  assert.deepEqual(Object.keys(fromNpz(toNpz({ f: t.f }))), ["f"]);
});

test("tidy CSV export: outputs.csv (k,o,n,f), loss.csv, profiles.csv, preactivations.csv", () => {
  const t = loadTrajectory(files["finiteResNet"]);
  const out = join(dir, "csv");
  exportTrajectory(t, { format: "csv", out });
  const rows = (name: string) => readFileSync(join(out, name), "utf8").trim().split("\n").map((l) => l.split(","));
  const o = rows("outputs.csv");
  assert.deepEqual(o[0], ["k", "o", "n", "f"]);
  assert.equal(o.length - 1, t.K * t.dOut * t.N);
  for (const [k, oo, n, f] of o.slice(1).map((r) => r.map(Number))) assert.equal(f, t.f.get(k, oo, n));
  const l = rows("loss.csv");
  assert.deepEqual(l.slice(1).map((r) => Number(r[1])), Array.from(t.loss));
  const pr = rows("profiles.csv");
  assert.deepEqual(pr[0], ["step", "i", "s", "n", "d", "h", "b"]);
  assert.equal(pr.length - 1, 3 * 4 * 3 * 5);
  const [step, i, , n, d, h] = pr[7].map(Number);
  assert.equal(h, t.profiles!.h!.get(t.profiles!.steps.indexOf(step), i, n, d));
  assert.deepEqual(rows("preactivations.csv")[0], ["step", "l", "j", "n", "p"]);
});

test("limitdyn export result.json --format npy|npz|csv (compiled CLI) writes the files beside the input", () => {
  ensureBuilt();
  const src = join(dir, "exp.json");
  writeFileSync(src, readFileSync(files["dmft"]));
  for (const [format, path] of [["npy", "exp-npy/f.npy"], ["npz", "exp.npz"], ["csv", "exp-csv/outputs.csv"]]) {
    const r = spawnSync(process.execPath, [join(ROOT, "bin/limitdyn.mjs"), "export", src, `--format=${format}`], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(join(dir, path)), path);
  }
  assert.ok(existsSync(join(dir, "exp-npy", "extras.depthGrid.npy")), "numeric extras are exported too");
  const bad = spawnSync(process.execPath, [join(ROOT, "bin/limitdyn.mjs"), "export", src, "--format", "xls"], { encoding: "utf8" });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--format must be npy, npz or csv/);
});
