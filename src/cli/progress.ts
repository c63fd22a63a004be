/**
 * Progress of `limitdyn train | meanode | dmft | chaos` on stderr. The solvers
 * report each GD step through the core progress hook (src/core/progress.ts);
 * nothing is shown for the first `delayMs` (≈ 1 s), so short runs stay
 * silent. Then: a cli-progress bar on a terminal ("bar"), or one plain line
 * at most every `intervalMs` ("lines", for logs and CI) and a closing
 * "done in" line. A new phase (another label, or a count that starts again,
 * e.g. the next randomization of the skeleton) starts a new bar.
 */
import { createRequire } from "node:module";
import { setProgressListener } from "../core/progress.ts";
import { UsageError } from "./flags.ts";

export type RunProgressMode = "auto" | "bar" | "lines" | "none";

interface Bar {
  start(total: number, value: number, payload?: object): void;
  update(value: number, payload?: object): void;
  setTotal(total: number): void;
  stop(): void;
}

function fmt(s: number): string {
  if (!Number.isFinite(s)) return "?";
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

/** The progress mode from the flags (`--quiet`, `--progress`). */
export function progressMode(flags: Record<string, string | undefined>): RunProgressMode {
  if (flags.quiet !== undefined) return "none";
  const m = flags.progress ?? "auto";
  if (!["auto", "bar", "lines", "none"].includes(m)) throw new UsageError(`--progress must be auto, bar, lines or none (got ${JSON.stringify(m)})`);
  return m as RunProgressMode;
}

export interface RunProgressOptions {
  mode?: RunProgressMode;
  /** Show nothing before this (ms; default 1000). */
  delayMs?: number;
  /** "lines": at most one line per interval (ms; default 2000). */
  intervalMs?: number;
  stream?: NodeJS.WriteStream;
}

/** Run `fn` with progress on stderr for `command`. */
export function withProgress<T>(command: string, opts: RunProgressOptions, fn: () => T): T {
  const stream = opts.stream ?? process.stderr;
  const mode = opts.mode === undefined || opts.mode === "auto" ? (stream.isTTY ? "bar" : "lines") : opts.mode;
  if (mode === "none") return fn();
  // LIMITDYN_PROGRESS_DELAY_MS overrides the delay (tests show the progress of short runs with 0)
  const envDelay = Number(process.env.LIMITDYN_PROGRESS_DELAY_MS);
  const delay = opts.delayMs ?? (Number.isFinite(envDelay) && process.env.LIMITDYN_PROGRESS_DELAY_MS !== "" ? envDelay : 1000);
  const interval = opts.intervalMs ?? 2000;
  const t0 = Date.now();
  let phase = "", phaseT0 = t0, lastDone = 0, lastLine = 0, shown = false;
  let bar: Bar | null = null;
  const line = (s: string) => stream.write(`limitdyn ${command}: ${s}\n`);
  const stopBar = () => {
    if (bar) { bar.stop(); bar = null; }
  };
  const newBar = (label: string, total: number, done: number): Bar => {
    const cliProgress = createRequire(import.meta.url)("cli-progress") as typeof import("cli-progress");
    const b = new cliProgress.SingleBar({
      stream,
      format: `${command}: ${label} |{bar}| {value}/{total} | {percentage}% | elapsed {duration_formatted} | ETA {eta_formatted}`,
      hideCursor: true,
      etaBuffer: 10,
      fps: 10,
    }, cliProgress.Presets.shades_classic);
    b.start(total, done);
    return b;
  };
  const prev = setProgressListener((done, total, label) => {
    const now = Date.now();
    const key = `${label}/${total}`;
    if (key !== phase || done < lastDone) {
      stopBar();
      phase = key;
      phaseT0 = now;
    }
    lastDone = done;
    if (!shown && now - t0 < delay) return; // short runs stay silent
    shown = true;
    if (mode === "bar") {
      if (!bar) bar = newBar(label, total, done);
      else bar.update(done);
      if (done === total) stopBar();
    } else if (now - lastLine >= interval) { // one line per interval over all phases (a solve may run many short ones)
      lastLine = now;
      const el = (now - phaseT0) / 1000;
      const eta = done > 0 ? (el / done) * (total - done) : NaN;
      line(`${label} ${done}/${total} (${((100 * done) / Math.max(1, total)).toFixed(0)}%), elapsed ${fmt(el)}${done < total ? `, ETA ${fmt(eta)}` : ""}`);
    }
  });
  try {
    return fn();
  } finally {
    stopBar();
    setProgressListener(prev);
    if (shown && mode === "lines") line(`done in ${fmt((Date.now() - t0) / 1000)}`);
  }
}
