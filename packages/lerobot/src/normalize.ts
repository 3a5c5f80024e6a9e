import { LeRobotError } from './errors';
import type { FeatureStats } from './stats';

/** The epsilon of `(x - mean) / (std + eps)`. */
export const NORM_EPS = 1e-6;

function check(stats: FeatureStats, dim: number, what: string): void {
  if (stats.mean.length !== dim || stats.std.length !== dim) {
    throw new LeRobotError(
      'shape_mismatch',
      `${what}: stats have ${stats.mean.length} dims, data has ${dim}`,
    );
  }
}

/**
 * Normalises rows of `dim` values in place: `(x - mean) / (std + 1e-6)`.
 * `values.length` must be a multiple of `dim`.
 */
export function normalizeInPlace(
  values: Float32Array | Float64Array,
  dim: number,
  stats: FeatureStats,
): void {
  check(stats, dim, 'normalize');
  for (let i = 0; i < values.length; i++) {
    const j = i % dim;
    values[i] = (values[i] - stats.mean[j]) / (stats.std[j] + NORM_EPS);
  }
}

/** Inverse of {@link normalizeInPlace}: `x * (std + 1e-6) + mean`, in place. */
export function unnormalizeInPlace(
  values: Float32Array | Float64Array,
  dim: number,
  stats: FeatureStats,
): void {
  check(stats, dim, 'unnormalize');
  for (let i = 0; i < values.length; i++) {
    const j = i % dim;
    values[i] = values[i] * (stats.std[j] + NORM_EPS) + stats.mean[j];
  }
}

/** Concatenates the stats of several features (state made of several keys) into one vector's stats. */
export function concatStats(parts: FeatureStats[]): FeatureStats {
  const cat = (k: keyof FeatureStats): number[] | undefined =>
    parts.every((p) => p[k]) ? parts.flatMap((p) => p[k] as number[]) : undefined;
  const out: FeatureStats = {
    min: cat('min')!,
    max: cat('max')!,
    mean: cat('mean')!,
    std: cat('std')!,
    count: [Math.min(...parts.map((p) => p.count[0]))],
  };
  for (const q of ['q01', 'q10', 'q50', 'q90', 'q99'] as const) {
    const v = cat(q);
    if (v) out[q] = v;
  }
  return out;
}
