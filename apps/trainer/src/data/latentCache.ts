// The frozen image tokenizer's latents of every frame of a dataset, computed once and kept on disk
// and on the host. The generation expert reads the latents of frames t−15 and t of every view and
// predicts the latent of t+15 (SPEC §1); the tokenizer never changes during training, so encoding the
// same frame every epoch would be waste. A batch's latents are gathered from host memory and uploaded
// once per tensor (`PolicyBatch.latents`), and the policy's loss then never calls the encoder.
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  derivedSizes,
  type FrameLatents,
  type InternVLAA1Config,
  type PolicyProcessor,
  type RgbFrame,
} from '@vla/internvla-a1';
import { deltaWindow, LeRobotError, type CameraSlot, type LeRobotDataset, type Sample } from '@vla/lerobot';
import { fromHalfBits, noGrad, tensor, tidy, toHalfBits, type Tensor } from '@vla/tensor-webgpu';
import type { CosmosImageTokenizer } from '@vla/vae';
import {
  readLatentCacheFile,
  removeStaleLatentFiles,
  writeLatentCacheFile,
  type LatentArray,
  type LatentFileExpectation,
} from './latentCacheFile.js';
import { latentFingerprint, type LatentFingerprintInputs } from './latentFingerprint.js';

/** Storage precision of cached latents. */
export type LatentDtype = 'f16' | 'f32';

/** Options of {@link LatentCache.open}. */
export interface LatentCacheOptions {
  /** The dataset (opened with a video decoder). */
  dataset: LeRobotDataset;
  /** The resolved mapping's cameras: view slot → video key. Slots the processor does not use are ignored. */
  cameras: Partial<Record<CameraSlot, string>>;
  /** The policy's I/O layer: its cameras (view order), image size and image transform. */
  processor: PolicyProcessor;
  /** The frozen tokenizer (the policy's `vae`). */
  tokenizer: CosmosImageTokenizer;
  /** Folder of the cache files (created when absent). */
  dir: string;
  /** Frames per encoder call (default 16). */
  batchSize?: number;
  /**
   * Storage precision (default `f16`: half the disk and host memory; the rounding is at most 2⁻¹¹
   * of a latent's magnitude, far below the generation loss's scale).
   */
  dtype?: LatentDtype;
  /** Build progress: frames encoded so far and in all (not called when the file loads). */
  onProgress?: (done: number, total: number) => void;
  /** Where warnings go (a cache file that cannot be used); default `console.warn`. */
  onWarning?: (message: string) => void;
}

/** Most bytes of decoded frames held at once per camera while building (two chunks in flight). */
const DECODE_CHUNK_BYTES = 64 * 2 ** 20;

/** Offsets the generation expert reads: t−15 and t as inputs, t+15 as target (SPEC §1). */
const LATENT_TIMES = 3;

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

let halfTable: Float32Array | null = null;

/** f16 bits → f32, through a 64K-entry table built on first use. */
function halfToFloat(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65_536);
    for (let i = 0; i < 65_536; i++) halfTable[i] = fromHalfBits(i);
  }
  return halfTable;
}

/** Copies latent `row` of a cache array (f16 bits or f32) into `out` at `offset`, as f32. */
function copyRow(src: LatentArray, row: number, n: number, out: Float32Array, offset: number): void {
  if (src instanceof Float32Array) {
    out.set(src.subarray(row * n, (row + 1) * n), offset);
    return;
  }
  const table = halfToFloat();
  for (let i = 0; i < n; i++) out[offset + i] = table[src[row * n + i]];
}

/**
 * Latents of one dataset's frames by the frozen tokenizer, for every camera the processor uses:
 * per view slot `[frames, C, h, w]` on the host, indexed by the dataset's global frame index (the
 * `index` column), stored in `<dir>/<fingerprint>.safetensors`. {@link LatentCache.open} loads a
 * valid file for the current dataset, tokenizer and transform, or builds (and writes) it.
 */
