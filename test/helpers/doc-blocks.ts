/**
 * The fenced code blocks of README.md and docs/ (docs/api/ excluded: generated), for
 * test/docs-blocks.test.ts. Blocks tagged ts / typescript / sh / bash run; a marker
 * comment on the line(s) just above a block changes that:
 *
 *   <!-- doc-test: after-previous -->   the block continues the previous runnable block of
 *                                       the same file: same language, one program; another
 *                                       language, the next step in the same folder
 *   <!-- doc-test: slow -->             runs only with LIMITDYN_DOCS_SLOW=1 (e.g. minutes-long presets)
 *   <!-- doc-test: skip: <reason> -->   not run (e.g. `npm install` of the repository itself)
 *
 * ts blocks run as ES modules through tsx in a project that has the packed tarball
 * installed (so `import ... from "limitdyn"` resolves as it does for a user) and are
 * type-checked with tsc --strict; sh blocks run with bash -e, with the project's
 * node_modules/.bin on PATH (`limitdyn`, `npx limitdyn`). Both run in a scratch folder
 * holding docs/examples/problem.json, chaos.json and sweep.json, with SLURM_ARRAY_TASK_ID=1 and
 * SLURM_CPUS_PER_TASK=2 set for the job-array example. python blocks run with python3
 * when it has numpy (else that step is skipped).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

export type Lang = "ts" | "sh" | "py";

export interface DocBlock {
  file: string;
  line: number;
  lang: Lang;
  code: string;
  marker: "after-previous" | "slow" | "skip" | null;
  reason?: string;
}

function mdFiles(dir: string, root: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (relative(root, p) === join("docs", "api")) continue;
      out.push(...mdFiles(p, root));
    } else if (name.endsWith(".md")) out.push(p);
  }
  return out;
}

const MARK = /^<!--\s*doc-test:\s*(after-previous|slow|skip)(?::\s*(.*?))?\s*-->$/;

export function docBlocks(root: string): DocBlock[] {
  const files = [join(root, "README.md"), ...mdFiles(join(root, "docs"), root)];
  const blocks: DocBlock[] = [];
  for (const file of files) {
    const lines = readFileSync(file, "utf8").split("\n");
    for (let i = 0; i < lines.length; i++) {
      const open = /^```\s*([A-Za-z]*)\s*$/.exec(lines[i]);
      if (!open) continue;
      let j = i + 1;
      while (j < lines.length && !/^```\s*$/.test(lines[j])) j++;
      const tag = open[1].toLowerCase();
      const lang: Lang | null = tag === "ts" || tag === "typescript" ? "ts" : tag === "sh" || tag === "bash" ? "sh" : tag === "python" || tag === "py" ? "py" : null;
      if (lang) {
        let k = i - 1;
        while (k >= 0 && lines[k].trim() === "") k--;
        const m = k >= 0 ? MARK.exec(lines[k].trim()) : null;
        blocks.push({
          file: relative(root, file), line: i + 1, lang, code: lines.slice(i + 1, j).join("\n") + "\n",
          marker: m ? (m[1] as DocBlock["marker"]) : null, reason: m?.[2],
        });
      }
      i = j;
    }
  }
  return blocks;
}

export interface DocProgram {
  name: string;
  blocks: DocBlock[];
  /** Run in order in one folder; consecutive blocks of one language are one step. */
  steps: { lang: Lang; code: string }[];
}

/** Programs to run: chains of after-previous blocks joined (a chain is one program; its head is not run alone). */
export function docPrograms(blocks: DocBlock[]): DocProgram[] {
  const programs: DocProgram[] = [];
  const header = (b: DocBlock) => (b.lang === "ts" ? `// ---- ${b.file}:${b.line}\n` : `# ---- ${b.file}:${b.line}\n`);
  for (const b of blocks) {
    const prev = programs[programs.length - 1];
    if (b.marker === "after-previous") {
      if (!prev || prev.blocks[0].file !== b.file) throw new Error(`${b.file}:${b.line}: after-previous, but no previous block in this file`);
      prev.blocks.push(b);
      prev.name += `+${b.line}`;
      const last = prev.steps[prev.steps.length - 1];
      if (last.lang === b.lang) last.code += header(b) + b.code;
      else prev.steps.push({ lang: b.lang, code: header(b) + b.code });
      continue;
    }
    programs.push({ name: `${b.file}:${b.line}`, blocks: [b], steps: [{ lang: b.lang, code: header(b) + b.code }] });
  }
  return programs;
}
