/**
 * The resource model (issue 10; docs/robustness.md). Before it allocates,
 * every solver, data generator and sampler estimates the memory (bytes of
 * its arrays) and the work (arithmetic operations, ≈ multiply-adds, with a
 * floor per step for the loop overheads) it needs from the problem and its
 * options, and refuses with a ResourceError — a ValidationError naming the
 * field(s) that drive the estimate — when either exceeds the limit:
 *
 *   memory   default: half the machine's memory (os.totalmem() / 2);
 *            LIMITDYN_MAX_MEMORY (bytes, or with a unit: 512M, 8G, 1.5T)
 *   work     default: 1e12 operations (about 15–30 min on one core);
 *            LIMITDYN_MAX_WORK (a number, e.g. 1e14)
 *
 * or at run time `setResourceLimits({ memory, work })` (which wins over the
 * environment; `setResourceLimits(null)` goes back to it). The estimates are
 * upper bounds of what the code allocates (within a few per cent plus the
 * JavaScript heap's own overhead), so a run that passes them does not grow
 * beyond them; one typed array can in any case hold at most 2^32 elements.
 */
import { totalmem } from "node:os";
import { ValidationError } from "./errors.ts";

export interface ResourceLimits {
  /** Bytes of arrays one call may allocate. */
  memory: number;
  /** Arithmetic operations one call may perform. */
  work: number;
}

/** Default memory limit as a fraction of os.totalmem(). */
export const DEFAULT_MEMORY_FRACTION = 0.5;
/** Default work limit (operations). */
export const DEFAULT_WORK = 1e12;
/** Largest length of one typed array (V8). */
export const MAX_ARRAY_LENGTH = 2 ** 32 - 1;
/** Work counted per GD step (or per run, per sample batch) for the loop overheads, whatever the sizes. */
export const STEP_OVERHEAD = 1000;

let override: Partial<ResourceLimits> = {};

const UNITS: Record<string, number> = { "": 1, b: 1, k: 2 ** 10, kb: 2 ** 10, kib: 2 ** 10, m: 2 ** 20, mb: 2 ** 20, mib: 2 ** 20, g: 2 ** 30, gb: 2 ** 30, gib: 2 ** 30, t: 2 ** 40, tb: 2 ** 40, tib: 2 ** 40 };

/** Parse a memory size: bytes, or a number with a unit (k, M, G, T; KB, MiB, …). */
export function parseBytes(field: string, text: string): number {
  const m = /^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  const v = m && unit !== undefined ? Number(m[1]) * unit : NaN;
  if (!(Number.isFinite(v) && v > 0)) throw new ValidationError(field, `must be a positive size in bytes such as 8G, 512M or 1e9 (got ${JSON.stringify(text)})`);
  return v;
}

function parseWork(field: string, text: string): number {
  const v = Number(text.trim());
  if (!(Number.isFinite(v) && v > 0) || text.trim() === "") throw new ValidationError(field, `must be a positive number of operations such as 1e13 (got ${JSON.stringify(text)})`);
  return v;
}

const machineMemory = totalmem();
let envCache: { mem: string | undefined; work: string | undefined; limits: ResourceLimits } | null = null;

/** The limits in force: setResourceLimits, else the environment, else the defaults. */
export function resourceLimits(): ResourceLimits {
  const envMem = process.env.LIMITDYN_MAX_MEMORY, envWork = process.env.LIMITDYN_MAX_WORK;
  if (!envCache || envCache.mem !== envMem || envCache.work !== envWork) {
    envCache = {
      mem: envMem, work: envWork,
      limits: {
        memory: envMem ? parseBytes("LIMITDYN_MAX_MEMORY", envMem) : DEFAULT_MEMORY_FRACTION * machineMemory,
        work: envWork ? parseWork("LIMITDYN_MAX_WORK", envWork) : DEFAULT_WORK,
      },
    };
  }
  return { memory: override.memory ?? envCache.limits.memory, work: override.work ?? envCache.limits.work };
}

/**
 * Raise (or lower) the limits for this thread: `{ memory }` in bytes, `{ work }` in operations;
 * `null` (or a missing key) falls back to the environment / defaults. Returns the limits in force before.
 */
export function setResourceLimits(limits: Partial<ResourceLimits> | null): ResourceLimits {
  const prev = resourceLimits();
  if (limits === null) { override = {}; return prev; }
  if (typeof limits !== "object" || Array.isArray(limits)) throw new ValidationError("limits", "must be an object { memory?, work? } or null");
  const next: Partial<ResourceLimits> = {};
  for (const [k, v] of Object.entries(limits)) {
    if (k !== "memory" && k !== "work") throw new ValidationError(`limits.${k}`, "is not a known key (allowed: memory, work)");
    if (v === undefined || v === null) continue;
    if (typeof v !== "number" || !(v > 0) || Number.isNaN(v)) throw new ValidationError(`limits.${k}`, `must be a positive number (got ${String(v)})`);
    next[k] = v;
  }
  override = next;
  return prev;
}

