#!/usr/bin/env node
/**
 * `npm run bench:cli`: what a user of the installed package waits for, timed as
 * whole processes, median of alternating runs (each repetition runs every
 * command once, in turn, so a slow spell of the machine hits all of them):
 *
 *   node -e 0                                        bare Node start (reference)
 *   limitdyn --help                                  target ≤ 0.15 s
 *   node -e 'await import("limitdyn")'               target ≤ 100 ms over bare Node (and total shown)
 *   limitdyn train --config p.json --out r.json      vs python3 bench/peer_resnet.py L M D N K
 *       (L, M, D, N, K) = (64, 16, 16, 10, 50), (8, 16, 16, 10, 200): target ratio ≥ 1.5
 *
 * `limitdyn` is the installed bin (node_modules/.bin/limitdyn of a project that
 * links this package, i.e. what `npx limitdyn` executes); `npx limitdyn --help`
 * is timed too, to show npx's own start-up. Same problem on both sides of the
 * train comparison (teacher data d_in = 10, d_out = 2, tanh, α = 1,
 * η_u = η_v = 1, frozen embeddings; the peer draws its own weights); the CLI's
 * time includes reading the problem file, the result file with its metadata.
 *
 *   npm run bench:cli                 # table on stdout (BENCH_REPS, default 11)
 *   npm run bench:cli -- --docs       # also rewrite the "Package and CLI" table of docs/performance.md
 *
 * The numpy peer runs without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (they slow
 * a current numpy, see the environment notes).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const reps = Number(process.env.BENCH_REPS ?? 11);
const writeDocs = process.argv.includes("--docs");

execFileSync(process.execPath, [join(root, "scripts", "build.mjs")], { stdio: "inherit" });
const dir = mkdtempSync(join(tmpdir(), "limitdyn-bench-cli-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, "node_modules", ".bin"), { recursive: true });
symlinkSync(root, join(dir, "node_modules", "limitdyn"), "dir");
symlinkSync("../limitdyn/bin/limitdyn.mjs", join(dir, "node_modules", ".bin", "limitdyn"));
writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "bench-consumer", private: true, type: "module" }));
const bin = join(dir, "node_modules", ".bin", "limitdyn");

const SHAPES = [[64, 16, 16, 10, 50], [8, 16, 16, 10, 200]];
for (const [L, M, D, N, K] of SHAPES) {
  writeFileSync(join(dir, `p-${L}-${K}.json`), JSON.stringify({
    model: { L, M, D, activation: "tanh" }, data: { generator: "teacher", dIn: 10, dOut: 2, N, seed: 1 }, train: { steps: K, etaU: 1, etaV: 1 }, seed: 1,
  }));
}
const peerEnv = { ...process.env };
delete peerEnv.OPENBLAS_CORETYPE;
delete peerEnv.OPENBLAS_L2_SIZE;
const hasNumpy = spawnSync("python3", ["-c", "import numpy"], { env: peerEnv }).status === 0;

/** name → [cmd, args, env] */
const jobs = {
  bare: [process.execPath, ["-e", "0"]],
  help: [bin, ["--help"]],
  npxHelp: ["npx", ["--no-install", "limitdyn", "--help"]],
  import: [process.execPath, ["--input-type=module", "-e", 'await import("limitdyn")']],
};
for (const [L, M, D, N, K] of SHAPES) {
  jobs[`cli ${L}-${K}`] = [bin, ["train", "--config", `p-${L}-${K}.json`, "--out", `r-${L}-${K}.json`, "--quiet"]];
  if (hasNumpy) jobs[`numpy ${L}-${K}`] = ["python3", [join(root, "bench", "peer_resnet.py"), ...[L, M, D, N, K].map(String)], peerEnv];
}

const times = Object.fromEntries(Object.keys(jobs).map((k) => [k, []]));
for (let r = 0; r < reps; r++) {
  for (const [name, [cmd, args, env]] of Object.entries(jobs)) {
    const t0 = process.hrtime.bigint();
    const res = spawnSync(cmd, args, { cwd: dir, env: { ...(env ?? process.env), NODE_OPTIONS: "" }, encoding: "utf8" });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (res.status !== 0) throw new Error(`${name}: ${cmd} ${args.join(" ")} failed (${res.status}): ${res.stderr}`);
    times[name].push(s);
  }
}
const median = (a) => { const b = [...a].sort((x, y) => x - y); const m = b.length >> 1; return b.length % 2 ? b[m] : (b[m - 1] + b[m]) / 2; };
const med = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
const f3 = (x) => x.toFixed(3);
const verdict = (ok) => (ok ? "pass" : "FAIL");

const rows = [
  "| what | median s | target | |",
  "|---|---|---|---|",
  `| \`node -e 0\` (bare Node) | ${f3(med.bare)} | | |`,
  `| \`limitdyn --help\` | ${f3(med.help)} | ≤ 0.15 | ${verdict(med.help <= 0.15)} |`,
  `| \`npx limitdyn --help\` (npx's own start-up included) | ${f3(med.npxHelp)} | | |`,
  `| \`import "limitdyn"\` (whole process) | ${f3(med.import)} | | |`,
  `| \`import "limitdyn"\` over bare Node | ${f3(med.import - med.bare)} | ≤ 0.100 | ${verdict(med.import - med.bare <= 0.1)} |`,
];
for (const [L, M, D, N, K] of SHAPES) {
  const c = med[`cli ${L}-${K}`], p = med[`numpy ${L}-${K}`];
  rows.push(`| \`limitdyn train\` (${L}, ${M}, ${D}, ${N}, ${K}) | ${f3(c)} | | |`);
  if (p !== undefined) rows.push(`| numpy peer (${L}, ${M}, ${D}, ${N}, ${K}); ratio numpy / CLI = **${(p / c).toFixed(2)}** | ${f3(p)} | ratio ≥ 1.5 | ${verdict(p / c >= 1.5)} |`);
}
const py = hasNumpy ? spawnSync("python3", ["-c", "import numpy, sys; print(numpy.__version__, sys.version.split()[0])"], { encoding: "utf8", env: peerEnv }).stdout.trim() : "not found";
const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const header = `node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "?"}; numpy ${py}; median of ${reps} alternating whole-process runs; load average at the end ${load}.`;
console.log(header + "\n\n" + rows.join("\n"));

if (writeDocs) {
  const path = join(root, "docs", "performance.md");
  const begin = "<!-- bench:cli:begin -->", end = "<!-- bench:cli:end -->";
  let text = readFileSync(path, "utf8");
  if (!text.includes(begin)) text += `\n## Package and CLI (\`npm run bench:cli\`)\n\n${begin}\n${end}\n`;
  text = text.replace(new RegExp(`${begin}[\\s\\S]*${end}`), `${begin}\n${header}\n\n${rows.join("\n")}\n${end}`);
  writeFileSync(path, text);
  console.log(`wrote ${path}`);
}
if (!existsSync(bin)) process.exit(1);
