import { checkEpisodeRows, checkVideoSegment, isNumericFeature } from './consistency';
import { LeRobotError } from './errors';
import { featureWidth, readInfo, videoKeys, type DatasetInfo, type FeatureSpec } from './info';
import { LruCache } from './lru';
import { readMeta, type DatasetMeta, type EpisodeMeta } from './metadata';
import { closestFrame, readMp4Index, type Mp4Index, type Mp4Sample } from './mp4Index';
import { openParquet, type ParquetFile } from './parquetFile';
import { aggregateStats, type DatasetStats } from './stats';
import type { DatasetStorage } from './storage';
import type { VideoFrameDecoder } from './videoDecoder';

/** LeRobot's default tolerance between a requested timestamp and a video frame, in seconds. */
export const DEFAULT_TOLERANCE_S = 1e-4;

/** One numeric feature of an episode, row-major: row `i` is `values.subarray(i*width, (i+1)*width)`. */
export interface NumericColumn {
  key: string;
  dtype: string;
  shape: number[];
  width: number;
  /** float32 features stay Float32Array; float64, integer and bool features become Float64Array. */
  values: Float32Array | Float64Array;
}

/** All numeric columns of one episode's rows. */
export interface EpisodeFrames {
  episode: EpisodeMeta;
  length: number;
  /** Dataset-relative parquet path the rows came from. */
  dataPath: string;
  /** Every numeric feature of info.json found in the rows, including timestamp and the index columns. */
  columns: Record<string, NumericColumn>;
}

/** Options of {@link LeRobotDataset.open}. */
export interface OpenDatasetOptions {
  /** Decoder for video features (FfmpegDecoder in Node, WebCodecsDecoder in browsers). */
  decoder?: VideoFrameDecoder;
  /** Tolerance for matching timestamps to video frames, in seconds (default 1e-4). */
  toleranceS?: number;
  /** Episodes whose rows are kept in memory (default 64). */
  episodeCacheSize?: number;
}

/** Most values one episode's column may hold (a 2 GiB Float64Array); more is `feature_too_large`. */
const MAX_COLUMN_VALUES = 2 ** 28;

/** Returns the row value flattened to numbers, or undefined when it is not numeric. */
function flatten(v: unknown, out: number[]): boolean {
  if (typeof v === 'number') out.push(v);
  else if (typeof v === 'bigint') out.push(Number(v));
  else if (typeof v === 'boolean') out.push(v ? 1 : 0);
  else if (Array.isArray(v) || ArrayBuffer.isView(v)) {
    const a = v as ArrayLike<unknown>;
    for (let i = 0; i < a.length; i++) if (!flatten(a[i], out)) return false;
  } else return false;
  return true;
}

/**
 * A LeRobot v2.1 or v3.0 dataset read through a {@link DatasetStorage}: metadata, per-episode
 * rows, and video frames decoded at the rows' timestamps.
 */
export class LeRobotDataset {
  readonly storage: DatasetStorage;
  readonly info: DatasetInfo;
  readonly meta: DatasetMeta;
  /** Keys of video features. */
  readonly videoKeys: string[];
  private readonly decoder?: VideoFrameDecoder;
  private readonly tolerance: number;
  private readonly byIndex = new Map<number, EpisodeMeta>();
  private readonly sortedByFrom: EpisodeMeta[];
  private readonly fileStart = new Map<string, number>();
  /** Rows each data file must hold: the lengths of its episodes. */
  private readonly fileRows = new Map<string, number>();
  /** `episode|key` pairs whose video segment has been checked against the episode. */
  private readonly checkedVideos = new Set<string>();
  private readonly parquetFiles = new Map<string, Promise<ParquetFile>>();
  private readonly episodeCache: LruCache<number, Promise<EpisodeFrames>>;
  private readonly videoIndexes = new Map<string, Promise<Mp4Index>>();

