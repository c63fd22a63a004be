/**
 * Depth integrators (src/meanode/integrators.ts) against ODEs with known
 * solutions, in both directions.
 *
 * Order of accuracy: the error at s = 1 (forward) or s = 0 (backward) over a
 * refinement ladder S, 2S, 4S, 8S; the least-squares slope of log(error)
 * against log(Δs) must be within ±0.3 of the nominal order (euler 1,
 * staggered-euler 1, heun 2, rk4 4). rk4 also stores the half-grid nodes by
 * cubic Hermite interpolation: the max error over the midpoint nodes must be
 * of order 4 as well.
 *
 * Test system (y ∈ R², non-autonomous in the first component, nonlinear in
 * the second), with the depth of a field evaluation taken from the node of
 * the slot at which the own state lives (hNode forward, bNode backward for
 * staggered Euler; the two coincide for the other schemes):
 *
 *   y₀′ = cos(2s) y₀          y₀(s) = y₀(a) exp((sin 2s − sin 2a)/2)
 *   y₁′ = −y₁²                y₁(s) = 1/(s − a + 1/y₁(a))
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { richardson } from "../src/depth/richardson.ts";
import { DepthGrid, IntegratorWorkspace, integrate, SCHEMES, SCHEME_ORDER, type Scheme, type Field } from "../src/depth/integrators.ts";
import { ValidationError } from "../src/core/errors.ts";
import { slope } from "./helpers/numeric.ts";


function exact(a: number, ya: [number, number], s: number): [number, number] {
  return [ya[0] * Math.exp((Math.sin(2 * s) - Math.sin(2 * a)) / 2), 1 / (s - a + 1 / ya[1])];
}

/** The test field; the depth of the own state is s(hNode) forward and s(bNode) backward. */
function testField(grid: DepthGrid, direction: 1 | -1): Field {
  return (y, slot, dy) => {
    const node = direction === 1 ? grid.hNode(slot) : grid.bNode(slot);
    // rk4 evaluates its midpoint stages at the half node: s(node) is then the stage depth
    const s = grid.s(node);
    dy[0] = Math.cos(2 * s) * y[0];
    dy[1] = -y[1] * y[1];
  };
}

/** Solve on grid (scheme, S); return the node profile (nodes × 2). */
function solveTest(scheme: Scheme, S: number, direction: 1 | -1): { grid: DepthGrid; out: Float64Array } {
  const grid = new DepthGrid(scheme, S);
  const y0 = direction === 1 ? Float64Array.of(0.7, 1.3) : Float64Array.of(1.1, 0.6);
  const out = new Float64Array(grid.nodes * 2);
  integrate(grid, direction, 2, y0, testField(grid, direction), out, new IntegratorWorkspace(2));
  return { grid, out };
}

function endError(scheme: Scheme, S: number, direction: 1 | -1): number {
  const { grid, out } = solveTest(scheme, S, direction);
  const a = direction === 1 ? 0 : 1, end = direction === 1 ? grid.nodes - 1 : 0;
  const ya: [number, number] = direction === 1 ? [0.7, 1.3] : [1.1, 0.6];
  const ex = exact(a, ya, grid.s(end));
  return Math.hypot(out[end * 2] - ex[0], out[end * 2 + 1] - ex[1]);
}

const LADDER: Record<Scheme, number[]> = {
  euler: [16, 32, 64, 128],
  "staggered-euler": [16, 32, 64, 128],
  heun: [8, 16, 32, 64],
  rk4: [4, 8, 16, 32],
};

for (const scheme of SCHEMES) {
  for (const direction of [1, -1] as const) {
    test(`${scheme} ${direction === 1 ? "forward" : "backward"}: order ${SCHEME_ORDER[scheme]} at the end point`, () => {
      const Ss = LADDER[scheme];
      const errs = Ss.map((S) => endError(scheme, S, direction));
      for (const e of errs) assert.ok(e > 1e-13, `error ${e} at roundoff: ladder too fine`);
      const p = slope(Ss.map((S) => 1 / S), errs);
      if (process.env.SHOW_ORDERS) console.log(scheme, direction, p.toFixed(3));
      assert.ok(Math.abs(p - SCHEME_ORDER[scheme]) <= 0.3, `fitted order ${p.toFixed(3)} (errors ${errs.map((e) => e.toExponential(2)).join(", ")})`);
    });
  }
}

