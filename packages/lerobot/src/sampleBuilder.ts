import type { EpisodeFrames, LeRobotDataset } from './dataset';
import { DEFAULT_ACTION_OFFSETS, DEFAULT_IMAGE_OFFSETS, deltaWindow } from './deltaTimestamps';
import { LeRobotError } from './errors';
import { LruCache } from './lru';
import { normalizeInPlace } from './normalize';
import { resizeWithPad, toSignedUnitFloat } from './resizeWithPad';
import {
  CAMERA_SLOTS,
  resolveRobotMapping,
  vectorDim,
  type CameraSlot,
  type RobotMapping,
} from './robotMapping';
import { StreamingFeatureStats, type FeatureStats } from './stats';

/** Normalisation statistics of the model inputs: the state vector and the (delta) action vector. */
export interface NormStats {
  state: FeatureStats;
  /** Computed on delta actions when delta actions are on. */
  actions: FeatureStats;
}

/** Options of {@link SampleBuilder}; every field has the InternVLA-A1 default. */
export interface SampleBuilderOptions {
  /** Overrides of the resolved robot mapping (keys, cameras, delta mask). */
  mapping?: Partial<RobotMapping>;
  /** Frame offsets of the images (default [-15, 0, 15]). */
  imageOffsets?: readonly number[];
  /** Frame offsets of the action chunk (default 0..49). */
  actionOffsets?: readonly number[];
  /**
   * Model input size `[height, width]` (default [224, 224]), or `'native'`: frames at the camera's
   * own size, uint8 HWC as decoded (no resize, no pixel loop), for callers that resize elsewhere
   * (on the GPU). Each frame's size is then in {@link SampleMeta.imageShapes}.
   */
  imageSize?: [number, number] | 'native';
  /** `uint8` (0..255, padding 0) or `float32` ([-1, 1], padding -1). Default uint8; `native` needs uint8. */
  imageDtype?: 'uint8' | 'float32';
  /** Subtract the current state from actions on delta-mask dims (default true). */
  deltaActions?: boolean;
  /** Statistics to normalise with; omitted or null = no normalisation. */
  normStats?: NormStats | null;
  /** State and action width after zero padding (default 32). */
  padDim?: number;
  /** Budget of the processed-frame cache in bytes (default 256 MiB). */
  frameCacheBytes?: number;
  /**
   * What to decode on a cache miss: `window` (default) only the sample's frames, in one decoder
   * call; `episode` every frame of that camera's episode at once, which pays off when the cache
   * can hold the episodes being sampled (small datasets, episode-local sampling).
   */
  frameDecode?: 'window' | 'episode';
}

/** A processed frame in the builder's cache. */
interface CachedFrame {
  image: Promise<Uint8Array | Float32Array>;
  bytes: number;
}

/** Per-sample bookkeeping. */
export interface SampleMeta {
  /** Global frame index (the `index` column). */
  index: number;
  episodeIndex: number;
  frameIndex: number;
  timestamp: number;
  robot: RobotMapping['robot'];
  /** Dimensions before padding to `padDim`. */
  stateDim: number;
  actionDim: number;
  /** Height of every image of a fixed `imageSize`; 0 with `imageSize: 'native'` (see `imageShapes`). */
  imageHeight: number;
  /** Width of every image of a fixed `imageSize`; 0 with `imageSize: 'native'` (see `imageShapes`). */
  imageWidth: number;
  /**
   * `[height, width]` of the images of each slot. With a fixed `imageSize` every slot has it (a
   * missing camera's all-ones images too); with `native`, only slots with a camera, at its size.
   */
  imageShapes: Partial<Record<CameraSlot, [number, number]>>;
  imageOffsets: number[];
  actionOffsets: number[];
  /** Dataset key feeding each slot (absent for missing cameras). */
  cameraKeys: Partial<Record<CameraSlot, string>>;
}

/**
 * One training sample as plain typed arrays (no GPU objects): images per camera slot and image
 * offset (`H × W × 3`, row-major), the padded state and action chunk, padding flags and the task.
 */
