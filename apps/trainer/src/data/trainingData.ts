// The trainer's data: LeRobot datasets (one, or an LPT mixture) → the rank's draws → raw samples,
// batched with prefetching and a resumable position. Datasets are assigned to ranks with LPT and each
// rank opens only its own; draw i of an epoch is the i-th value of lpt's RankSampler for (seed, rank,
// epoch), served through lerobot's BatchLoader with the shuffle off, so prefetching, bounded ffmpeg
// concurrency and exact resume all come from the loader. Samples stay raw (native-size frames,
// absolute actions, no normalisation): the policy's processor is the one place that transforms them.
import { basename, resolve } from 'node:path';
import type { InternVLAA1Config, Normalization, PolicyProcessor } from '@vla/internvla-a1';
import {
  BatchLoader,
  DEFAULT_IMAGE_OFFSETS,
  FfmpegDecoder,
  LeRobotDataset,
  NodeFileStorage,
  readInfo,
  SampleBuilder,
  type Batch,
  type RobotMapping,
  type Sample,
  type SampleSource,
  type VideoFrameDecoder,
} from '@vla/lerobot';
import {
  assignDatasets,
  mixtureWeights,
  openRankDatasets,
  rankMixture,
  type Assignment,
  type MixtureRule,
  type WeightedDataset,
} from '@vla/lpt';
import { checkProcessorFits, datasetLayout } from './datasetLayout.js';
import { EpochDraws } from './epochDraws.js';
import { actionOffsets, processorFromDatasets, type ProcessorDataset } from './processorFromDatasets.js';
import { TrainingDataError } from './trainingDataError.js';

/** One dataset of a run. */
export interface DatasetSpec {
  /** Folder of a LeRobot v2.1 or v3.0 dataset. */
  path: string;
  /** Unique id; mixture rules match it (default: the folder's name). */
  id?: string;
  /**
   * Sampling weight without mixture rules (relative to the others'; give it for every dataset or
   * for none — none means proportional to frames, every frame equally likely).
   */
  weight?: number;
  /** Overrides of the resolved robot mapping (keys, cameras, delta mask). */
  mapping?: Partial<RobotMapping>;
}

/** Where the data stream is: batch `batch` of epoch `epoch` is served next. Plain JSON (checkpoints). */
export interface DataPosition {
  /** Epoch (each has its own draws). */
  epoch: number;
  /** Batch within the epoch, `0 <= batch < batchesPerEpoch`. */
  batch: number;
}

/** One raw sample and the rank dataset it came from. */
export interface TrainingSample {
  /** Index into {@link TrainingData.datasets}. */
  datasetIndex: number;
  /** Native-size uint8 frames, absolute actions, no normalisation (see {@link toPolicyBatch}). */
  sample: Sample;
}

/** One batch of the stream, with its position and the position that follows it. */
export interface TrainingBatch {
  /** This batch's position. */
  position: DataPosition;
  /** Position to store in a checkpoint written after this batch: resuming there serves the next one. */
  next: DataPosition;
  /** `batchSize` samples, in draw order. */
  samples: TrainingSample[];
}

/** A dataset this rank trains on. */
export interface RankDataset {
  /** Its id. */
  id: string;
  /** Its folder. */
  path: string;
  /** The opened dataset (with the run's video decoder). */
  dataset: LeRobotDataset;
  /** Builds its raw samples (`imageSize: 'native'`, no deltas, no normalisation). */
  builder: SampleBuilder;
  /** Sampling weight within the rank (the rank's weights sum to 1). */
  weight: number;
  /** Frames it holds (its episodes' lengths added). */
  frames: number;
}