  private constructor(
    storage: DatasetStorage,
    info: DatasetInfo,
    meta: DatasetMeta,
    options: OpenDatasetOptions,
  ) {
    this.storage = storage;
    this.info = info;
    this.meta = meta;
    this.videoKeys = videoKeys(info);
    this.decoder = options.decoder;
    this.tolerance = options.toleranceS ?? DEFAULT_TOLERANCE_S;
    this.episodeCache = new LruCache(options.episodeCacheSize ?? 64);
    for (const e of meta.episodes) {
      this.byIndex.set(e.episodeIndex, e);
      const start = this.fileStart.get(e.dataPath);
      if (start === undefined || e.datasetFromIndex < start)
        this.fileStart.set(e.dataPath, e.datasetFromIndex);
      this.fileRows.set(e.dataPath, (this.fileRows.get(e.dataPath) ?? 0) + e.length);
    }
    this.sortedByFrom = [...meta.episodes].sort((a, b) => a.datasetFromIndex - b.datasetFromIndex);
  }

  /** Reads `meta/` (info, episodes, tasks, stats) and returns the dataset. */
  static async open(storage: DatasetStorage, options: OpenDatasetOptions = {}): Promise<LeRobotDataset> {
    const info = await readInfo(storage);
    const meta = await readMeta(storage, info);
    return new LeRobotDataset(storage, info, meta, options);
  }

  /** Frames per second of the dataset. */
  get fps(): number {
    return this.info.fps;
  }

  /** Total number of frames (rows). */
  get numFrames(): number {
    return this.info.totalFrames;
  }

  /** All episodes, sorted by episode index. */
  get episodes(): EpisodeMeta[] {
    return this.meta.episodes;
  }

  /** The episode with this `episode_index`. */
  episode(episodeIndex: number): EpisodeMeta {
    const e = this.byIndex.get(episodeIndex);
    if (!e)
      throw new LeRobotError(
        'invalid_argument',
        `episode ${episodeIndex} does not exist in ${this.storage.location}`,
      );
    return e;
  }

  /** Task text of a `task_index`. */
  task(taskIndex: number): string {
    const t = this.meta.tasks.get(taskIndex);
    if (t === undefined)
      throw new LeRobotError(
        'malformed_data',
        `task_index ${taskIndex} is not in the task table of ${this.storage.location}`,
      );
    return t;
  }

  /**
   * Dataset statistics: `meta/stats.json` when stored, else the per-episode stats aggregated the
   * way LeRobot does (v2.1 stores only those).
   */
  get stats(): DatasetStats | null {
    if (this.meta.stats) return this.meta.stats;
    const per = this.meta.episodes.map((e) => e.stats).filter((s): s is DatasetStats => s !== undefined);
    return per.length === this.meta.episodes.length && per.length > 0 ? aggregateStats(per) : null;
  }

