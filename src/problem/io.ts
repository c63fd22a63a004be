/**
 * Result files in and out.
 *
 *   loadTrajectory(path | object)  → Trajectory (ndarray views), from any solver's result file
 *                                    (finiteResNet, meanOde, dmft, largeWidth; a chaos file gives
 *                                    its M = ∞ limit trajectory with the chaos diagnostics in extras)
 *   exportTrajectory(t, { format, out })  numpy-readable .npy files (one per array) or one .npz,
 *                                    or tidy CSV tables (one observation per row)
 *   toNpy / fromNpy, toNpz / fromNpz    the NumPy formats (.npy v1.0, little-endian; .npz = stored zip)
 *   problemToJSON, problemHash        the resolved problem as a problem file, and its SHA-256
 *
 * numpy side:  np.load("out/f.npy")  (K, d_out, N);  np.load("r.npz")["f"];  pandas.read_csv("out/outputs.csv")
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, statSync, writeFileSync as writeFileAt } from "node:fs";
import { requireResources } from "../core/resources.ts";
import { seedValue } from "../core/validate.ts";
import { join } from "node:path";
import { isNdArray, toFlat, toNested, view, type F64 } from "../core/arrays.ts";
import { ValidationError } from "../core/errors.ts";
import type { Problem } from "./problem.ts";
import { firstNonFiniteIn, jsonable, type DepthProfiles, type Trajectory } from "./trajectory.ts";

// ------------------------------------------------------------------ nested arrays

/**
 * A flat row-major copy and the shape of a rectangular nested numeric array (null → NaN: an
 * undefined statistic of the extras, e.g. a chaos tag correlation; with `finite`, null and
 * non-finite numbers are errors naming the entry — outputs and profiles are finite numbers).
 */
export function fromNested(v: unknown, field = "array", finite = false): { data: Float64Array; shape: number[] } {
  const shape: number[] = [];
  let cur: unknown = v;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0];
  }
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  let i = 0;
  const walk = (x: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (finite && !(typeof x === "number" && Number.isFinite(x))) throw new ValidationError(path, `must be a finite number (got ${x === null ? "null" : typeof x === "number" ? x : typeof x})`);
      if (x === null) data[i++] = NaN;
      else if (typeof x === "number") data[i++] = x;
      else throw new ValidationError(path, `must be a number (got ${typeof x})`);
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[depth]) throw new ValidationError(path, `must be an array of length ${shape[depth]} (the array is not rectangular)`);
    for (let j = 0; j < x.length; j++) walk(x[j], depth + 1, `${path}[${j}]`);
  };
  if (n > 0) walk(v, 0, field);
  return { data, shape };
}

/** A numeric array value (typed array, ndarray view, rectangular nested array) as flat data + shape, else null. */
export function asArray(v: unknown): { data: Float64Array | Int32Array; shape: number[] } | null {
  if (v instanceof Float64Array || v instanceof Int32Array) return { data: v, shape: [v.length] };
  if (v instanceof Float32Array) return { data: Float64Array.from(v), shape: [v.length] };
  if (isNdArray(v)) return { data: toFlat(v), shape: v.shape.slice() };
  if (!Array.isArray(v) || v.length === 0) return null;
  try {
    return fromNested(v);
  } catch {
    return null;
  }
}

// ------------------------------------------------------------------ loadTrajectory

function fail(source: string, what: string): never {
  throw new ValidationError(source, what);
}

function nonNegInt(source: string, name: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) fail(source, `${name} must be a non-negative integer (got ${JSON.stringify(v)})`);
  return v;
}

/** Typed copy of `f` (K × d_out × N nested) and `loss` (K). */
function outputsOf(source: string, f: unknown, loss: unknown): { f: F64; loss: Float64Array; K: number; dOut: number; N: number } {
  if (!Array.isArray(f)) fail(source, "f must be a K × d_out × N nested array");
  const F = fromNested(f, `${source}: f`, true);
  if (F.shape.length !== 3 && !(F.shape.length === 1 && F.shape[0] === 0)) fail(source, `f must be a K × d_out × N nested array (got ${F.shape.length} dimensions)`);
  const [K, dOut, N] = F.shape.length === 3 ? F.shape : [0, 0, 0];
  const Ls = fromNested(loss, `${source}: loss`, true);
  if (Ls.shape.length !== 1 || Ls.shape[0] !== K) fail(source, `loss must be an array of length K = ${K} (got shape [${Ls.shape}])`);
  return { f: view(F.data, [K, dOut, N]), loss: Ls.data, K, dOut, N };
}