for (const direction of [1, -1] as const) {
  test(`rk4 ${direction === 1 ? "forward" : "backward"}: Hermite midpoint nodes are 4th-order accurate`, () => {
    const Ss = [8, 16, 32, 64];
    const errs = Ss.map((S) => {
      const { grid, out } = solveTest("rk4", S, direction);
      const a = direction === 1 ? 0 : 1;
      const ya: [number, number] = direction === 1 ? [0.7, 1.3] : [1.1, 0.6];
      let m = 0;
      for (let node = 1; node < grid.nodes; node += 2) {
        const ex = exact(a, ya, grid.s(node));
        m = Math.max(m, Math.hypot(out[node * 2] - ex[0], out[node * 2 + 1] - ex[1]));
      }
      return m;
    });
    const p = slope(Ss.map((S) => 1 / S), errs);
    if (process.env.SHOW_ORDERS) console.log("rk4 midpoints", direction, p.toFixed(3));
    assert.ok(Math.abs(p - 4) <= 0.3, `fitted midpoint order ${p.toFixed(3)} (errors ${errs.map((e) => e.toExponential(2)).join(", ")})`);
  });
}

test("grid shapes: nodes, slots, hNode/bNode for every scheme", () => {
  const S = 5;
  const g = (s: Scheme) => new DepthGrid(s, S);
  assert.deepEqual([g("euler").nodes, g("euler").slots], [6, 6]);
  assert.deepEqual([g("staggered-euler").nodes, g("staggered-euler").slots], [6, 5]);
  assert.deepEqual([g("heun").nodes, g("heun").slots], [6, 6]);
  assert.deepEqual([g("rk4").nodes, g("rk4").slots], [11, 11]);
  for (let sl = 0; sl < S; sl++) {
    assert.equal(g("staggered-euler").hNode(sl), sl);
    assert.equal(g("staggered-euler").bNode(sl), sl + 1);
  }
  for (const s of ["euler", "heun", "rk4"] as const) for (let sl = 0; sl < g(s).slots; sl++) assert.equal(g(s).bNode(sl), g(s).hNode(sl));
  assert.deepEqual(Array.from(g("rk4").nodeDepths()), Array.from({ length: 11 }, (_, i) => i / 10));
});

/**
 * Profile reads. A field that depends only on an external profile β(s) at a
 * node of the slot turns the solve into a quadrature whose nodes are exactly
 * the nodes read: forward staggered Euler reading b-type profiles at bNode
 * must give the right Riemann sum Σ_i Δs β(s_{i+1}); reading h-type profiles
 * at hNode the left sum Σ_i Δs β(s_i). The backward solve (from y(1)) reads
 * the same nodes. The own state passed at the first stage must be the stored
 * node value at hNode (forward) / bNode (backward).
 */
test("staggered Euler reads h-type profiles at the left node and b-type profiles at the right node", () => {
  const S = 7;
  const grid = new DepthGrid("staggered-euler", S);
  const beta = (s: number) => Math.exp(s) + s * s;
  const prof = Float64Array.from({ length: grid.nodes }, (_, i) => beta(grid.s(i)));
  const left = Array.from({ length: S }, (_, i) => beta(i / S) / S).reduce((a, b) => a + b);
  const right = Array.from({ length: S }, (_, i) => beta((i + 1) / S) / S).reduce((a, b) => a + b);
  for (const direction of [1, -1] as const) {
    for (const kind of ["h", "b"] as const) {
      const out = new Float64Array(grid.nodes);
      const seenOwn: number[] = [];
      const field: Field = (y, slot, dy) => {
        const own = direction === 1 ? grid.hNode(slot) : grid.bNode(slot);
        seenOwn.push(y[0] - out[own]); // own state is the stored node value
        dy[0] = prof[kind === "h" ? grid.hNode(slot) : grid.bNode(slot)];
      };
      integrate(grid, direction, 1, Float64Array.of(0), field, out);
      const got = direction === 1 ? out[grid.nodes - 1] : -out[0];
      const want = kind === "h" ? left : right;
      assert.ok(Math.abs(got - want) < 1e-14, `${kind} ${direction}: ${got} vs ${want}`);
      assert.equal(seenOwn.length, S);
      for (const d of seenOwn) assert.equal(d, 0);
    }
  }
  // the left and right sums differ, so the test does distinguish the nodes
  assert.ok(Math.abs(left - right) > 0.1);
});

