/**
 * The contracts of fast-check arbitraries (as fast-check checks its own):
 *  - the same seed gives the same value;
 *  - every shrink step gives a strictly smaller value, compared on the drawn
 *    components the value was built from (`sourceOf`): every component that
 *    changes moves strictly towards its simplest value (a number towards the
 *    value of its range closest to 0, −0 to +0; a choice towards the first of
 *    its list). fast-check's records also yield candidates equal to the
 *    current value with a fresh context (they let later steps retry a field);
 *    such a candidate changes nothing, is counted and allowed;
 *  - every value along a shrink path is valid.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import { sourceOf } from "../../src/verify/arbitraries.ts";

/** A generated value with its context, from `seed`. */
export function generate<T>(arb: fc.Arbitrary<T>, seed: number, biasFactor?: number): fc.Value<T> {
  return arb.generate(new fc.Random(xoroshiro128plus(seed)), biasFactor);
}

/** A JSON text of a value: typed arrays as arrays, functions by name, activation objects by name. */
export function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x) => {
    if (ArrayBuffer.isView(x)) return Array.from(x as unknown as ArrayLike<number>);
    if (typeof x === "function") return `fn:${x.name}`;
    if (x && typeof x === "object" && "kind" in x && "df" in x && "name" in x) return `activation:${(x as { name: string }).name}`;
    if (typeof x === "number" && Object.is(x, -0)) return "-0";
    return x;
  });
}

/** The leaves (numbers, choices) where two sources differ, as [before, after] pairs. */
export function changedLeaves(a: unknown, b: unknown, out: [unknown, unknown][] = []): [unknown, unknown][] {
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) a.forEach((x, i) => changedLeaves(x, b[i], out));
  else if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) changedLeaves((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], out);
  } else if (!Object.is(a, b)) out.push([a, b]);
  return out;
}

/** Whether a leaf moved strictly towards its simplest value. */
export function closer(before: unknown, after: unknown, rank: (choice: string) => number): boolean {
  if (typeof before === "number" && typeof after === "number") return Math.abs(after) < Math.abs(before) || (Object.is(before, -0) && Object.is(after, 0));
  if (typeof before === "string" && typeof after === "string") return rank(after) < rank(before);
  return false;
}

export function sameValueForSameSeed<T>(arb: fc.Arbitrary<T>, what: string, runs = 30): void {
  for (let seed = 0; seed < runs; seed++) {
    for (const bias of [undefined, 2, 50]) {
      const a = generate(arb, seed, bias), b = generate(arb, seed, bias);
      assert.equal(canonical(a.value), canonical(b.value), `${what}: seed ${seed}, bias ${bias}`);
    }
  }
  assert.ok(new Set(Array.from({ length: runs }, (_, seed) => canonical(generate(arb, seed).value))).size > 1 || runs < 2, `${what}: every seed gives the same value`);
}

/**
 * Follow random shrink paths (from `runs` seeds, at most `depth` steps each):
 * every candidate of every visited value is strictly smaller (each changed
 * source component closer to its simplest value) and valid (`valid` throws or
 * returns false otherwise). Returns the steps taken and the candidates that
 * changed nothing.
 */
export function shrinkContract<T>(
  arb: fc.Arbitrary<T>, what: string, valid: (v: T) => boolean | void, rank: (choice: string) => number,
  opts: { runs?: number; depth?: number; candidates?: number } = {},
): { steps: number; candidates: number; unchanged: number } {
  const runs = opts.runs ?? 25, depth = opts.depth ?? 60, maxCand = opts.candidates ?? 12;
  let steps = 0, candidates = 0, unchanged = 0;
  const check = (v: fc.Value<T>, where: string) => {
    const ok = valid(v.value);
    assert.notEqual(ok, false, `${what}: invalid value ${where}: ${canonical(v.value)}`);
  };
  for (let seed = 0; seed < runs; seed++) {
    const pick = xoroshiro128plus(seed + 1000);
    let v = generate(arb, seed, 2);
    check(v, `generated from seed ${seed}`);
    for (let d = 0; d < depth; d++) {
      const cands = [...arb.shrink(v.value, v.context).take(maxCand)];
      if (cands.length === 0) break;
      for (const c of cands) {
        candidates++;
        const diff = changedLeaves(sourceOf(v), sourceOf(c));
        if (diff.length === 0) unchanged++;
        for (const [a, b] of diff) {
          assert.ok(closer(a, b, rank), `${what}: a shrink step is not smaller (seed ${seed}, step ${d}): component ${canonical(a)} → ${canonical(b)}; ${canonical(c.value)} from ${canonical(v.value)}`);
        }
        check(c, `on the shrink path (seed ${seed}, step ${d})`);
      }
      v = cands[(pick.next() >>> 0) % cands.length];
      steps++;
    }
  }
  return { steps, candidates, unchanged };
}