function profilesOf(source: string, p: unknown): DepthProfiles | undefined {
  if (p === undefined || p === null) return undefined;
  if (typeof p !== "object") fail(source, "profiles must be an object");
  const o = p as Record<string, unknown>;
  const steps = fromNested(o.steps ?? [], `${source}: profiles.steps`, true);
  const s = fromNested(o.s ?? [], `${source}: profiles.s`, true);
  const out: DepthProfiles = { steps: Array.from(steps.data), s: s.data };
  for (const key of ["h", "b", "p"] as const) {
    if (o[key] === undefined) continue;
    const a = fromNested(o[key], `${source}: profiles.${key}`, true);
    out[key] = view(a.data, a.shape);
  }
  return out;
}

/** Is `v` already a Trajectory (typed outputs), not a parsed result file? */
function isTrajectory(v: Record<string, unknown>): v is Trajectory & Record<string, unknown> {
  return isNdArray(v.f) && v.loss instanceof Float64Array;
}

/**
 * A Trajectory (ndarray views over Float64Array) from a result file: a path to
 * the JSON a solver or the CLI wrote, its parsed object, or a Trajectory
 * (returned as is). Metadata the file records (package version, resolved
 * problem, its hash and path) is kept under `extras.meta`.
 *
 *   outputRms(loadTrajectory("fin.json"), loadTrajectory("ode.json"))
 */
export function loadTrajectory(src: string | Record<string, unknown> | Trajectory): LoadedTrajectory {
  let source = "result";
  let obj: unknown = src;
  if (typeof src === "string") {
    if (src.trim() === "") throw new ValidationError("path", `of the result file is empty (got ${JSON.stringify(src)}); give the path of a result file, or a parsed result object`);
    source = src;
    let text: string;
    try {
      requireResources({ what: "reading the result file", drivers: [[`${src} (bytes)`, statSync(src).size]], bytes: 8 * statSync(src).size });
      text = readFileSync(src, "utf8");
    } catch (e) {
      if (e instanceof ValidationError) throw e;
      throw new ValidationError(src, `cannot be read: ${(e as Error).message}`);
    }
    try {
      obj = JSON.parse(text);
    } catch (e) {
      throw new ValidationError(src, `is not valid JSON: ${(e as Error).message}`);
    }
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) fail(source, "must be a result object (with f and loss)");
  const r = obj as Record<string, unknown>;
  if (isTrajectory(r)) return r as unknown as LoadedTrajectory;

  const meta: Record<string, unknown> = {};
  for (const k of META_KEYS) if (r[k] !== undefined) meta[k] = r[k];
  const record = (v: unknown) => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
  const isChaos = Array.isArray(r.widths) && typeof r.limit === "object" && r.limit !== null;
  // a chaos result: the trajectory is the M = ∞ limit (f, loss at the top, or under limit in older files);
  // the diagnostics (widths, couplingRms, ..., detail, limit) go to extras.chaos
  const lim = record(r.limit);
  const fSrc = r.f === undefined && isChaos ? lim.f : r.f;
  const lossSrc = r.loss === undefined && isChaos ? lim.loss : r.loss;
  if (fSrc === undefined || lossSrc === undefined) fail(source, "must hold f (K × d_out × N) and loss (K): is it a result file of limitdyn train / meanode / dmft / chaos?");
  const o = outputsOf(source, fSrc, lossSrc);
  if (r.K !== undefined && nonNegInt(source, "K", r.K) !== o.K) fail(source, `K = ${r.K} but f has ${o.K} steps`);
  if (r.dOut !== undefined && nonNegInt(source, "dOut", r.dOut) !== o.dOut && o.K > 0) fail(source, `dOut = ${r.dOut} but f[0] has ${o.dOut} rows`);
  if (r.N !== undefined && nonNegInt(source, "N", r.N) !== o.N && o.K > 0) fail(source, `N = ${r.N} but f[0] has ${o.N} columns`);
  const algorithm = typeof r.algorithm === "string" ? r.algorithm : typeof r.solver === "string" ? r.solver : isChaos && typeof lim.algorithm === "string" ? lim.algorithm : "unknown";
  const timings = (typeof r.timings === "object" && r.timings !== null ? r.timings : { totalMs: typeof r.time === "number" ? r.time * 1000 : 0 }) as Trajectory["timings"];
  const extras: Record<string, unknown> = { ...record(r.extras) };
  if (isChaos) {
    const chaos: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) if (!TRAJECTORY_KEYS.has(k) && !META_KEYS.includes(k)) chaos[k] = v;
    extras.chaos = chaos;
  }
  if (Object.keys(meta).length) extras.meta = meta;
  const options = record(r.options);
  const t: LoadedTrajectory = {
    algorithm,
    options,
    seed: r.seed !== undefined ? seedValue(`${source}: seed`, r.seed) : typeof options.seed === "number" ? seedValue(`${source}: options.seed`, options.seed) : 0,
    ...o,
    timings,
    extras,
  };
  const profiles = profilesOf(source, r.profiles);
  if (profiles) t.profiles = profiles;
  diagnosticsOf(source, r, t);
  // a parsed object may carry NaN / ±Infinity (a file cannot): never into a loaded result
  for (const [name, v] of [["extras", t.extras], ["options", t.options]] as const) {
    const bad = firstNonFiniteIn(v, `${source}: ${name}`);
    if (bad) throw new ValidationError(bad.path, `must be a finite number (got ${bad.value})`);
  }
  return t;
}

