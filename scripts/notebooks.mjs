#!/usr/bin/env node
/**
 * `npm run notebooks`: execute the Jupyter notebooks of examples/notebooks/ headless on
 * the Deno kernel, against limitdyn installed from the packed tarball, and fail on any
 * cell error. Sets up what it needs, in .notebooks/ (gitignored) unless already there:
 *
 *   Deno        `deno` on PATH (or $LIMITDYN_DENO), else the npm package deno@2 installed
 *               into .notebooks/tools
 *   nbclient    Jupyter's nbclient / nbformat / jupyter_client for python3 (Debian:
 *               python3-nbclient; installed with apt-get when missing and running as root)
 *   kernel      a kernelspec "deno" in .notebooks/jupyter (JUPYTER_PATH), nothing in ~/.local
 *   limitdyn    `npm pack` (builds) → .notebooks/limitdyn.tgz, installed into
 *               examples/notebooks/node_modules (examples/notebooks/package.json)
 *
 * Executed copies (with outputs) go to .notebooks/executed/. Each notebook must show at
 * least one chart as application/vnd.vegalite.v5+json (the Vega-Lite MIME type JupyterLab
 * and Notebook 7 render) and have no error output.
 *
 * Options: node scripts/notebooks.mjs [name ...]   (default: every *.ipynb)
 */
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const nbDir = join(root, "examples", "notebooks");
const work = join(root, ".notebooks");
mkdirSync(work, { recursive: true });
const log = (s) => console.error(`notebooks: ${s}`);
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8", ...opts });
const works = (cmd, args) => { const r = spawnSync(cmd, args, { encoding: "utf8" }); return r.status === 0 ? r.stdout.trim() : null; };
const NPM_CLI = join(dirname(process.execPath), "..", "lib", "node_modules", "npm", "bin", "npm-cli.js");
const npm = (args, cwd) => (existsSync(NPM_CLI) ? run(process.execPath, [NPM_CLI, ...args], { cwd }) : run("npm", args, { cwd }));

// ---- Deno
function findDeno() {
  for (const c of [process.env.LIMITDYN_DENO, "deno", join(work, "tools", "node_modules", ".bin", "deno")]) {
    if (!c) continue;
    const v = works(c, ["--version"]);
    if (v && /^deno (\d+)/.test(v) && Number(/^deno (\d+)/.exec(v)[1]) >= 2) return { deno: c, version: v.split("\n")[0] };
  }
  return null;
}
let found = findDeno();
if (!found) {
  log("installing Deno from npm (deno@2) into .notebooks/tools");
  mkdirSync(join(work, "tools"), { recursive: true });
  npm(["install", "--no-audit", "--no-fund", "--no-save", "--prefix", join(work, "tools"), "deno@2"], work);
  found = findDeno();
  if (!found) throw new Error("notebooks: Deno did not install (npm package deno@2)");
}
const { deno, version: denoVersion } = found;
log(denoVersion);

