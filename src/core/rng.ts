/**
 * Seeded random streams on pure-rand's xoroshiro128+ (jumpable), and a fast
 * standard-normal sampler (Doornik's ZIGNOR ziggurat, 128 blocks).
 *
 * Reproducibility contract: a `StreamFamily(seed)` hands out stream i as the
 * root generator jumped i+1 times (2^64 draws apart per jump), so the values
 * of stream i depend only on (seed, i) — never on which other streams were
 * used, in which order, or on which worker thread.
 */
import { ValidationError } from "./errors.ts";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import type { JumpableRandomGenerator } from "pure-rand/types/JumpableRandomGenerator";
import { seedValue } from "./validate.ts";

const ZIG_C = 128;
const ZIG_R = 3.442619855899;
const ZIG_V = 9.91256303526217e-3;
const ZIG_X = new Float64Array(ZIG_C + 1);
const ZIG_RATIO = new Float64Array(ZIG_C);
(function initZiggurat() {
  let f = Math.exp(-0.5 * ZIG_R * ZIG_R);
  ZIG_X[0] = ZIG_V / f;
  ZIG_X[1] = ZIG_R;
  ZIG_X[ZIG_C] = 0;
  for (let i = 2; i < ZIG_C; i++) {
    ZIG_X[i] = Math.sqrt(-2 * Math.log(ZIG_V / ZIG_X[i - 1] + f));
    f = Math.exp(-0.5 * ZIG_X[i] * ZIG_X[i]);
  }
  for (let i = 0; i < ZIG_C; i++) ZIG_RATIO[i] = ZIG_X[i + 1] / ZIG_X[i];
})();

/** The generator's state fields (pure-rand's xoroshiro128plus). */
interface XoroState { s01: number; s00: number; s11: number; s10: number }

const TWO_M32 = 2.3283064365386963e-10; // 2^-32
const TWO_M53 = 1.1102230246251565e-16; // 2^-53

