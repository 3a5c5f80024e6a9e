// The draws of one epoch on one rank as an indexable sequence: draw i is the i-th value of LPT's
// RankSampler for (seed, rank, epoch). The loader asks for indices in order (give or take its
// prefetch window), so the sequence is generated in blocks and only the newest blocks are kept; an
// index behind them replays the sampler from the start, which gives the same draws again.
import { RankSampler, type FrameSample, type RankSamplerOptions, type WeightedDataset } from '@vla/lpt';
import { TrainingDataError } from './trainingDataError.js';

/** Draws generated and kept together. */
const BLOCK = 4096;
/** Blocks kept: the loader's window spans a few batches, far less than this. */
const KEPT_BLOCKS = 4;

/** Options of {@link EpochDraws}. */
export interface EpochDrawsOptions extends RankSamplerOptions {
  /** Draws in the epoch. */
  length: number;
}

/** The epoch's draws, by position: `draw(i)` is the sampler's i-th draw. */
export class EpochDraws {
  /** Draws in the epoch. */
  readonly length: number;
  private readonly datasets: readonly WeightedDataset[];
  private readonly options: RankSamplerOptions;
  private sampler: RankSampler;
  /** Index of the next block the sampler produces. */
  private nextBlock = 0;
  private readonly blocks = new Map<number, { dataset: Uint32Array; frame: Float64Array }>();

  constructor(datasets: readonly WeightedDataset[], options: EpochDrawsOptions) {
    if (!Number.isSafeInteger(options.length) || options.length < 1)
      throw new TrainingDataError(`EpochDraws: length must be a positive integer, got ${options.length}`);
    this.length = options.length;
    this.datasets = datasets;
    this.options = { seed: options.seed, rank: options.rank, epoch: options.epoch };
    this.sampler = new RankSampler(datasets, this.options);
  }

  /** The i-th draw of the epoch (`0 <= i < length`). */
  draw(i: number): FrameSample {
    if (!Number.isSafeInteger(i) || i < 0 || i >= this.length)
      throw new TrainingDataError(`EpochDraws: draw ${i} is outside the epoch's ${this.length} draws`);
    const b = Math.floor(i / BLOCK);
    let block = this.blocks.get(b);
    if (!block) {
      if (b < this.nextBlock) {
        // Behind the kept window: replay from the start of the epoch.
        this.sampler = new RankSampler(this.datasets, this.options);
        this.nextBlock = 0;
        this.blocks.clear();
      }
      while (this.nextBlock <= b) this.generate();
      block = this.blocks.get(b)!;
    }
    const k = i - b * BLOCK;
    const datasetIndex = block.dataset[k];
    return { datasetIndex, datasetId: this.datasets[datasetIndex].id, frame: block.frame[k] };
  }

  private generate(): void {
    const dataset = new Uint32Array(BLOCK);
    const frame = new Float64Array(BLOCK);
    for (let k = 0; k < BLOCK; k++) {
      const d = this.sampler.next();
      dataset[k] = d.datasetIndex;
      frame[k] = d.frame;
    }
    this.blocks.set(this.nextBlock++, { dataset, frame });
    for (const key of this.blocks.keys()) if (key < this.nextBlock - KEPT_BLOCKS) this.blocks.delete(key);
  }
}