/** The MATH §8 fields of a result file (fTest, lossTest, gram, gramLambdaMin, kl, klProfile, warnings), typed, shapes checked against K. */
function diagnosticsOf(source: string, r: Record<string, unknown>, t: LoadedTrajectory): void {
  const arr = (key: string, dims: number) => {
    if (r[key] === undefined || r[key] === null) return undefined;
    const a = fromNested(r[key], `${source}: ${key}`);
    if (a.shape.length !== dims || a.shape[0] !== t.K) fail(source, `${key} must be a ${dims}-d array with K = ${t.K} rows (got shape [${a.shape}])`);
    return a;
  };
  const fTest = arr("fTest", 3), gram = arr("gram", 3), klProfile = arr("klProfile", 2);
  if (fTest) {
    if (fTest.shape[1] !== t.dOut) fail(source, `fTest has ${fTest.shape[1]} outputs but f has d_out = ${t.dOut}`);
    t.fTest = view(fTest.data, fTest.shape);
  }
  if (gram) {
    const dN = t.dOut * t.N;
    if (gram.shape[1] !== dN || gram.shape[2] !== dN) fail(source, `gram must be K × d_out·N × d_out·N = ${t.K} × ${dN} × ${dN} (got [${gram.shape}])`);
    t.gram = view(gram.data, gram.shape);
  }
  if (klProfile) t.klProfile = view(klProfile.data, klProfile.shape);
  for (const key of ["lossTest", "gramLambdaMin", "kl"] as const) {
    const a = arr(key, 1);
    if (a) t[key] = a.data;
  }
  if (Array.isArray(r.warnings)) t.warnings = r.warnings.map(String);
}

/** A trajectory read back from a result file: options and extras as the JSON holds them. */
export type LoadedTrajectory = Trajectory<Record<string, unknown>, Record<string, unknown>>;

/** Top-level keys of a result file that are metadata (kept under extras.meta). */
const META_KEYS = ["version", "command", "problem", "problemHash", "problemPath", "solver", "time"];
const TRAJECTORY_KEYS = new Set(["algorithm", "options", "seed", "K", "dOut", "N", "f", "loss", "profiles", "timings", "extras", "fTest", "lossTest", "gram", "gramLambdaMin", "kl", "klProfile", "warnings"]);

// ------------------------------------------------------------------ problems in result files

/** Explicit initial weights with more entries than this are left out of `problemToJSON` (use the hash and path). */
export const MAX_EMBEDDED_INIT = 100_000;

