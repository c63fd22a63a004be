/**
 * Every fenced ts / sh block of README.md and docs/ runs as written against the packed
 * package, importing "limitdyn" by name (conventions: test/helpers/doc-blocks.ts,
 * documented in docs/README.md). ts blocks are also type-checked (tsc --strict, NodeNext).
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT } from "./helpers/built.ts";
import { packAndInstall } from "./helpers/tarball.ts";
import { docBlocks, docPrograms } from "./helpers/doc-blocks.ts";

const proj = packAndInstall();
after(() => proj.cleanup());
const tsxEsm = pathToFileURL(createRequire(import.meta.url).resolve("tsx/esm")).href;
const slow = process.env.LIMITDYN_DOCS_SLOW === "1";
const programs = docPrograms(docBlocks(ROOT));
const env = { ...process.env, NODE_OPTIONS: "", PATH: `${join(proj.dir, "node_modules", ".bin")}:${process.env.PATH}`, SLURM_ARRAY_TASK_ID: "1", SLURM_CPUS_PER_TASK: "2", LIMITDYN_PROGRESS_DELAY_MS: "" };

const hasNumpy = spawnSync("python3", ["-c", "import numpy"]).status === 0;
const tsFiles: string[] = [];
programs.forEach((prog, i) => {
  const head = prog.blocks[0];
  const skip = head.marker === "skip" ? `skip: ${head.reason ?? "(no reason given)"}` : head.marker === "slow" && !slow ? "slow (LIMITDYN_DOCS_SLOW=1 runs it)" : false;
  const files = prog.steps.map((st, j) => {
    const f = `doc${String(i).padStart(2, "0")}-${j}.${st.lang}`;
    writeFileSync(join(proj.dir, f), st.code);
    if (st.lang === "ts" && head.marker !== "skip") tsFiles.push(f);
    return f;
  });
  test(`${prog.name} (${prog.steps.map((s) => s.lang).join(" → ")}) runs`, { skip }, (t) => {
    const scratch = join(proj.dir, `run${i}`);
    mkdirSync(scratch);
    for (const f of ["problem.json", "chaos.json", "sweep.json"]) copyFileSync(join(ROOT, "docs", "examples", f), join(scratch, f));
    prog.steps.forEach((st, j) => {
      const file = join(proj.dir, files[j]);
      if (st.lang === "py" && !hasNumpy) {
        t.diagnostic(`python step skipped: python3 with numpy not available`);
        return;
      }
      const [cmd, args] = st.lang === "ts" ? [process.execPath, ["--import", tsxEsm, file]] : st.lang === "sh" ? ["bash", ["-e", file]] : ["python3", [file]];
      const r = spawnSync(cmd, args, { cwd: scratch, encoding: "utf8", env, timeout: 240_000 });
      assert.equal(r.status, 0, `${prog.name} step ${j + 1} (${st.lang}) failed (status ${r.status}, signal ${r.signal}):\n${r.stderr}\n${r.stdout}\n--- program:\n${st.code}`);
    });
  });
});

test("every ts block type-checks (tsc --strict, NodeNext) against the shipped .d.ts", () => {
  writeFileSync(join(proj.dir, "tsconfig.docs.json"), JSON.stringify({
    compilerOptions: { strict: true, module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", noEmit: true, moduleDetection: "force" },
    files: tsFiles,
  }));
  const r = spawnSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.docs.json"], { cwd: proj.dir, encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
