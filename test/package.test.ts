/**
 * The package entry can be imported from a notebook-like script in a CommonJS
 * context (a .ts file outside any "type": "module" package, run by tsx) —
 * e.g. a module with top-level await loaded eagerly would break this — and it
 * exposes every solver of ARCHITECTURE.md.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

test("src/index.ts imports from a CommonJS-context script and exposes the solvers", () => {
  const dir = mkdtempSync(join(tmpdir(), "limitdyn-cjs-"));
  const entry = resolve("src/index.ts");
  const script = join(dir, "notebook.ts");
  writeFileSync(script, `import * as ld from ${JSON.stringify(entry)};
const names = ["makeProblem", "solve", "finiteResNet", "meanOde", "dmft", "largeWidth", "limitLawSamples", "loadTrajectory", "exportTrajectory"];
const missing = names.filter((n) => typeof (ld as Record<string, unknown>)[n] !== "function");
if (missing.length) throw new Error("missing exports: " + missing.join(", "));
const p = ld.makeProblem({ model: { L: 2, M: 3, D: 4 }, data: { generator: "teacher", dIn: 2, dOut: 1, N: 2 }, train: { steps: 2, etaU: 0.1, etaV: 0.1 } });
console.log(JSON.stringify({ loss: Array.from(ld.solve(p, ld.finiteResNet()).loss) }));
`);
  const tsx = resolve("node_modules/tsx/dist/cli.mjs");
  const out = execFileSync(process.execPath, [tsx, script], { cwd: dir, encoding: "utf8" });
  const { loss } = JSON.parse(out.trim().split("\n").pop()!);
  assert.equal(loss.length, 2);
  assert.ok(loss.every((x: number) => Number.isFinite(x)));
});