test("euler reads every profile at the start point of the step (left forward, right backward)", () => {
  const S = 6;
  const grid = new DepthGrid("euler", S);
  const beta = (s: number) => Math.cos(3 * s);
  const prof = Float64Array.from({ length: grid.nodes }, (_, i) => beta(grid.s(i)));
  const field: Field = (_y, slot, dy) => { dy[0] = prof[grid.bNode(slot)]; };
  const out = new Float64Array(grid.nodes);
  integrate(grid, 1, 1, Float64Array.of(0), field, out);
  const left = Array.from({ length: S }, (_, i) => beta(i / S) / S).reduce((a, b) => a + b);
  assert.ok(Math.abs(out[S] - left) < 1e-14);
  integrate(grid, -1, 1, Float64Array.of(0), field, out);
  const right = Array.from({ length: S }, (_, i) => beta((i + 1) / S) / S).reduce((a, b) => a + b);
  assert.ok(Math.abs(-out[0] - right) < 1e-14);
});

test("staggered Euler on y′ = c y gives (1 + c/S)^S exactly, forward and backward", () => {
  const S = 9, c = 0.8;
  const grid = new DepthGrid("staggered-euler", S);
  const out = new Float64Array(grid.nodes);
  integrate(grid, 1, 1, Float64Array.of(1), (y, _s, dy) => { dy[0] = c * y[0]; }, out);
  assert.ok(Math.abs(out[S] - (1 + c / S) ** S) < 1e-14);
  integrate(grid, -1, 1, Float64Array.of(1), (y, _s, dy) => { dy[0] = c * y[0]; }, out);
  assert.ok(Math.abs(out[0] - (1 - c / S) ** S) < 1e-14);
});

test("richardson() raises heun from order 2 to order ≥ 3", () => {
  const Ss = [4, 8, 16, 32];
  for (const direction of [1, -1] as const) {
    const errs = Ss.map((S) => {
      const coarse = solveTest("heun", S, direction), fine = solveTest("heun", 2 * S, direction);
      const ec = direction === 1 ? coarse.out.subarray(2 * S, 2 * S + 2) : coarse.out.subarray(0, 2);
      const ef = direction === 1 ? fine.out.subarray(4 * S, 4 * S + 2) : fine.out.subarray(0, 2);
      const r = richardson(ec, ef, 2);
      const a = direction === 1 ? 0 : 1;
      const ya: [number, number] = direction === 1 ? [0.7, 1.3] : [1.1, 0.6];
      const ex = exact(a, ya, direction === 1 ? 1 : 0);
      return Math.hypot(r[0] - ex[0], r[1] - ex[1]);
    });
    const p = slope(Ss.map((S) => 1 / S), errs);
    if (process.env.SHOW_ORDERS) console.log("richardson heun", direction, p.toFixed(3));
    assert.ok(p >= 2.7, `Richardson-extrapolated heun: fitted order ${p.toFixed(3)} (errors ${errs.map((e) => e.toExponential(2)).join(", ")})`);
  }
  // the formula itself: exact for a pure C h^p error
  const r = richardson(Float64Array.of(1 + 0.5 * 0.25), Float64Array.of(1 + 0.5 * 0.0625), 2);
  assert.ok(Math.abs(r[0] - 1) < 1e-15);
});

test("bad input: unknown scheme, depthSteps 0 or fractional, wrong buffer sizes", () => {
  const named = (field: string) => (e: unknown) => e instanceof ValidationError && e.field === field && e.message.startsWith(field);
  assert.throws(() => new DepthGrid("midpoint" as Scheme, 4), named("solver.scheme"));
  assert.throws(() => new DepthGrid(undefined as unknown as Scheme, 4), named("solver.scheme"));
  assert.throws(() => new DepthGrid("heun", 0), named("solver.depthSteps"));
  assert.throws(() => new DepthGrid("heun", 2.5), named("solver.depthSteps"));
  assert.throws(() => new DepthGrid("rk4", -3), named("solver.depthSteps"));
  assert.throws(() => new DepthGrid("heun", Number.NaN), named("solver.depthSteps"));
  const grid = new DepthGrid("heun", 4);
  const f: Field = (_y, _s, dy) => dy.fill(0);
  assert.throws(() => integrate(grid, 1, 2, new Float64Array(2), f, new Float64Array(9)), named("out"));
  assert.throws(() => integrate(grid, 1, 2, new Float64Array(3), f, new Float64Array(10)), named("y0"));
});
