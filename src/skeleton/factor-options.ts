/**
 * Expectation options of the factor-form skeleton solvers (meanOde, dmft, largeWidth),
 * validated and bound once per solve (MATH §3 "Factor form"; docs/skeleton.md):
 *
 *   rule            "sobol" (default: scrambled Sobol nets in the 2r factor coordinates),
 *                   "mc", "gauss-hermite" (tensor rule, `nodes` per axis), "degree3" (exact for
 *                   polynomials of degree ≤ 3: the linear-σ default, exact there), "closed-form"
 *                   (an alias of "degree3", linear σ only)
 *   points          points per randomization (sobol: a power of 2; default 4096)
 *   randomizations  independent randomizations (default 8; ≥ 2 for a sampling-error estimate)
 *   seed            seed of the randomizations (default 1)
 *   nodes           gauss-hermite nodes per axis (default 3)
 *   estimator       "auto" (default), "direct" or "ibp" (integration by parts, exact Jacobians)
 *   controlVariate  direct estimator: "linear" (default), "centered" or "none"
 *   threads         1, 2 or "auto" (default): randomizations run on worker threads
 *
 * "auto" picks by problem size, from measured error per unit time (docs/skeleton.md):
 * ibp when 2r·N ≤ 24, r = min(d_in + d_out, N + N_test + d_out) the dimension of the data span the
 * solve runs in (small problems, where it wins 10–40×), else direct with the linear
 * control variate (which wins 2–10× from 2r·N ≈ 30 on).
 *
 * Legacy keys of the G-space engine are read too: `kind` ("qmc" → sobol, "mc",
 * "gauss-hermite", "closed-form"), `samples` (total points: points = samples/randomizations,
 * rounded to a power of 2 for sobol), `factor` ("auto" / "embedding": the factor form always
 * uses the embedding factor), `antithetic` (mc only).
 */
import type { Activation } from "../core/activations.ts";
import { ValidationError } from "../core/errors.ts";
import { isPlainObject, knownKeys, oneOf, positiveInt, seedValue, show } from "../core/validate.ts";
import { CONTROL_VARIATES, type ControlVariate, type FactorEstimator } from "./factor.ts";
import type { FactorRule } from "./factor-solve.ts";

export type ThreadsChoice = 1 | 2 | "auto";

export interface FactorExpectationOptions {
  rule?: FactorRule | "closed-form";
  points?: number;
  randomizations?: number;
  seed?: number;
  nodes?: number;
  estimator?: "auto" | FactorEstimator;
  controlVariate?: ControlVariate;
  threads?: ThreadsChoice;
  /** Legacy (G-space engine) keys, mapped as in the module comment. */
  kind?: "qmc" | "mc" | "gauss-hermite" | "closed-form";
  samples?: number;
  factor?: "auto" | "embedding";
  antithetic?: boolean;
}

/** Bound expectation options: every option that applies to the rule (and only those, so that they rebind). */
export interface BoundFactorExpectation {
  rule: FactorRule;
  /** sobol / mc only. */
  points?: number;
  randomizations?: number;
  seed?: number;
  /** gauss-hermite only. */
  nodes?: number;
  estimator: FactorEstimator;
  controlVariate: ControlVariate;
  threads: ThreadsChoice;
}

export const FACTOR_EXPECTATION_KEYS = ["rule", "points", "randomizations", "seed", "nodes", "estimator", "controlVariate", "threads", "kind", "samples", "factor", "antithetic"];
const KEYS = FACTOR_EXPECTATION_KEYS;
const RULES = ["sobol", "mc", "gauss-hermite", "degree3", "closed-form"] as const;
export const DEFAULT_POINTS = 4096;
export const DEFAULT_RANDOMIZATIONS = 8;
/** Largest point set per randomization (2^22: memory grows like points × slots × 2r doubles). */
export const MAX_POINTS = 1 << 22;

/** The estimator "auto" picks for a factor dimension r and N data points. */
export function autoEstimator(r: number, N: number): FactorEstimator {
  return 2 * r * N <= 24 ? "ibp" : "direct";
}