/** A mutable random stream (one per unit of work). */
export class Stream {
  private readonly g: JumpableRandomGenerator;
  constructor(g: JumpableRandomGenerator) {
    this.g = g;
  }
  /** Raw signed 32-bit output. */
  nextInt32(): number {
    return this.g.next();
  }
  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.g.next() >>> 5; // 27 bits
    const lo = this.g.next() >>> 6; // 26 bits
    return (hi * 67108864 + lo) * TWO_M53;
  }
  /** Uniform double in (0, 1): never 0, safe for log. */
  uniformOpen(): number {
    return ((this.g.next() >>> 0) + 0.5) * TWO_M32;
  }
  /** One standard normal draw (ziggurat). */
  normal(): number {
    const g = this.g;
    for (;;) {
      const u = g.next() * 4.656612873077393e-10; // int32 * 2^-31 in [-1, 1)
      const i = g.next() >>> 25; // top 7 bits: block index
      if (Math.abs(u) < ZIG_RATIO[i]) return u * ZIG_X[i];
      return this.slowPath(u, i);
    }
  }
  private tail(negative: boolean): number {
    let x: number, y: number;
    do {
      x = Math.log(this.uniformOpen()) / ZIG_R;
      y = Math.log(this.uniformOpen());
    } while (-2 * y < x * x);
    return negative ? x - ZIG_R : ZIG_R - x;
  }
  /**
   * out[offset + i] = scale * N(0,1), i < n. The same draws as n calls of
   * normal(), with the generator inlined (the hot path of initialisation):
   * the state lives in four int32 locals (read from and written back to the
   * generator's fields directly: no getState() array per call or per
   * rejection), a plain index loop, and only the rare rejections (≈ 1.2 %)
   * go through the scalar code. (Testing |r| on the raw int32 instead was
   * slower: −r overflows int32 for r = −2^31 and V8 falls back to doubles.)
   */
  fillNormal(out: Float64Array, scale = 1, offset = 0, n = out.length - offset): Float64Array {
    const g = this.g as unknown as XoroState;
    let s01 = g.s01 | 0, s00 = g.s00 | 0, s11 = g.s11 | 0, s10 = g.s10 | 0;
    const X = ZIG_X, RATIO = ZIG_RATIO;
    const end = offset + n;
    if (end > out.length || offset < 0) throw new ValidationError("offset", `fillNormal: [${offset}, ${end}) is outside the array (length ${out.length})`);
    let i = offset;
    while (i < end) {
      // draw 1 (u)
      const r1 = (s00 + s10) | 0;
      let a0 = s10 ^ s00, a1 = s11 ^ s01;
      let t00 = s00, t01 = s01;
      s00 = (t00 << 24) ^ (t01 >>> 8) ^ a0 ^ (a0 << 16);
      s01 = (t01 << 24) ^ (t00 >>> 8) ^ a1 ^ ((a1 << 16) | (a0 >>> 16));
      s10 = (a1 << 5) ^ (a0 >>> 27);
      s11 = (a0 << 5) ^ (a1 >>> 27);
      // draw 2 (block index: top 7 bits)
      const b = ((s00 + s10) | 0) >>> 25;
      a0 = s10 ^ s00; a1 = s11 ^ s01; t00 = s00; t01 = s01;
      s00 = (t00 << 24) ^ (t01 >>> 8) ^ a0 ^ (a0 << 16);
      s01 = (t01 << 24) ^ (t00 >>> 8) ^ a1 ^ ((a1 << 16) | (a0 >>> 16));
      s10 = (a1 << 5) ^ (a0 >>> 27);
      s11 = (a0 << 5) ^ (a1 >>> 27);
      const u = r1 * 4.656612873077393e-10;
      if (Math.abs(u) < RATIO[b]) {
        out[i++] = scale * u * X[b];
        continue;
      }
      // rare path: hand the state back to the generator and use the scalar code
      g.s01 = s01; g.s00 = s00; g.s11 = s11; g.s10 = s10;
      out[i++] = scale * this.slowPath(r1 * 4.656612873077393e-10, b);
      s01 = g.s01 | 0; s00 = g.s00 | 0; s11 = g.s11 | 0; s10 = g.s10 | 0;
    }
    g.s01 = s01; g.s00 = s00; g.s11 = s11; g.s10 = s10;
    return out;
  }
  /** Continuation of normal() after a rejected first test with draws (u, i). */
  private slowPath(u0: number, i0: number): number {
    let u = u0, i = i0;
    for (;;) {
      if (Math.abs(u) < ZIG_RATIO[i]) return u * ZIG_X[i];
      if (i === 0) return this.tail(u < 0);
      const x = u * ZIG_X[i];
      const f0 = Math.exp(-0.5 * (ZIG_X[i] * ZIG_X[i] - x * x));
      const f1 = Math.exp(-0.5 * (ZIG_X[i + 1] * ZIG_X[i + 1] - x * x));
      if (f1 + this.uniformOpen() * (f0 - f1) < 1.0) return x;
      u = this.g.next() * 4.656612873077393e-10;
      i = this.g.next() >>> 25;
    }
  }
  /** An independent copy of the current state. */
  clone(): Stream {
    return new Stream(this.g.clone());
  }
}

/**
 * Independent, order-free streams derived from one seed: `get(i)` is the root
 * generator jumped i+1 times. Jumped states are cached, so sequential access
 * costs one jump per new index.
 */
/** Largest stream index (each new index costs one jump of the generator). */
export const MAX_STREAM = 1 << 20;

export class StreamFamily {
  readonly seed: number;
  private readonly states: JumpableRandomGenerator[] = [];
  constructor(seed: number) {
    this.seed = seedValue("seed", seed);
    this.states.push(xoroshiro128plus(seed));
  }
  get(i: number): Stream {
    if (!Number.isInteger(i) || i < 0 || i > MAX_STREAM) throw new ValidationError("index", `must be a stream index, an integer in 0..${MAX_STREAM} (got ${i})`);
    while (this.states.length <= i + 1) {
      const next = this.states[this.states.length - 1].clone();
      next.jump();
      this.states.push(next);
    }
    return new Stream(this.states[i + 1].clone());
  }
}

/** The 32-bit finaliser of MurmurHash3 (a bijection of [0, 2^32)): decorrelates nearby seeds. */
export function mixSeed(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** Seed of run r (r = 0, 1, …) of a family of runs with base seed `base`: mixSeed(base ⊕ (r+1)·φ·2^32). */
export function runSeed(base: number, r: number): number {
  return mixSeed((base ^ Math.imul(r + 1, 0x9e3779b9)) >>> 0);
}

/** Convenience: stream `index` of the family of `seed`. */
export function stream(seed: number, index = 0): Stream {
  return new StreamFamily(seed).get(index);
}
