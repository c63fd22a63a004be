/**
 * Charts inline in Jupyter (the Deno kernel, or any kernel that honours the
 * `Symbol.for("Jupyter.display")` protocol): a plot becomes a MIME bundle with
 *
 *   application/vnd.vegalite.v5+json   the Vega-Lite spec (JupyterLab 3–4 and Notebook 7 render
 *                                      this MIME type natively; it is the newest Vega-Lite MIME
 *                                      type they register — the spec's $schema is set to v5 for it)
 *   image/svg+xml                      the chart rendered by vega (nbconvert HTML, VS Code,
 *                                      GitHub, frontends without a Vega renderer)
 *   text/plain                         a one-line description
 *
 * Every PlotResult of ./plot.ts carries the display method, so a plot as the
 * last expression of a cell shows inline; `display(plot)` gives the bundle
 * for `Deno.jupyter.display(bundle, { raw: true })` (several charts per cell).
 */
/** What ./plot.ts returns (declared here: plot.ts imports this module). */
type PlotResult = { spec: Record<string, unknown>; svg: string };
type VegaLiteSpec = Record<string, unknown>;

export const VEGA_LITE_MIME = "application/vnd.vegalite.v5+json";
const V5_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";
/** The display protocol symbol of Jupyter JavaScript kernels (Deno: Deno.jupyter.$display). */
export const JUPYTER_DISPLAY: unique symbol = Symbol.for("Jupyter.display") as never;

export type MimeBundle = Record<string, unknown>;

/** The MIME bundle of a plot (or of a bare Vega-Lite spec: no SVG then). */
export function mimeBundle(plot: PlotResult | VegaLiteSpec): MimeBundle {
  const isPlot = typeof (plot as PlotResult).svg === "string" && typeof (plot as PlotResult).spec === "object";
  const spec = isPlot ? (plot as PlotResult).spec : (plot as VegaLiteSpec);
  const title = typeof spec.title === "string" ? spec.title : "chart";
  const bundle: MimeBundle = { [VEGA_LITE_MIME]: { ...spec, $schema: V5_SCHEMA } };
  if (isPlot) bundle["image/svg+xml"] = (plot as PlotResult).svg;
  bundle["text/plain"] = `Vega-Lite chart: ${title}`;
  return bundle;
}

/** Attach the display method to a plot result (non-enumerable: JSON and spreads are unchanged). */
export function displayable<T extends PlotResult>(plot: T): T {
  Object.defineProperty(plot, JUPYTER_DISPLAY, { value: () => mimeBundle(plot), enumerable: false });
  return plot;
}

/** An object that displays as `bundle` when it is the last expression of a notebook cell. */
export function display(plot: PlotResult | VegaLiteSpec): { [JUPYTER_DISPLAY]: () => MimeBundle } {
  const bundle = mimeBundle(plot);
  return { [JUPYTER_DISPLAY]: () => bundle };
}