export interface Sample {
  /**
   * Per slot, one image per image offset. A slot with no camera holds all-ones images of the fixed
   * size, or with `imageSize: 'native'` empty arrays (`Uint8Array(0)`: there is no size to make up).
   * Images may be shared with the builder's frame cache: treat them as read-only.
   */
  images: Record<CameraSlot, (Uint8Array | Float32Array)[]>;
  /** false for a slot with no camera (see `images`). */
  imageMasks: Record<CameraSlot, boolean>;
  /** Per image offset: 1 when the offset fell outside the episode. */
  imageIsPad: Uint8Array;
  /** `padDim` values. */
  state: Float32Array;
  /** `horizon × padDim` values, row-major. */
  actions: Float32Array;
  /** Per action offset: 1 when it fell outside the episode. */
  actionIsPad: Uint8Array;
  task: string;
  meta: SampleMeta;
}

/**
 * Turns frames of a dataset into model samples, in SPEC order: delta actions → resize with pad
 * → camera remap → normalise → zero-pad to `padDim`. Implements the loader's sample source.
 * With `imageSize: 'native'` the resize is left to the caller (the policy's processor does it on
 * the GPU), and with `deltaActions: false, normStats: null` so are deltas and normalisation.
 */
export class SampleBuilder {
  readonly dataset: LeRobotDataset;
  readonly mapping: RobotMapping;
  readonly stateDim: number;
  readonly actionDim: number;
  private readonly opts: Required<Omit<SampleBuilderOptions, 'mapping' | 'normStats'>> & {
    normStats: NormStats | null;
  };
  /** Processed frames by `episode|key|row`, with their size in bytes (known before they decode). */
  private readonly frames: LruCache<string, CachedFrame>;

  constructor(dataset: LeRobotDataset, options: SampleBuilderOptions = {}) {
    this.dataset = dataset;
    this.mapping = resolveRobotMapping(dataset.info, options.mapping);
    this.stateDim = vectorDim(dataset.info, this.mapping.stateKeys);
    this.actionDim = vectorDim(dataset.info, this.mapping.actionKeys);
    this.opts = {
      imageOffsets: options.imageOffsets ?? DEFAULT_IMAGE_OFFSETS,
      actionOffsets: options.actionOffsets ?? DEFAULT_ACTION_OFFSETS,
      imageSize: options.imageSize ?? [224, 224],
      imageDtype: options.imageDtype ?? 'uint8',
      deltaActions: options.deltaActions ?? true,
      normStats: options.normStats ?? null,
      padDim: options.padDim ?? 32,
      frameCacheBytes: options.frameCacheBytes ?? 256 * 2 ** 20,
      frameDecode: options.frameDecode ?? 'window',
    };
    if (this.stateDim > this.opts.padDim || this.actionDim > this.opts.padDim) {
      throw new LeRobotError(
        'shape_mismatch',
        `state (${this.stateDim}) or action (${this.actionDim}) is wider than padDim ${this.opts.padDim}`,
      );
    }
    const size = this.opts.imageSize;
    if (size === 'native') {
      if (this.opts.imageDtype !== 'uint8')
        throw new LeRobotError(
          'invalid_argument',
          `SampleBuilder: imageSize 'native' gives uint8 frames as decoded, imageDtype must be 'uint8', got '${this.opts.imageDtype}'`,
        );
    } else if (
      !Array.isArray(size) ||
      size.length !== 2 ||
      !size.every((v) => Number.isInteger(v) && v >= 1)
    ) {
      throw new LeRobotError(
        'invalid_argument',
        `SampleBuilder: imageSize must be [height, width] of positive integers or 'native', got ${JSON.stringify(size)}`,
      );
    }
    const ns = this.opts.normStats;
    if (ns && (ns.state.mean.length !== this.stateDim || ns.actions.mean.length !== this.actionDim)) {
      throw new LeRobotError(
        'shape_mismatch',
        `normStats have state ${ns.state.mean.length} / action ${ns.actions.mean.length} dims, mapping gives ${this.stateDim} / ${this.actionDim}`,
      );
    }
    this.frames = new LruCache(this.opts.frameCacheBytes, (f) => f.bytes);
  }

  /** `[height, width]` of the images a camera gives: the fixed size, or the camera's own. */
  private outputShape(key: string): [number, number] {
    const size = this.opts.imageSize;
    if (size !== 'native') return size;
    const [h, w] = this.dataset.imageShape(key);
    return [h, w];
  }

  /** Bytes one processed frame of camera `key` holds. */
  private frameBytes(key: string): number {
    const [h, w] = this.outputShape(key);
    return h * w * 3 * (this.opts.imageDtype === 'float32' ? 4 : 1);
  }

