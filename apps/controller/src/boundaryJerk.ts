/**
 * Jerk of the commanded joint positions around chunk boundaries, the figure the strategy comparison
 * reports. For commanded positions q_t (robot units, joint dims only) the jerk at t is the L2 norm
 * over joints of the third difference Δ³q_t = q_{t+1} − 3q_t + 3q_{t−1} − q_{t−2}, per tick³ (no
 * division by the period, so it reads in rad). A tick is "at a boundary" when a chunk boundary b
 * (the first tick that executes a newly delivered chunk) lies within its stencil, t − 2 ≤ b ≤ t + 1;
 * every other tick is "elsewhere". Both means are reported with their counts.
 */
export interface BoundaryJerk {
  /** Mean jerk of the stencils that straddle a boundary (NaN when there are none). */
  readonly boundary: number;
  /** Mean jerk of the other stencils (NaN when there are none). */
  readonly elsewhere: number;
  /** Stencils at a boundary. */
  readonly boundaryCount: number;
  /** Other stencils. */
  readonly elsewhereCount: number;
}

/**
 * Computes {@link BoundaryJerk} of `positions` (one row per tick) over the `joints` columns, with the
 * chunk boundaries at the given tick indices.
 */
export function boundaryJerk(
  positions: readonly ArrayLike<number>[],
  joints: readonly number[],
  boundaries: Iterable<number>,
): BoundaryJerk {
  const b = new Set(boundaries);
  let sumB = 0;
  let nB = 0;
  let sumE = 0;
  let nE = 0;
  for (let t = 2; t + 1 < positions.length; t++) {
    let sq = 0;
    for (const j of joints) {
      const d = positions[t + 1][j] - 3 * positions[t][j] + 3 * positions[t - 1][j] - positions[t - 2][j];
      sq += d * d;
    }
    const jerk = Math.sqrt(sq);
    let at = false;
    for (let k = t - 2; k <= t + 1; k++) if (b.has(k)) at = true;
    if (at) {
      sumB += jerk;
      nB++;
    } else {
      sumE += jerk;
      nE++;
    }
  }
  return { boundary: sumB / nB, elsewhere: sumE / nE, boundaryCount: nB, elsewhereCount: nE };
}

/** Mean, 95th percentile (nearest rank) and maximum of `values`; NaNs for none. */
export function latencyStats(values: readonly number[]): { mean: number; p95: number; max: number } {
  if (values.length === 0) return { mean: Number.NaN, p95: Number.NaN, max: Number.NaN };
  const s = [...values].sort((a, b) => a - b);
  const mean = s.reduce((a, v) => a + v, 0) / s.length;
  return { mean, p95: s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)], max: s[s.length - 1] };
}
