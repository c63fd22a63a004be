/** `limitdyn reproduce hidden-width` (docs/presets/hidden-width.md): error vs L and M at fixed D against the Mean ODE; a/L + b/√(LM). */
import { HIDDEN_WIDTH_TERMS } from "../../stats/fit.ts";
import { plotErrorVs } from "../plot.ts";
import { axisFits, coefficientFit, type Ctx, figure, ladders, otherSpace, plotLadders, type PresetSummary, summaryOf, tableOf } from "./common.ts";

export async function hiddenWidth(ctx: Ctx): Promise<PresetSummary> {
  const t0 = performance.now();
  const { meanRows } = await ladders(ctx, "meanode", true);
  const axes = axisFits(ctx, meanRows, meanRows, "meanode", "errLast");
  // D at fixed L, M against the Mean ODE of each D's embeddings: the theorem's √D is an upper bound (theory column: the bound's +1/2 is not a rate to expect on outputs)
  axes.D.theory = 0.5;
  const other = otherSpace(ctx, meanRows, meanRows, "meanode", "errEmbed");
  const all = tableOf(meanRows.filter((r) => r.shape.D === ctx.ld.L.D), "errLast");
  const coefficients = {
    "a/L + b/sqrt(LM)": coefficientFit(all, { terms: HIDDEN_WIDTH_TERMS, nonNegative: true, weighting: "relative" }, ctx.B),
    "sqrt((a/L)^2 + b^2/(LM))": coefficientFit(all, { terms: HIDDEN_WIDTH_TERMS, combine: "l2", weighting: "relative" }, ctx.B),
  };
  await plotLadders(ctx, [
    [axes.L, meanRows, "err-vs-L", `finite vs Mean ODE, M = ${ctx.ld.L.M} (1/L term)`],
    [axes.M, meanRows, "err-vs-M", `finite vs Mean ODE, L = ${ctx.ld.M.L} (width term)`],
    [axes.D, meanRows, "err-vs-D", `finite vs Mean ODE of each D, L = ${ctx.ld.D.L}, M = ${ctx.ld.D.M}`],
  ]);
  const c = coefficients["a/L + b/sqrt(LM)"];
  if (!("error" in c)) {
    await figure(ctx, "err-vs-LM", (out) => plotErrorVs(all, { x: "LM", fit: (s) => c.coef["1/L"] / s.L + c.coef["1/sqrt(LM)"] / Math.sqrt(s.L * s.M), series: ["L"], title: "finite vs Mean ODE: a/L + b/√(LM)", out }));
  }
  return summaryOf(ctx, "errLast", axes, other, coefficients, t0);
}