// ---- nbclient
const PY_CHECK = "import nbclient, nbformat, jupyter_client";
function findPython() {
  for (const py of [process.env.LIMITDYN_PYTHON, "/usr/bin/python3", "python3"]) if (py && works(py, ["-c", PY_CHECK]) !== null) return py;
  return null;
}
let python = findPython();
if (!python) {
  const root_ = typeof process.getuid === "function" && process.getuid() === 0;
  if (!root_ || !works("apt-get", ["--version"])) {
    throw new Error("notebooks: python3 with Jupyter's nbclient is missing: install it (Debian: apt-get install python3-nbclient; pip: pip install nbclient) or set LIMITDYN_PYTHON");
  }
  log("installing Jupyter's nbclient from Debian (python3-nbclient)");
  run("apt-get", ["update", "-qq"], { stdio: "inherit" });
  run("apt-get", ["install", "-y", "-qq", "python3-nbclient"], { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  python = findPython();
  if (!python) throw new Error("notebooks: python3-nbclient did not install");
}
log(`nbclient ${works(python, ["-c", "import nbclient; print(nbclient.__version__)"])} (${python})`);

// ---- kernelspec in a private JUPYTER_PATH
const kernelDir = join(work, "jupyter", "kernels", "deno");
mkdirSync(kernelDir, { recursive: true });
const denoPath = deno.includes("/") ? deno : run("which", [deno]).trim();
writeFileSync(join(kernelDir, "kernel.json"), JSON.stringify({
  argv: [denoPath, "jupyter", "--kernel", "--conn", "{connection_file}"], display_name: "Deno", language: "typescript",
}, null, 2));

// ---- limitdyn from the packed tarball
log("packing limitdyn (npm pack: builds dist/) and installing it into examples/notebooks");
const packed = JSON.parse(npm(["pack", "--json", "--pack-destination", work], root));
renameSync(join(work, packed[0].filename), join(work, "limitdyn.tgz"));
rmSync(join(nbDir, "node_modules", "limitdyn"), { recursive: true, force: true });
npm(["install", "--no-audit", "--no-fund", "--no-package-lock", "--prefer-offline"], nbDir);

// ---- execute
const names = process.argv.slice(2).length ? process.argv.slice(2).map((n) => n.replace(/\.ipynb$/, "") + ".ipynb") : readdirSync(nbDir).filter((f) => f.endsWith(".ipynb")).sort();
const outDir = join(work, "executed");
mkdirSync(outDir, { recursive: true });
const EXEC = `
import json, sys, time, nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
src, out, cwd = sys.argv[1:4]
nb = nbformat.read(src, as_version=4)
t0 = time.time()
client = NotebookClient(nb, timeout=900, kernel_name="deno", resources={"metadata": {"path": cwd}})
status = "ok"
try:
    client.execute()
except CellExecutionError as e:
    status = "error: " + str(e)[:4000]
nbformat.write(nb, out)
mimes = [k for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) for k in o.get("data", {})]
errors = [o.get("ename", "") + ": " + o.get("evalue", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
print(json.dumps({"status": status, "seconds": round(time.time() - t0, 1), "charts": mimes.count("application/vnd.vegalite.v5+json"), "svg": mimes.count("image/svg+xml"), "errors": errors}))
`;
const env = { ...process.env, JUPYTER_PATH: [join(work, "jupyter"), process.env.JUPYTER_PATH].filter(Boolean).join(":"), NO_COLOR: "1" };
let failed = 0;
for (const name of names) {
  const src = join(nbDir, name);
  if (!existsSync(src)) throw new Error(`notebooks: ${src} does not exist`);
  const once = () => {
    const r = spawnSync(python, ["-c", EXEC, src, join(outDir, name), nbDir], { encoding: "utf8", env, maxBuffer: 1 << 26 });
    try {
      return JSON.parse(r.stdout.trim().split("\n").pop());
    } catch {
      return { status: `runner failed (exit ${r.status}): ${r.stderr.slice(-2000)}`, charts: 0, svg: 0, errors: [] };
    }
  };
  let res = once();
  // The Deno kernel (2.x) now and then reports a cell idle before its execute_result reaches
  // iopub, so a cell's last-expression output can be missing from a headless run (cell errors
  // come on the shell channel and are never lost). One rerun when no chart arrived at all.
  if (res.status === "ok" && res.errors.length === 0 && res.charts === 0) res = once();
  const ok = res.status === "ok" && res.errors.length === 0 && res.charts > 0;
  if (!ok) failed++;
  console.log(`${ok ? "ok    " : "FAILED"} ${name}: ${res.status === "ok" ? `${res.seconds} s, ${res.charts} Vega-Lite chart(s) (+ ${res.svg} SVG fallback)` : res.status}${res.errors.length ? ` errors: ${res.errors.join("; ")}` : ""}${res.status === "ok" && res.charts === 0 ? " — no application/vnd.vegalite.v5+json output" : ""}`);
}
console.log(`${names.length - failed} passed, ${failed} failed`);
console.log(`executed notebooks: ${outDir}`);
process.exit(failed ? 1 : 0);