/** Options of {@link openTrainingData}. */
export interface OpenTrainingDataOptions {
  /** The run's datasets (all ranks list the same, in the same order). */
  datasets: readonly DatasetSpec[];
  /** This process's rank (default 0). */
  rank?: number;
  /** Ranks in the run (default 1). */
  worldSize?: number;
  /** Run seed (a non-negative integer): with the rank and epoch it fixes every draw. */
  seed: number;
  /** Samples per batch. */
  batchSize: number;
  /** The model: sizes, views, chunk, vocabulary. */
  config: InternVLAA1Config;
  /**
   * The processor to use (resume, fine-tune): reused as is, and checked against every dataset's
   * layout and the config. Without it one is built with {@link processorFromDatasets} over every
   * dataset of the run (in the order given, so every rank builds the same one; ranks read the other
   * ranks' parquet files for it — for large mixtures build it once and pass it).
   */
  processor?: PolicyProcessor;
  /** LPT mixture rules (regex → group budget); exclusive with per-dataset weights. */
  mixture?: readonly MixtureRule[];
  /** γ of the mixture: inside a group a dataset's share goes with frames^γ (default 1). */
  gamma?: number;
  /** Draws per epoch on this rank (default: the rank's frames). Whole batches are served. */
  samplesPerEpoch?: number;
  /** Samples built at once, which bounds ffmpeg processes (default 4). */
  concurrency?: number;
  /** Batches built ahead of the one being trained on (default 2). */
  prefetchBatches?: number;
  /** Delta mask for every dataset when the processor is built here (generic robots have none). */
  deltaMask?: readonly boolean[];
  /** Normalisation when the processor is built here (default `mean_std`). */
  normalization?: Normalization;
  /** Which rows the action statistics cover (see `ProcessorFromDatasetsOptions.statsRows`). */
  statsRows?: 'every-position' | 'upstream';
  /**
   * Decoded-frame cache of the rank, in bytes (default 4 GiB). When every frame of the rank's
   * datasets fits, each dataset keeps all of its frames and decodes a camera's whole episode on its
   * first miss (one decoder call per episode and camera, then no decoding at all); otherwise the
   * budget is shared out evenly and only each sample's frames are decoded (random draws rarely
   * reuse a frame; native frames are big, 640×480: 0.9 MB).
   */
  frameCacheBytes?: number;
  /** Video decoder shared by the datasets (default: a new FfmpegDecoder, closed by `close()`). */
  decoder?: VideoFrameDecoder;
}

/** Default decoded-frame cache of a rank (see {@link OpenTrainingDataOptions.frameCacheBytes}). */
export const DEFAULT_FRAME_CACHE_BYTES = 4 * 2 ** 30;

/** Bytes every decoded frame of a dataset's cameras takes (uint8 RGB at the camera's size). */
function datasetFrameBytes(dataset: LeRobotDataset): number {
  let perFrame = 0;
  for (const key of dataset.videoKeys) {
    const [h, w] = dataset.imageShape(key);
    perFrame += h * w * 3;
  }
  return perFrame * dataset.numFrames;
}

const isNonNegativeInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** Maps a frame number `0 <= k < frames` (episode order) to the dataset's global frame index. */
function frameIndexer(dataset: LeRobotDataset): { frames: number; index: (k: number) => number } {
  const eps = [...dataset.episodes].sort((a, b) => a.datasetFromIndex - b.datasetFromIndex);
  const start = new Float64Array(eps.length + 1);
  eps.forEach((e, i) => (start[i + 1] = start[i] + e.length));
  return {
    frames: start[eps.length],
    index: (k) => {
      let lo = 0;
      let hi = eps.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (start[mid] <= k) lo = mid;
        else hi = mid - 1;
      }
      return eps[lo].datasetFromIndex + (k - start[lo]);
    },
  };
}

/**
 * The rank's training data: its datasets, the processor, and an endless, resumable stream of
 * batches. Build it with {@link openTrainingData}.
 */
export class TrainingData {
  /** The policy's I/O layer every batch goes through ({@link toPolicyBatch}); its tokenizer is loaded. */
  readonly processor: PolicyProcessor;
  /** The datasets of this rank, in the rank's order (TrainingSample.datasetIndex indexes this). */
  readonly datasets: readonly RankDataset[];
  /** The LPT assignment of the run's datasets to ranks. */
  readonly assignment: Assignment;
  /** This process's rank. */
  readonly rank: number;
  /** Samples per batch. */
  readonly batchSize: number;
  /** Batches per epoch (draws per epoch divided by the batch size, rounded down). */
  readonly batchesPerEpoch: number;
  /**
   * What fixes the order of the stream (seed, rank, world size, batch size, draws per epoch, the
   * rank's datasets and weights) as a string: store it with a {@link DataPosition} and compare on
   * resume — the same position under another key serves other samples.
   */
  readonly orderKey: string;
  private readonly seed: number;
  private readonly weighted: WeightedDataset[];
  private readonly indexers: ((k: number) => number)[];
  private readonly loaderOptions: { concurrency: number; prefetchBatches: number };
  private readonly ownDecoder: FfmpegDecoder | null;
  private closed = false;

