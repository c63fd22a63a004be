/** `limitdyn reproduce all-shapes` (docs/presets/all-shapes.md): error vs L, M (Mean ODE), D and P = LMD (DMFT), outputs and embedding space. */
import { ALL_SHAPES_TERMS } from "../../stats/fit.ts";
import { plotErrorVs } from "../plot.ts";
import { axisFit, axisFits, coefficientFit, type Ctx, figure, gridPoints, ladders, otherSpace, plotLadders, type PresetSummary, rowsAt, summaryOf, tableOf } from "./common.ts";

export async function allShapes(ctx: Ctx): Promise<PresetSummary> {
  const t0 = performance.now();
  const { meanRows, dmftRows } = await ladders(ctx, "dmft", true);
  const axes = axisFits(ctx, meanRows, dmftRows, "dmft", "errLast");
  const other = otherSpace(ctx, meanRows, dmftRows, "dmft", "errEmbed");
  const grid = tableOf(rowsAt(dmftRows, gridPoints(ctx.ld.grid), ctx.ld.grid.reps), "errLast");
  const gridE = tableOf(rowsAt(dmftRows, gridPoints(ctx.ld.grid), ctx.ld.grid.reps), "errEmbed");
  const rel = { nonNegative: true, weighting: "relative" } as const;
  const coefficients = {
    "a/L + b sqrt(D/(LM)) + c/sqrt(D)": coefficientFit(grid, { terms: ALL_SHAPES_TERMS, ...rel }, ctx.B),
    "a/L + b/sqrt(LM) + c/sqrt(D)": coefficientFit(grid, { terms: ["1/L", "1/sqrt(LM)", "1/sqrt(D)"], ...rel }, ctx.B),
    "l2: (a/L, b sqrt(D/(LM)), c/sqrt(D))": coefficientFit(grid, { terms: ALL_SHAPES_TERMS, combine: "l2", weighting: "relative" }, ctx.B),
    "embedding: a/L + b sqrt(D/(LM)) + c/sqrt(D)": coefficientFit(gridE, { terms: ALL_SHAPES_TERMS, ...rel }, ctx.B),
  };
  await plotLadders(ctx, [
    [axes.L, meanRows, "err-vs-L", `finite vs Mean ODE, M = ${ctx.ld.L.M} (1/L term)`],
    [axes.M, meanRows, "err-vs-M", `finite vs Mean ODE, L = ${ctx.ld.M.L} (width term)`],
    [axes.D, dmftRows, "err-vs-D", `finite vs DMFT, L = ${ctx.ld.D.L}, M = ${ctx.ld.D.M} (1/√D term)`],
    [axisFit(dmftRows, ctx.ld, "D", "dmft", "errEmbed", ctx.B), dmftRows, "emb-vs-D", `embedding space: h_L vs DMFT coordinates, L = ${ctx.ld.D.L}, M = ${ctx.ld.D.M}`],
  ]);
  for (const [name, table, key] of [["err-vs-P", grid, "a/L + b sqrt(D/(LM)) + c/sqrt(D)"], ["emb-vs-P", gridE, "embedding: a/L + b sqrt(D/(LM)) + c/sqrt(D)"]] as const) {
    const c = coefficients[key];
    await figure(ctx, name, (out) => plotErrorVs(table, {
      x: "P", series: ["D"], out, title: `finite vs DMFT over L × M × D (${name.startsWith("emb") ? "embedding space" : "outputs"}), fit ${key.replace("embedding: ", "")}`,
      fit: "error" in c ? undefined : (s) => c.coef["1/L"] / s.L + c.coef["sqrt(D/(LM))"] * Math.sqrt(s.D / (s.L * s.M)) + c.coef["1/sqrt(D)"] / Math.sqrt(s.D),
    }));
  }
  return summaryOf(ctx, "errLast", axes, other, coefficients, t0);
}

