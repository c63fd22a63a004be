/** `limitdyn merge --out merged.jsonl shard1.jsonl shard2.jsonl ...`: joins shard files (duplicates dropped). */
import { parseArgs } from "node:util";
import { mergeRowFiles } from "../../experiments/rows.ts";
import { checkOutPath, UsageError } from "../flags.ts";

/** `limitdyn merge --out merged.jsonl a.jsonl b.jsonl ...` (merge errors are LimitdynErrors: main prints them, exit code 2). */
export function cmdMerge(args: string[]): void {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { out: { type: "string" } }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const out = parsed.values.out;
  if (!out) throw new UsageError("missing --out");
  if (parsed.positionals.length === 0) throw new UsageError("merge needs input files: limitdyn merge --out merged.jsonl a.jsonl b.jsonl ...");
  checkOutPath(out);
  const r = mergeRowFiles(parsed.positionals, out);
  console.error(`merge: ${r.read} rows read from ${parsed.positionals.length} files, ${r.duplicates} duplicates dropped, ${r.rows.length} rows → ${out}`
    + (r.truncatedInputs.length ? ` (ignored a damaged last line in ${r.truncatedInputs.join(", ")})` : ""));
}