  /** A decoded frame as the sample holds it: as is (`native`), or resized with pad (and scaled). */
  private process(frame: Uint8Array, key: string): Uint8Array | Float32Array {
    const size = this.opts.imageSize;
    if (size === 'native') return frame;
    const [srcH, srcW] = this.dataset.imageShape(key);
    const img = resizeWithPad(frame, srcH, srcW, size[0], size[1], 3, 0);
    return this.opts.imageDtype === 'float32' ? toSignedUnitFloat(img) : img;
  }

  /** Number of samples (one per frame). */
  get length(): number {
    return this.dataset.numFrames;
  }

  /** Builds the sample of global frame `index`. */
  get(index: number): Promise<Sample> {
    return this.build(index);
  }

  /** Copies the mapped features of `row` into `out` (the state or action vector). */
  private gather(
    ep: EpisodeFrames,
    keys: string[],
    row: number,
    out: Float32Array | Float64Array,
    offset: number,
  ): void {
    let o = offset;
    for (const k of keys) {
      const col = ep.columns[k];
      if (!col)
        throw new LeRobotError(
          'malformed_data',
          `${ep.dataPath}: no column '${k}' for episode ${ep.episode.episodeIndex}`,
        );
      for (let j = 0; j < col.width; j++) out[o++] = col.values[row * col.width + j];
    }
  }

  /** Raw (unpadded, unnormalised) state and delta-or-absolute action chunk of a frame, in float64. */
  vectors(
    ep: EpisodeFrames,
    row: number,
  ): { state: Float64Array; actions: Float64Array; actionIsPad: Uint8Array } {
    const state = new Float64Array(this.stateDim);
    this.gather(ep, this.mapping.stateKeys, row, state, 0);
    const win = deltaWindow(row, ep.length, this.opts.actionOffsets);
    const actions = new Float64Array(win.rows.length * this.actionDim);
    win.rows.forEach((r, k) => this.gather(ep, this.mapping.actionKeys, r, actions, k * this.actionDim));
    if (this.opts.deltaActions) {
      const mask = this.mapping.deltaMask;
      for (let k = 0; k < win.rows.length; k++) {
        for (let j = 0; j < this.actionDim; j++) if (mask[j]) actions[k * this.actionDim + j] -= state[j];
      }
    }
    return { state, actions, actionIsPad: win.isPad };
  }

  private imageKey(ep: number, key: string, row: number): string {
    return `${ep}|${key}|${row}`;
  }

  /** Resized frames of one camera at the given rows, decoding all cache misses in one call. */
  private cameraImages(
    ep: EpisodeFrames,
    key: string,
    rows: Int32Array,
  ): Promise<(Uint8Array | Float32Array)[]> {
    const epIndex = ep.episode.episodeIndex;
    const bytes = this.frameBytes(key);
    const cached = (r: number): boolean => this.frames.get(this.imageKey(epIndex, key, r)) !== undefined;
    let missing = [...new Set(rows)].filter((r) => !cached(r));
    if (missing.length > 0 && this.opts.frameDecode === 'episode') {
      missing = Array.from({ length: ep.length }, (_, r) => r).filter((r) => !cached(r));
    }
    if (missing.length > 0) {
      const ts = ep.columns.timestamp;
      if (!ts)
        throw new LeRobotError(
          'malformed_data',
          `${ep.dataPath}: no 'timestamp' column, cannot locate video frames`,
        );
      const decoded = this.dataset.decodeFrames(
        epIndex,
        key,
        missing.map((r) => ts.values[r]),
      );
      missing.forEach((r, i) => {
        const p = decoded.then((frames) => this.process(frames[i], key));
        // A failed decode must not stay cached; the caller still sees the rejection.
        p.catch(() => this.frames.delete(this.imageKey(epIndex, key, r)));
        this.frames.set(this.imageKey(epIndex, key, r), { image: p, bytes });
      });
    }
    return Promise.all(
      Array.from(
        rows,
        (r) =>
          this.frames.get(this.imageKey(epIndex, key, r))?.image ?? this.cameraImagesUncached(ep, key, r),
      ),
    );
  }

  // Only reached when the cache is too small to hold one sample's frames.
  private async cameraImagesUncached(
    ep: EpisodeFrames,
    key: string,
    row: number,
  ): Promise<Uint8Array | Float32Array> {
    const [frame] = await this.dataset.decodeFrames(ep.episode.episodeIndex, key, [
      ep.columns.timestamp.values[row],
    ]);
    return this.process(frame, key);
  }

