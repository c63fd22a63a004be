/**
 * A process-wide progress hook for long synchronous solves. The solvers call
 * `reportProgress(done, total, label)` once per GD step (a no-op unless a
 * listener is set); the CLI sets a listener that draws a bar on a TTY or
 * prints periodic lines (src/cli/progress.ts). A notebook can set one too:
 *
 *   setProgressListener((done, total, label) => { if (done === total) console.log(label, "done"); });
 */
export type ProgressListener = (done: number, total: number, label: string) => void;

let listener: ProgressListener | null = null;

/** Set (or clear, with null) the listener; returns the previous one. */
export function setProgressListener(fn: ProgressListener | null): ProgressListener | null {
  const prev = listener;
  listener = fn;
  return prev;
}

/** Called by the solvers after each unit of work (e.g. a GD step). */
export function reportProgress(done: number, total: number, label: string): void {
  if (listener !== null) listener(done, total, label);
}
