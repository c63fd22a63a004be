/**
 * The start-up protocol of every pooled worker (./pool.ts: the finite engine,
 * the skeleton and sweeps): every worker first runs a tiny plain-JavaScript
 * bootstrap that marks itself alive in a shared status word, beats while its
 * entry module loads (through tsx's API when running from TypeScript
 * sources — `--import tsx` in a worker's execArgv does not reach the worker
 * entry on Node 20), and reports a load failure through the status word and a
 * message port that the calling thread can read synchronously — so a worker
 * that cannot load becomes an error, never a silent hang.
 */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { MessageChannel, type MessagePort, Worker } from "node:worker_threads";

/** Status word layout: [state, heartbeat]. */
export const ST_STATE = 0, ST_HB = 1;
/** States written by the bootstrap (the pool adds its own: ready, exited). */
export const S_LOADING = 1, S_FAILED = 3;
/** Fault-injection word value that makes the bootstrap load a missing module (tests). */
export const F_LOAD = 1;
/** Heartbeat period while loading (ms). */
export const BEAT_MS = 20;

/** A runtime that imports TypeScript itself (Deno, Bun): worker entries load without tsx. */
export const NATIVE_TS = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined" || typeof process.versions.bun === "string";

/**
 * The module a worker loads: `<baseName>.js` beside the calling module when it
 * is compiled / bundled, `<baseName>.ts` through tsx's API otherwise (directly
 * on a runtime that runs TypeScript: under Deno, registering tsx in a worker
 * never finishes — the hang of issue 14).
 */
export function workerEntry(callerUrl: string, baseName: string): { target: string; api: string | null } {
  if (!callerUrl.endsWith(".ts")) return { target: new URL(`./${baseName}.js`, callerUrl).href, api: null };
  if (NATIVE_TS) return { target: new URL(`./${baseName}.ts`, callerUrl).href, api: null };
  const api = typeof import.meta.resolve === "function"
    ? import.meta.resolve("tsx/esm/api")
    : new URL("./esm/api/index.mjs", pathToFileURL(createRequire(callerUrl).resolve("tsx"))).href; // when loaded as CommonJS
  return { target: new URL(`./${baseName}.ts`, callerUrl).href, api };
}

function bootstrapCode(target: string, api: string | null, baseName: string): string {
  const load = api === null ? `import(target)` : `import(${JSON.stringify(api)}).then((m) => m.tsImport(target, target))`;
  const missing = target.replace(new RegExp(`${baseName}\\.(ts|js)$`), `${baseName}-missing.$1`);
  return `
const { workerData } = require("node:worker_threads");
const { status, fault, port } = workerData;
Atomics.store(status, ${ST_STATE}, ${S_LOADING});
Atomics.add(status, ${ST_HB}, 1);
const beat = setInterval(() => Atomics.add(status, ${ST_HB}, 1), ${BEAT_MS});
const target = Atomics.load(fault, 0) === ${F_LOAD} ? ${JSON.stringify(missing)} : ${JSON.stringify(target)};
${load}.then(() => clearInterval(beat), (e) => {
  clearInterval(beat);
  port.postMessage("could not load " + target + ": " + ((e && e.stack) || e));
  Atomics.store(status, ${ST_STATE}, ${S_FAILED});
  Atomics.notify(status, ${ST_STATE});
});`;
}

/**
 * Start an unref'd worker on `<baseName>` (see workerEntry) behind the
 * bootstrap. `fault` is the pool's fault-injection word (tests). The worker
 * receives `workerData = { status, fault, port, ...extra }`.
 */
export function spawnBootstrapped(callerUrl: string, baseName: string, fault: Int32Array, extra: Record<string, unknown> = {}): { w: Worker; status: Int32Array; port: MessagePort } {
  const { target, api } = workerEntry(callerUrl, baseName);
  const status = new Int32Array(new SharedArrayBuffer(8));
  const { port1, port2 } = new MessageChannel();
  const w = new Worker(bootstrapCode(target, api, baseName), { eval: true, workerData: { status, fault, port: port2, ...extra }, transferList: [port2] });
  w.unref();
  port1.unref();
  return { w, status, port: port1 };
}
