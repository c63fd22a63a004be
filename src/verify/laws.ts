/**
 * Sub-gaussian laws with known ψ₂ norms, ‖X‖_ψ₂ = inf{t > 0 : E exp(X²/t²) ≤ 2}
 * (MATH §6). Every law draws from a uniform generator `rng: () => number` on
 * [0, 1) (e.g. `() => stream(seed).uniform()`), and states whether its
 * `psi2` is exact or a proven upper bound.
 *
 *   gaussian(s)     N(0, s²)         ψ₂ = s·√(8/3)            exact: E e^{X²/t²} = (1 − 2s²/t²)^{−1/2}
 *   rademacher(a)   ±a               ψ₂ = a/√(ln 2)           exact: E e^{X²/t²} = e^{a²/t²}
 *   uniform(a)      U[−a, a]         ψ₂ = a/c*, c* ≈ 1.29415  exact: E e^{X²/t²} = g(a/t),
 *                                    g(c) = (1/c)∫₀^c e^{y²}dy = Σ_n c^{2n}/(n!(2n+1)); c* solves g(c) = 2
 *   mixture(...)    Σ w_i law_i      exact (root of Σ w_i E_i e^{X²/t²} = 2) when every component has a
 *                                    closed form; otherwise ψ₂ ≤ max_i ψ₂(law_i) (upper bound: for
 *                                    t ≥ max ψ_i every E_i e^{X²/t²} ≤ 2, hence so is the mixture)
 *   scaled(law, c)  cX               ψ₂ scales by |c|; kind inherited
 *   withVarianceProxy(...)           a centred law with E e^{λX} ≤ e^{λ²σ²/2} ∀λ has ψ₂ ≤ σ·√(8/3)
 *                                    (upper bound; proof: e^{x²/t²} = E_g e^{√2·g·x/t}, g ~ N(0,1),
 *                                    so E e^{X²/t²} ≤ E_g e^{σ²g²/t²} = (1 − 2σ²/t²)^{−1/2} = 2 at t² = 8σ²/3)
 *   irwinHall(m, a) sum of m U[−a,a] variance proxy m a²/3 (sinh(x)/x ≤ e^{x²/6}) ⇒ ψ₂ ≤ a√(m/3)·√(8/3)
 *
 * Root finding for the exact cases is bisection on log t (relative accuracy
 * ~1e-14), so "exact" means exact up to that.
 */
import { ValidationError } from "../core/errors.ts";
import { decreasingRoot } from "../stats/exact.ts";

export type Rng = () => number;

export interface SubGaussianLaw {
  readonly name: string;
  /** One draw, using only `rng` (uniform on [0, 1)). */
  sample(rng: Rng): number;
  /** ψ₂ norm: exact, or a proven upper bound (see psi2Kind). */
  readonly psi2: number;
  readonly psi2Kind: "exact" | "upper-bound";
  /** log E exp(X²/t²) in closed form, when known (Infinity where the expectation diverges). */
  readonly logMgfSq?: (t: number) => number;
  /** Human-readable statement of the law and of how psi2 was obtained. */
  readonly describe: string;
}

const SQRT_8_3 = Math.sqrt(8 / 3);
const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toPrecision(6).replace(/0+$/, "").replace(/\.$/, ""));

/** ψ₂ from a closed-form log E exp(X²/t²): root of logMgfSq(t) = ln 2 (decreasing in t). */
export function psi2FromLogMgfSq(logMgfSq: (t: number) => number, tStart = 1): number {
  let u = Math.log(tStart);
  for (let i = 0; i < 2000 && !(logMgfSq(Math.exp(u)) <= Math.LN2); i++) u += 1;
  return Math.exp(decreasingRoot((v) => logMgfSq(Math.exp(v)) - Math.LN2, u));
}

