/**
 * Indices (ascending) of at most `maxPoints` points to plot for several series sharing one x axis.
 * Each series gets an equal share of buckets of consecutive points; a bucket keeps its smallest and
 * largest finite value and its first non-finite one (a NaN step shows as a gap rather than vanishing),
 * so spikes survive downsampling. The first and last points are always kept.
 */
export function downsampleIndices(
  series: readonly (readonly (number | null)[])[],
  maxPoints: number,
): number[] {
  const n = series.length === 0 ? 0 : series[0].length;
  if (n <= maxPoints) return Array.from({ length: n }, (_, i) => i);
  // Up to three points per bucket per series, plus the two ends.
  const buckets = Math.max(1, Math.floor((maxPoints - 2) / (3 * Math.max(1, series.length))));
  const keep = new Set<number>([0, n - 1]);
  for (const ys of series) {
    for (let b = 0; b < buckets; b++) {
      const lo = Math.floor((b * n) / buckets);
      const hi = Math.floor(((b + 1) * n) / buckets);
      let iMin = -1;
      let iMax = -1;
      let iBad = -1;
      for (let i = lo; i < hi; i++) {
        const y = ys[i];
        if (y === null || !Number.isFinite(y)) {
          if (iBad < 0 && y !== null) iBad = i;
          continue;
        }
        if (iMin < 0 || y < (ys[iMin] as number)) iMin = i;
        if (iMax < 0 || y > (ys[iMax] as number)) iMax = i;
      }
      for (const i of [iMin, iMax, iBad]) if (i >= 0) keep.add(i);
    }
  }
  return [...keep].sort((a, b) => a - b);
}
