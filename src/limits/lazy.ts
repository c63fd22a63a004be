/**
 * The lazy limit α → ∞ (MATH §8; Hidden Width, Theorem 2): with η_u, η_v fixed in
 * mean-field units the particles move by O(1/α) per step while the tangent Gram
 * matrix stays O(1), and the Mean ODE tends to kernel gradient descent with the
 * Gram matrix at initialisation,
 *
 *   f^lazy_{k+1} = f^lazy_k − (1/N) K_0 (f^lazy_k − y),   f^lazy_0 = f_0,
 *
 * flattened with index o·N + n. `kernelGD(problem, K0, f0)` runs this recursion for
 * any K_0; `lazy({...})` is the algorithm that takes K_0 and f_0 from a limit solver
 * at k = 0 (the Mean ODE at the problem's D by default, or the DMFT), through the
 * per-output adjoints of MATH §8 (`record: ["gram"]`).
 *
 * Test points (data.XTest): K_0 depends only on the inputs at k = 0, so the limit is
 * solved once, for one step, on the training inputs followed by the test inputs; the
 * block K_0(test, train) drives the test outputs,
 *   f'_{k+1} = f'_k − (1/N) K_0(x', X) (f^lazy_k − y),
 * and a test input equal to a training input follows that point's output.
 */
import { isNdArray, toFlat, view, type F64 } from "../core/arrays.ts";
import { DivergenceError, ValidationError } from "../core/errors.ts";
import { finiteArray, isPlainObject, knownKeys, oneOf, show } from "../core/validate.ts";
import type { Algorithm, Requirement } from "../problem/algorithm.ts";
import type { Problem } from "../problem/problem.ts";
import { gramLambdaMin, makeTrajectory, type Trajectory } from "../problem/trajectory.ts";
import { dmft, type DmftBound, type DmftOptions } from "./dmft.ts";
import { meanOde, type MeanOdeBound, type MeanOdeOptions } from "./mean-ode.ts";

export type LazyLimit = "meanOde" | "dmft";

export interface LazyOptions {
  /** The limit whose Gram matrix at k = 0 drives kernel GD: "meanOde" (default; finite D, the problem's embeddings) or "dmft" (D → ∞). */
  limit?: LazyLimit;
  /** Options of that limit's solver (meanOde: either method; record is set to ["gram"]). */
  solver?: MeanOdeOptions | DmftOptions;
}

/** Bound options: the limit and its solver's bound options (with record ["gram"]). */
export interface LazyBound {
  limit: LazyLimit;
  solver: MeanOdeBound | DmftBound;
}

export interface LazyExtras {
  /** The Gram matrix at initialisation K_0 of the training points, [d_out·N, d_out·N]. */
  K0: F64;
  /** Its smallest eigenvalue. */
  lambdaMin0: number;
  /** Standard error of the K_0 entries over the limit's randomizations (sampled expectations), [d_out·N, d_out·N]. */
  K0Error?: F64;
  /** The limit solver that gave K_0 and f_0 (its algorithm name). */
  limitAlgorithm: string;
}

export type LazyTrajectory = Trajectory<LazyExtras, LazyBound>;

const KEYS = ["limit", "solver"];

function limitAlgorithm(limit: LazyLimit, solver: unknown, field: string): Algorithm<MeanOdeBound | DmftBound, object> {
  const f = `${field}.solver`;
  if (solver !== undefined && !isPlainObject(solver)) throw new ValidationError(f, `must be an object of ${limit} options (got ${show(solver)})`);
  const s = { ...(solver ?? {}) } as Record<string, unknown>;
  if (s.record !== undefined && !(Array.isArray(s.record) && s.record.length === 1 && s.record[0] === "gram")) {
    throw new ValidationError(`${f}.record`, `is set by the lazy solver (it records "gram" at k = 0; got ${show(s.record)})`);
  }
  if (s.recordSteps !== undefined && !(Array.isArray(s.recordSteps) && s.recordSteps.length === 0)) {
    throw new ValidationError(`${f}.recordSteps`, `does not apply to the lazy solver (it records no depth profiles; got ${show(s.recordSteps)})`);
  }
  delete s.recordSteps;
  s.record = ["gram"];
  return (limit === "dmft" ? dmft(s as DmftOptions, f) : meanOde(s as MeanOdeOptions, f)) as Algorithm<MeanOdeBound | DmftBound, object>;
}