  /** Maps a global frame index (the `index` column) to its episode and row within it. */
  locate(index: number): { episode: EpisodeMeta; row: number } {
    const list = this.sortedByFrom;
    let lo = 0;
    let hi = list.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (list[mid].datasetFromIndex <= index) lo = mid;
      else hi = mid - 1;
    }
    const e = list[lo];
    if (!e || index < e.datasetFromIndex || index >= e.datasetToIndex) {
      throw new LeRobotError(
        'invalid_argument',
        `frame index ${index} is outside the dataset (0..${this.numFrames - 1})`,
      );
    }
    return { episode: e, row: index - e.datasetFromIndex };
  }

  private parquet(path: string): Promise<ParquetFile> {
    let p = this.parquetFiles.get(path);
    if (!p) {
      p = openParquet(this.storage, path);
      p.catch(() => this.parquetFiles.delete(path));
      this.parquetFiles.set(path, p);
    }
    return p;
  }

  /**
   * Reads (and caches) the rows of one episode as numeric columns, checking them against
   * info.json and the episode metadata: the file holds exactly its episodes' rows, `frame_index`
   * counts from 0, `timestamp` is `frame_index / fps` (within the tolerance), `index` and
   * `episode_index` match the episode.
   */
  readEpisode(episodeIndex: number): Promise<EpisodeFrames> {
    const cached = this.episodeCache.get(episodeIndex);
    if (cached) return cached;
    const p = this.loadEpisode(this.episode(episodeIndex));
    p.catch(() => this.episodeCache.delete(episodeIndex));
    this.episodeCache.set(episodeIndex, p);
    return p;
  }

  private async loadEpisode(ep: EpisodeMeta): Promise<EpisodeFrames> {
    const file = await this.parquet(ep.dataPath);
    const offset = ep.datasetFromIndex - this.fileStart.get(ep.dataPath)!;
    const expectedRows = this.fileRows.get(ep.dataPath)!;
    if (file.numRows !== expectedRows) {
      throw new LeRobotError(
        'malformed_data',
        `${ep.dataPath} has ${file.numRows} rows but its episodes' lengths add up to ${expectedRows} ` +
          `(episode ${ep.episodeIndex}: rows ${offset}..${offset + ep.length - 1})`,
        { path: ep.dataPath },
      );
    }
    const keys = Object.entries(this.info.features).filter(([, f]) => isNumericFeature(f));
    for (const [key] of keys) {
      if (!file.columns.includes(key)) {
        throw new LeRobotError(
          'malformed_data',
          `${ep.dataPath} has no column '${key}' declared in meta/info.json`,
          { path: ep.dataPath },
        );
      }
    }
    const rows = await file.readRows({
      columns: keys.map(([k]) => k),
      rowStart: offset,
      rowEnd: offset + ep.length,
    });
    if (rows.length !== ep.length) {
      throw new LeRobotError(
        'malformed_data',
        `${ep.dataPath}: read ${rows.length} rows for episode ${ep.episodeIndex}, expected ${ep.length}`,
        { path: ep.dataPath },
      );
    }
    const columns: Record<string, NumericColumn> = {};
    for (const [key, spec] of keys) columns[key] = this.toColumn(key, spec, rows, ep);
    checkEpisodeRows(
      ep,
      {
        timestamp: columns.timestamp?.values,
        frameIndex: columns.frame_index?.values,
        index: columns.index?.values,
      },
      this.fps,
      this.tolerance,
      this.info.codebaseVersion === 'v3.0' ? 'meta/episodes' : 'meta/episodes.jsonl',
    );
    const epCol = columns.episode_index?.values;
    if (epCol) {
      for (let i = 0; i < ep.length; i++) {
        if (epCol[i] !== ep.episodeIndex) {
          throw new LeRobotError(
            'malformed_data',
            `${ep.dataPath} row ${offset + i} has episode_index ${epCol[i]}, expected ${ep.episodeIndex} (episode metadata and data disagree)`,
            { path: ep.dataPath },
          );
        }
      }
    }
    return { episode: ep, length: ep.length, dataPath: ep.dataPath, columns };
  }

  private toColumn(
    key: string,
    spec: FeatureSpec,
    rows: Record<string, unknown>[],
    ep: EpisodeMeta,
  ): NumericColumn {
    const width = featureWidth(spec);
    // Row 0 is checked before allocating, so a wrong shape is reported as such, not as a RangeError.
    const buf: number[] = [];
    if (rows.length > 0 && flatten(rows[0][key], buf) && buf.length !== width) {
      throw new LeRobotError(
        'shape_mismatch',
        `${ep.dataPath}: feature '${key}' has ${buf.length} values in row 0 of episode ${ep.episodeIndex}, ` +
          `but meta/info.json declares shape ${JSON.stringify(spec.shape)} (${width} values)`,
        { path: ep.dataPath },
      );
    }
    if (rows.length * width > MAX_COLUMN_VALUES) {
      throw new LeRobotError(
        'feature_too_large',
        `${ep.dataPath}: feature '${key}' of episode ${ep.episodeIndex} has ${rows.length} rows of ${width} values, ` +
          `more than ${MAX_COLUMN_VALUES} in all`,
        { path: ep.dataPath },
      );
    }
    const values =
      spec.dtype === 'float32'
        ? new Float32Array(rows.length * width)
        : new Float64Array(rows.length * width);
    for (let i = 0; i < rows.length; i++) {
      buf.length = 0;
      if (!flatten(rows[i][key], buf)) {
        throw new LeRobotError(
          'malformed_data',
          `${ep.dataPath}: feature '${key}' row ${i} of episode ${ep.episodeIndex} is not numeric`,
          {
            path: ep.dataPath,
          },
        );
      }
      if (buf.length !== width) {
        throw new LeRobotError(
          'shape_mismatch',
          `${ep.dataPath}: feature '${key}' has ${buf.length} values in row ${i} of episode ${ep.episodeIndex}, ` +
            `but meta/info.json declares shape ${JSON.stringify(spec.shape)} (${width} values)`,
          { path: ep.dataPath },
        );
      }
      values.set(buf, i * width);
    }
    return { key, dtype: spec.dtype, shape: spec.shape, width, values };
  }

  /** The mp4 index of a video file, checked against the feature's declared shape. */
  videoIndex(key: string, path: string): Promise<Mp4Index> {
    let p = this.videoIndexes.get(path);
    if (!p) {
      p = readMp4Index(this.storage, path).then((index) => {
        const [h, w] = this.info.features[key].shape;
        const names = this.info.features[key].names;
        // Some datasets list the shape channel-first; accept either order as long as the sizes agree.
        const chw = Array.isArray(names) && names[0] === 'channels';
        const [eh, ew] = chw ? [this.info.features[key].shape[1], this.info.features[key].shape[2]] : [h, w];
        if (index.height !== eh || index.width !== ew) {
          throw new LeRobotError(
            'shape_mismatch',
            `${path}: video is ${index.width}x${index.height} but meta/info.json declares '${key}' with shape ${JSON.stringify(this.info.features[key].shape)}`,
            { path },
          );
        }
        return index;
      });
      p.catch(() => this.videoIndexes.delete(path));
      this.videoIndexes.set(path, p);
    }
    return p;
  }

  /**
   * Finds the video frames of episode `episodeIndex`, camera `key`, at in-episode `timestamps`
   * (seconds, as in the rows' `timestamp` column; v3.0 adds the episode's `from_timestamp`).
   * The first time an episode's video is used, its frames are checked against the episode
   * (`video_mismatch`: count, fps, from/to range; from the mp4 index, without decoding).
   * Raises `timestamp_not_found` naming episode, key and timestamp when no frame is within tolerance.
   */
  async findFrames(
    episodeIndex: number,
    key: string,
    timestamps: number[],
  ): Promise<{ index: Mp4Index; path: string; frames: Mp4Sample[] }> {
    if (!this.videoKeys.includes(key)) {
      throw new LeRobotError(
        'invalid_argument',
        `'${key}' is not a video feature of ${this.storage.location} (video features: ${this.videoKeys.join(', ') || 'none'})`,
      );
    }
    const ep = this.episode(episodeIndex);
    const seg = ep.videos[key];
    const index = await this.videoIndex(key, seg.path);
    const checked = `${episodeIndex}|${key}`;
    if (!this.checkedVideos.has(checked)) {
      const wholeFile = this.info.codebaseVersion !== 'v3.0';
      checkVideoSegment(index, seg, ep, key, this.fps, this.tolerance, wholeFile);
      this.checkedVideos.add(checked);
    }
    const frames = timestamps.map((ts) => {
      const t = seg.fromTimestamp + ts;
      const f = closestFrame(index.frames, t, this.tolerance);
      if (!f) {
        const near = closestFrame(index.frames, t, Infinity);
        throw new LeRobotError(
          'timestamp_not_found',
          `episode ${episodeIndex}, key '${key}': no video frame within ${this.tolerance} s of timestamp ${ts}` +
            ` (time ${t} in ${seg.path}; nearest frame at ${near?.time ?? 'none'})`,
          { path: seg.path },
        );
      }
      return f;
    });
    return { index, path: seg.path, frames };
  }

  /**
   * Decodes the frames of camera `key` at in-episode `timestamps` as packed RGB (`H×W×3`), one
   * array per timestamp. All frames come from a single decoder call.
   */
  async decodeFrames(episodeIndex: number, key: string, timestamps: number[]): Promise<Uint8Array[]> {
    if (!this.decoder)
      throw new LeRobotError(
        'invalid_argument',
        `no video decoder was given to LeRobotDataset.open, cannot decode '${key}'`,
      );
    const { index, path, frames } = await this.findFrames(episodeIndex, key, timestamps);
    const unique = [...new Set(frames)].sort((a, b) => a.frameIndex - b.frameIndex);
    const decoded = await this.decoder.decode({ storage: this.storage, path, index, frames: unique });
    const byFrame = new Map(unique.map((f, i) => [f, decoded[i]]));
    return frames.map((f) => byFrame.get(f)!);
  }

  /** The frame size of a camera as declared in info.json (`[height, width, channels]`). */
  imageShape(key: string): [number, number, number] {
    const s = this.info.features[key]?.shape;
    if (!s || s.length !== 3)
      throw new LeRobotError('invalid_argument', `'${key}' is not an image or video feature`);
    const names = this.info.features[key].names;
    return Array.isArray(names) && names[0] === 'channels' ? [s[1], s[2], s[0]] : [s[0], s[1], s[2]];
  }
}
