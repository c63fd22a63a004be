/**
 * Two interleaved spirals (the binary classification task of Chen et al., ICLR 2024):
 * d_in = 2, d_out = 1, labels ±1. Point i has class c = i mod 2 (balanced), label
 * y = +1 for c = 0 and −1 for c = 1, a position t ~ U(0, 1) along its arm, radius
 * ρ = 0.1 + 0.9 t and angle θ = 2π·turns·t + c·π:
 *
 *   x = ρ (cos θ, sin θ) + noise · N(0, I₂).
 *
 * Deterministic in `seed` (stream 0: positions, stream 1: noise); the test set (NTest
 * points, same law) is drawn from streams 2, 3 of `testSeed` (default: seed), so a fixed
 * testSeed gives the same test set for every training seed and size.
 */
import { StreamFamily } from "../core/rng.ts";
import { nonNegativeInt, nonNegativeNumber, positiveInt, positiveNumber, seedValue } from "../core/validate.ts";

/** The data set shape of problem.ts (Dataset), declared here to keep the import one-way. */
export interface SpiralsDataset {
  dIn: 2; dOut: 1; N: number; X: Float64Array; Y: Float64Array;
  XTest?: Float64Array; YTest?: Float64Array; NTest?: number;
}

export interface TwoSpiralsSpec {
  generator: "two-spirals";
  /** Number of training points. */
  N: number;
  /** Turns of each arm (default 1). */
  turns?: number;
  /** Standard deviation of the Gaussian input noise (default 0). */
  noise?: number;
  seed?: number;
  /** Number of test points (default 0: none). */
  NTest?: number;
  /** Seed of the test set (default: seed). */
  testSeed?: number;
}

export const TWO_SPIRALS_KEYS = ["generator", "N", "turns", "noise", "seed", "NTest", "testSeed"] as const;

/** n points of the two-spirals law from streams (pos, noise) of `fam`: X (2 × n), Y (1 × n). */
function spiralPoints(fam: StreamFamily, pos: number, noiseStream: number, n: number, turns: number, noise: number): { X: Float64Array; Y: Float64Array } {
  const sp = fam.get(pos), sn = fam.get(noiseStream);
  const X = new Float64Array(2 * n), Y = new Float64Array(n);
  const eps = noise > 0 ? sn.fillNormal(new Float64Array(2 * n), noise) : null;
  for (let i = 0; i < n; i++) {
    const c = i % 2;
    const t = sp.uniform();
    const rho = 0.1 + 0.9 * t, th = 2 * Math.PI * turns * t + c * Math.PI;
    X[i] = rho * Math.cos(th) + (eps ? eps[2 * i] : 0);
    X[n + i] = rho * Math.sin(th) + (eps ? eps[2 * i + 1] : 0);
    Y[i] = c === 0 ? 1 : -1;
  }
  return { X, Y };
}

/** The two-spirals data set (see the module comment); every field validated (errors name data.<key>). */
export function twoSpiralsData(spec: Omit<TwoSpiralsSpec, "generator">): SpiralsDataset {
  const N = positiveInt("data.N", spec.N);
  const turns = positiveNumber("data.turns", spec.turns ?? 1);
  const noise = nonNegativeNumber("data.noise", spec.noise ?? 0);
  const seed = seedValue("data.seed", spec.seed ?? 0);
  const NTest = nonNegativeInt("data.NTest", spec.NTest ?? 0);
  const testSeed = seedValue("data.testSeed", spec.testSeed ?? seed);
  const train = spiralPoints(new StreamFamily(seed), 0, 1, N, turns, noise);
  const data: SpiralsDataset = { dIn: 2, dOut: 1, N, X: train.X, Y: train.Y };
  if (NTest > 0) {
    const test = spiralPoints(new StreamFamily(testSeed), 2, 3, NTest, turns, noise);
    data.XTest = test.X; data.YTest = test.Y; data.NTest = NTest;
  }
  return data;
}
