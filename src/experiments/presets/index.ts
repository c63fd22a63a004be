/**
 * Reproduction presets (`limitdyn reproduce <name>`): sweeps against the
 * limits, power-law fits along each shape axis with bootstrap intervals, the
 * coefficient fits of MATH §6 and the figures. One page per preset in
 * docs/presets/.
 *
 * How each axis is isolated (measured constants on the preset problem —
 * tanh, D = 8, N = 3, K = 3, η_u = η_v = 1: finite vs Mean ODE output error
 * ≈ a/L + b/√(LM) with a ≈ 0.067, b ≈ 0.3–0.45; finite-D Mean ODE vs DMFT ≈ 0.4/√D):
 *
 *  - L (theory −1): finite vs the skeleton Mean ODE of the SAME embeddings
 *    (taskOptions.embeddingSeed), M ≫ L so that b/√(LM) ≪ a/L
 *    (fluctuation/bias = (b/a)√(L/M) ≤ 0.3 on the ladder).
 *  - M (theory −1/2): same limit, L large and M small (bias/fluctuation =
 *    (a/b)√(M/L) ≤ 0.1), so the width term dominates.
 *  - D (theory −1/2): finite vs the DMFT at large L·M (both other terms ≤ 1/5
 *    of c/√D), embeddings random per run.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { ValidationError } from "../../core/errors.ts";
import { type Axis, type Ctx, LADDERS, type Ladders, type PresetName, type PresetOptions, type PresetSummary, type Scale } from "./common.ts";
import { hiddenWidth } from "./hidden-width.ts";
import { allShapes } from "./all-shapes.ts";
import { trajectories } from "./trajectories.ts";
import { chenPreset, type ChenSummary, formatChenSummary } from "./chen.ts";

export {
  type Scale, type PresetName, type PresetOptions, type PresetSummary, type AxisFit, type CoefficientFit, type Ladders,
  THEORY, LADDERS, PRESET_PROBLEM, EMBEDDING_SEED,
} from "./common.ts";

export { type ChenSummary, type ChenScale, type ConvergenceStats, type GramRun, CHEN_SCALES, formatChenSummary, convergenceStats } from "./chen.ts";

export const PRESET_NAMES = ["hidden-width", "all-shapes", "trajectories", "chen"] as const;

const fmt = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : String(x));

/** The printed summary table of a preset. */
export function formatSummary(s: PresetSummary): string[] {
  const lines = [`${s.preset} (--scale ${s.scale}): exponents of ${s.value} (RMS over repetitions), ${Math.round(s.level * 100)}% bootstrap intervals`, ""];
  lines.push("axis  theory   fitted   interval            R²     limit    ladder");
  for (const a of ["L", "M", "D"] as Axis[]) {
    const f = s.axes[a];
    const ladder = `${a} ∈ {${f.values.join(", ")}}, ${Object.entries(f.fixed).map(([k, v]) => `${k} = ${v}`).join(", ")}, R = ${f.repetitions}`;
    lines.push(`${a.padEnd(4)}  ${fmt(f.theory, 2).padStart(6)}  ${fmt(f.exponent).padStart(7)}   [${fmt(f.ci[0])}, ${fmt(f.ci[1])}]`.padEnd(45) + `${fmt(f.r2, 3).padStart(6)}   ${f.limit.padEnd(7)}  ${ladder}`);
  }
  if (s.other) {
    const o = s.other;
    lines.push("", `same ladders, ${o.value}: ` + (["L", "M", "D"] as Axis[]).filter((a) => o.exponents[a] !== undefined)
      .map((a) => `${a}: ${fmt(o.exponents[a]!)} [${fmt(o.ci[a]![0])}, ${fmt(o.ci[a]![1])}]`).join("   "));
  }
  const coefs = Object.entries(s.coefficients);
  if (coefs.length) {
    lines.push("", "coefficient fits:");
    for (const [name, c] of coefs) {
      if ("error" in c) { lines.push(`  ${name}: failed (${c.error})`); continue; }
      const terms = c.terms.map((t) => `${fmt(c.coef[t], 4)}·${t} [${fmt(c.intervals[t][0], 4)}, ${fmt(c.intervals[t][1], 4)}]`).join(c.combine === "l2" ? " ⊕ " : " + ");
      lines.push(`  ${name}: ${terms}   (R² = ${fmt(c.r2)}, ${c.shapes} shapes)`);
    }
  }
  lines.push("", `runtime ${s.runtimeSec.toFixed(1)} s; files in the output folder: ${s.files.length}`);
  return lines;
}