  /** @internal Use {@link openTrainingData}. */
  constructor(parts: {
    processor: PolicyProcessor;
    datasets: RankDataset[];
    assignment: Assignment;
    rank: number;
    seed: number;
    batchSize: number;
    batchesPerEpoch: number;
    concurrency: number;
    prefetchBatches: number;
    ownDecoder: FfmpegDecoder | null;
  }) {
    this.processor = parts.processor;
    this.datasets = parts.datasets;
    this.assignment = parts.assignment;
    this.rank = parts.rank;
    this.seed = parts.seed;
    this.batchSize = parts.batchSize;
    this.batchesPerEpoch = parts.batchesPerEpoch;
    this.loaderOptions = { concurrency: parts.concurrency, prefetchBatches: parts.prefetchBatches };
    this.ownDecoder = parts.ownDecoder;
    this.weighted = parts.datasets.map((d) => ({ id: d.id, frames: d.frames, weight: d.weight }));
    this.indexers = parts.datasets.map((d) => frameIndexer(d.dataset).index);
    this.orderKey = JSON.stringify({
      seed: parts.seed,
      rank: parts.rank,
      worldSize: parts.assignment.worldSize,
      batchSize: parts.batchSize,
      batchesPerEpoch: parts.batchesPerEpoch,
      datasets: this.weighted,
    });
  }

  /** Throws a {@link TrainingDataError} naming the field unless `p` is a position of this stream. */
  checkPosition(p: DataPosition): void {
    if (p === null || typeof p !== 'object')
      throw new TrainingDataError(`data position must be { epoch, batch }, got ${JSON.stringify(p)}`);
    if (!isNonNegativeInt(p.epoch))
      throw new TrainingDataError(
        `data position: epoch must be a non-negative integer, got ${JSON.stringify(p.epoch)}`,
      );
    if (!isNonNegativeInt(p.batch) || p.batch >= this.batchesPerEpoch)
      throw new TrainingDataError(
        `data position: batch must be an integer in [0, ${this.batchesPerEpoch}) (batches per epoch), got ${JSON.stringify(p.batch)}`,
      );
  }

  /** The batches of one epoch from `fromBatch` on, straight from a BatchLoader over the epoch's draws. */
  private epochBatches(epoch: number, fromBatch: number): AsyncGenerator<Batch<TrainingSample>> {
    const draws = new EpochDraws(this.weighted, {
      seed: this.seed,
      rank: this.rank,
      epoch,
      length: this.batchesPerEpoch * this.batchSize,
    });
    const source: SampleSource<TrainingSample> = {
      length: draws.length,
      get: async (i) => {
        const d = draws.draw(i);
        const sample = await this.datasets[d.datasetIndex].builder.get(
          this.indexers[d.datasetIndex](d.frame),
        );
        return { datasetIndex: d.datasetIndex, sample };
      },
    };
    const loader = new BatchLoader(source, {
      batchSize: this.batchSize,
      shuffle: false,
      dropLast: true,
      ...this.loaderOptions,
    });
    return loader.epoch(0, fromBatch);
  }

  /**
   * Endless batches over epochs, starting at `from` (default the very beginning). The samples of a
   * position depend only on the {@link TrainingData.orderKey}, never on timing, concurrency or where
   * the stream was started: a run resumed at a batch's `next` serves exactly what the uninterrupted
   * run served after it. The next epoch's first batches are built while the last one is trained on.
   */
  async *batches(from: DataPosition = { epoch: 0, batch: 0 }): AsyncGenerator<TrainingBatch> {
    if (this.closed) throw new TrainingDataError('TrainingData.batches: the data was closed');
    this.checkPosition(from);
    const last = this.batchesPerEpoch - 1;
    let epoch = from.epoch;
    let current = this.epochBatches(epoch, from.batch);
    let pending = current.next();
    let following: AsyncGenerator<Batch<TrainingSample>> | undefined;
    try {
      for (;;) {
        const r = await pending;
        if (r.done) throw new TrainingDataError(`epoch ${epoch} ended before its last batch ${last}`);
        const b = r.value.batchIndex;
        if (b === last) {
          following = this.epochBatches(epoch + 1, 0);
          pending = following.next();
          // A failure there surfaces when that batch is reached.
          pending.catch(() => undefined);
        }
        yield {
          position: { epoch, batch: b },
          next: b === last ? { epoch: epoch + 1, batch: 0 } : { epoch, batch: b + 1 },
          samples: r.value.samples,
        };
        if (b === last) {
          await current.return(undefined);
          current = following!;
          following = undefined;
          epoch++;
        } else {
          pending = current.next();
        }
      }
    } finally {
      // Builds already started finish in the background; their results are dropped.
      void current.return(undefined).catch(() => undefined);
      if (following) void following.return(undefined).catch(() => undefined);
    }
  }

