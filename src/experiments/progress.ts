/**
 * Sweep progress on stderr: a cli-progress bar with ETA on a terminal,
 * plain lines (at most one every `intervalMs`, plus the last) otherwise.
 */
import cliProgress from "cli-progress";

export type ProgressMode = "auto" | "bar" | "lines" | "none";

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return "?";
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

export class Progress {
  private readonly mode: Exclude<ProgressMode, "auto">;
  private bar: cliProgress.SingleBar | null = null;
  private readonly t0 = Date.now();
  private lastLine = 0;
  private done = 0;
  private failed = 0;

  /** `total` runs to do now (after skipping `skipped` completed ones). */
  constructor(private readonly total: number, skipped: number, mode: ProgressMode = "auto", private readonly intervalMs = 2000, private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.mode = mode === "auto" ? (stream.isTTY ? "bar" : "lines") : mode;
    if (this.mode === "bar") {
      this.bar = new cliProgress.SingleBar({
        stream,
        format: "sweep |{bar}| {percentage}% | {value}/{total} runs | {failed} failed | elapsed {duration_formatted} | ETA {eta_formatted}",
        hideCursor: true,
        etaBuffer: 20,
        fps: 5,
      }, cliProgress.Presets.shades_classic);
      this.bar.start(total, 0, { failed: 0 });
    } else if (this.mode === "lines") {
      this.line(`sweep: ${total} runs to do${skipped ? ` (${skipped} already done, skipped)` : ""}`);
    }
  }

  private line(s: string): void {
    this.stream.write(s + "\n");
  }

  tick(failed: boolean): void {
    this.done++;
    if (failed) this.failed++;
    if (this.bar) this.bar.update(this.done, { failed: this.failed });
    else if (this.mode === "lines") {
      const now = Date.now();
      if (now - this.lastLine >= this.intervalMs || this.done === this.total) {
        this.lastLine = now;
        const el = (now - this.t0) / 1000;
        const eta = (el / this.done) * (this.total - this.done);
        this.line(`sweep: ${this.done}/${this.total} runs (${((100 * this.done) / Math.max(1, this.total)).toFixed(0)}%), ${this.failed} failed, elapsed ${fmtTime(el)}, ETA ${fmtTime(eta)}`);
      }
    }
  }

  stop(note?: string): void {
    if (this.bar) {
      this.bar.stop();
      this.bar = null;
    }
    if (note && this.mode !== "none") this.line(note);
  }
}