export class LatentCache {
  /** The dataset. */
  readonly dataset: LeRobotDataset;
  /** The processor whose cameras and transform the latents follow. */
  readonly processor: PolicyProcessor;
  /** Per processor camera (view order): the video key it reads, or null (missing camera). */
  readonly sources: readonly (string | null)[];
  /** Hash of the fingerprint inputs (the file's name). */
  readonly fingerprint: string;
  /** What the fingerprint was computed from. */
  readonly inputs: LatentFingerprintInputs;
  /** The cache file. */
  readonly path: string;
  /** `[C, h, w]` of one frame's latent. */
  readonly latentShape: readonly [number, number, number];
  /** Storage precision. */
  readonly dtype: LatentDtype;
  /** True when this open encoded the frames; false when it loaded the file. */
  readonly built: boolean;
  /** Encoder calls this open made (0 after a load). */
  readonly encoderCalls: number;
  /** Per view slot with a camera: `[rows, C, h, w]`; `missing`: the all-ones image's latent. */
  private readonly arrays: Record<string, LatentArray>;

  private constructor(fields: {
    options: LatentCacheOptions;
    sources: (string | null)[];
    fingerprint: string;
    inputs: LatentFingerprintInputs;
    path: string;
    latentShape: [number, number, number];
    dtype: LatentDtype;
    built: boolean;
    encoderCalls: number;
    arrays: Record<string, LatentArray>;
  }) {
    this.dataset = fields.options.dataset;
    this.processor = fields.options.processor;
    this.sources = fields.sources;
    this.fingerprint = fields.fingerprint;
    this.inputs = fields.inputs;
    this.path = fields.path;
    this.latentShape = fields.latentShape;
    this.dtype = fields.dtype;
    this.built = fields.built;
    this.encoderCalls = fields.encoderCalls;
    this.arrays = fields.arrays;
  }

  /**
   * Opens the cache of `options.dataset`: computes the fingerprint (dataset meta files by content,
   * its data and video files by size and mtime, the tokenizer's encoder weights and config, the
   * processor's image size, cameras and transform), loads `<dir>/<fingerprint>.safetensors` when it
   * is valid (no encoder call), otherwise decodes every frame of every mapped camera episode by
   * episode, transforms it as training does (`processor.imageBatchToPolicy`), encodes it in batches,
   * writes the file atomically and removes this dataset's stale cache files. A file that exists but
   * fails a check (truncated, corrupt, another version) is rebuilt with a warning.
   */
  static async open(options: LatentCacheOptions): Promise<LatentCache> {
    const { dataset, processor, tokenizer } = options;
    const batchSize = options.batchSize ?? 16;
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new Error(`LatentCache: batchSize must be a positive integer, got ${batchSize}`);
    const dtype = options.dtype ?? 'f16';
    if (dtype !== 'f16' && dtype !== 'f32')
      throw new Error(`LatentCache: dtype must be 'f16' or 'f32', got ${JSON.stringify(dtype)}`);
    const cams = processor.json.cameras;
    const sources = cams.map((c) => options.cameras[c as CameraSlot] ?? null);
    for (const key of sources)
      if (key !== null && !dataset.videoKeys.includes(key))
        throw new Error(
          `LatentCache: camera ${key} is not a video feature of ${dataset.storage.location} (video features: ${dataset.videoKeys.join(', ') || 'none'})`,
        );
    const S = processor.json.imageSize;
    const [, C, h, w] = tokenizer.latentShape([1, 3, S, S]);
    const latentShape: [number, number, number] = [C, h, w];
    const rows = dataset.episodes.reduce((m, e) => Math.max(m, e.datasetToIndex), 0);
    const fileDtype = dtype === 'f16' ? 'F16' : 'F32';
    const { fingerprint, inputs } = await latentFingerprint({
      dataset,
      sources,
      processor,
      tokenizer,
      dtype: fileDtype,
    });
    const tensors: Record<string, number[]> = {};
    cams.forEach((cam, v) => {
      if (sources[v] !== null) tensors[cam] = [rows, C, h, w];
    });
    if (sources.includes(null)) tensors.missing = [1, C, h, w];
    const expected: LatentFileExpectation = {
      fingerprint,
      inputs: JSON.stringify(inputs),
      tensors,
      dtype: fileDtype,
    };
    await mkdir(options.dir, { recursive: true });
    const path = join(options.dir, `${fingerprint}.safetensors`);
    const common = { options, sources, fingerprint, inputs, path, latentShape, dtype };

    if (await exists(path)) {
      const read = await readLatentCacheFile(path, expected);
      if (read.ok) return new LatentCache({ ...common, built: false, encoderCalls: 0, arrays: read.arrays });
      (options.onWarning ?? console.warn)(`LatentCache: not using ${path} (${read.reason}); rebuilding it`);
    }

    const builder = new LatentBuilder(options, sources, latentShape, rows, batchSize, dtype);
    const arrays = await builder.build();
    await writeLatentCacheFile(path, dataset.storage.location, expected, arrays);
    await removeStaleLatentFiles(options.dir, dataset.storage.location, `${fingerprint}.safetensors`);
    return new LatentCache({ ...common, built: true, encoderCalls: builder.encoderCalls, arrays });
  }