  /** Stops serving and closes the decoder this object created. */
  async close(): Promise<void> {
    this.closed = true;
    await this.ownDecoder?.close();
  }
}

/** Opens another rank's dataset for its statistics only (parquet rows, no video decoder). */
async function openForStats(id: string, path: string): Promise<LeRobotDataset> {
  try {
    return await LeRobotDataset.open(new NodeFileStorage(path));
  } catch (e) {
    throw new TrainingDataError(
      `dataset '${id}' (${path}) is needed for the run's statistics (no processor was given): ${(e as Error).message}`,
      id,
    );
  }
}

/** Dataset ids: given, else the folder name; unique. */
function datasetIds(specs: readonly DatasetSpec[]): string[] {
  const ids = specs.map((s, i) => {
    if (!s || typeof s.path !== 'string' || s.path.length === 0)
      throw new TrainingDataError(
        `datasets[${i}].path must be a folder path, got ${JSON.stringify(s?.path)}`,
      );
    return s.id ?? basename(resolve(s.path));
  });
  const first = new Map<string, number>();
  ids.forEach((id, i) => {
    const j = first.get(id);
    if (j !== undefined)
      throw new TrainingDataError(
        `datasets[${j}] and datasets[${i}] have the same id '${id}'; give one of them an id`,
        id,
      );
    first.set(id, i);
  });
  return ids;
}

/** Each rank dataset's weight within the rank (summing to 1), from mixture rules or the specs. */
function rankWeights(
  specs: readonly DatasetSpec[],
  ids: readonly string[],
  frames: readonly number[],
  assignment: Assignment,
  rank: number,
  options: OpenTrainingDataOptions,
): Map<string, number> {
  const withWeight = specs.filter((s) => s.weight !== undefined).length;
  if (options.mixture) {
    if (withWeight > 0) throw new TrainingDataError('give mixture rules or per-dataset weights, not both');
    const sizes = ids.map((id, i) => ({ id, frames: frames[i] }));
    const mixture = mixtureWeights(sizes, { rules: options.mixture, gamma: options.gamma ?? 1 });
    return new Map(rankMixture(assignment, mixture, rank).map((d) => [d.id, d.weight]));
  }
  if (withWeight > 0 && withWeight < specs.length) {
    const missing = ids.filter((_, i) => specs[i].weight === undefined);
    throw new TrainingDataError(
      `give a weight to every dataset or to none; missing for ${missing.map((m) => `'${m}'`).join(', ')}`,
      missing[0],
    );
  }
  const weightOf = new Map(ids.map((id, i) => [id, specs[i].weight ?? frames[i]]));
  for (const [id, w] of weightOf)
    if (!Number.isFinite(w) || w < 0)
      throw new TrainingDataError(`dataset '${id}': weight must be a finite number >= 0, got ${w}`, id);
  const own = assignment.ranks[rank].datasets.map((d) => d.id);
  const total = own.reduce((a, id) => a + weightOf.get(id)!, 0);
  if (!(total > 0))
    throw new TrainingDataError(
      `rank ${rank}: its datasets (${own.join(', ')}) all have weight 0; nothing to sample`,
    );
  return new Map(own.map((id) => [id, weightOf.get(id)! / total]));
}

/**
 * Opens the rank's training data: reads every dataset's info.json (LPT needs the sizes), assigns the
 * datasets to ranks (`assignDatasets`), opens this rank's (`openRankDatasets`), weights them
 * (mixture rules → `rankMixture`, else per-dataset weights or frames, renormalised on the rank), and
 * builds or checks the processor. Samples are built with `imageSize: 'native'`, no delta conversion
 * and no normalisation, images at offsets [-15, 0, 15] and actions at 0 … chunkSize − 1.
 */