/**
 * Bind expectation options for an activation and problem size (r: the dimension the factor solve
 * runs in, min(d_in + d_out, N + N_test + d_out) at most — the data span of factor.ts spanFactor; N):
 * every field filled in. Errors name `${field}.<key>`.
 */
export function bindFactorExpectation(activation: Activation, opts: unknown, r: number, N: number, field: string): BoundFactorExpectation {
  if (opts !== undefined && !isPlainObject(opts)) throw new ValidationError(field, `must be an object such as {"rule": "sobol", "points": 8192} (got ${show(opts)})`);
  const o = (opts ?? {}) as Record<string, unknown>;
  knownKeys(field, o, KEYS);
  const linear = activation.kind === 1;
  if (o.rule !== undefined && o.kind !== undefined) throw new ValidationError(`${field}.kind`, `is the legacy name of "rule": give one of them`);
  let rule: FactorRule | "closed-form";
  if (o.kind !== undefined) {
    const kind = oneOf(`${field}.kind`, o.kind, ["qmc", "mc", "gauss-hermite", "closed-form"] as const);
    rule = kind === "qmc" ? "sobol" : kind;
  } else rule = o.rule === undefined ? (linear && o.points === undefined && o.samples === undefined && o.randomizations === undefined ? "degree3" : "sobol") : oneOf(`${field}.rule`, o.rule, RULES);
  if (rule === "closed-form") {
    if (!linear) throw new ValidationError(`${field}.${o.kind !== undefined ? "kind" : "rule"}`, `"closed-form" is exact only for a linear activation (model.activation is "${activation.name}"); use "sobol", "mc" or "gauss-hermite"`);
    rule = "degree3";
  }
  if (o.factor !== undefined) oneOf(`${field}.factor`, o.factor, ["auto", "embedding"] as const);
  const sampled = rule === "sobol" || rule === "mc";
  for (const key of ["points", "samples", "randomizations", "seed"]) {
    if (o[key] !== undefined && !sampled) throw new ValidationError(`${field}.${key}`, `does not apply to rule "${rule}" (a deterministic rule)`);
  }
  if (o.nodes !== undefined && rule !== "gauss-hermite") throw new ValidationError(`${field}.nodes`, `only applies to rule "gauss-hermite" (rule is "${rule}")`);
  if (o.antithetic !== undefined && (rule !== "mc" || o.antithetic !== false)) {
    if (typeof o.antithetic !== "boolean") throw new ValidationError(`${field}.antithetic`, `must be true or false (got ${show(o.antithetic)})`);
    if (o.antithetic) throw new ValidationError(`${field}.antithetic`, `is not supported by the factor form: for odd σ the integrands are even in ξ, so antithetic pairs only double the cost (docs/skeleton.md)`);
  }
  if (o.points !== undefined && o.samples !== undefined) throw new ValidationError(`${field}.samples`, `is the legacy total of points × randomizations: give points or samples, not both`);
  const randomizations = sampled ? (o.randomizations === undefined ? DEFAULT_RANDOMIZATIONS : positiveInt(`${field}.randomizations`, o.randomizations)) : 1;
  if (randomizations > 4096) throw new ValidationError(`${field}.randomizations`, `must be at most 4096 (got ${randomizations})`);
  let points = DEFAULT_POINTS;
  if (o.points !== undefined) {
    points = positiveInt(`${field}.points`, o.points);
    if (rule === "sobol" && !Number.isInteger(Math.log2(points))) throw new ValidationError(`${field}.points`, `must be a power of 2 for Sobol nets (got ${points}; e.g. ${2 ** Math.round(Math.log2(points))})`);
  } else if (o.samples !== undefined) {
    const total = positiveInt(`${field}.samples`, o.samples);
    points = Math.max(2, rule === "sobol" ? 2 ** Math.round(Math.log2(total / randomizations)) : Math.round(total / randomizations));
  }
  if (sampled && points < 2) throw new ValidationError(`${field}.points`, `must be at least 2 (got ${points})`);
  if (points > MAX_POINTS) throw new ValidationError(`${field}.points`, `is ${points} per randomization, more than the supported ${MAX_POINTS} (2^22); use more randomizations instead`);
  const seed = o.seed === undefined ? 1 : seedValue(`${field}.seed`, o.seed);
  const nodes = rule === "gauss-hermite" ? (o.nodes === undefined ? 3 : positiveInt(`${field}.nodes`, o.nodes)) : 0;
  if (nodes > 64) throw new ValidationError(`${field}.nodes`, `must be at most 64 (got ${nodes})`);
  if (rule === "gauss-hermite" && nodes ** (2 * r) > 1 << 20) throw new ValidationError(`${field}.nodes`, `gives ${nodes}^${2 * r} Gauss–Hermite points in the 2r = ${2 * r} factor dimensions, more than 2^20; use rule "sobol"`);
  const est = o.estimator === undefined ? "auto" : oneOf(`${field}.estimator`, o.estimator, ["auto", "direct", "ibp"] as const);
  const estimator: FactorEstimator = est === "auto" ? (linear ? "direct" : autoEstimator(r, N)) : est;
  if (estimator === "ibp" && !activation.d2f) throw new ValidationError(`${field}.estimator`, `"ibp" needs σ″ of model.activation "${activation.name}" (give d2f, or use "direct")`);
  const cvDefault: ControlVariate = estimator === "ibp" || !sampled ? "none" : "linear";
  const controlVariate = o.controlVariate === undefined ? cvDefault : oneOf(`${field}.controlVariate`, o.controlVariate, CONTROL_VARIATES);
  if (estimator === "ibp" && controlVariate !== "none") throw new ValidationError(`${field}.controlVariate`, `applies to the "direct" estimator only (estimator is "ibp")`);
  const t = o.threads === undefined ? "auto" : o.threads;
  if (t !== 1 && t !== 2 && t !== "auto") throw new ValidationError(`${field}.threads`, `must be 1, 2 or "auto" (got ${show(t)})`);
  const out: BoundFactorExpectation = { rule, estimator, controlVariate, threads: t };
  if (sampled) { out.points = points; out.randomizations = randomizations; out.seed = seed; }
  if (rule === "gauss-hermite") out.nodes = nodes;
  return out;
}

