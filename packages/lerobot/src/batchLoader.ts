import { LeRobotError } from './errors';
import { seededPermutation } from './rng';
import { Semaphore } from './semaphore';

/** Anything the loader can draw samples from (a {@link SampleBuilder}, a mixture, a test double). */
export interface SampleSource<T> {
  readonly length: number;
  get(index: number): Promise<T>;
}

/** Options of {@link BatchLoader}. */
export interface BatchLoaderOptions {
  batchSize: number;
  /** Seed of the shuffle; epoch `e` uses a permutation derived from `seed` and `e` (default 0). */
  seed?: number;
  /** Shuffle each epoch (default true); false iterates 0..length-1. */
  shuffle?: boolean;
  /** Drop a last, incomplete batch (default false). */
  dropLast?: boolean;
  /** Samples being built at once, which bounds parallel ffmpeg processes (default 4). */
  concurrency?: number;
  /** Batches started ahead of the one being consumed (default 2). */
  prefetchBatches?: number;
}

/** One batch: samples in order plus the indices they came from. */
export interface Batch<T> {
  epoch: number;
  /** Position of this batch within the epoch. */
  batchIndex: number;
  indices: number[];
  samples: T[];
}

/**
 * Batches samples in a seeded order and builds upcoming batches in the background with bounded
 * concurrency, so decoding overlaps the consumer's (GPU) work. The order and content of batches
 * depend only on the seed, never on concurrency or timing.
 */
export class BatchLoader<T> {
  private readonly source: SampleSource<T>;
  private readonly opts: Required<BatchLoaderOptions>;
  private readonly gate: Semaphore;

  constructor(source: SampleSource<T>, options: BatchLoaderOptions) {
    const opts = {
      seed: 0,
      shuffle: true,
      dropLast: false,
      concurrency: 4,
      prefetchBatches: 2,
      ...options,
    };
    for (const k of ['batchSize', 'concurrency'] as const) {
      if (!Number.isInteger(opts[k]) || opts[k] < 1)
        throw new LeRobotError(
          'invalid_argument',
          `BatchLoader: ${k} must be a positive integer, got ${opts[k]}`,
        );
    }
    if (!Number.isInteger(opts.prefetchBatches) || opts.prefetchBatches < 0) {
      throw new LeRobotError(
        'invalid_argument',
        `BatchLoader: prefetchBatches must be a non-negative integer, got ${opts.prefetchBatches}`,
      );
    }
    if (source.length === 0)
      throw new LeRobotError('invalid_argument', 'BatchLoader: the sample source is empty');
    this.source = source;
    this.opts = opts;
    this.gate = new Semaphore(opts.concurrency);
  }

  /** Sample indices of an epoch, in the order they are served. */
  order(epoch: number): Uint32Array {
    const n = this.source.length;
    if (!this.opts.shuffle) return Uint32Array.from({ length: n }, (_, i) => i);
    // Mix the epoch into the seed so epochs differ but stay reproducible.
    return seededPermutation(
      n,
      (Math.imul(this.opts.seed >>> 0, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca77)) >>> 0,
    );
  }

  /** Batches per epoch. */
  get batchesPerEpoch(): number {
    const n = this.source.length;
    return this.opts.dropLast ? Math.floor(n / this.opts.batchSize) : Math.ceil(n / this.opts.batchSize);
  }

  private startBatch(epoch: number, batchIndex: number, order: Uint32Array): Promise<Batch<T>> {
    const { batchSize } = this.opts;
    const indices = Array.from(
      order.subarray(batchIndex * batchSize, Math.min(order.length, (batchIndex + 1) * batchSize)),
    );
    return Promise.all(indices.map((i) => this.gate.run(() => this.source.get(i)))).then((samples) => ({
      epoch,
      batchIndex,
      indices,
      samples,
    }));
  }

  /**
   * Iterates the batches of one epoch from batch `fromBatch` on, keeping `prefetchBatches` batches
   * in flight ahead. A run resumed at `(epoch, fromBatch)` is served exactly the batches an
   * uninterrupted run would have served from there; nothing before `fromBatch` is built.
   */
  async *epoch(epoch = 0, fromBatch = 0): AsyncGenerator<Batch<T>> {
    const total = this.batchesPerEpoch;
    if (!Number.isSafeInteger(epoch) || epoch < 0)
      throw new LeRobotError(
        'invalid_argument',
        `BatchLoader: epoch must be a non-negative integer, got ${epoch}`,
      );
    if (!Number.isSafeInteger(fromBatch) || fromBatch < 0 || fromBatch > total) {
      throw new LeRobotError(
        'invalid_argument',
        `BatchLoader: fromBatch must be an integer in [0, ${total}] (batches per epoch), got ${fromBatch}`,
      );
    }
    const order = this.order(epoch);
    const pending: Promise<Batch<T>>[] = [];
    let next = fromBatch;
    const fill = (): void => {
      while (next < total && pending.length < this.opts.prefetchBatches + 1) {
        const p = this.startBatch(epoch, next++, order);
        // Prefetched failures surface when their batch is reached, not as unhandled rejections.
        p.catch(() => undefined);
        pending.push(p);
      }
    };
    fill();
    while (pending.length > 0) {
      const batch = await pending.shift()!;
      fill();
      yield batch;
    }
  }

  /**
   * Iterates epochs `from`, `from+1`, … forever (or `count` epochs), the first one starting at
   * batch `fromBatch` (see {@link BatchLoader.epoch}).
   */
  async *batches(from = 0, count = Infinity, fromBatch = 0): AsyncGenerator<Batch<T>> {
    for (let e = from; e < from + count; e++) yield* this.epoch(e, e === from ? fromBatch : 0);
  }
}