export async function openTrainingData(options: OpenTrainingDataOptions): Promise<TrainingData> {
  const { config, seed, batchSize } = options;
  const rank = options.rank ?? 0;
  const worldSize = options.worldSize ?? 1;
  const specs = options.datasets;
  if (!Array.isArray(specs) || specs.length === 0)
    throw new TrainingDataError('openTrainingData: datasets must list at least one dataset');
  if (!isNonNegativeInt(seed))
    throw new TrainingDataError(`openTrainingData: seed must be a non-negative integer, got ${seed}`);
  if (!Number.isSafeInteger(batchSize) || batchSize < 1)
    throw new TrainingDataError(`openTrainingData: batchSize must be a positive integer, got ${batchSize}`);
  if (!Number.isSafeInteger(worldSize) || worldSize < 1)
    throw new TrainingDataError(`openTrainingData: worldSize must be a positive integer, got ${worldSize}`);
  if (!isNonNegativeInt(rank) || rank >= worldSize)
    throw new TrainingDataError(
      `openTrainingData: rank must be an integer in [0, ${worldSize}), got ${rank}`,
    );
  const ids = datasetIds(specs);
  const specOf = new Map(ids.map((id, i) => [id, specs[i]]));

  const frames = await Promise.all(
    specs.map(async (s, i) => {
      try {
        return (await readInfo(new NodeFileStorage(s.path))).totalFrames;
      } catch (e) {
        throw new TrainingDataError(`dataset '${ids[i]}' (${s.path}): ${(e as Error).message}`, ids[i]);
      }
    }),
  );
  const assignment = assignDatasets(
    ids.map((id, i) => ({ id, frames: frames[i] })),
    worldSize,
  );
  const weights = rankWeights(specs, ids, frames, assignment, rank, options);
  const mappingOf = (id: string): Partial<RobotMapping> | undefined => {
    const m = specOf.get(id)!.mapping;
    return options.deltaMask ? { ...m, deltaMask: [...options.deltaMask] } : m;
  };

  const ownDecoder = options.decoder ? null : new FfmpegDecoder();
  const decoder = options.decoder ?? ownDecoder!;
  try {
    const opened = await openRankDatasets(assignment, rank, (id) =>
      LeRobotDataset.open(new NodeFileStorage(specOf.get(id)!.path), { decoder }),
    );

    let processor = options.processor;
    if (processor) {
      for (const [id, dataset] of opened) {
        const mapping = mappingOf(id);
        const builder = new SampleBuilder(dataset, { mapping, imageSize: 'native' });
        const stated = mapping?.deltaMask !== undefined || builder.mapping.robot !== 'generic';
        checkProcessorFits(processor, config, id, datasetLayout(dataset.info, builder.mapping), stated);
      }
      await processor.loadTokenizer();
    } else {
      // Every rank builds the same processor: all non-empty datasets, in the order given.
      const skipped = new Set(assignment.skipped);
      const all: ProcessorDataset[] = [];
      for (const id of ids) {
        if (skipped.has(id)) continue;
        const dataset = opened.get(id) ?? (await openForStats(id, specOf.get(id)!.path));
        all.push({ id, dataset, mapping: mappingOf(id) });
      }
      processor = await processorFromDatasets(all, config, {
        normalization: options.normalization,
        statsRows: options.statsRows,
      });
    }

    const cacheBudget = options.frameCacheBytes ?? DEFAULT_FRAME_CACHE_BYTES;
    const frameBytes = new Map([...opened].map(([id, d]) => [id, datasetFrameBytes(d)]));
    const allFit = [...frameBytes.values()].reduce((a, b) => a + b, 0) <= cacheBudget;
    const datasets: RankDataset[] = [...opened].map(([id, dataset]) => ({
      id,
      path: specOf.get(id)!.path,
      dataset,
      builder: new SampleBuilder(dataset, {
        mapping: mappingOf(id),
        imageSize: 'native',
        imageOffsets: DEFAULT_IMAGE_OFFSETS,
        actionOffsets: actionOffsets(config),
        deltaActions: false,
        normStats: null,
        padDim: config.stateDim,
        frameCacheBytes: allFit ? frameBytes.get(id)! : Math.floor(cacheBudget / opened.size),
        frameDecode: allFit ? 'episode' : 'window',
      }),
      weight: weights.get(id)!,
      frames: frameIndexer(dataset).frames,
    }));
    const rankFrames = datasets.reduce((a, d) => a + d.frames, 0);
    const samplesPerEpoch = options.samplesPerEpoch ?? rankFrames;
    if (!Number.isSafeInteger(samplesPerEpoch) || samplesPerEpoch < 1)
      throw new TrainingDataError(
        `openTrainingData: samplesPerEpoch must be a positive integer, got ${samplesPerEpoch}`,
      );
    const batchesPerEpoch = Math.floor(samplesPerEpoch / batchSize);
    if (batchesPerEpoch < 1)
      throw new TrainingDataError(
        `openTrainingData: an epoch of ${samplesPerEpoch} draws holds no whole batch of ${batchSize}`,
      );
    return new TrainingData({
      processor,
      datasets,
      assignment,
      rank,
      seed,
      batchSize,
      batchesPerEpoch,
      concurrency: options.concurrency ?? 4,
      prefetchBatches: options.prefetchBatches ?? 2,
      ownDecoder,
    });
  } catch (e) {
    await ownDecoder?.close();
    throw e;
  }
}
