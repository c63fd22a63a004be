/**
 * The layer order of ARCHITECTURE.md, checked on the sources: every relative
 * import (static, re-export or dynamic) under src/ is parsed; the test fails
 * on an import cycle between files, or on an import from a folder into a
 * folder that is not below it in the layer order.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../src");

/** Folder → the folders its files may import (besides their own folder). */
const ALLOWED: Record<string, string[]> = {
  core: [],
  kernels: ["core"],
  stats: ["core"],
  parallel: ["core", "kernels"],
  problem: ["core", "kernels"],
  depth: ["core"],
  resnet: ["core", "kernels", "parallel", "problem"],
  particles: ["core", "kernels", "problem", "depth"],
  skeleton: ["core", "kernels", "parallel", "problem", "depth"],
  limits: ["core", "kernels", "parallel", "problem", "depth", "skeleton", "particles"],
  chaos: ["core", "kernels", "stats", "parallel", "problem", "depth", "resnet", "particles", "skeleton", "limits"],
  verify: ["core", "kernels", "stats", "problem", "depth", "resnet", "particles", "skeleton", "limits"],
  experiments: ["core", "kernels", "stats", "parallel", "problem", "depth", "resnet", "particles", "skeleton", "limits", "chaos", "verify"],
  cli: ["core", "kernels", "stats", "parallel", "problem", "depth", "resnet", "particles", "skeleton", "limits", "chaos", "verify", "experiments"],
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** Relative import specifiers of a file: import / export … from "…", import "…", import("…"). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const out: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'](\.{1,2}\/[^"']+)["']/g;
  for (const m of text.matchAll(re)) out.push(resolve(dirname(file), m[1]));
  return out;
}

const layer = (file: string) => {
  const rel = relative(SRC, file);
  return rel.includes("/") ? rel.split("/")[0] : null; // null: a top-level entry (src/index.ts)
};
const show = (f: string) => relative(SRC, f);

const files = sources(SRC);
const graph = new Map(files.map((f) => [f, importsOf(f)]));

test("every relative import under src/ resolves to a source file", () => {
  const missing = [...graph].flatMap(([f, deps]) => deps.filter((d) => !graph.has(d)).map((d) => `${show(f)} → ${show(d)}`));
  assert.deepEqual(missing, []);
});

test("no folder imports against the layer order (ARCHITECTURE.md)", () => {
  const bad: string[] = [];
  for (const [f, deps] of graph) {
    const from = layer(f);
    if (from === null) continue;
    const allowed = ALLOWED[from];
    if (!allowed) { bad.push(`${show(f)}: folder ${from}/ has no place in the layer order`); continue; }
    for (const d of deps) {
      const to = layer(d);
      if (to === from) continue;
      if (to === null || !allowed.includes(to)) bad.push(`${show(f)} → ${show(d)} (${from}/ may import ${allowed.join(", ") || "nothing"})`);
    }
  }
  assert.deepEqual(bad, []);
});

test("no import cycles between files", () => {
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const cycles: string[] = [];
  const visit = (f: string) => {
    state.set(f, 1);
    stack.push(f);
    for (const d of graph.get(f) ?? []) {
      if (!graph.has(d)) continue;
      const s = state.get(d);
      if (s === 1) cycles.push([...stack.slice(stack.indexOf(d)), d].map(show).join(" → "));
      else if (s === undefined) visit(d);
    }
    stack.pop();
    state.set(f, 2);
  };
  for (const f of files) if (!state.has(f)) visit(f);
  assert.deepEqual(cycles, []);
});
