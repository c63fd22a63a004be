#!/usr/bin/env node
/**
 * Build the package: `tsc -p tsconfig.build.json` (src/ → dist/: ESM .js, .d.ts,
 * source maps; incremental, the build info lives in dist/ so deleting dist/
 * rebuilds everything), then remove outputs in dist/ whose source is gone
 * (files moved or deleted under src/ must not ship stale), then bundle the
 * CLI with esbuild (a devDependency) into dist/cli/bundle/: the command's
 * entry, its lazily loaded command chunks and the three worker entries side by
 * side (the workers are found beside the module that starts them), with the
 * npm dependencies left external. One file per command instead of ~26 modules
 * makes `limitdyn train` start ≈ 20 % faster; bin/limitdyn.mjs falls back to
 * dist/cli/entry.js when the bundle is missing (no esbuild). dist/bench/ (the
 * bench bundles) is left alone.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
try {
  execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: "inherit", cwd: root });
} catch {
  process.exit(1);
}

const dist = join(root, "dist"), src = join(root, "src");
const BUNDLE = join("cli", "bundle");
const OUT = /(\.d\.ts\.map|\.d\.ts|\.js\.map|\.js)$/;
function prune(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const rel = relative(dist, p);
    if (rel === "bench" || rel.startsWith("bench/") || rel === BUNDLE || rel.startsWith(BUNDLE + "/")) continue;
    if (statSync(p).isDirectory()) {
      prune(p);
      if (readdirSync(p).length === 0) rmSync(p, { recursive: true });
      continue;
    }
    const m = OUT.exec(rel);
    if (!m) continue;
    if (!existsSync(join(src, rel.slice(0, -m[1].length) + ".ts"))) rmSync(p);
  }
}
if (existsSync(dist)) prune(dist);

// ---- the CLI bundle
let esbuild = null;
try {
  esbuild = await import("esbuild");
} catch {
  console.error("build: esbuild not installed, no CLI bundle (bin/limitdyn.mjs runs dist/cli/entry.js)");
}
if (esbuild) {
  rmSync(join(dist, BUNDLE), { recursive: true, force: true });
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: {
      entry: "dist/cli/entry.js",
      "parallel-worker": "dist/resnet/parallel-worker.js",
      "skeleton-worker": "dist/skeleton/skeleton-worker.js",
      "sweep-worker": "dist/experiments/sweep-worker.js",
    },
    outdir: join(dist, BUNDLE),
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    chunkNames: "chunk-[hash]",
    logLevel: "warning",
  });
}
