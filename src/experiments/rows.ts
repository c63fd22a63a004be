/**
 * Sweep result rows: one JSON object per line (.jsonl), appended and flushed
 * as each run finishes. Reading tolerates a truncated last line (a crash in
 * the middle of a write); any other malformed line is an error. Rows are
 * compared *without* their `meta` field (wall-clock timings), which is the
 * only part of a row that is not a pure function of the run.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, statSync, truncateSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, resolve } from "node:path";
import { requireResources } from "../core/resources.ts";
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
  let buf: Buffer;
  try {
    const size = statSync(path).size;
    requireResources({ what: "reading the row file", drivers: [[`${path} (bytes)`, size]], bytes: 4 * size });
    buf = readFileSync(path);
  } catch (e) {
    if (e instanceof LimitdynError) throw e;
    throw new RowFileError(`${path} cannot be read: ${(e as Error).message}`);
  }
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
    checkWritableFolder(path);
    try {
      this.fd = openSync(path, "a");
    } catch (e) {
      throw new RowFileError(`${path} cannot be opened for writing: ${(e as Error).message}`);
    }
  }
  write(row: SweepRow): void {
    try {
      writeSync(this.fd, JSON.stringify(row) + "\n");
      if (this.sync) fsyncSync(this.fd);
    } catch (e) {
      throw new RowFileError(`${this.path} cannot be written: ${(e as Error).message}`);
    }
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

/** The folder of an output file must exist (a RowFileError naming it otherwise: no stack trace from the CLI). */
export function checkWritableFolder(path: string): void {
  const dir = dirname(resolve(path));
  let ok = false;
  try {
    ok = statSync(dir).isDirectory();
  } catch {
    ok = false;
  }
  if (!ok) throw new RowFileError(`${path} cannot be written: folder ${dir} does not exist`);
}

/**
 * A lock on a row file: `<rows>.lock` holds {pid, host, started} of the sweep writing it. A second
 * writer is refused (RowFileError naming the holder); a lock whose process is gone (same host, pid
 * not running: a killed sweep) is stale and taken over.
 */
export class RowLock {
  readonly path: string;
  private held = false;
  constructor(rows: string) {
    this.path = `${rows}.lock`;
    checkWritableFolder(rows);
    for (let attempt = 0; attempt < 3 && !this.held; attempt++) {
      try {
        const fd = openSync(this.path, "wx");
        writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), started: new Date().toISOString() }) + "\n");
        closeSync(fd);
        this.held = true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw new RowFileError(`${this.path} (the lock of ${rows}) cannot be created: ${(e as Error).message}`);
        const holder = readLock(this.path);
        if (holder && !stale(holder)) {
          throw new RowFileError(`${rows} is being written by another sweep (pid ${holder.pid} on ${holder.host}, since ${holder.started}); wait for it to finish, or use another --out (if no such sweep runs, delete ${this.path})`);
        }
        // stale (or unreadable: a writer killed while creating it): take it over
        try { unlinkSync(this.path); } catch { /* another process took it first: retry */ }
      }
    }
    if (!this.held) throw new RowFileError(`${this.path} (the lock of ${rows}) could not be taken: another sweep keeps taking it`);
  }
  release(): void {
    if (!this.held) return;
    this.held = false;
    try {
      const holder = readLock(this.path);
      if (holder && holder.pid === process.pid && holder.host === hostname()) unlinkSync(this.path);
    } catch { /* already gone */ }
  }
}

interface LockHolder { pid: number; host: string; started: string }

function readLock(path: string): LockHolder | null {
  try {
    const o = JSON.parse(readFileSync(path, "utf8")) as LockHolder;
    return typeof o.pid === "number" && typeof o.host === "string" ? o : null;
  } catch {
    return null;
  }
}

/** A lock is stale when its process is gone: same host and no process with its pid (another host: never assumed stale). */
function stale(h: LockHolder): boolean {
  if (h.host !== hostname()) return false;
  if (h.pid === process.pid) return false;
  try {
    process.kill(h.pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
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
    if (typeof path !== "string" || !existsSync(path)) throw new RowFileError(`${String(path)} does not exist`);
    const r = readRows(path);
    if (r.truncatedTail) truncatedInputs.push(path);
    for (const row of r.rows) {
      all.push(row);
      sources.set(row, path);
    }
  }
  const rows = dedupeRows(all, sources);
  if (out !== undefined) {
    checkWritableFolder(out);
    const tmp = `${out}.tmp-${process.pid}`;
    try {
      writeFileSync(tmp, rows.map((r) => JSON.stringify(r) + "\n").join(""));
      renameSync(tmp, out);
    } catch (e) {
      throw new RowFileError(`${out} cannot be written: ${(e as Error).message}`);
    }
  }
  return { rows, read: all.length, duplicates: all.length - rows.length, truncatedInputs };
}