/**
 * The resolved problem as a problem file (every default filled in, a generated
 * data set as explicit X, Y): `parseProblem(JSON.stringify(problemToJSON(p)))`
 * gives the same problem. Explicit initial weights larger than `maxInit`
 * entries are left out (`initOmitted: true`).
 */
export function problemToJSON(p: Problem, maxInit = MAX_EMBEDDED_INIT): Record<string, unknown> {
  const { model, data, train, seed, init, solver } = p;
  const m = { ...model, activation: model.activation.name };
  const out: Record<string, unknown> = {
    model: m,
    data: {
      X: toNested(data.X, [data.dIn, data.N]), Y: toNested(data.Y, [data.dOut, data.N]),
      ...(data.XTest && data.NTest ? { XTest: toNested(data.XTest, [data.dIn, data.NTest]) } : {}),
      ...(data.YTest && data.NTest ? { YTest: toNested(data.YTest, [data.dOut, data.NTest]) } : {}),
    },
    train: { ...train },
    seed,
  };
  const size = (init.WE?.length ?? 0) + (init.WU?.length ?? 0) + (init.U?.length ?? 0) + (init.V?.length ?? 0);
  if (size > 0 && size <= maxInit) {
    const i: Record<string, unknown> = {};
    if (init.WE) i.WE = toNested(init.WE, [model.D, data.dIn]);
    if (init.WU) i.WU = toNested(init.WU, [model.D, data.dOut]);
    if (init.U) i.U = toNested(init.U, [model.L, model.D, model.M]);
    if (init.V) i.V = toNested(init.V, [model.L, model.D, model.M]);
    out.init = i;
  } else if (size > 0) out.initOmitted = true;
  if (solver && Object.keys(solver).length) out.solver = jsonable(solver);
  return out;
}

/** SHA-256 (hex) of the resolved problem: its JSON form without initial weights, then the raw bytes of WE, WU, U, V. */
export function problemHash(p: Problem): string {
  const h = createHash("sha256").update(JSON.stringify(problemToJSON(p, 0)));
  for (const k of ["WE", "WU", "U", "V"] as const) {
    const a = p.init[k];
    h.update(`|${k}:${a ? a.length : -1}|`);
    if (a) h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }
  return h.digest("hex");
}

// ------------------------------------------------------------------ .npy / .npz

export type NpyArray = { data: Float64Array | Int32Array; shape: number[] };