  /** Builds the sample of global frame `index`. */
  async build(index: number): Promise<Sample> {
    const { episode, row } = this.dataset.locate(index);
    const ep = await this.dataset.readEpisode(episode.episodeIndex);
    const { padDim, imageOffsets, actionOffsets, normStats, imageSize, imageDtype } = this.opts;

    // 1. delta actions (float64 until the end so nothing is lost before normalising)
    const v = this.vectors(ep, row);

    // 2–3. resize with pad, then place each camera in its slot
    const imgWin = deltaWindow(row, ep.length, imageOffsets);
    const images = {} as Record<CameraSlot, (Uint8Array | Float32Array)[]>;
    const imageMasks = {} as Record<CameraSlot, boolean>;
    const imageShapes: Partial<Record<CameraSlot, [number, number]>> = {};
    await Promise.all(
      CAMERA_SLOTS.map(async (slot) => {
        const key = this.mapping.cameras[slot];
        if (key) {
          imageShapes[slot] = this.outputShape(key);
          images[slot] = await this.cameraImages(ep, key, imgWin.rows);
          imageMasks[slot] = true;
        } else if (imageSize === 'native') {
          // No camera, no size: empty frames, and the mask says so.
          images[slot] = imageOffsets.map(() => new Uint8Array(0));
          imageMasks[slot] = false;
        } else {
          const n = imageSize[0] * imageSize[1] * 3;
          images[slot] = imageOffsets.map(() =>
            imageDtype === 'float32' ? new Float32Array(n).fill(1) : new Uint8Array(n).fill(255),
          );
          imageMasks[slot] = false;
          imageShapes[slot] = [imageSize[0], imageSize[1]];
        }
      }),
    );

    // 4. normalise
    if (normStats) {
      normalizeInPlace(v.state, this.stateDim, normStats.state);
      normalizeInPlace(v.actions, this.actionDim, normStats.actions);
    }

    // 5. zero-pad to padDim
    const state = new Float32Array(padDim);
    state.set(v.state);
    const actions = new Float32Array(actionOffsets.length * padDim);
    for (let k = 0; k < actionOffsets.length; k++)
      actions.set(v.actions.subarray(k * this.actionDim, (k + 1) * this.actionDim), k * padDim);

    const taskIndex = ep.columns.task_index?.values[row];
    const task = taskIndex !== undefined ? this.dataset.task(taskIndex) : (episode.tasks[0] ?? '');
    return {
      images,
      imageMasks,
      imageIsPad: imgWin.isPad,
      state,
      actions,
      actionIsPad: v.actionIsPad,
      task,
      meta: {
        index,
        episodeIndex: episode.episodeIndex,
        frameIndex: ep.columns.frame_index ? ep.columns.frame_index.values[row] : row,
        timestamp: ep.columns.timestamp ? ep.columns.timestamp.values[row] : row / this.dataset.fps,
        robot: this.mapping.robot,
        stateDim: this.stateDim,
        actionDim: this.actionDim,
        imageHeight: imageSize === 'native' ? 0 : imageSize[0],
        imageWidth: imageSize === 'native' ? 0 : imageSize[1],
        imageShapes,
        imageOffsets: [...imageOffsets],
        actionOffsets: [...actionOffsets],
        cameraKeys: { ...this.mapping.cameras },
      },
    };
  }

  /**
   * Statistics for normalisation: the state over every frame, and the actions over every
   * in-episode position of every chunk (padded positions excluded), after delta conversion —
   * so the stats describe exactly what the model is trained on.
   */
  async computeNormStats(): Promise<NormStats> {
    // Two streaming passes, so memory stays at one episode however large the dataset.
    const state = new StreamingFeatureStats(this.stateDim);
    const actions = new StreamingFeatureStats(this.actionDim);
    for (const pass of [1, 2]) {
      if (pass === 2) {
        state.startSecondPass();
        actions.startSecondPass();
      }
      for (const e of this.dataset.episodes) {
        const ep = await this.dataset.readEpisode(e.episodeIndex);
        for (let row = 0; row < ep.length; row++) {
          const v = this.vectors(ep, row);
          state.add(v.state);
          for (let k = 0; k < v.actionIsPad.length; k++)
            if (!v.actionIsPad[k]) actions.add(v.actions, k * this.actionDim);
        }
      }
    }
    return { state: state.result(), actions: actions.result() };
  }
}
