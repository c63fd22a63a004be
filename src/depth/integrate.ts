/**
 * Integration of ∂_s y = F(y; slot) on a depth grid, forwards (s = 0 → 1) or
 * backwards (s = 1 → 0, the same F explicit in reversed depth), one scheme
 * step (./schemes.ts) per interval.
 */
import { ValidationError } from "../core/errors.ts";
import type { DepthGrid } from "./grid.ts";
import { type Field, IntegratorWorkspace } from "./schemes.ts";

/**
 * Integrate ∂_s y = F from s = 0 (y(0) = y0) to s = 1 (direction +1) or from
 * s = 1 (y(1) = y0) to s = 0 (direction −1), writing y at every node into
 * `out` (nodes × n, node-major). The field is evaluated at slots only.
 */
export function integrate(grid: DepthGrid, direction: 1 | -1, n: number, y0: Float64Array, field: Field, out: Float64Array, ws: IntegratorWorkspace = new IntegratorWorkspace(n)): void {
  if (out.length < grid.nodes * n) throw new ValidationError("out", `has length ${out.length} but nodes × n = ${grid.nodes * n} is needed`);
  if (y0.length !== n) throw new ValidationError("y0", `has length ${y0.length} but n = ${n}`);
  if (ws.n < n) throw new ValidationError("ws", `is a workspace of dimension ${ws.n} < n = ${n}`);
  const { S, def } = grid;
  const h = direction * grid.ds;
  const at = (node: number) => out.subarray(node * n, (node + 1) * n);
  at(direction === 1 ? 0 : grid.nodes - 1).set(y0);
  for (let step = 0; step < S; step++) {
    // grid points i0 → i1
    const i0 = direction === 1 ? step : S - step;
    const i1 = i0 + direction;
    def.step({ field, n, h, i0, i1, first: step === 0, last: step === S - 1, y: at(grid.gridNode(i0)), yNext: at(grid.gridNode(i1)), at, ws });
  }
}
