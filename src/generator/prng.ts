/**
 * Small seeded pseudo-random number generator (mulberry32): fast, 32-bit state, good enough for
 * synthetic data, and identical on every platform, so the same seed always yields the same rows.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [lo, hi] (both inclusive). */
  int(lo: number, hi: number): number;
  /** Uniform real in [lo, hi). */
  between(lo: number, hi: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
  /**
   * A count >= 1 with the given mean: 1 + a geometric tail, so 1, 2 and 3 are the most common
   * values and a few bursts are longer.
   */
  countWithMean(mean: number): number;
}

/** Mixes any number of integers into one 32-bit seed (used to derive independent streams). */
export function deriveSeed(...parts: readonly number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    // Fold in the high bits of values above 2^32 (epoch days, large seeds).
    h = Math.imul(h ^ Math.floor(part / 0x100000000), 0x27d4eb2f);
    h ^= h >>> 15;
  }
  return h >>> 0;
}

export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    between: (lo, hi) => lo + next() * (hi - lo),
    chance: (p) => next() < p,
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
    countWithMean: (mean) => {
      if (mean <= 1) return 1;
      // Geometric on {0, 1, ...} with mean (mean - 1): P(k) = p (1 - p)^k, p = 1 / mean.
      const p = 1 / mean;
      return 1 + Math.floor(Math.log(1 - next()) / Math.log(1 - p));
    },
  };
}
