/**
 * The All Shapes paper preset (src/experiments/presets/all-shapes-paper.ts) on a tiny grid:
 * the pipeline (limit, stand-in, grid, analysis, figures) runs and resumes, the embeddings
 * are coupled across D (first D rows of one draw), and the per-shape errors equal an
 * independent recomputation from the finite network and the limit file.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { allShapesPaper, paperProblem } from "../src/experiments/presets/all-shapes-paper.ts";
import { coupledEmbeddings, type PaperLimit, type PaperStandin } from "../src/experiments/paper-tasks.ts";
import { trainResNet } from "../src/resnet/solver.ts";
import { readRows } from "../src/experiments/rows.ts";

test("all-shapes-paper on a tiny grid: files, coupling, errors against an independent recomputation, resume", async () => {
  const out = mkdtempSync(join(tmpdir(), "limitdyn-paper-"));
  const opts = { out, ladder: [2, 3, 5], reps: 2, L: 3, B: 20, workers: 0, log: null, limitTol: null, limitExpectation: { points: 64, randomizations: 2, estimator: "direct" } } as const;
  const s = await allShapesPaper(opts);
  for (const f of ["limit.json", "standin.json", "grid.jsonl", "grid.sweep.json", "fit.json", "erry_vs_D.exact.svg", "errh_vs_P.standin.svg"]) assert.ok(existsSync(join(out, f)), f);
  assert.equal(s.table.length, 9);
  // coupling: the D-row embeddings are the first D rows of the D_max-row draw
  const big = coupledEmbeddings(1, 1, 5, 5, 5, 5, Math.sqrt(0.2), Math.sqrt(5)), small = coupledEmbeddings(1, 1, 5, 3, 5, 5, Math.sqrt(0.2), Math.sqrt(5));
  assert.deepEqual(Array.from(small.WE), Array.from(big.WE.subarray(0, 15)));
  assert.deepEqual(Array.from(small.WU), Array.from(big.WU.subarray(0, 15)));
  // independent recomputation of the (M, D) = (3, 2) errors at k = 15 (recorded step 14)
  const limit = JSON.parse(readFileSync(join(out, "limit.json"), "utf8")) as PaperLimit;
  const standins = JSON.parse(readFileSync(join(out, "standin.json"), "utf8")) as PaperStandin[];
  const rows = readRows(join(out, "grid.jsonl")).rows.filter((r) => r.shape.M === 3 && r.shape.D === 2);
  assert.equal(rows.length, 2);
  let sy = 0, sh = 0, sye = 0;
  for (const r of rows) {
    const p = { ...paperProblem(3, 3, 2), seed: r.seed };
    const { WE, WU } = coupledEmbeddings(1, r.rep, 5, 2, 5, 5, p.model.sigmaIn, p.model.sigmaOut);
    const t = trainResNet({ ...p, init: { WE, WU } }, { record: ["h"], recordSteps: [14] });
    const st = standins.find((x) => x.rep === r.rep)!;
    for (let j = 0; j < 50; j++) { sy += (t.f.data[14 * 50 + j] - st.f[14 * 50 + j]) ** 2; sye += (t.f.data[14 * 50 + j] - limit.f[14 * 50 + j]) ** 2; }
    const h = t.profiles!.h!;
    for (let n = 0; n < 10; n++) for (let d = 0; d < 2; d++) sh += (h.get(0, 3, n, d) - st.h[0][n * 5 + d]) ** 2;
  }
  const row = s.table.find((x) => x.M === 3 && x.D === 2)!;
  assert.ok(Math.abs(row.k15["outputs.standin"] - Math.sqrt(sy / 100)) < 1e-12);
  assert.ok(Math.abs(row.k15["outputs.exact"] - Math.sqrt(sye / 100)) < 1e-12);
  assert.ok(Math.abs(row.k15["embedding.standin"] - Math.sqrt(sh / 40)) < 1e-12);
  // the stand-in against itself is 0
  assert.equal(s.table.find((x) => x.M === 5 && x.D === 5)!.k15["outputs.standin"], 0);
  for (const space of ["outputs", "embedding"] as const) for (const ref of ["standin", "exact"] as const) {
    const f = s.fits[space][ref];
    assert.ok(Number.isFinite(f.law.a) && Number.isFinite(f.law.b) && f.law.ci.a[0] <= f.law.ci.a[1]);
  }
  // rerun: everything resumes (no new runs), same table
  const again = await allShapesPaper(opts);
  assert.deepEqual(again.table, s.table);
});