/** Smaller ladders for the trajectories preset (its ladders are a by-product of the figures). */
function laddersFor(name: PresetName, scale: Scale): Ladders {
  const ld = structuredClone(LADDERS[scale]);
  if (name === "hidden-width") {
    // D at fixed (L, M) against each D's own Mean ODE (one solve per D and worker)
    ld.D = { L: ld.M.L, M: 4, D: scale === "small" ? [4, 8, 16, 32, 64] : [4, 8, 16, 32, 64, 128, 256], reps: ld.M.reps };
    ld.grid = { L: [2, 8, 32], M: [16, 128], D: [ld.L.D], reps: scale === "small" ? 10 : 20 };
  }
  if (name === "trajectories") {
    // embedding space: the width term is b√(D/(LM)) with b ≈ 0.55 (tight, unlike outputs), so the 1/L ladder needs M ≳ 500·L
    // and the D ladder needs c/√D ≫ b√(D/(LM)), i.e. D ≪ 0.5√(LM)
    ld.L = scale === "small" ? { L: [1, 2, 4, 8], M: 32768, D: 8, reps: 6 } : { L: [1, 2, 4, 8, 16], M: 262144, D: 8, reps: 10 };
    ld.M.reps = scale === "small" ? 6 : 10;
    ld.D = scale === "small" ? { L: 64, M: 1024, D: [2, 4, 8, 16, 32], reps: 16 } : { L: 256, M: 4096, D: [2, 4, 8, 16, 32, 64, 128], reps: 10 };
  }
  return ld;
}

/**
 * Run a preset: sweeps (JSONL rows, resumable), fits (fit.json), figures (.svg + .vl.json) in `out`.
 * The rate presets return a PresetSummary, "chen" a ChenSummary (the Gram / KL / test-error objects).
 */
export async function runPreset(name: "chen", opts?: PresetOptions): Promise<ChenSummary>;
export async function runPreset(name: Exclude<PresetName, "chen">, opts?: PresetOptions): Promise<PresetSummary>;
export async function runPreset(name: string, opts?: PresetOptions): Promise<PresetSummary | ChenSummary>;
export async function runPreset(name: string, opts: PresetOptions = {}): Promise<PresetSummary | ChenSummary> {
  if (!(PRESET_NAMES as readonly string[]).includes(name)) throw new ValidationError("preset", `must be one of ${PRESET_NAMES.join(", ")} (got ${JSON.stringify(name)})`);
  const scale = opts.scale ?? "small";
  if (scale !== "small" && scale !== "paper") throw new ValidationError("--scale", `must be small or paper (got ${JSON.stringify(scale)})`);
  const preset = name as PresetName;
  const out = resolve(opts.out ?? join("out", preset));
  mkdirSync(out, { recursive: true });
  const log = opts.log === null ? () => {} : (opts.log ?? ((l: string) => console.log(l)));
  const ctx: Ctx = {
    name: preset, scale, out, workers: opts.workers ?? availableParallelism(), progress: opts.progress ?? "none", B: opts.B ?? 1000,
    ld: { ...laddersFor(preset, scale), ...(opts.ladders ?? {}) }, files: [], log, chen: opts.chen,
  };
  log(`limitdyn reproduce ${preset} --scale ${scale} → ${out}`);
  const summary = preset === "hidden-width" ? await hiddenWidth(ctx) : preset === "all-shapes" ? await allShapes(ctx) : preset === "trajectories" ? await trajectories(ctx) : await chenPreset(ctx);
  const fitFile = join(out, "fit.json");
  summary.files = [...summary.files, fitFile];
  writeFileSync(fitFile, JSON.stringify(summary, null, 2) + "\n");
  log("");
  for (const l of summary.preset === "chen" ? formatChenSummary(summary) : formatSummary(summary)) log(l);
  return summary;
}
