/**
 * The calling side of the fuzz campaign (fuzz.ts): runs the cases in a child
 * process (a fatal V8 error — heap exhausted, "invalid table size" — must not
 * take the test runner with it) under a watchdog: the time since the current
 * case started, and the child's resident memory (/proc/<pid>/statm), polled
 * every 20 ms. A hang or a memory blow-up kills the child, is recorded against
 * its case, and a new child resumes after it.
 */
import { type ChildProcess, fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { buildCase, caseArb, type CaseResult, FAILURES, type Outcome, OUTCOMES } from "./fuzz.ts";

export interface CampaignOptions {
  seed: number;
  cases: number;
  /** A finished case slower than this is a failure ("slow"). */
  slowMs: number;
  /** No answer within this is a hang (the worker is terminated). */
  hangMs: number;
  /** Growth of the process's resident memory above its level at the worker's start that counts as a blow-up. */
  memoryBytes: number;
  /** Environment of the worker threads (e.g. LIMITDYN_MAX_MEMORY, LIMITDYN_MAX_WORK). */
  env?: Record<string, string>;
  /** Stop starting new workers after this much wall time (the report says how many cases ran). */
  wallMs?: number;
}

export interface CampaignReport {
  seed: number;
  planned: number;
  ran: number;
  counts: Record<Outcome, number>;
  byEntry: Record<string, Partial<Record<Outcome, number>>>;
  failures: { i: number; outcome: Outcome; text: string; detail: string }[];
  /** Examples of each non-failure outcome (the first few messages). */
  examples: Partial<Record<Outcome, string[]>>;
  wallMs: number;
  maxCaseMs: number;
  /** Largest growth of the child's resident memory over its level at start (bytes), and the case it was seen in. */
  peakGrowth: number;
  peakCase: string;
  /** The outcome of each case, by index. */
  outcomes: Outcome[];
}

const workerFile = fileURLToPath(new URL("./fuzz-worker.ts", import.meta.url));
const PAGE = 4096;

function spawn(o: CampaignOptions, from: number): ChildProcess {
  return fork(workerFile, [JSON.stringify({ seed: o.seed, from, count: o.cases - from, slowMs: o.slowMs })], {
    execArgv: ["--import", "tsx", "--max-old-space-size=4096"],
    env: { ...process.env, ...(o.env ?? {}) },
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  });
}

/** Resident memory of a process (bytes), or 0 where /proc is not available. */
function rssOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    return Number(readFileSync(`/proc/${pid}/statm`, "utf8").split(" ")[1]) * PAGE;
  } catch {
    return 0;
  }
}

export async function runCampaign(o: CampaignOptions): Promise<CampaignReport> {
  const t0 = performance.now();
  const all = fc.sample(caseArb, { seed: o.seed, numRuns: o.cases });
  const counts = Object.fromEntries(OUTCOMES.map((k) => [k, 0])) as Record<Outcome, number>;
  const report: CampaignReport = { seed: o.seed, planned: o.cases, ran: 0, counts, byEntry: {}, failures: [], examples: {}, wallMs: 0, maxCaseMs: 0, peakGrowth: 0, peakCase: "", outcomes: [] };
  const record = (i: number, r: CaseResult & { text?: string }) => {
    report.ran++;
    counts[r.outcome]++;
    report.outcomes[i] = r.outcome;
    const name = buildCase(all[i]).entry.name;
    const e = (report.byEntry[name] ??= {});
    e[r.outcome] = (e[r.outcome] ?? 0) + 1;
    report.maxCaseMs = Math.max(report.maxCaseMs, r.ms);
    const text = r.text ?? buildCase(all[i]).text;
    if (FAILURES.includes(r.outcome)) report.failures.push({ i, outcome: r.outcome, text, detail: r.detail });
    else {
      const ex = (report.examples[r.outcome] ??= []);
      if (ex.length < 6 && r.detail) ex.push(`${text} → ${r.detail.slice(0, 200)}`);
    }
  };
  let from = 0;
  while (from < o.cases) {
    if (o.wallMs !== undefined && performance.now() - t0 > o.wallMs) break;
    from = await new Promise<number>((resolve, reject) => {
      const w = spawn(o, from);
      let current = -1, started = 0, baseRss = 0, next = from, settled = false;
      let stderr = "";
      w.stderr?.on("data", (b: Buffer) => { stderr = (stderr + b.toString()).slice(-2000); });
      const finish = (n: number) => {
        if (settled) return;
        settled = true;
        clearInterval(timer);
        if (w.exitCode === null && w.signalCode === null) {
          w.once("exit", () => resolve(n));
          w.kill("SIGKILL");
        } else resolve(n);
      };
      const timer = setInterval(() => {
        if (current < 0) return;
        const rss = rssOf(w.pid);
        if (baseRss > 0 && rss - baseRss > report.peakGrowth) {
          report.peakGrowth = rss - baseRss;
          report.peakCase = buildCase(all[current]).text;
        }
        if (baseRss > 0 && rss - baseRss > o.memoryBytes) {
          record(current, { outcome: "memory", ms: performance.now() - started, detail: `resident memory grew by ${((rss - baseRss) / 2 ** 20).toFixed(0)} MB` });
          finish(current + 1);
        } else if (performance.now() - started > o.hangMs) {
          record(current, { outcome: "hang", ms: performance.now() - started, detail: `no answer after ${o.hangMs} ms` });
          finish(current + 1);
        }
      }, 20);
      w.on("message", (m: { type: string; i: number; result: CaseResult & { text: string } }) => {
        if (m.type === "ready") baseRss = rssOf(w.pid);
        else if (m.type === "start") { current = m.i; started = performance.now(); }
        else if (m.type === "done") { record(m.i, m.result); current = -1; next = m.i + 1; }
        else if (m.type === "end") finish(o.cases);
      });
      w.on("error", (e) => {
        if (settled) return;
        settled = true;
        clearInterval(timer);
        reject(e);
      });
      w.on("exit", (code, signal) => {
        if (settled) return;
        if (current >= 0) {
          const oom = /heap out of memory|Allocation failed|invalid table size/.test(stderr);
          record(current, { outcome: oom ? "memory" : "raw", ms: performance.now() - started, detail: `the process died (${signal ?? `exit code ${code}`}): ${stderr.trim().split("\n").slice(-3).join(" | ").slice(0, 300)}` });
          finish(current + 1);
        } else if (next === from && stderr) {
          settled = true;
          clearInterval(timer);
          reject(new Error(`the fuzz worker failed to start: ${stderr}`));
        } else finish(next);
      });
    });
  }
  report.wallMs = performance.now() - t0;
  return report;
}

/** A compact text summary of a report. */
export function summary(r: CampaignReport): string {
  const lines = [`fuzz seed ${r.seed}: ${r.ran}/${r.planned} cases in ${(r.wallMs / 1000).toFixed(1)} s (slowest ${r.maxCaseMs.toFixed(0)} ms; peak memory growth ${(r.peakGrowth / 2 ** 20).toFixed(0)} MB in ${r.peakCase.slice(0, 120)})`];
  lines.push("  " + OUTCOMES.filter((k) => r.counts[k] > 0).map((k) => `${k} ${r.counts[k]}`).join(", "));
  for (const [name, c] of Object.entries(r.byEntry).sort()) lines.push(`  ${name.padEnd(22)} ${OUTCOMES.filter((k) => c[k]).map((k) => `${k} ${c[k]}`).join(", ")}`);
  return lines.join("\n");
}
