#!/usr/bin/env node
/**
 * `npm run docs:api`: the API reference, generated from the types and doc comments by
 * TypeDoc (typedoc.json: one module per package entry — limitdyn, limitdyn/experiments,
 * limitdyn/verify, limitdyn/skeleton, limitdyn/chaos) as Markdown under docs/api/
 * (regenerated from scratch; commit the result).
 */
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
rmSync(join(root, "docs", "api"), { recursive: true, force: true });
const typedoc = join(dirname(createRequire(import.meta.url).resolve("typedoc/package.json")), "bin", "typedoc");
execFileSync(process.execPath, [typedoc, "--options", join(root, "typedoc.json")], { cwd: root, stdio: "inherit" });