/** The limits of this thread's setResourceLimits (for worker threads, which start with the environment only). */
export function resourceOverride(): Partial<ResourceLimits> {
  return { ...override };
}

/** A resource estimate beyond the limits: a ValidationError naming the driving field (`field`) and listing all of them. */
export class ResourceError extends ValidationError {
  readonly fields: string[];
  readonly bytes: number;
  readonly work: number;
  readonly limits: ResourceLimits;
  constructor(field: string, message: string, fields: string[], bytes: number, work: number, limits: ResourceLimits) {
    super(field, message);
    this.fields = fields;
    this.bytes = bytes;
    this.work = work;
    this.limits = limits;
  }
}

/** "24.0 GB" (binary units). */
export function formatBytes(b: number): string {
  if (!Number.isFinite(b)) return `${b} bytes`;
  const u = ["bytes", "kB", "MB", "GB", "TB", "PB", "EB"];
  let i = 0, v = b;
  while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
  return i === 0 ? `${Math.round(v)} bytes` : `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${u[i]}`;
}

const fmtNum = (v: number) => (Number.isInteger(v) && Math.abs(v) < 1e6 ? String(v) : v.toExponential(2).replace("e+", "e"));

/** What a computation needs, and what drives it. */
export interface ResourceNeed {
  /** The computation, e.g. "the finite ResNet". */
  what: string;
  /** The driving fields and their values, e.g. [["model.D", 1e9], ["model.L", 2]]. The largest value is named first. */
  drivers: [string, number][];
  /** Bytes of the arrays it allocates. */
  bytes: number;
  /** Operations it performs (0: not estimated). */
  work?: number;
  /** Elements of its largest single array (checked against the typed-array limit 2^32 − 1). */
  largest?: number;
  /** What the memory is for, e.g. "weights U, V and the layer workspace". */
  detail?: string;
}

function sortedDrivers(drivers: [string, number][]): [string, number][] {
  return drivers.map((d, i) => [d, i] as const).sort((a, b) => (b[0][1] - a[0][1]) || (a[1] - b[1])).map((x) => x[0]);
}

/** Refuse (ResourceError) when the estimate exceeds the limits in force; otherwise return it. */
export function requireResources(need: ResourceNeed): ResourceNeed {
  const lim = resourceLimits();
  const bytes = need.bytes, work = need.work ?? 0;
  const tooBig = !(bytes <= lim.memory), tooLong = !(work <= lim.work), tooLong1 = need.largest !== undefined && !(need.largest <= MAX_ARRAY_LENGTH);
  if (!tooBig && !tooLong && !tooLong1) return need;
  const drivers = sortedDrivers(need.drivers);
  const [field, value] = drivers[0] ?? ["options", NaN];
  const others = drivers.slice(1).map(([f, v]) => `${f} = ${fmtNum(v)}`).join(", ");
  const head = `= ${fmtNum(value)}${others ? ` (with ${others})` : ""}: ${need.what}`;
  let msg: string;
  if (tooBig) {
    msg = `${head} needs ${formatBytes(bytes)} of memory${need.detail ? ` (${need.detail})` : ""}, more than the ${formatBytes(lim.memory)} allowed; use smaller sizes, or raise the limit (environment LIMITDYN_MAX_MEMORY, e.g. ${formatBytes(Math.max(bytes * 1.25, 2 ** 30)).replace(" ", "").replace(/B$/, "")}, or setResourceLimits({ memory }))`;
  } else if (tooLong1) {
    msg = `${head} needs one array of ${fmtNum(need.largest!)} numbers, more than a JavaScript typed array can hold (2^32 − 1); use smaller sizes`;
  } else {
    msg = `${head} needs about ${fmtNum(work)} operations (≈ ${duration(work)} on one core), more than the ${fmtNum(lim.work)} allowed; use smaller sizes, or raise the limit (environment LIMITDYN_MAX_WORK, e.g. ${fmtNum(10 ** Math.ceil(Math.log10(work)))}, or setResourceLimits({ work }))`;
  }
  throw new ResourceError(field, msg, drivers.map((d) => d[0]), bytes, work, lim);
}

/** Rough wall time of `ops` operations at 1e9 per second. */
function duration(ops: number): string {
  const s = ops / 1e9;
  if (!Number.isFinite(s)) return "forever";
  if (s < 120) return `${Math.max(1, Math.round(s))} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${fmtNum(s / 86400)} days`;
}

/** Bytes of n doubles. */
export const f64 = (n: number): number => 8 * n;