/** One array in the NumPy .npy format (version 1.0, '<f8' or '<i4', C order). */
export function toNpy(data: Float64Array | Int32Array | F64, shape?: readonly number[]): Uint8Array {
  let flat: Float64Array | Int32Array;
  let shp: number[];
  if (isNdArray(data)) {
    flat = toFlat(data as F64);
    shp = (data as F64).shape.slice();
  } else {
    flat = data as Float64Array | Int32Array;
    shp = shape ? shape.slice() : [flat.length];
  }
  const n = shp.reduce((a, b) => a * b, 1);
  if (n !== flat.length) throw new ValidationError("shape", `[${shp}] has ${n} entries but the data has ${flat.length} (toNpy)`);
  const descr = flat instanceof Int32Array ? "<i4" : "<f8";
  const shapeStr = shp.length === 1 ? `(${shp[0]},)` : `(${shp.join(", ")})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += " ".repeat(pad % 64) + "\n";
  const out = new Uint8Array(10 + header.length + flat.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0); // \x93NUMPY v1.0
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const body = new DataView(out.buffer, 10 + header.length);
  if (flat instanceof Int32Array) for (let i = 0; i < flat.length; i++) body.setInt32(4 * i, flat[i], true);
  else for (let i = 0; i < flat.length; i++) body.setFloat64(8 * i, flat[i], true);
  return out;
}

/** Read a .npy array ('<f8', '<f4', '<i4', '<i8' as float64; C order; versions 1–3). */
export function fromNpy(bytes: Uint8Array): NpyArray {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== "NUMPY") throw new ValidationError("npy", "not a .npy file (bad magic)");
  const major = bytes[6];
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + hlen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeStr = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeStr === undefined) throw new ValidationError("npy", `cannot parse header ${JSON.stringify(header)}`);
  if (fortran === "True") throw new ValidationError("npy", "fortran_order arrays are not supported");
  const shape = shapeStr.split(",").map((x) => x.trim()).filter(Boolean).map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const off = start + hlen;
  const body = new DataView(bytes.buffer, bytes.byteOffset + off, bytes.byteLength - off);
  if (descr === "<i4") {
    const data = new Int32Array(n);
    for (let i = 0; i < n; i++) data[i] = body.getInt32(4 * i, true);
    return { data, shape };
  }
  const data = new Float64Array(n);
  const read: Record<string, (i: number) => number> = {
    "<f8": (i) => body.getFloat64(8 * i, true),
    "<f4": (i) => body.getFloat32(4 * i, true),
    "<i8": (i) => Number(body.getBigInt64(8 * i, true)),
  };
  const get = read[descr];
  if (!get) throw new ValidationError("npy", `dtype ${descr} is not supported (use <f8, <f4, <i4 or <i8)`);
  for (let i = 0; i < n; i++) data[i] = get(i);
  return { data, shape };
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Several arrays as one .npz (an uncompressed zip of `<name>.npy` members): `np.load(path)[name]`. */
export function toNpz(arrays: Record<string, NpyArray | F64>): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, a] of Object.entries(arrays)) {
    const bytes = isNdArray(a) ? toNpy(a as F64) : toNpy((a as NpyArray).data, (a as NpyArray).shape);
    const fname = enc.encode(`${name}.npy`);
    const crc = crc32(bytes);
    const local = new Uint8Array(30 + fname.length);
    const l = new DataView(local.buffer);
    l.setUint32(0, 0x04034b50, true); l.setUint16(4, 20, true); l.setUint16(6, 0, true); l.setUint16(8, 0, true);
    l.setUint16(10, 0, true); l.setUint16(12, 0x21, true); // time 00:00:00, date 1980-01-01
    l.setUint32(14, crc, true); l.setUint32(18, bytes.length, true); l.setUint32(22, bytes.length, true);
    l.setUint16(26, fname.length, true); l.setUint16(28, 0, true);
    local.set(fname, 30);
    const c = new Uint8Array(46 + fname.length);
    const cd = new DataView(c.buffer);
    cd.setUint32(0, 0x02014b50, true); cd.setUint16(4, 20, true); cd.setUint16(6, 20, true); cd.setUint16(8, 0, true);
    cd.setUint16(10, 0, true); cd.setUint16(12, 0, true); cd.setUint16(14, 0x21, true);
    cd.setUint32(16, crc, true); cd.setUint32(20, bytes.length, true); cd.setUint32(24, bytes.length, true);
    cd.setUint16(28, fname.length, true); cd.setUint32(42, offset, true);
    c.set(fname, 46);
    parts.push(local, bytes);
    central.push(c);
    offset += local.length + bytes.length;
  }
  const cdSize = central.reduce((s, c) => s + c.length, 0);
  const end = new Uint8Array(22);
  const e = new DataView(end.buffer);
  e.setUint32(0, 0x06054b50, true); e.setUint16(8, central.length, true); e.setUint16(10, central.length, true);
  e.setUint32(12, cdSize, true); e.setUint32(16, offset, true);
  const out = new Uint8Array(offset + cdSize + 22);
  let p = 0;
  for (const b of [...parts, ...central, end]) { out.set(b, p); p += b.length; }
  return out;
}

/** The arrays of an uncompressed .npz (as written by toNpz or numpy.savez; zip64 sizes are read). */
export function fromNpz(bytes: Uint8Array): Record<string, NpyArray> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dec = new TextDecoder();
  let eocd = -1;
  for (let p = bytes.length - 22; p >= Math.max(0, bytes.length - 22 - 65535); p--) {
    if (dv.getUint32(p, true) === 0x06054b50) { eocd = p; break; }
  }
  if (eocd < 0) throw new ValidationError("npz", "not a zip file (no end of central directory)");
  let count = dv.getUint16(eocd + 10, true);
  let cd = dv.getUint32(eocd + 16, true);
  if ((cd === 0xffffffff || count === 0xffff) && eocd >= 20 && dv.getUint32(eocd - 20, true) === 0x07064b50) {
    const z = Number(dv.getBigUint64(eocd - 12, true)); // zip64 end of central directory record
    count = Number(dv.getBigUint64(z + 32, true));
    cd = Number(dv.getBigUint64(z + 48, true));
  }
  const out: Record<string, NpyArray> = {};
  let p = cd;
  for (let e = 0; e < count; e++) {
    if (dv.getUint32(p, true) !== 0x02014b50) throw new ValidationError("npz", "damaged central directory");
    const method = dv.getUint16(p + 10, true);
    let size = dv.getUint32(p + 24, true);
    const usize = dv.getUint32(p + 20, true);
    const nlen = dv.getUint16(p + 28, true), xlen = dv.getUint16(p + 30, true), clen = dv.getUint16(p + 32, true);
    let local = dv.getUint32(p + 42, true);
    const name = dec.decode(bytes.subarray(p + 46, p + 46 + nlen));
    // zip64 extra field: the 64-bit values of the fields that hold 0xFFFFFFFF, in order (uncompressed, compressed, offset)
    for (let x = p + 46 + nlen; x + 4 <= p + 46 + nlen + xlen;) {
      const id = dv.getUint16(x, true), len = dv.getUint16(x + 2, true);
      if (id === 1) {
        let q = x + 4;
        if (usize === 0xffffffff) q += 8;
        if (size === 0xffffffff) { size = Number(dv.getBigUint64(q, true)); q += 8; }
        if (local === 0xffffffff) local = Number(dv.getBigUint64(q, true));
      }
      x += 4 + len;
    }
    if (method !== 0) throw new ValidationError("npz", `member ${name} is compressed (use numpy.savez, not savez_compressed)`);
    const start = local + 30 + dv.getUint16(local + 26, true) + dv.getUint16(local + 28, true);
    out[name.replace(/\.npy$/, "")] = fromNpy(bytes.subarray(start, start + size));
    p += 46 + nlen + xlen + clen;
  }
  return out;
}

// ------------------------------------------------------------------ export

/**
 * The arrays of a trajectory, by file name: `f` (K, d_out, N), `loss` (K) and,
 * when recorded, `steps`, `s`, `h`, `b`, `p`, plus every rectangular numeric
 * extra as `extras.<key>`.
 */
export function trajectoryArrays(t: Trajectory): Record<string, NpyArray> {
  const out: Record<string, NpyArray> = {
    f: { data: toFlat(t.f), shape: [t.K, t.dOut, t.N] },
    loss: { data: t.loss, shape: [t.K] },
  };
  const pr = t.profiles;
  if (pr) {
    out.steps = { data: Int32Array.from(pr.steps), shape: [pr.steps.length] };
    out.s = { data: pr.s, shape: [pr.s.length] };
    for (const key of ["h", "b", "p"] as const) {
      const a = pr[key];
      if (a) out[key] = { data: toFlat(a), shape: a.shape.slice() };
    }
  }
  // the MATH §8 diagnostics
  if (t.fTest) out.fTest = { data: toFlat(t.fTest), shape: t.fTest.shape.slice() };
  if (t.gram) out.gram = { data: toFlat(t.gram), shape: t.gram.shape.slice() };
  if (t.klProfile) out.klProfile = { data: toFlat(t.klProfile), shape: t.klProfile.shape.slice() };
  for (const key of ["lossTest", "gramLambdaMin", "kl"] as const) {
    const a = t[key];
    if (a) out[key] = { data: a, shape: [a.length] };
  }
  for (const [k, v] of Object.entries(t.extras ?? {})) {
    if (k === "meta") continue;
    const a = asArray(v);
    if (a && a.shape.length > 0 && a.data.length > 0) out[`extras.${k}`] = a;
  }
  return out;
}

const num = (x: number): string => (Number.isFinite(x) ? String(x) : "");

/**
 * Tidy CSV tables of a trajectory (one observation per row, a header line):
 * `outputs.csv` k,o,n,f · `loss.csv` k,loss · `profiles.csv` step,i,s,n,d,h,b
 * (when h or b were recorded) · `preactivations.csv` step,l,j,n,p (when p was).
 */
export function trajectoryCsv(t: Trajectory): Record<string, string> {
  const out: Record<string, string> = {};
  const f = toFlat(t.f);
  const rows = ["k,o,n,f"];
  for (let k = 0, i = 0; k < t.K; k++) for (let o = 0; o < t.dOut; o++) for (let n = 0; n < t.N; n++, i++) rows.push(`${k},${o},${n},${num(f[i])}`);
  out["outputs.csv"] = rows.join("\n") + "\n";
  out["loss.csv"] = ["k,loss", ...Array.from(t.loss, (l, k) => `${k},${num(l)}`)].join("\n") + "\n";
  const pr = t.profiles;
  if (pr && (pr.h || pr.b)) {
    const h = pr.h ? toFlat(pr.h) : null, b = pr.b ? toFlat(pr.b) : null;
    const shape = (pr.h ?? pr.b)!.shape; // [steps, S+1, N, D]
    const cols = ["step", "i", "s", "n", "d", ...(h ? ["h"] : []), ...(b ? ["b"] : [])];
    const lines = [cols.join(",")];
    let idx = 0;
    for (let r = 0; r < shape[0]; r++) for (let i = 0; i < shape[1]; i++) for (let n = 0; n < shape[2]; n++) for (let d = 0; d < shape[3]; d++, idx++) {
      lines.push(`${pr.steps[r]},${i},${num(pr.s[i])},${n},${d}${h ? "," + num(h[idx]) : ""}${b ? "," + num(b[idx]) : ""}`);
    }
    out["profiles.csv"] = lines.join("\n") + "\n";
  }
  if (pr?.p) {
    const p = toFlat(pr.p);
    const [R, L, M, N] = pr.p.shape;
    const lines = ["step,l,j,n,p"];
    let idx = 0;
    for (let r = 0; r < R; r++) for (let l = 0; l < L; l++) for (let j = 0; j < M; j++) for (let n = 0; n < N; n++, idx++) lines.push(`${pr.steps[r]},${l + 1},${j},${n},${num(p[idx])}`);
    out["preactivations.csv"] = lines.join("\n") + "\n";
  }
  return out;
}

export type ExportFormat = "npy" | "npz" | "csv";

export interface ExportOptions {
  format: ExportFormat;
  /** npy, csv: a folder (created) that receives one file per array / table; npz: the .npz file. */
  out: string;
}

/**
 * Write a trajectory (or a result file, by path) for numpy / pandas / R.
 * Returns the paths written.
 *
 *   exportTrajectory("result.json", { format: "npy", out: "result-npy" })  // → f.npy, loss.npy, ...
 *   >>> np.load("result-npy/f.npy").shape   # (K, d_out, N)
 */
export function exportTrajectory(src: Trajectory | string | Record<string, unknown>, opts: ExportOptions): string[] {
  const t = loadTrajectory(src);
  const { format, out } = opts;
  if (typeof out !== "string" || out === "") throw new ValidationError("out", `must be a path (got ${JSON.stringify(out)})`);
  // a missing folder or a read-only file is the user's error: a ValidationError naming the path, not an fs stack trace
  const writeFileSync = (path: string, data: string | Uint8Array) => {
    try {
      writeFileAt(path, data);
    } catch (e) {
      throw new ValidationError(path, `cannot be written: ${(e as Error).message}`);
    }
  };
  if (format === "npz") {
    writeFileSync(out, toNpz(trajectoryArrays(t)));
    return [out];
  }
  if (format !== "npy" && format !== "csv") throw new ValidationError("format", `must be "npy", "npz" or "csv" (got ${JSON.stringify(format)})`);
  try {
    mkdirSync(out, { recursive: true });
  } catch (e) {
    throw new ValidationError(out, `cannot be created as a folder: ${(e as Error).message}`);
  }
  const written: string[] = [];
  if (format === "npy") {
    for (const [name, a] of Object.entries(trajectoryArrays(t))) {
      const path = join(out, `${name}.npy`);
      writeFileSync(path, toNpy(a.data, a.shape));
      written.push(path);
    }
  } else {
    for (const [name, text] of Object.entries(trajectoryCsv(t))) {
      const path = join(out, name);
      writeFileSync(path, text);
      written.push(path);
    }
  }
  return written;
}
