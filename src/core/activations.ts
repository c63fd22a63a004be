/**
 * Activations σ with σ′ and σ″ (MATH §1). Built-ins are identified by `kind`
 * so the hot kernels can switch on an integer instead of calling closures;
 * user-supplied activations go through their functions.
 */
import { ValidationError } from "./errors.ts";
import { show } from "./validate.ts";
import { fastErf } from "./fastmath.ts";

export type ActivationName = "tanh" | "linear" | "gelu" | "sin";

export interface Activation {
  readonly name: string;
  /** 0 tanh, 1 linear, 2 gelu, 3 sin, -1 custom. */
  readonly kind: number;
  readonly f: (x: number) => number;
  readonly df: (x: number) => number;
  /** σ″; needed by the limit solvers (MATH §3). Absent for user activations given without it. */
  readonly d2f?: (x: number) => number;
  /** Known suprema of |σ|, |σ′|, |σ″| over R (Infinity when unbounded); used by the lemma bounds. */
  readonly sup: { f: number; df: number; d2f: number };
}

const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT2PI = 0.3989422804014327;

/**
 * erf to ≤ 2.5e-16 absolute (fdlibm's rational approximations, src/core/fastmath.ts; it replaced
 * a Maclaurin series that was 5× slower near |x| = 2.5 and lost 8e-15 there to cancellation).
 */
export const erf: (x: number) => number = fastErf;

/** Complementary error function over R (no cancellation in the right tail). */
export function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  return x < 2.5 ? 1 - erf(x) : erfcLarge(x);
}

/** erfc for x ≥ 2.5 by Lentz's continued fraction. */
function erfcLarge(x: number): number {
  // erfc x = exp(-x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...))))
  const tiny = 1e-300;
  let f = x, C = x, Dd = 0;
  for (let n = 1; n < 200; n++) {
    const an = n / 2;
    Dd = x + an * Dd;
    Dd = Math.abs(Dd) < tiny ? tiny : Dd;
    C = x + an / C;
    C = Math.abs(C) < tiny ? tiny : C;
    Dd = 1 / Dd;
    const delta = C * Dd;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / (f * 1.7724538509055159);
}

const phi = (x: number) => INV_SQRT2PI * Math.exp(-0.5 * x * x);
const Phi = (x: number) => 0.5 * (1 + erf(x * INV_SQRT2));

export const tanh: Activation = {
  name: "tanh",
  kind: 0,
  f: Math.tanh,
  df: (x) => {
    const t = Math.tanh(x);
    return 1 - t * t;
  },
  d2f: (x) => {
    const t = Math.tanh(x);
    return -2 * t * (1 - t * t);
  },
  sup: { f: 1, df: 1, d2f: 4 / (3 * Math.sqrt(3)) },
};

export const linear: Activation = {
  name: "linear",
  kind: 1,
  f: (x) => x,
  df: () => 1,
  d2f: () => 0,
  sup: { f: Infinity, df: 1, d2f: 0 },
};

/** Exact GELU: x Φ(x). */
export const gelu: Activation = {
  name: "gelu",
  kind: 2,
  f: (x) => x * Phi(x),
  df: (x) => Phi(x) + x * phi(x),
  d2f: (x) => phi(x) * (2 - x * x),
  // sup|σ′| = Φ(√2) + √2 φ(√2) ≈ 1.1289; sup|σ″| = 2φ(0) at x = 0
  sup: { f: Infinity, df: Phi(Math.SQRT2) + Math.SQRT2 * phi(Math.SQRT2), d2f: 2 * INV_SQRT2PI },
};

export const sin: Activation = {
  name: "sin",
  kind: 3,
  f: Math.sin,
  df: Math.cos,
  d2f: (x) => -Math.sin(x),
  sup: { f: 1, df: 1, d2f: 1 },
};

export const ACTIVATIONS: Readonly<Record<ActivationName, Activation>> = { tanh, linear, gelu, sin };

/**
 * A user-supplied smooth activation. `d2f` is optional for the finite ResNet
 * but required by the skeleton / DMFT solvers. `sup` defaults to Infinity
 * (unknown) and only matters for the lemma bounds.
 */
export function customActivation(spec: {
  name: string;
  f: (x: number) => number;
  df: (x: number) => number;
  d2f?: (x: number) => number;
  sup?: Partial<{ f: number; df: number; d2f: number }>;
}, field = "activation"): Activation {
  if (typeof spec !== "object" || spec === null) throw new ValidationError(field, `must be an object with name, f, df (got ${show(spec)})`);
  if (typeof spec.name !== "string" || spec.name.length === 0) throw new ValidationError(`${field}.name`, `must be a non-empty string (got ${show(spec.name)})`);
  if (typeof spec.f !== "function") throw new ValidationError(`${field}.f`, `must be a function (got ${show(spec.f)})`);
  if (typeof spec.df !== "function") throw new ValidationError(`${field}.df`, `must be a function (got ${show(spec.df)})`);
  if (spec.d2f !== undefined && typeof spec.d2f !== "function") throw new ValidationError(`${field}.d2f`, "must be a function when given");
  return {
    name: spec.name,
    kind: -1,
    f: spec.f,
    df: spec.df,
    d2f: spec.d2f,
    sup: { f: spec.sup?.f ?? Infinity, df: spec.sup?.df ?? Infinity, d2f: spec.sup?.d2f ?? Infinity },
  };
}

/** Resolve a name or an Activation object; unknown names give a clear error. */
export function resolveActivation(v: unknown, field = "model.activation"): Activation {
  if (typeof v === "string") {
    const a = (ACTIVATIONS as Record<string, Activation>)[v];
    if (!a) throw new ValidationError(field, `must be one of ${Object.keys(ACTIVATIONS).map((k) => JSON.stringify(k)).join(", ")} or a custom activation (got ${show(v)})`);
    return a;
  }
  if (typeof v === "object" && v !== null) {
    const a = v as Activation;
    // The built-in objects themselves pass through (their `kind` selects the fast kernels).
    if ((Object.values(ACTIVATIONS) as Activation[]).includes(a)) return a;
    // Anything else is a user activation: its f, df are called (kind −1), whatever `kind` it carries —
    // e.g. { ...tanh, f: myF } must not silently run tanh.
    return customActivation(a as Parameters<typeof customActivation>[0], field);
  }
  throw new ValidationError(field, `must be an activation name or object (got ${show(v)})`);
}

/** Require σ″ (limit solvers). */
export function requireSecondDerivative(a: Activation, field = "model.activation"): (x: number) => number {
  if (!a.d2f) throw new ValidationError(field, `"${a.name}" has no second derivative d2f, which the skeleton / DMFT solvers need (MATH §3)`);
  return a.d2f;
}

/**
 * The error of an activation that returned a non-finite value at a finite argument (a user σ:
 * the built-ins are finite on R): a ValidationError naming model.activation, the activation and
 * the argument, the same from every solver.
 */
export function activationFailure(a: Activation, x: number, f: number, df: number, d2f?: number): ValidationError {
  return new ValidationError("model.activation", `"${a.name}" returned a non-finite value at the finite argument ${x} (σ = ${f}, σ′ = ${df}${d2f !== undefined ? `, σ″ = ${d2f}` : ""})`);
}

/** Built-in activation by kind (for worker threads, which cannot receive closures); null for custom ones. */
export function activationByKind(kind: number): Activation | null {
  for (const a of Object.values(ACTIVATIONS)) if (a.kind === kind) return a;
  return null;
}
