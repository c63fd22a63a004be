/**
 * Depth integrators shared by every limit solver (MATH §2 "Depth schemes").
 *
 * A solve integrates an "own" state y(s) ∈ R^n (the forward solve: h_k(s);
 * the backward solve: b_k(s)) whose field reads stored profiles of earlier
 * quantities (b_j, h_j, particle states). Profiles live on *nodes*
 * (s = node/(nodes−1)); the field is evaluated at *slots*, and each slot
 * names the node at which h-type profiles are read (`hNode`) and the node at
 * which b-type profiles are read (`bNode`):
 *
 *   scheme            nodes   slots       slot → (hNode, bNode)
 *   euler             S+1     S+1 nodes   (i, i)        left point forward, right point backward
 *   staggered-euler   S+1     S intervals (i, i+1)      p from the left point, q from the right one
 *   heun              S+1     S+1 nodes   (i, i)        trapezoid
 *   rk4               2S+1    2S+1 nodes  (i, i)        half-grid nodes; midpoints of the own state
 *                                                       stored by cubic Hermite interpolation
 *
 * Staggered Euler is exactly the M = ∞ ResNet at L = S (MATH §2, §4): the
 * unit of layer i (slot i) sees h at s_i and b at s_{i+1}.
 *
 * Fields follow ∂_s y = F(y; slot). Backward solves run from s = 1 to s = 0
 * with the same F (explicit in reversed depth).
 */
import { ValidationError } from "../core/errors.ts";
import { oneOf, positiveInt } from "../core/validate.ts";

export const SCHEMES = ["euler", "staggered-euler", "heun", "rk4"] as const;
export type Scheme = (typeof SCHEMES)[number];
export const SCHEME_ORDER: Readonly<Record<Scheme, number>> = { euler: 1, "staggered-euler": 1, heun: 2, rk4: 4 };

/** Field: write ∂_s y at `slot` for own state y into dy. */
export type Field = (y: Float64Array, slot: number, dy: Float64Array) => void;

export class DepthGrid {
  readonly scheme: Scheme;
  /** Number of depth steps. */
  readonly S: number;
  /** Number of profile nodes (S+1, or 2S+1 for rk4). */
  readonly nodes: number;
  /** Number of field slots. */
  readonly slots: number;
  readonly ds: number;

  /** Errors name `${field}.scheme` / `${field}.depthSteps`. */
  constructor(scheme: Scheme, S: number, field = "solver") {
    this.scheme = oneOf(`${field}.scheme`, scheme, SCHEMES);
    this.S = positiveInt(`${field}.depthSteps`, S);
    this.nodes = scheme === "rk4" ? 2 * S + 1 : S + 1;
    this.slots = scheme === "staggered-euler" ? S : this.nodes;
    this.ds = 1 / S;
  }
  /** Depth of a node. */
  s(node: number): number {
    return node / (this.nodes - 1);
  }
  /** Depth grid of the profile nodes. */
  nodeDepths(): Float64Array {
    return Float64Array.from({ length: this.nodes }, (_, i) => this.s(i));
  }
  /** Node at which h-type profiles are read at `slot`. */
  hNode(slot: number): number {
    return slot;
  }
  /** Node at which b-type profiles are read at `slot`. */
  bNode(slot: number): number {
    return this.scheme === "staggered-euler" ? slot + 1 : slot;
  }
  /** Node index of grid point i (i = 0..S). */
  gridNode(i: number): number {
    return this.scheme === "rk4" ? 2 * i : i;
  }
  /** Nominal order of accuracy of the scheme (1, 1, 2, 4). */
  get order(): number {
    return SCHEME_ORDER[this.scheme];
  }
}