  /** Frames (rows) held per camera: the dataset's largest global frame index + 1. */
  get numFrames(): number {
    const first = Object.entries(this.arrays).find(([k]) => k !== 'missing')?.[1];
    return first ? first.length / this.latentSize : 0;
  }

  /** Values of one frame's latent (`C·h·w`). */
  get latentSize(): number {
    return this.latentShape[0] * this.latentShape[1] * this.latentShape[2];
  }

  /**
   * Copies the latent of global frame `index` of the processor's camera `slot` into `out` at
   * `offset` as f32 (the all-ones image's latent for a missing camera).
   */
  copyLatent(slot: string, index: number, out: Float32Array, offset = 0): void {
    const v = this.processor.json.cameras.indexOf(slot);
    if (v < 0)
      throw new Error(
        `LatentCache: ${slot} is not a camera of the processor (cameras: ${this.processor.json.cameras.join(', ')})`,
      );
    if (this.sources[v] === null) {
      copyRow(this.arrays.missing, 0, this.latentSize, out, offset);
      return;
    }
    if (!Number.isInteger(index) || index < 0 || index >= this.numFrames)
      throw new Error(
        `LatentCache: frame index ${index} is outside ${this.dataset.storage.location} (0..${this.numFrames - 1})`,
      );
    copyRow(this.arrays[slot], index, this.latentSize, out, offset);
  }

  /** The latent of global frame `index` of camera `slot`, as a new f32 array (`C·h·w`). */
  latent(slot: string, index: number): Float32Array {
    const out = new Float32Array(this.latentSize);
    this.copyLatent(slot, index, out);
    return out;
  }
}

/** Decodes, transforms and encodes every frame of a dataset's mapped cameras. */
class LatentBuilder {
  encoderCalls = 0;
  private done = 0;
  private readonly total: number;

  constructor(
    private readonly o: LatentCacheOptions,
    private readonly sources: (string | null)[],
    private readonly shape: [number, number, number],
    private readonly rows: number,
    private readonly batchSize: number,
    private readonly dtype: LatentDtype,
  ) {
    const frames = o.dataset.episodes.reduce((n, e) => n + e.length, 0);
    this.total = sources.filter((s) => s !== null).length * frames + (sources.includes(null) ? 1 : 0);
  }