/** Validate `tol` (a positive finite number, or null / undefined for none). */
export function tolOption(field: string, v: unknown): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) throw new ValidationError(`${field}.tol`, `must be a positive number (got ${show(v)})`);
  return v;
}

/**
 * Budget of the tolerance loop (defaults: 128 randomizations, 2^18 points per randomization,
 * 64 depth steps). Randomizations are added first (earlier ones are reused), then points grow.
 */
export function budgetOption(field: string, v: unknown, depthSteps: number): { randomizations: number; points: number; depthSteps: number } {
  const dflt = { randomizations: 128, points: 1 << 18, depthSteps: Math.max(64, depthSteps) };
  if (v === undefined) return dflt;
  if (!isPlainObject(v)) throw new ValidationError(`${field}.budget`, `must be an object {randomizations, points, depthSteps} (got ${show(v)})`);
  knownKeys(`${field}.budget`, v, ["randomizations", "points", "depthSteps"]);
  const randomizations = v.randomizations === undefined ? dflt.randomizations : positiveInt(`${field}.budget.randomizations`, v.randomizations);
  if (randomizations > 4096) throw new ValidationError(`${field}.budget.randomizations`, `must be at most 4096 (got ${randomizations})`);
  const points = v.points === undefined ? dflt.points : positiveInt(`${field}.budget.points`, v.points);
  if (points > MAX_POINTS) throw new ValidationError(`${field}.budget.points`, `must be at most ${MAX_POINTS} (got ${points})`);
  const ds = v.depthSteps === undefined ? dflt.depthSteps : positiveInt(`${field}.budget.depthSteps`, v.depthSteps);
  if (ds > 4096) throw new ValidationError(`${field}.budget.depthSteps`, `must be at most 4096 (got ${ds})`);
  return { randomizations, points, depthSteps: ds };
}