/** Standard normal draw from two uniforms (Box–Muller, cosine branch). */
export function normalFrom(rng: Rng): number {
  const u1 = 1 - rng(); // (0, 1]
  const u2 = rng();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

function positive(name: string, v: number): number {
  if (!(typeof v === "number" && Number.isFinite(v) && v > 0)) throw new ValidationError(name, `must be a finite positive number (got ${v})`);
  return v;
}

/** N(0, s²): ψ₂ = s·√(8/3) exactly. */
export function gaussian(s = 1): SubGaussianLaw {
  positive("gaussian scale s", s);
  return {
    name: `N(0,${fmt(s)}²)`,
    sample: (rng) => s * normalFrom(rng),
    psi2: s * SQRT_8_3,
    psi2Kind: "exact",
    logMgfSq: (t) => {
      const r = (2 * s * s) / (t * t);
      return r >= 1 ? Infinity : -0.5 * Math.log1p(-r);
    },
    describe: `Gaussian N(0, ${fmt(s)}²); ψ₂ = s·√(8/3) = ${fmt(s * SQRT_8_3)} (exact: E exp(X²/t²) = (1 − 2s²/t²)^(−1/2))`,
  };
}

/** Uniform ±a: ψ₂ = a/√(ln 2) exactly. */
export function rademacher(a = 1): SubGaussianLaw {
  positive("rademacher amplitude a", a);
  return {
    name: `±${fmt(a)}`,
    sample: (rng) => (rng() < 0.5 ? -a : a),
    psi2: a / Math.sqrt(Math.LN2),
    psi2Kind: "exact",
    logMgfSq: (t) => (a * a) / (t * t),
    describe: `Rademacher ±${fmt(a)}; ψ₂ = a/√(ln 2) = ${fmt(a / Math.sqrt(Math.LN2))} (exact)`,
  };
}

/**
 * log g(c), g(c) = (1/c)∫₀^c e^{y²} dy = E exp(c²U²), U ~ U[0,1].
 * Series Σ c^{2n}/(n!(2n+1)) for c ≤ 6 (positive terms, no cancellation);
 * for c > 6 the asymptotic ∫₀^c e^{y²}dy ~ e^{c²}/(2c) Σ_k (2k−1)!!/(2c²)^k,
 * truncated at its smallest term (< e^{−36} relative).
 */
export function logUniformMgfSq(c: number): number {
  if (c === 0) return 0;
  const c2 = c * c;
  if (c <= 6) {
    let term = 1, sum = 1;
    for (let n = 1; n < 400; n++) {
      term *= c2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (add < 1e-17 * sum) break;
    }
    return Math.log(sum);
  }
  let term = 1, sum = 1;
  for (let k = 1; k < 200; k++) {
    const next = (term * (2 * k - 1)) / (2 * c2);
    if (next >= term) break;
    term = next;
    sum += term;
  }
  return c2 + Math.log(sum / (2 * c2));
}

/** c* with g(c*) = 2, i.e. ψ₂(U[−a, a]) = a / c*. */
export const UNIFORM_PSI2_CONSTANT = (() => {
  let lo = 1, hi = 2;
  for (let i = 0; i < 200; i++) {
    const mid = 0.5 * (lo + hi);
    if (logUniformMgfSq(mid) < Math.LN2) lo = mid; else hi = mid;
  }
  return 0.5 * (lo + hi);
})();

/** U[−a, a]: ψ₂ = a/c* ≈ 0.772708·a exactly (c* root of Σ c^{2n}/(n!(2n+1)) = 2). */
export function uniform(a = 1): SubGaussianLaw {
  positive("uniform half-width a", a);
  const psi2 = a / UNIFORM_PSI2_CONSTANT;
  return {
    name: `U[-${fmt(a)},${fmt(a)}]`,
    sample: (rng) => a * (2 * rng() - 1),
    psi2,
    psi2Kind: "exact",
    logMgfSq: (t) => logUniformMgfSq(a / t),
    describe: `uniform on [−${fmt(a)}, ${fmt(a)}]; ψ₂ = a/c* = ${fmt(psi2)} with c* = ${UNIFORM_PSI2_CONSTANT.toFixed(12)} the root of Σ_n c^(2n)/(n!(2n+1)) = 2 (exact)`,
  };
}

/** cX for a law of X. */
export function scaled(law: SubGaussianLaw, c: number): SubGaussianLaw {
  if (!(Number.isFinite(c) && c !== 0)) throw new ValidationError("scale", `must be finite and non-zero (got ${c})`);
  const ac = Math.abs(c);
  const inner = law.logMgfSq;
  return {
    name: `${fmt(c)}·${law.name}`,
    sample: (rng) => c * law.sample(rng),
    psi2: ac * law.psi2,
    psi2Kind: law.psi2Kind,
    logMgfSq: inner ? (t) => inner(t / ac) : undefined,
    describe: `${fmt(c)} × (${law.describe}); ψ₂ scales by |c|`,
  };
}

/**
 * Mixture Σ w_i law_i (weights normalised). Exact ψ₂ when every component has
 * a closed-form logMgfSq, else the proven upper bound max_i ψ₂(law_i).
 */
export function mixture(components: { weight: number; law: SubGaussianLaw }[]): SubGaussianLaw {
  if (components.length === 0) throw new ValidationError("components", "must hold at least one component (mixture)");
  const total = components.reduce((s, c) => s + positive("mixture weight", c.weight), 0);
  const w = components.map((c) => c.weight / total);
  const laws = components.map((c) => c.law);
  const cum: number[] = [];
  w.reduce((s, x, i) => (cum[i] = s + x), 0);
  const sample = (rng: Rng) => {
    const u = rng();
    let i = 0;
    while (i < cum.length - 1 && u >= cum[i]) i++;
    return laws[i].sample(rng);
  };
  const name = `mix(${components.map((c, i) => `${fmt(w[i])}:${c.law.name}`).join(", ")})`;
  if (laws.every((l) => l.logMgfSq)) {
    const fs = laws.map((l) => l.logMgfSq!);
    const logMgfSq = (t: number) => {
      const e = fs.map((f, i) => Math.log(w[i]) + f(t));
      const m = Math.max(...e);
      if (!Number.isFinite(m)) return m;
      return m + Math.log(e.reduce((s, x) => s + Math.exp(x - m), 0));
    };
    const psi2 = psi2FromLogMgfSq(logMgfSq, Math.max(...laws.map((l) => l.psi2)));
    return {
      name, sample, psi2, psi2Kind: "exact", logMgfSq,
      describe: `${name}; ψ₂ = ${fmt(psi2)} (exact: root of Σ w_i E_i exp(X²/t²) = 2)`,
    };
  }
  const psi2 = Math.max(...laws.map((l) => l.psi2));
  return {
    name, sample, psi2, psi2Kind: "upper-bound",
    describe: `${name}; ψ₂ ≤ max_i ψ₂(component i) = ${fmt(psi2)} (upper bound)`,
  };
}

/**
 * A centred law with a proven variance proxy σ² (E e^{λX} ≤ e^{λ²σ²/2} for all
 * real λ): ψ₂ ≤ σ·√(8/3) (upper bound, proof in the file header).
 */
export function withVarianceProxy(spec: { name: string; sample: (rng: Rng) => number; varianceProxy: number; describe?: string }): SubGaussianLaw {
  const s2 = positive("varianceProxy", spec.varianceProxy);
  const psi2 = Math.sqrt(s2) * SQRT_8_3;
  return {
    name: spec.name,
    sample: spec.sample,
    psi2,
    psi2Kind: "upper-bound",
    describe: `${spec.describe ?? spec.name}; variance proxy σ² = ${fmt(s2)} ⇒ ψ₂ ≤ σ·√(8/3) = ${fmt(psi2)} (upper bound)`,
  };
}

/** Sum of m independent U[−a, a]: variance proxy m·a²/3, so ψ₂ ≤ a·√(m/3)·√(8/3) (upper bound). */
export function irwinHall(m: number, a = 1): SubGaussianLaw {
  if (!(Number.isInteger(m) && m >= 1)) throw new ValidationError("m", `must be a positive integer (irwinHall; got ${m})`);
  positive("irwinHall half-width a", a);
  return withVarianceProxy({
    name: `IH(${m},${fmt(a)})`,
    sample: (rng) => {
      let s = 0;
      for (let i = 0; i < m; i++) s += a * (2 * rng() - 1);
      return s;
    },
    varianceProxy: (m * a * a) / 3,
    describe: `sum of ${m} uniforms on [−${fmt(a)}, ${fmt(a)}] (each has variance proxy a²/3 since sinh(x)/x ≤ e^(x²/6))`,
  });
}

/** Student-t with ν degrees of freedom (NOT sub-gaussian: E exp(X²/t²) = ∞ for every t). For planted failures. */
export function studentT(nu: number): { name: string; sample: (rng: Rng) => number } {
  positive("studentT nu", nu);
  return {
    name: `t(${fmt(nu)})`,
    sample: (rng) => {
      const z = normalFrom(rng);
      if (nu === 2) return z / Math.sqrt(-Math.log(1 - rng())); // χ²₂/2 = Exp(1)
      // χ²_ν as a sum of ν squared normals (integer ν) — only for small ν in tests
      let chi = 0;
      for (let i = 0; i < Math.round(nu); i++) { const g = normalFrom(rng); chi += g * g; }
      return z / Math.sqrt(chi / nu);
    },
  };
}