  async build(): Promise<Record<string, LatentArray>> {
    const n = this.shape[0] * this.shape[1] * this.shape[2];
    const alloc = (len: number): LatentArray =>
      this.dtype === 'f16' ? new Uint16Array(len) : new Float32Array(len);
    this.o.onProgress?.(0, this.total);
    const out: Record<string, LatentArray> = {};
    const cams = this.o.processor.json.cameras;
    for (let v = 0; v < cams.length; v++) {
      const key = this.sources[v];
      if (key === null) continue;
      out[cams[v]] = alloc(this.rows * n);
      await this.encodeCamera(v, key, out[cams[v]]);
    }
    const missing = cams.findIndex((_, v) => this.sources[v] === null);
    if (missing >= 0) {
      // The policy sees the all-ones image for any missing camera; one latent serves every slot.
      out.missing = alloc(n);
      await this.encodeInto(missing, [{}], out.missing, [0], 'the all-ones image of a missing camera');
    }
    return out;
  }

  /** Every frame of camera `key` (view `v`), episode by episode, decoding the next chunk while encoding. */
  private async encodeCamera(v: number, key: string, dst: LatentArray): Promise<void> {
    const { dataset } = this.o;
    const slot = this.o.processor.json.cameras[v];
    const [height, width] = dataset.imageShape(key);
    // Whole batches per decoded chunk, so that an episode takes ⌈length / batchSize⌉ encoder calls.
    const perChunk = Math.floor(DECODE_CHUNK_BYTES / (height * width * 3 * this.batchSize));
    const chunk = this.batchSize * Math.max(1, perChunk);
    for (const e of dataset.episodes) {
      const ep = await dataset.readEpisode(e.episodeIndex);
      const ts = ep.columns.timestamp;
      if (!ts)
        throw new LeRobotError(
          'malformed_data',
          `${ep.dataPath}: no 'timestamp' column, cannot locate video frames`,
        );
      // The same timestamps the sample builder decodes at (row r's `timestamp`).
      const decode = (start: number): Promise<Uint8Array[]> => {
        const rows = Array.from({ length: Math.min(chunk, ep.length - start) }, (_, i) => start + i);
        return dataset.decodeFrames(
          e.episodeIndex,
          key,
          rows.map((r) => ts.values[r]),
        );
      };
      let next: Promise<Uint8Array[]> | null = ep.length > 0 ? decode(0) : null;
      for (let start = 0; start < ep.length; start += chunk) {
        const frames = await next!;
        next = start + chunk < ep.length ? decode(start + chunk) : null;
        // A failure of the prefetch surfaces when it is awaited, not as an unhandled rejection.
        next?.catch(() => undefined);
        for (let b = 0; b < frames.length; b += this.batchSize) {
          const batch = frames.slice(b, b + this.batchSize);
          const records = batch.map((data): Record<string, RgbFrame> => ({
            [slot]: { width, height, data },
          }));
          const rows = batch.map((_, i) => e.datasetFromIndex + start + b + i);
          await this.encodeInto(v, records, dst, rows, `${key} of episode ${e.episodeIndex}`);
        }
      }
    }
  }

  /**
   * Transforms `records` exactly as training does, encodes view `v`'s images in one encoder call and
   * stores latent i at row `rows[i]` of `dst`.
   */
  private async encodeInto(
    v: number,
    records: Record<string, RgbFrame>[],
    dst: LatentArray,
    rows: number[],
    what: string,
  ): Promise<void> {
    const { processor, tokenizer } = this.o;
    const lat: Tensor = noGrad(() =>
      tidy(() => {
        const { images } = processor.imageBatchToPolicy(records);
        return tokenizer.encode(images[v]);
      }),
    );
    this.encoderCalls++;
    let values: Float32Array;
    try {
      values = (await lat.toArray()) as Float32Array;
    } finally {
      lat.dispose();
    }
    const n = this.shape[0] * this.shape[1] * this.shape[2];
    rows.forEach((row, i) => {
      for (let j = 0; j < n; j++) {
        const x = values[i * n + j];
        if (!Number.isFinite(x))
          throw new Error(`LatentCache: the tokenizer gave ${x} for ${what} (frame row ${row}, value ${j})`);
        if (dst instanceof Float32Array) dst[row * n + j] = x;
        else {
          const bits = toHalfBits(x);
          if ((bits & 0x7fff) === 0x7c00)
            throw new Error(
              `LatentCache: latent value ${x} of ${what} (frame row ${row}) overflows f16; open the cache with dtype 'f32'`,
            );
          dst[row * n + j] = bits;
        }
      }
    });
    this.done += rows.length;
    this.o.onProgress?.(this.done, this.total);
  }
}

