/**
 * Depth grids of the limit solvers (MATH §2 "Depth schemes"). A solve
 * integrates an "own" state y(s) ∈ R^n (the forward solve: h_k(s); the
 * backward solve: b_k(s)) whose field reads stored profiles of earlier
 * quantities (b_j, h_j, particle states). Profiles live on *nodes*
 * (s = node/(nodes−1)); the field is evaluated at *slots*, and each slot
 * names the node at which h-type profiles are read (`hNode`) and the node at
 * which b-type profiles are read (`bNode`) — per scheme, see ./schemes.ts.
 */
import { oneOf, positiveInt } from "../core/validate.ts";
import { type Scheme, SCHEME_DEFS, type SchemeDef, SCHEMES } from "./schemes.ts";

export { type Field, IntegratorWorkspace, type Scheme, SCHEME_ORDER, SCHEMES } from "./schemes.ts";

export class DepthGrid {
  readonly scheme: Scheme;
  readonly def: SchemeDef;
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
    this.def = SCHEME_DEFS[this.scheme];
    this.nodes = this.def.nodes(S);
    this.slots = this.def.slots(S);
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
    return this.def.bNode(slot);
  }
  /** Node index of grid point i (i = 0..S). */
  gridNode(i: number): number {
    return this.def.gridNode(i);
  }
  /** Nominal order of accuracy of the scheme (1, 1, 2, 4). */
  get order(): number {
    return this.def.order;
  }
}

/** Quadrature weights over the slots for ∫₀¹ g(s) ds: Simpson on the rk4 half grid, trapezoid on S+1 nodes, Riemann on staggered slots. */
export function slotWeights(grid: DepthGrid): Float64Array {
  const w = new Float64Array(grid.slots);
  const S = grid.S;
  if (grid.scheme === "staggered-euler") w.fill(1 / S);
  else if (grid.scheme === "rk4") {
    const h = 1 / (2 * S);
    for (let i = 0; i < grid.nodes; i++) w[i] = (h / 3) * (i === 0 || i === grid.nodes - 1 ? 1 : i % 2 === 1 ? 4 : 2);
  } else {
    for (let i = 0; i < grid.nodes; i++) w[i] = (i === 0 || i === grid.nodes - 1 ? 0.5 : 1) / S;
  }
  return w;
}
