/**
 * The depth schemes (MATH §2 "Depth schemes") as values: order, nodes and
 * slots on S steps, the node of each grid point and of the b-type profiles of
 * each slot, and one step of the integration (./integrate.ts calls it).
 *
 *   scheme            nodes   slots       slot → (hNode, bNode)
 *   euler             S+1     S+1 nodes   (i, i)        left point forward, right point backward
 *   staggered-euler   S+1     S intervals (i, i+1)      p from the left point, q from the right one
 *   heun              S+1     S+1 nodes   (i, i)        trapezoid
 *   rk4               2S+1    2S+1 nodes  (i, i)        half-grid nodes; midpoints of the own state
 *                                                       stored by RK4's cubic continuous extension
 *                                                       (4S field evaluations in all)
 *
 * Staggered Euler is exactly the M = ∞ ResNet at L = S (MATH §2, §4): the
 * unit of layer i (slot i) sees h at s_i and b at s_{i+1}.
 */

export const SCHEMES = ["euler", "staggered-euler", "heun", "rk4"] as const;
export type Scheme = (typeof SCHEMES)[number];

/** Field: write ∂_s y at `slot` for own state y into dy. */
export type Field = (y: Float64Array, slot: number, dy: Float64Array) => void;

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

/** One step from grid point i0 to i1 = i0 ± 1 (signed step h) of the own state y (n entries) into yNext. */
export interface StepArgs {
  field: Field;
  n: number;
  h: number;
  i0: number;
  i1: number;
  /** Whether this is the first step of the integration. */
  first: boolean;
  /** Whether this is the last step of the integration. */
  last: boolean;
  y: Float64Array;
  yNext: Float64Array;
  /** The node at index `node` of the output (rk4 writes its midpoints). */
  at: (node: number) => Float64Array;
  ws: IntegratorWorkspace;
}

export interface SchemeDef {
  readonly name: Scheme;
  /** Nominal order of accuracy. */
  readonly order: number;
  /** Profile nodes on S steps. */
  nodes(S: number): number;
  /** Field slots on S steps. */
  slots(S: number): number;
  /** Node of grid point i (i = 0..S). */
  gridNode(i: number): number;
  /** Node at which b-type profiles are read at `slot` (h-type ones: node = slot). */
  bNode(slot: number): number;
  step(a: StepArgs): void;
}

const sameNodes = { nodes: (S: number) => S + 1, slots: (S: number) => S + 1, gridNode: (i: number) => i, bNode: (slot: number) => slot };

const euler: SchemeDef = {
  name: "euler", order: 1, ...sameNodes,
  step({ field, n, h, i0, y, yNext, ws: { k1 } }) {
    field(y, i0, k1);
    for (let j = 0; j < n; j++) yNext[j] = y[j] + h * k1[j];
  },
};

const staggeredEuler: SchemeDef = {
  name: "staggered-euler", order: 1, ...sameNodes,
  slots: (S) => S,
  bNode: (slot) => slot + 1,
  step({ field, n, h, i0, i1, y, yNext, ws: { k1 } }) {
    field(y, Math.min(i0, i1), k1); // the slot is the interval between the two grid points
    for (let j = 0; j < n; j++) yNext[j] = y[j] + h * k1[j];
  },
};

const heun: SchemeDef = {
  name: "heun", order: 2, ...sameNodes,
  step({ field, n, h, i0, i1, y, yNext, ws: { k1, k2, tmp } }) {
    field(y, i0, k1);
    for (let j = 0; j < n; j++) tmp[j] = y[j] + h * k1[j];
    field(tmp, i1, k2);
    for (let j = 0; j < n; j++) yNext[j] = y[j] + 0.5 * h * (k1[j] + k2[j]);
  },
};

const rk4: SchemeDef = {
  name: "rk4", order: 4,
  nodes: (S) => 2 * S + 1,
  slots: (S) => 2 * S + 1,
  gridNode: (i) => 2 * i,
  bNode: (slot) => slot,
  step({ field, n, h, i0, i1, first, last, y, yNext, at, ws: { k1, k2, k3, k4, tmp, fEnd } }) {
    const n0 = 2 * i0, nm = n0 + (i1 - i0), n1 = 2 * i1;
    if (first) field(y, n0, k1);
    else k1.set(fEnd);
    for (let j = 0; j < n; j++) tmp[j] = y[j] + 0.5 * h * k1[j];
    field(tmp, nm, k2);
    for (let j = 0; j < n; j++) tmp[j] = y[j] + 0.5 * h * k2[j];
    field(tmp, nm, k3);
    for (let j = 0; j < n; j++) tmp[j] = y[j] + h * k3[j];
    field(tmp, n1, k4);
    for (let j = 0; j < n; j++) yNext[j] = y[j] + (h / 6) * (k1[j] + 2 * k2[j] + 2 * k3[j] + k4[j]);
    // the midpoint by RK4's continuous extension at θ = 1/2 (weights 5/24, 1/6, 1/6, −1/24; local
    // error O(h⁴), as the cubic Hermite midpoint it replaced, without the field evaluation at the
    // end of the last step that the Hermite formula needed: 4S evaluations instead of 4S + 1)
    const mid = at(nm);
    for (let j = 0; j < n; j++) mid[j] = y[j] + h * ((5 / 24) * k1[j] + (1 / 6) * (k2[j] + k3[j]) - (1 / 24) * k4[j]);
    // derivative at the new grid point: the first stage of the next step
    if (!last) field(yNext, n1, fEnd);
  },
};

export const SCHEME_DEFS: Readonly<Record<Scheme, SchemeDef>> = { euler, "staggered-euler": staggeredEuler, heun, rk4 };
export const SCHEME_ORDER: Readonly<Record<Scheme, number>> = { euler: 1, "staggered-euler": 1, heun: 2, rk4: 4 };
