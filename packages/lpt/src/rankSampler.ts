import { Xoshiro128 } from './xoshiro128';

/** A dataset the sampler can draw from: its id, size and (not necessarily normalised) weight. */
export interface WeightedDataset {
  /** Dataset id. */
  id: string;
  /** Number of frames; frames are drawn from `[0, frames)`. */
  frames: number;
  /** Non-negative weight; the sampler divides by the sum. */
  weight: number;
}

/** What makes a sampler's sequence: the same triple always gives the same draws. */
export interface RankSamplerOptions {
  /** Run seed (a non-negative safe integer), shared by all ranks. */
  seed: number;
  /** This process's rank (a non-negative safe integer). */
  rank: number;
  /** Epoch (a non-negative safe integer); a new epoch gives a new sequence. */
  epoch: number;
}

/** One draw: a dataset and a frame inside it. */
export interface FrameSample {
  /** Id of the drawn dataset. */
  datasetId: string;
  /** Position of the dataset in the list the sampler was built from. */
  datasetIndex: number;
  /** Frame index inside the dataset, uniform in `[0, frames)` (the dataset's global `index`). */
  frame: number;
}

// Salt that separates the sampler's streams from any other use of the same (seed, rank, epoch).
const SAMPLER_STREAM = 0x4c5054; // "LPT"

/**
 * Rank-local sampler: each draw picks a dataset with probability proportional to its weight
 * (with replacement), then a frame uniformly inside it. The sequence is a pure function of the
 * datasets and (seed, rank, epoch), so a restarted rank replays the same epoch exactly.
 */
export class RankSampler implements Iterable<FrameSample> {
  /** The datasets, as given. */
  readonly datasets: readonly WeightedDataset[];
  /** The options the sequence was derived from. */
  readonly options: Readonly<RankSamplerOptions>;
  private readonly cumulative: Float64Array;
  private readonly total: number;
  private readonly lastPositive: number;
  private readonly rng: Xoshiro128;

  /**
   * @param datasets - The rank's datasets with their weights (e.g. from `rankMixture`).
   * @param options - Seed, rank and epoch.
   * @throws Error on an empty list, a negative or non-finite weight, weights summing to 0, or a
   *   dataset with positive weight and no frames.
   */
  constructor(datasets: readonly WeightedDataset[], options: RankSamplerOptions) {
    if (!Array.isArray(datasets) || datasets.length === 0) {
      throw new Error('RankSampler needs at least one dataset');
    }
    for (const key of ['seed', 'rank', 'epoch'] as const) {
      const v = options[key];
      if (!Number.isSafeInteger(v) || v < 0) {
        throw new Error(`RankSampler: ${key} must be a non-negative safe integer, got ${String(v)}`);
      }
    }
    this.cumulative = new Float64Array(datasets.length);
    let sum = 0;
    let lastPositive = -1;
    datasets.forEach((d, i) => {
      if (!Number.isFinite(d.weight) || d.weight < 0) {
        throw new Error(
          `RankSampler: dataset '${d.id}' has weight ${String(d.weight)}; need a finite number >= 0`,
        );
      }
      if (d.weight > 0) {
        if (!Number.isSafeInteger(d.frames) || d.frames < 1) {
          throw new Error(
            `RankSampler: dataset '${d.id}' has weight ${d.weight} but frames ${String(d.frames)}; ` +
              `need a positive integer`,
          );
        }
        lastPositive = i;
      }
      sum += d.weight;
      this.cumulative[i] = sum;
    });
    if (!(sum > 0)) throw new Error('RankSampler: dataset weights sum to 0');
    this.total = sum;
    this.lastPositive = lastPositive;
    this.datasets = datasets.map((d) => ({ ...d }));
    this.options = Object.freeze({ seed: options.seed, rank: options.rank, epoch: options.epoch });
    this.rng = new Xoshiro128([SAMPLER_STREAM, options.seed, options.rank, options.epoch]);
  }

  /** Draws the next (dataset, frame) pair. */
  next(): FrameSample {
    const u = this.rng.nextFloat() * this.total;
    // First index whose cumulative weight exceeds u; zero-weight entries never qualify because
    // their cumulative equals the one before.
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cumulative[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    // Rounding can leave u at the very top of the range; the last positive-weight entry owns it.
    const index = this.cumulative[lo] > u ? lo : this.lastPositive;
    const d = this.datasets[index];
    return { datasetId: d.id, datasetIndex: index, frame: this.rng.nextInt(d.frames) };
  }

  /** Draws `count` samples. */
  take(count: number): FrameSample[] {
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new Error(`take: count must be a non-negative integer, got ${String(count)}`);
    }
    return Array.from({ length: count }, () => this.next());
  }

  /** An endless iterator over draws (stop it yourself, e.g. after an epoch's worth of steps). */
  *[Symbol.iterator](): Iterator<FrameSample> {
    for (;;) yield this.next();
  }
}
