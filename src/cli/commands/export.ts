/**
 * `limitdyn export result.json --format npy|npz|csv [--out path]`: a result file
 * of any solver as numpy arrays (.npy per array, or one .npz) or tidy CSV tables
 * (src/problem/io.ts; numpy side in docs/problem-file.md).
 */
import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { ValidationError } from "../../core/errors.ts";
import { exportTrajectory, type ExportFormat } from "../../problem/io.ts";
import { parseFlags, unknownFlag, UsageError } from "../flags.ts";

export function cmdExport(args: string[]): void {
  const pos: string[] = [];
  const flags = parseFlags(args, pos);
  for (const k of Object.keys(flags)) if (!["format", "out"].includes(k)) throw unknownFlag(k, ["format", "out"]);
  if (pos.length !== 1) throw new UsageError(pos.length === 0 ? "export needs a result file: limitdyn export result.json --format npy" : `export takes one result file (got ${pos.length})`);
  const src = pos[0];
  if (!existsSync(src)) throw new ValidationError(src, "does not exist");
  const format = flags.format as ExportFormat | undefined;
  if (format === undefined) throw new UsageError("missing --format (npy, npz or csv)");
  if (!["npy", "npz", "csv"].includes(format)) throw new UsageError(`--format must be npy, npz or csv (got ${JSON.stringify(format)})`);
  const stem = join(dirname(src), basename(src).replace(/\.json$/, ""));
  const out = flags.out ?? (format === "npz" ? `${stem}.npz` : `${stem}-${format}`);
  const files = exportTrajectory(src, { format, out });
  console.error(`export: ${files.length} file${files.length === 1 ? "" : "s"} → ${format === "npz" ? out : out + "/"} (${files.map((f) => basename(f)).join(", ")})`);
}
