/**
 * `npm run bench`: the finite ResNet against a numpy peer (bench/peer_resnet.py,
 * same loop-over-layers algorithm), both timed as whole processes (start-up,
 * initialisation and K GD steps) on the same problem. Best of BENCH_REPS
 * repetitions (default 5) — other work on the machine only ever slows a run.
 *
 *   npm run bench                  # table on stdout
 *   npm run bench -- --docs        # also rewrite the "Finite ResNet" table of docs/performance.md
 *   npm run bench -- --threads 1   # our side single-threaded
 *
 * Run from dist/bench/ (the "bench" script bundles it with esbuild first:
 * bench/build.mjs, one file per entry), so our timings are not dominated by
 * tsx's start-up or by loading ~30 modules.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = here.endsWith(join("dist", "bench")) ? resolve(here, "..", "..") : resolve(here, "..");
const oursJs = join(root, "dist", "bench", "ours.js");
const peerPy = join(root, "bench", "peer_resnet.py");

type Shape = [number, number, number, number, number];
const SHAPES: { shape: Shape; target: number; refS: number }[] = [
  { shape: [8, 16, 16, 10, 200], target: 1.5, refS: 0.19 },
  { shape: [64, 16, 16, 10, 50], target: 1.5, refS: 0.22 },
  { shape: [200, 200, 100, 1, 10], target: 1, refS: 0.76 },
  { shape: [50, 100, 100, 10, 20], target: 0.5, refS: 0.25 },
  { shape: [32, 512, 512, 10, 3], target: 0.5, refS: 0.64 },
];

const args = process.argv.slice(2);
const reps = Number(process.env.BENCH_REPS ?? 5);
const ti = args.indexOf("--threads");
const threads = ti >= 0 ? args[ti + 1] : "auto";
const writeDocs = args.includes("--docs");

function timeProcess(cmd: string, argv: string[], env?: NodeJS.ProcessEnv): { s: number; out: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { env: env ?? process.env, encoding: "utf8" });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(" ")} failed (${r.status}): ${r.stderr}`);
  return { s, out: r.stdout.trim() };
}

function best(cmd: string, argv: string[], env?: NodeJS.ProcessEnv): { s: number; out: string } {
  let b = { s: Infinity, out: "" };
  for (let i = 0; i < reps; i++) {
    const r = timeProcess(cmd, argv, env);
    if (r.s < b.s) b = r;
  }
  return b;
}

if (!existsSync(oursJs)) throw new Error(`${oursJs} is missing: build with "node bench/build.mjs" (npm run bench does)`);
// the peer without the machine's OpenBLAS overrides (they can slow numpy down)
const peerEnv = { ...process.env };
const unset = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"].filter((k) => k in peerEnv);
for (const k of ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"]) delete peerEnv[k];

const py = spawnSync("python3", ["-c", "import numpy, sys; print(numpy.__version__, sys.version.split()[0])"], { encoding: "utf8", env: peerEnv });
const header = [
  `node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "?"}; numpy ${py.stdout.trim() || "(not found)"}; best of ${reps} whole-process runs each; ours: threads=${threads}.`,
  `numpy peer run with ${unset.length ? unset.join(", ") + " unset (env -u)" : "OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset (they were not set)"}.`,
  `GFLOP/s counts 12·L·M·D·N flops per GD step; ratio = numpy s / ours s (> 1: we are faster).`,
];
console.log(header.join("\n"));

const rows: string[] = [];
const fmt = (x: number, d = 3) => x.toFixed(d);
rows.push("| shape (L, M, D, N, K) | ours s | steps/s | GFLOP/s | numpy s | numpy GFLOP/s | ratio | target | |");
rows.push("|---|---|---|---|---|---|---|---|---|");
console.log(`\n${"shape (L,M,D,N,K)".padEnd(24)}${"ours s".padStart(8)}${"steps/s".padStart(9)}${"GFLOP/s".padStart(9)}${"numpy s".padStart(9)}${"ratio".padStart(7)}${"target".padStart(8)}  result`);
let allPass = true;
for (const { shape, target } of SHAPES) {
  const [L, M, D, N, K] = shape;
  const a = shape.map(String);
  const ours = best(process.execPath, [oursJs, ...a, threads]);
  const peer = best("python3", [peerPy, ...a], peerEnv);
  const flops = 12 * L * M * D * N * K;
  const ratio = peer.s / ours.s;
  const pass = ratio >= target;
  allPass &&= pass;
  const name = `(${shape.join(", ")})`;
  console.log(`${name.padEnd(24)}${fmt(ours.s).padStart(8)}${fmt(K / ours.s, 1).padStart(9)}${fmt(flops / ours.s / 1e9, 2).padStart(9)}${fmt(peer.s).padStart(9)}${fmt(ratio, 2).padStart(7)}${("≥" + target).padStart(8)}  ${pass ? "pass" : "FAIL"}`);
  rows.push(`| ${name} | ${fmt(ours.s)} | ${fmt(K / ours.s, 1)} | ${fmt(flops / ours.s / 1e9, 2)} | ${fmt(peer.s)} | ${fmt(flops / peer.s / 1e9, 2)} | ${fmt(ratio, 2)} | ≥ ${target} | ${pass ? "pass" : "FAIL"} |`);
}
console.log(allPass ? "\nall targets met" : "\nsome targets not met");

if (writeDocs) {
  const path = join(root, "docs", "performance.md");
  const table = [...header.map((h) => h + "  "), "", ...rows].join("\n");
  const begin = "<!-- bench:finite-resnet:begin -->", end = "<!-- bench:finite-resnet:end -->";
  let text = existsSync(path) ? readFileSync(path, "utf8") : "# Performance\n\n## Finite ResNet\n\n" + begin + "\n" + end + "\n";
  if (!text.includes(begin)) text += `\n## Finite ResNet\n\n${begin}\n${end}\n`;
  text = text.replace(new RegExp(`${begin}[\\s\\S]*${end}`), `${begin}\n${table}\n${end}`);
  writeFileSync(path, text);
  console.log(`wrote ${path}`);
}