/** One batch item for {@link gatherLatents}: a sample and the cache of the dataset it came from. */
export interface LatentBatchEntry {
  /** The cache of the sample's dataset. */
  cache: LatentCache;
  /** The sample (its `meta` gives the frame, episode and image offsets). */
  sample: Sample;
}

/**
 * The latents of a training batch from the caches (no encoder call): for each sample, the frames at
 * its image offsets (t−15, t, t+15, clamped to its episode as the sample's images were), views in the
 * processor's camera order. Uploaded once per tensor; the tensors belong to the caller's scope.
 * Returns `inputs [B·views·2, C, h, w]` ordered (batch, view, time) and `targets [B·views, C, h, w]`,
 * as `PolicyBatch.latents` takes them.
 */
export function gatherLatents(entries: readonly LatentBatchEntry[], config: InternVLAA1Config): FrameLatents {
  const B = entries.length;
  if (B < 1) throw new Error('gatherLatents: the batch is empty');
  const V = config.views;
  const h = derivedSizes(config).latentSize;
  const C = config.vae.latentChannels;
  const n = C * h * h;
  const inputs = new Float32Array(B * V * 2 * n);
  const targets = new Float32Array(B * V * n);
  entries.forEach(({ cache, sample }, b) => {
    const cams = cache.processor.json.cameras;
    const where = `gatherLatents: item ${b} (frame ${sample.meta.index} of ${cache.dataset.storage.location})`;
    if (cams.length !== V)
      throw new Error(`${where}: the cache's processor has ${cams.length} cameras, the config ${V} views`);
    if (cache.latentShape.join(',') !== [C, h, h].join(','))
      throw new Error(
        `${where}: cached latents are [${cache.latentShape.join(', ')}], the config's [${C}, ${h}, ${h}]`,
      );
    const offsets = sample.meta.imageOffsets;
    if (offsets.length !== LATENT_TIMES)
      throw new Error(
        `${where}: the sample has image offsets [${offsets.join(', ')}], expected 3 (t−15, t, t+15)`,
      );
    const ep = cache.dataset.episode(sample.meta.episodeIndex);
    const row = sample.meta.index - ep.datasetFromIndex;
    if (row < 0 || row >= ep.length)
      throw new Error(
        `${where}: the frame is not in episode ${ep.episodeIndex} (rows ${ep.datasetFromIndex}..${ep.datasetToIndex - 1})`,
      );
    const keys = sample.meta.cameraKeys as Partial<Record<string, string>>;
    cams.forEach((cam, v) => {
      if ((keys[cam] ?? null) !== cache.sources[v])
        throw new Error(
          `${where}: view ${cam} reads ${keys[cam] ?? 'no camera'} in the sample but ${cache.sources[v] ?? 'no camera'} in the cache`,
        );
    });
    const win = deltaWindow(row, ep.length, offsets).rows;
    const at = (t: number) => ep.datasetFromIndex + win[t];
    cams.forEach((cam, v) => {
      cache.copyLatent(cam, at(0), inputs, (b * V + v) * 2 * n);
      cache.copyLatent(cam, at(1), inputs, ((b * V + v) * 2 + 1) * n);
      cache.copyLatent(cam, at(2), targets, (b * V + v) * n);
    });
  });
  return { inputs: tensor(inputs, [B * V * 2, C, h, h]), targets: tensor(targets, [B * V, C, h, h]) };
}
