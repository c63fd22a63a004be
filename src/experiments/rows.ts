/**
 * Sweep result rows: one JSON object per line (.jsonl), appended and flushed
 * as each run finishes. Reading tolerates a truncated last line (a crash in
 * the middle of a write); any other malformed line is an error. Rows are
 * compared *without* their `meta` field (wall-clock timings), which is the
 * only part of a row that is not a pure function of the run.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, truncateSync, writeFileSync, writeSync } from "node:fs";
import { LimitdynError } from "../core/errors.ts";
import { canonicalJson, type Point } from "./spec.ts";

export interface SweepRow {
  id: string;
  index: number;
  point: Point;
  rep: number;
  seed: number;
  task: string;
  /** Fingerprint of the sweep (problem, task, task options, base seed, seed axes). */
  sweep: string;
  /** Shape of the resolved problem. */
  shape: { L: number; M: number; D: number; N: number; steps: number };
  /** Measured values returned by the task (absent when the run failed). */
  values?: Record<string, unknown>;
  /** Error message when the task threw (e.g. a DivergenceError): the run is complete, with no values. */
  error?: string;
  /** Not part of the result: wall-clock time of the run (ms). */
  meta?: { ms: number };
}

export class RowFileError extends LimitdynError {}

export interface ReadRowsResult {
  rows: SweepRow[];
  /** A non-empty last line without newline or not parseable (a crash mid-write) was dropped. */
  truncatedTail: boolean;
  /** Bytes of the file holding complete lines. */
  validBytes: number;
}

function checkRow(r: unknown, where: string): SweepRow {
  const o = r as SweepRow;
  if (!o || typeof o !== "object" || typeof o.id !== "string" || typeof o.index !== "number" || typeof o.sweep !== "string") {
    throw new RowFileError(`${where} is not a sweep row (needs id, index, sweep)`);
  }
  return o;
}

/** Read a .jsonl row file (missing file = no rows). */
export function readRows(path: string): ReadRowsResult {
  if (!existsSync(path)) return { rows: [], truncatedTail: false, validBytes: 0 };
  const buf = readFileSync(path);
  const rows: SweepRow[] = [];
  let pos = 0; // byte offset of the current line
  let validBytes = 0; // end of the last complete, valid line
  let line = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(0x0a, pos);
    line++;
    const end = nl < 0 ? buf.length : nl;
    const s = buf.subarray(pos, end).toString("utf8");
    const isLast = nl < 0 || nl + 1 >= buf.length;
    if (nl < 0) {
      // last line without newline: a write that did not finish (or a torn one)
      return { rows, truncatedTail: s.trim() !== "", validBytes };
    }
    pos = nl + 1;
    if (s.trim() === "") { validBytes = pos; continue; }
    let parsed: unknown;
    try {
      parsed = JSON.parse(s);
    } catch (e) {
      if (isLast) return { rows, truncatedTail: true, validBytes };
      throw new RowFileError(`${path}:${line} is not valid JSON (${(e as Error).message}); only the last line of a row file may be damaged`);
    }
    rows.push(checkRow(parsed, `${path}:${line}`));
    validBytes = pos;
  }
  return { rows, truncatedTail: false, validBytes };
}

/** A row without its `meta` (timings), as canonical JSON: equal for equal results. */
export function rowKey(r: SweepRow): string {
  const { meta: _meta, ...rest } = r;
  return canonicalJson(rest);
}

/** Append-only writer: one line per row, flushed (fsync) after each write. */
export class RowWriter {
  private fd: number;
  constructor(readonly path: string, private readonly sync = true) {
    this.fd = openSync(path, "a");
  }
  write(row: SweepRow): void {
    writeSync(this.fd, JSON.stringify(row) + "\n");
    if (this.sync) fsyncSync(this.fd);
  }
  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** Open `path` for resuming: drop a damaged last line (truncate the file to its complete lines) and return the rows already there. */
export function prepareResume(path: string): ReadRowsResult {
  const r = readRows(path);
  if (r.truncatedTail) truncateSync(path, r.validBytes);
  return r;
}

/** Sort rows by run index (then id), dropping exact duplicates; conflicting duplicates (same id, different result) throw. */
export function dedupeRows(rows: Iterable<SweepRow>, sources?: Map<SweepRow, string>): SweepRow[] {
  const byId = new Map<string, { row: SweepRow; key: string; src?: string }>();
  const byIndex = new Map<number, string>();
  let fp: string | undefined;
  let fpSrc: string | undefined;
  for (const row of rows) {
    const src = sources?.get(row);
    if (fp === undefined) { fp = row.sweep; fpSrc = src; }
    else if (row.sweep !== fp) {
      throw new RowFileError(`rows come from different sweeps: ${row.id}${src ? ` in ${src}` : ""} has sweep fingerprint ${row.sweep}, ${fpSrc ? `${fpSrc} has` : "others have"} ${fp} (problem, task, task options or seeds differ)`);
    }
    const key = rowKey(row);
    const prev = byId.get(row.id);
    if (prev) {
      if (prev.key !== key) throw new RowFileError(`conflicting rows for run ${row.id}${prev.src ? ` (${prev.src}` : " ("}${src ? ` vs ${src})` : ")"}: same run, different results`);
      continue;
    }
    const other = byIndex.get(row.index);
    if (other !== undefined && other !== row.id) throw new RowFileError(`runs ${other} and ${row.id} both have index ${row.index}: the files come from sweeps with different grids`);
    byIndex.set(row.index, row.id);
    byId.set(row.id, { row, key, src });
  }
  return [...byId.values()].map((e) => e.row).sort((a, b) => a.index - b.index || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export interface MergeResult {
  rows: SweepRow[];
  /** Rows read from all inputs (before removing duplicates). */
  read: number;
  duplicates: number;
  /** Inputs whose damaged last line was ignored. */
  truncatedInputs: string[];
}

/** Join shard files into one (rows ordered by run index, exact duplicates dropped, conflicts are errors). Written atomically. */
export function mergeRowFiles(inputs: string[], out?: string): MergeResult {
  if (inputs.length === 0) throw new RowFileError("merge needs at least one input file");
  const all: SweepRow[] = [];
  const sources = new Map<SweepRow, string>();
  const truncatedInputs: string[] = [];
  for (const path of inputs) {
    if (!existsSync(path)) throw new RowFileError(`${path} does not exist`);
    const r = readRows(path);
    if (r.truncatedTail) truncatedInputs.push(path);
    for (const row of r.rows) {
      all.push(row);
      sources.set(row, path);
    }
  }
  const rows = dedupeRows(all, sources);
  if (out !== undefined) {
    const tmp = `${out}.tmp-${process.pid}`;
    writeFileSync(tmp, rows.map((r) => JSON.stringify(r) + "\n").join(""));
    renameSync(tmp, out);
  }
  return { rows, read: all.length, duplicates: all.length - rows.length, truncatedInputs };
}