/** The lazy limit as an algorithm for `solve(problem, lazy({...}))` (see the module comment). */
export function lazy(options?: LazyOptions, field = "options"): Algorithm<LazyBound, LazyExtras> {
  const o: unknown = options ?? {};
  if (!isPlainObject(o)) throw new ValidationError(field, `must be an object (got ${show(o)})`);
  knownKeys(field, o, KEYS);
  const limit = oneOf(`${field}.limit`, o.limit ?? "meanOde", ["meanOde", "dmft"] as const);
  const inner = limitAlgorithm(limit, o.solver, field);
  return {
    name: "lazy",
    requires: inner.requires as Requirement[],
    bind: (problem) => ({ limit, solver: inner.bind(problem) }),
    run: (problem, bound) => runLazy(problem, bound, limitAlgorithm(bound.limit, bound.solver, field)),
  };
}

function runLazy(problem: Problem, bound: LazyBound, inner: Algorithm<MeanOdeBound | DmftBound, object>): LazyTrajectory {
  const t0 = performance.now();
  const { dIn, dOut, N, X, Y, XTest, NTest } = problem.data;
  const NT = XTest && NTest ? NTest : 0;
  // one step of the limit on [training inputs, test inputs]
  const NA = N + NT;
  const XA = new Float64Array(dIn * NA), YA = new Float64Array(dOut * NA);
  for (let i = 0; i < dIn; i++) {
    XA.set(X.subarray(i * N, (i + 1) * N), i * NA);
    if (NT) XA.set(XTest!.subarray(i * NT, (i + 1) * NT), i * NA + N);
  }
  for (let o = 0; o < dOut; o++) YA.set(Y.subarray(o * N, (o + 1) * N), o * NA);
  const aug: Problem = { ...problem, data: { dIn, dOut, N: NA, X: XA, Y: YA }, train: { ...problem.train, steps: 1 } };
  const t = inner.run(aug, bound.solver);
  const dNA = dOut * NA, dN = dOut * N;
  const KA = t.gram!.data;
  const f0A = t.f.data;
  const at = (o: number, n: number) => o * NA + n; // index in the augmented problem
  const K0 = new Float64Array(dN * dN);
  for (let o = 0; o < dOut; o++) for (let n = 0; n < N; n++)
    for (let o2 = 0; o2 < dOut; o2++) for (let m = 0; m < N; m++) K0[(o * N + n) * dN + o2 * N + m] = KA[at(o, n) * dNA + at(o2, m)];
  const f0 = new Float64Array(dN);
  for (let o = 0; o < dOut; o++) for (let n = 0; n < N; n++) f0[o * N + n] = f0A[at(o, n)];
  let cross: Float64Array | undefined, f0Test: Float64Array | undefined;
  if (NT) {
    cross = new Float64Array(dOut * NT * dN);
    f0Test = new Float64Array(dOut * NT);
    for (let o = 0; o < dOut; o++) for (let m = 0; m < NT; m++) {
      f0Test[o * NT + m] = f0A[at(o, N + m)];
      for (let o2 = 0; o2 < dOut; o2++) for (let n = 0; n < N; n++) cross[(o * NT + m) * dN + o2 * N + n] = KA[at(o, N + m) * dNA + at(o2, n)];
    }
  }
  const run = kernelRecursion(problem, K0, f0, cross, f0Test);
  const extras: LazyExtras = { K0: view(K0, [dN, dN]), lambdaMin0: gramLambdaMin(K0, 1, dN)[0], limitAlgorithm: t.algorithm };
  const ge = (t.extras as { gramError?: F64 }).gramError;
  if (ge) {
    const e = new Float64Array(dN * dN);
    for (let o = 0; o < dOut; o++) for (let n = 0; n < N; n++)
      for (let o2 = 0; o2 < dOut; o2++) for (let m = 0; m < N; m++) e[(o * N + n) * dN + o2 * N + m] = ge.data[at(o, n) * dNA + at(o2, m)];
    extras.K0Error = view(e, [dN, dN]);
  }
  return makeTrajectory(problem, {
    algorithm: "lazy", options: bound, f: run.f, fTest: run.fTest, extras,
    timings: { totalMs: performance.now() - t0, limitMs: t.timings.totalMs },
  });
}

