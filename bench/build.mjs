/**
 * Build the bench into dist/bench/ with esbuild (a dependency of tsx): each
 * entry bundled into ONE file, so a timed run of ours.js loads one module
 * instead of ~30 (start-up dominates the small shapes). The worker entry is
 * bundled beside it (parallel.ts looks for ./parallel-worker.js next to
 * itself, i.e. next to the bundle). `npm run bench` runs this first.
 */
import { buildSync } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const common = { bundle: true, platform: "node", format: "esm", target: "node20", logLevel: "warning", absWorkingDir: root };
buildSync({
  ...common,
  entryPoints: { ours: "bench/ours.ts", run: "bench/run.ts", "parallel-worker": "src/resnet/parallel-worker.ts" },
  outdir: join(root, "dist", "bench"),
  // bundled ESM has no require(): give it one for CommonJS dependencies
  banner: { js: 'import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);' },
});
