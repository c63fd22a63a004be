#!/usr/bin/env node
// Entry point of the `limitdyn` command: runs the compiled package (dist/, built by
// `npm run build`, `npm install` / `prepare` and `npm pack` / `prepack`): the CLI bundle
// dist/cli/bundle/entry.js, or dist/cli/entry.js when the bundle was not built. In a source
// checkout that has not been built yet it falls back to the TypeScript sources through
// tsx (a devDependency), with a note on stderr.
import { existsSync } from "node:fs";

// the CLI bundle (scripts/build.mjs: one file per command, workers beside it), else the compiled modules
const bundle = new URL("../dist/cli/bundle/entry.js", import.meta.url);
const dist = new URL("../dist/cli/entry.js", import.meta.url);
let mod;
if (existsSync(bundle)) {
  mod = await import(bundle.href);
} else if (existsSync(dist)) {
  mod = await import(dist.href);
} else {
  let register;
  try {
    ({ register } = await import("tsx/esm/api"));
  } catch {
    console.error("limitdyn: the compiled package (dist/) is missing: run `npm run build` in the package folder");
    process.exit(1);
  }
  console.error("limitdyn: dist/ is missing, running the TypeScript sources through tsx (`npm run build` makes start-up fast)");
  register();
  mod = await import("../src/cli/entry.ts");
}
const code = await mod.main(process.argv.slice(2));
if (typeof code === "number") process.exitCode = code;
