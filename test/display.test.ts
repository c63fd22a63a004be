/** Plots display inline in Jupyter: a MIME bundle with the Vega-Lite v5 MIME type, an SVG fallback and text. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { plotLossCurves } from "../src/experiments/plot.ts";
import { display, mimeBundle, VEGA_LITE_MIME } from "../src/experiments/display.ts";

test("a PlotResult carries Symbol.for(\"Jupyter.display\") → application/vnd.vegalite.v5+json + image/svg+xml + text/plain", async () => {
  const plot = await plotLossCurves({ a: [1, 0.5, 0.25], b: [1, 0.6, 0.3] }, { title: "loss" });
  const show = (plot as unknown as Record<symbol, () => Record<string, unknown>>)[Symbol.for("Jupyter.display")];
  assert.equal(typeof show, "function");
  const bundle = show();
  assert.equal(VEGA_LITE_MIME, "application/vnd.vegalite.v5+json");
  assert.deepEqual(Object.keys(bundle), [VEGA_LITE_MIME, "image/svg+xml", "text/plain"]);
  const spec = bundle[VEGA_LITE_MIME] as Record<string, unknown>;
  assert.equal(spec.$schema, "https://vega.github.io/schema/vega-lite/v5.json");
  assert.deepEqual({ ...spec, $schema: plot.spec.$schema }, plot.spec, "the spec itself is unchanged");
  assert.match(bundle["image/svg+xml"] as string, /^<svg/);
  assert.equal(bundle["text/plain"], "Vega-Lite chart: loss");
  assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(plot))), ["spec", "svg"], "the display method is not serialized");
  assert.deepEqual(Object.keys(mimeBundle(plot.spec)), [VEGA_LITE_MIME, "text/plain"]);
  const d = display(plot) as unknown as Record<symbol, () => Record<string, unknown>>;
  assert.deepEqual(Object.keys(d[Symbol.for("Jupyter.display")]()), [VEGA_LITE_MIME, "image/svg+xml", "text/plain"]);
});
