// Plain reference implementations the tests compare against. Written separately from src/ and as
// literally as the spec reads, not for speed.

export interface Item {
  id: string;
  frames: number;
}

/** Greedy LPT straight from SPEC §2, returning the rank of each item id (no duplication case). */
export function referenceLpt(items: Item[], k: number): Map<string, number> {
  const order = [...items].sort((a, b) => {
    if (a.frames > b.frames) return -1;
    if (a.frames < b.frames) return 1;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
  const loads = new Array<number>(k).fill(0);
  const rankOf = new Map<string, number>();
  for (const it of order) {
    const least = Math.min(...loads);
    const r = loads.indexOf(least); // indexOf returns the lowest rank among ties
    loads[r] += it.frames;
    rankOf.set(it.id, r);
  }
  return rankOf;
}

/** Smallest possible makespan over all k^n assignments (first item pinned to rank 0 by symmetry). */
export function bruteForceMakespan(frames: number[], k: number): number {
  const n = frames.length;
  const loads = new Array<number>(k).fill(0);
  let best = Infinity;
  const go = (i: number, used: number): void => {
    if (i === n) {
      best = Math.min(best, Math.max(...loads));
      return;
    }
    // Ranks beyond the first unused one are interchangeable: try only up to one new rank.
    const top = Math.min(k - 1, used);
    for (let r = 0; r <= top; r++) {
      loads[r] += frames[i];
      if (loads[r] < best) go(i + 1, Math.max(used, r + 1));
      loads[r] -= frames[i];
    }
  };
  go(0, 0);
  return best;
}

/**
 * Upper quantile of the chi-square distribution with `df` degrees of freedom via the
 * Wilson–Hilferty cube approximation; `z` is the standard normal quantile (4.75 ≈ p = 1e-6).
 */
export function chiSquareCritical(df: number, z: number): number {
  const a = 2 / (9 * df);
  return df * Math.pow(1 - a + z * Math.sqrt(a), 3);
}

/** Pearson's chi-square statistic of observed counts against expected probabilities. */
export function chiSquare(counts: number[], probabilities: number[]): number {
  const n = counts.reduce((s, c) => s + c, 0);
  let stat = 0;
  counts.forEach((c, i) => {
    const e = n * probabilities[i];
    stat += ((c - e) * (c - e)) / e;
  });
  return stat;
}

/** A tiny seeded generator for test inputs (mulberry32), independent of the package's PRNG. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
