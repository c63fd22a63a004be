/**
 * The compiled package (dist/) for tests that exercise what users run. `npm test`
 * builds first (the "pretest" script); a test file run on its own rebuilds when a
 * source under src/ is newer than the last build.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const DIST = join(ROOT, "dist");

function newest(dir: string): number {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newest(p) : s.mtimeMs);
  }
  return t;
}

let checked = false;

/** Build dist/ if it is missing or older than src/ (once per process). Returns DIST. */
export function ensureBuilt(): string {
  if (checked) return DIST;
  const info = join(DIST, ".tsbuildinfo");
  const stale = !existsSync(info) || !existsSync(join(DIST, "index.js")) || newest(join(ROOT, "src")) > statSync(info).mtimeMs
    || statSync(join(ROOT, "package.json")).mtimeMs > statSync(info).mtimeMs;
  if (stale) execFileSync(process.execPath, [join(ROOT, "scripts/build.mjs")], { cwd: ROOT, stdio: "pipe" });
  checked = true;
  return DIST;
}

/**
 * Write a sweep task module (plain JavaScript against dist: the CLI runs the compiled package,
 * and every copy of the task registry is one) registering `name` as the built-in task `base`,
 * except that run LIMITDYN_TEST_HANG_AT (and later) never finishes when that variable is set —
 * only in the child to be killed, so the kill never races the runs. Returns the module's path.
 */
export function writeHangTask(dir: string, name: string, base: string): string {
  const mod = join(dir, `${name}.mjs`);
  const tasksUrl = new URL("../../dist/experiments/tasks.js", import.meta.url).href;
  writeFileSync(mod, `import { getTask, registerTask } from ${JSON.stringify(tasksUrl)};
const base = getTask(${JSON.stringify(base)});
registerTask(${JSON.stringify(name)}, async (p, ctx) => {
  const at = Number(process.env.LIMITDYN_TEST_HANG_AT);
  if (Number.isInteger(at) && ctx.run.index >= at) await new Promise(() => setInterval(() => {}, 1000));
  return base(p, ctx);
});\n`);
  return mod;
}