/** f_{k+1} = f_k − (1/N) K0 (f_k − y) for K steps (and the test rows `cross`, d_out·NT × d_out·N). */
function kernelRecursion(problem: Problem, K0: Float64Array, f0: Float64Array, cross?: Float64Array, f0Test?: Float64Array): { f: Float64Array; fTest?: Float64Array } {
  const { dOut, N, Y } = problem.data;
  const K = problem.train.steps;
  const dN = dOut * N;
  const dNT = f0Test ? f0Test.length : 0;
  const f = new Float64Array(K * dN);
  const fTest = f0Test ? new Float64Array(K * dNT) : undefined;
  f.set(f0, 0);
  if (fTest) fTest.set(f0Test!, 0);
  const r = new Float64Array(dN);
  for (let k = 0; k + 1 < K; k++) {
    const cur = k * dN, next = (k + 1) * dN;
    for (let x = 0; x < dN; x++) r[x] = f[cur + x] - Y[x];
    for (let x = 0; x < dN; x++) {
      let s = 0;
      for (let y = 0; y < dN; y++) s += K0[x * dN + y] * r[y];
      const v = f[cur + x] - s / N;
      if (!Number.isFinite(v)) throw new DivergenceError(k + 1, "f", `kernel GD with K_0: (1/N)·λ_max(K_0) > 2 makes it diverge`);
      f[next + x] = v;
    }
    if (fTest)
      for (let x = 0; x < dNT; x++) {
        let s = 0;
        for (let y = 0; y < dN; y++) s += cross![x * dN + y] * r[y];
        fTest[(k + 1) * dNT + x] = fTest[k * dNT + x] - s / N;
      }
  }
  return { f, fTest };
}

/**
 * Kernel gradient descent with a given Gram matrix K0 (d_out·N × d_out·N, index o·N + n; a flat
 * array, nested rows or an ndarray): f_{k+1} = f_k − (1/N) K0 (f_k − y) for problem.train.steps
 * steps from f0 (d_out × N; default 0). A Trajectory named "kernelGD" (no test outputs: they
 * need the test rows of the kernel — use lazy() for those).
 */
export function kernelGD(problem: Problem, K0: ArrayLike<number> | number[][] | F64, f0?: ArrayLike<number> | F64): Trajectory<{ K0: F64; lambdaMin0: number }, { steps: number }> {
  const t0 = performance.now();
  const { dOut, N } = problem.data;
  const dN = dOut * N;
  const flat = (v: unknown, len: number, what: string): Float64Array => {
    let a: Float64Array;
    if (Array.isArray(v) && Array.isArray(v[0])) a = Float64Array.from((v as number[][]).flat());
    else if (isNdArray(v)) a = toFlat(v);
    else if (v && typeof (v as ArrayLike<number>).length === "number") a = Float64Array.from(v as ArrayLike<number>);
    else throw new ValidationError(what, `must be an array of ${len} numbers (got ${show(v)})`);
    if (a.length !== len) throw new ValidationError(what, `has ${a.length} entries but ${len} were expected (d_out·N = ${dN})`);
    finiteArray(what, a);
    return a;
  };
  const K = flat(K0, dN * dN, "K0");
  const f = f0 === undefined ? new Float64Array(dN) : flat(f0, dN, "f0");
  const run = kernelRecursion(problem, K, f);
  return makeTrajectory(problem, {
    algorithm: "kernelGD", options: { steps: problem.train.steps }, f: run.f,
    extras: { K0: view(K, [dN, dN]), lambdaMin0: gramLambdaMin(K, 1, dN)[0] }, timings: { totalMs: performance.now() - t0 },
  });
}