/** Scratch buffers for one integration of dimension n (reuse across calls: no allocation per step). */
export class IntegratorWorkspace {
  readonly n: number;
  readonly k1: Float64Array; readonly k2: Float64Array; readonly k3: Float64Array; readonly k4: Float64Array;
  readonly tmp: Float64Array; readonly fEnd: Float64Array;
  constructor(n: number) {
    this.n = n;
    this.k1 = new Float64Array(n); this.k2 = new Float64Array(n); this.k3 = new Float64Array(n); this.k4 = new Float64Array(n);
    this.tmp = new Float64Array(n); this.fEnd = new Float64Array(n);
  }
}

function view(out: Float64Array, node: number, n: number): Float64Array {
  return out.subarray(node * n, (node + 1) * n);
}

/**
 * Integrate ∂_s y = F from s = 0 (y(0) = y0) to s = 1 (direction +1) or from
 * s = 1 (y(1) = y0) to s = 0 (direction −1), writing y at every node into
 * `out` (nodes × n, node-major). The field is evaluated at slots only.
 */
export function integrate(grid: DepthGrid, direction: 1 | -1, n: number, y0: Float64Array, field: Field, out: Float64Array, ws: IntegratorWorkspace = new IntegratorWorkspace(n)): void {
  if (out.length < grid.nodes * n) throw new ValidationError("out", `has length ${out.length} but nodes × n = ${grid.nodes * n} is needed`);
  if (y0.length !== n) throw new ValidationError("y0", `has length ${y0.length} but n = ${n}`);
  if (ws.n < n) throw new ValidationError("ws", `is a workspace of dimension ${ws.n} < n = ${n}`);
  const { S, scheme } = grid;
  const h = direction * grid.ds;
  const { k1, k2, k3, k4, tmp, fEnd } = ws;
  const startNode = direction === 1 ? 0 : grid.nodes - 1;
  view(out, startNode, n).set(y0);
  for (let step = 0; step < S; step++) {
    // grid points i0 → i1
    const i0 = direction === 1 ? step : S - step;
    const i1 = i0 + direction;
    const y = view(out, grid.gridNode(i0), n);
    const yNext = view(out, grid.gridNode(i1), n);
    switch (scheme) {
      case "euler": {
        field(y, i0, k1);
        for (let j = 0; j < n; j++) yNext[j] = y[j] + h * k1[j];
        break;
      }
      case "staggered-euler": {
        const slot = Math.min(i0, i1); // interval between the two grid points
        field(y, slot, k1);
        for (let j = 0; j < n; j++) yNext[j] = y[j] + h * k1[j];
        break;
      }
      case "heun": {
        field(y, i0, k1);
        for (let j = 0; j < n; j++) tmp[j] = y[j] + h * k1[j];
        field(tmp, i1, k2);
        for (let j = 0; j < n; j++) yNext[j] = y[j] + 0.5 * h * (k1[j] + k2[j]);
        break;
      }
      case "rk4": {
        const n0 = 2 * i0, nm = n0 + direction, n1 = 2 * i1;
        if (step === 0) field(y, n0, k1);
        else k1.set(fEnd);
        for (let j = 0; j < n; j++) tmp[j] = y[j] + 0.5 * h * k1[j];
        field(tmp, nm, k2);
        for (let j = 0; j < n; j++) tmp[j] = y[j] + 0.5 * h * k2[j];
        field(tmp, nm, k3);
        for (let j = 0; j < n; j++) tmp[j] = y[j] + h * k3[j];
        field(tmp, n1, k4);
        for (let j = 0; j < n; j++) yNext[j] = y[j] + (h / 6) * (k1[j] + 2 * k2[j] + 2 * k3[j] + k4[j]);
        // derivative at the new grid point (first stage of the next step), then the
        // Hermite midpoint y(s_mid) = (y0 + y1)/2 + h (f0 − f1)/8
        field(yNext, n1, fEnd);
        const mid = view(out, nm, n);
        for (let j = 0; j < n; j++) mid[j] = 0.5 * (y[j] + yNext[j]) + 0.125 * h * (k1[j] - fEnd[j]);
        break;
      }
    }
  }
}
