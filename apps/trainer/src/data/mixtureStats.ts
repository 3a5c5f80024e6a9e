// Statistics of a mixture: one processor normalises every dataset of a run, so its statistics are
// those of all the frames together, whatever the sampling weights. Mean and std combine exactly from
// each dataset's (count, mean, std); quantiles do not, hence the rule below.
import { aggregateFeatureStats, type FeatureStats, type NormStats } from '@vla/lerobot';
import { TrainingDataError } from './trainingDataError.js';

/**
 * Statistics of the union of the datasets' rows, from each dataset's statistics: count-weighted mean,
 * exact pooled std (within + between variance), min of mins, max of maxes, counts summed. Quantiles
 * cannot be pooled from per-dataset quantiles; the rule is the bounding one, q01 = the smallest q01
 * and q99 = the largest q99 (a range that contains every dataset's 1–99 % range, so quantile
 * normalisation never squeezes one dataset past ±1 more than it would alone); the other quantiles
 * are dropped. One dataset's statistics come back unchanged.
 */
export function combineFeatureStats(list: readonly FeatureStats[]): FeatureStats {
  if (list.length === 0) throw new TrainingDataError('combineFeatureStats: no statistics to combine');
  const width = list[0].mean.length;
  const bad = list.findIndex((s) => s.mean.length !== width);
  if (bad >= 0)
    throw new TrainingDataError(
      `combineFeatureStats: statistics ${bad} have ${list[bad].mean.length} dims, statistics 0 have ${width}`,
    );
  if (list.length === 1) return list[0];
  const pooled = aggregateFeatureStats([...list]);
  const out: FeatureStats = {
    min: pooled.min,
    max: pooled.max,
    mean: pooled.mean,
    std: pooled.std,
    count: pooled.count,
  };
  if (list.every((s) => s.q01 && s.q99)) {
    // reduce, not Math.min(...): thousands of datasets would overflow a spread's arguments.
    out.q01 = Array.from({ length: width }, (_, j) =>
      list.reduce((m, s) => Math.min(m, s.q01![j]), Infinity),
    );
    out.q99 = Array.from({ length: width }, (_, j) =>
      list.reduce((m, s) => Math.max(m, s.q99![j]), -Infinity),
    );
  }
  return out;
}

/** {@link combineFeatureStats} of the state and of the action statistics. */
export function combineNormStats(list: readonly NormStats[]): NormStats {
  return {
    state: combineFeatureStats(list.map((s) => s.state)),
    actions: combineFeatureStats(list.map((s) => s.actions)),
  };
}
