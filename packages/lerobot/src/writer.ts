import { mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { SchemaElement } from 'hyparquet';
import { LeRobotError } from './errors';
import { formatPathTemplate, INDEX_KEYS } from './info';
import { readMp4Index } from './mp4Index';
import { NodeFileStorage } from './nodeStorage';
import {
  aggregateStats,
  computeFeatureStats,
  imageStatsSampleIndices,
  imageStatsStride,
  STAT_KEYS,
  statsToJson,
  type DatasetStats,
} from './stats';
import {
  codecFamily,
  concatVideos,
  pickVideoCodec,
  VideoStreamEncoder,
  type VideoCodecName,
} from './videoEncoder';

/** A feature the writer records. Numeric features are 1-D; videos are `[height, width, 3]` rgb24. */
export interface WriterFeatureSpec {
  dtype: 'float32' | 'float64' | 'int64' | 'int32' | 'bool' | 'video';
  shape: number[];
  names?: string[] | null;
}

/** Options of {@link LeRobotWriter.create}. */
export interface LeRobotWriterOptions {
  fps: number;
  robotType?: string | null;
  /** Recorded features, excluding the index columns the writer adds (timestamp, frame_index, ...). */
  features: Record<string, WriterFeatureSpec>;
  /** Video encoder (default: libsvtav1 when usable, else libaom-av1, else libx264). */
  videoCodec?: VideoCodecName;
  /** Constant rate factor (default 30, LeRobot's). */
  crf?: number;
  /** Keyframe interval (default 2, LeRobot's). */
  gop?: number;
  ffmpegPath?: string;
  /** Files per chunk folder (default 1000). */
  chunksSize?: number;
  /** Episodes packed in one data/video file before starting the next (default: all in one). */
  episodesPerFile?: number;
}

/** One frame for {@link LeRobotWriter.addFrame}: a value per feature; videos as rgb24 bytes. */
export type WriterFrame = Record<string, ArrayLike<number> | number | boolean>;

interface SavedEpisode {
  episodeIndex: number;
  tasks: string[];
  length: number;
  from: number;
  chunk: number;
  file: number;
  /** Frame offset of the episode inside the shared video file. */
  videoFrameOffset: number;
  videoFrom: Record<string, number>;
  stats: DatasetStats;
}

const DATA_PATH = 'data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet';
const VIDEO_PATH = 'videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4';
const INDEX_SPECS: Record<string, WriterFeatureSpec> = {
  timestamp: { dtype: 'float32', shape: [1], names: null },
  frame_index: { dtype: 'int64', shape: [1], names: null },
  episode_index: { dtype: 'int64', shape: [1], names: null },
  index: { dtype: 'int64', shape: [1], names: null },
  task_index: { dtype: 'int64', shape: [1], names: null },
};
const PARQUET_TYPE: Record<string, SchemaElement['type']> = {
  float32: 'FLOAT',
  float64: 'DOUBLE',
  int64: 'INT64',
  int32: 'INT32',
  bool: 'BOOLEAN',
};

function listSchema(name: string, leaf: SchemaElement, depth = 1): SchemaElement[] {
  const out: SchemaElement[] = [];
  let current = name;
  for (let d = 0; d < depth; d++) {
    out.push({ name: current, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 });
    out.push({ name: 'list', repetition_type: 'REPEATED', num_children: 1 });
    current = 'element';
  }
  out.push({ ...leaf, name: 'element', repetition_type: 'OPTIONAL' });
  return out;
}

function writeParquet(
  columns: { name: string; data: unknown[]; schema: SchemaElement[] }[],
  rowGroups: number[] | number,
  kv: Record<string, string> = {},
): Uint8Array {
  const buf = parquetWriteBuffer({
    columnData: columns.map((c) => ({ name: c.name, data: c.data as never })),
    schema: [{ name: 'schema', num_children: columns.length }, ...columns.flatMap((c) => c.schema)],
    rowGroupSize: rowGroups,
    kvMetadata: Object.entries(kv).map(([key, value]) => ({ key, value })),
    createdBy: '@vla/lerobot',
  });
  return new Uint8Array(buf);
}

/**
 * Records episodes into a LeRobot v3.0 dataset: `data/chunk-*\/file-*.parquet`,
 * `videos/{key}/chunk-*\/file-*.mp4` (ffmpeg, yuv420p), `meta/info.json`, `meta/tasks.parquet`,
 * `meta/episodes/chunk-000/file-000.parquet` (with per-episode stats columns) and `meta/stats.json`.
 *
 * ```ts
 * const w = await LeRobotWriter.create(dir, { fps, robotType, features });
 * w.addFrame({ 'observation.state': q, action: a, 'observation.images.head': rgb });
 * await w.saveEpisode({ task: 'pick the cube' });
 * await w.finalize();
 * ```
 */
export class LeRobotWriter {
  readonly root: string;
  private readonly opts: LeRobotWriterOptions;
  private readonly features: Record<string, WriterFeatureSpec>;
  private readonly numericKeys: string[];
  private readonly videoKeys: string[];
  private readonly codecs: Record<string, VideoCodecName>;
  private readonly tmp: string;
  private readonly tasks = new Map<string, number>();
  private readonly episodes: SavedEpisode[] = [];
  private readonly ffmpeg: string;
  // Current episode
  private columns: Record<string, number[]> = {};
  private statFrames: Record<string, Uint8Array[]> = {};
  private encoders: Record<string, VideoStreamEncoder> = {};
  private frameCount = 0;
  // Current data/video file
  private fileEpisodes: SavedEpisode[] = [];
  private fileEpisodeVideos: Record<string, string[]> = {};
  private fileRows: Record<string, number[]> = {};
  private chunk = 0;
  private file = 0;
  private globalIndex = 0;
  private finalized = false;

  private constructor(
    root: string,
    tmp: string,
    opts: LeRobotWriterOptions,
    codecs: Record<string, VideoCodecName>,
  ) {
    this.root = root;
    this.tmp = tmp;
    this.opts = opts;
    this.features = opts.features;
    this.numericKeys = Object.keys(opts.features).filter((k) => opts.features[k].dtype !== 'video');
    this.videoKeys = Object.keys(opts.features).filter((k) => opts.features[k].dtype === 'video');
    this.codecs = codecs;
    this.ffmpeg = opts.ffmpegPath ?? 'ffmpeg';
    this.resetEpisode();
    this.resetFile();
  }

  /** Creates an empty dataset folder (refusing one that already holds `meta/info.json`). */
  static async create(dir: string, options: LeRobotWriterOptions): Promise<LeRobotWriter> {
    if (!(options.fps > 0))
      throw new LeRobotError('invalid_argument', `LeRobotWriter: fps must be > 0, got ${options.fps}`);
    const codecs: Record<string, VideoCodecName> = {};
    for (const [key, f] of Object.entries(options.features)) {
      if ((INDEX_KEYS as readonly string[]).includes(key)) {
        throw new LeRobotError(
          'invalid_argument',
          `LeRobotWriter: feature '${key}' is written automatically; do not declare it`,
        );
      }
      if (!Array.isArray(f.shape) || f.shape.some((d) => !Number.isInteger(d) || d < 1)) {
        throw new LeRobotError(
          'invalid_argument',
          `LeRobotWriter: feature '${key}' has invalid shape ${JSON.stringify(f.shape)}`,
        );
      }
      if (f.dtype === 'video') {
        if (f.shape.length !== 3 || f.shape[2] !== 3) {
          throw new LeRobotError(
            'invalid_argument',
            `LeRobotWriter: video '${key}' must have shape [height, width, 3], got ${JSON.stringify(f.shape)}`,
          );
        }
        if (f.shape[0] % 2 || f.shape[1] % 2) {
          throw new LeRobotError(
            'invalid_argument',
            `LeRobotWriter: video '${key}' needs even height and width for yuv420p, got ${f.shape[0]}x${f.shape[1]}`,
          );
        }
        codecs[key] =
          options.videoCodec ?? (await pickVideoCodec(f.shape[1], f.shape[0], options.ffmpegPath));
      } else if (!(f.dtype in PARQUET_TYPE)) {
        throw new LeRobotError(
          'invalid_argument',
          `LeRobotWriter: feature '${key}' has unsupported dtype '${f.dtype}'`,
        );
      } else if (f.shape.length !== 1) {
        throw new LeRobotError(
          'invalid_argument',
          `LeRobotWriter: numeric feature '${key}' must be 1-D, got shape ${JSON.stringify(f.shape)}`,
        );
      }
    }
    const exists = await stat(join(dir, 'meta/info.json')).then(
      () => true,
      () => false,
    );
    if (exists)
      throw new LeRobotError(
        'invalid_argument',
        `LeRobotWriter: ${dir} already holds a dataset (meta/info.json exists)`,
      );
    await mkdir(dir, { recursive: true });
    const tmp = await mkdtemp(join(tmpdir(), 'vla-lerobot-writer-'));
    return new LeRobotWriter(dir, tmp, options, codecs);
  }

  private resetEpisode(): void {
    this.columns = Object.fromEntries([...this.numericKeys, ...INDEX_KEYS].map((k) => [k, [] as number[]]));
    this.statFrames = Object.fromEntries(this.videoKeys.map((k) => [k, [] as Uint8Array[]]));
    this.encoders = {};
    this.frameCount = 0;
  }

  private resetFile(): void {
    this.fileEpisodes = [];
    this.fileEpisodeVideos = Object.fromEntries(this.videoKeys.map((k) => [k, [] as string[]]));
    this.fileRows = Object.fromEntries([...this.numericKeys, ...INDEX_KEYS].map((k) => [k, [] as number[]]));
  }

  /** Frames recorded in the episode being built. */
  get currentEpisodeLength(): number {
    return this.frameCount;
  }

  /**
   * Adds one frame to the current episode. Every declared feature must be present with its
   * declared size; `timestamp`, if given, must equal `frame_index / fps` within 1e-4 s.
   */
  addFrame(frame: WriterFrame): void {
    if (this.finalized) throw new LeRobotError('invalid_argument', 'LeRobotWriter: addFrame after finalize');
    const k = this.frameCount;
    for (const key of Object.keys(frame)) {
      if (key !== 'timestamp' && !this.features[key])
        throw new LeRobotError('invalid_argument', `addFrame: unknown feature '${key}'`);
    }
    if (frame.timestamp !== undefined && Math.abs(Number(frame.timestamp) - k / this.opts.fps) > 1e-4) {
      throw new LeRobotError(
        'invalid_argument',
        `addFrame: timestamp ${frame.timestamp} of frame ${k} is not frame_index / fps = ${k / this.opts.fps}`,
      );
    }
    // Validate everything before touching the buffers, so a bad frame leaves the episode intact.
    for (const key of [...this.numericKeys, ...this.videoKeys]) {
      const v = frame[key];
      const spec = this.features[key];
      const want = spec.shape.reduce((a, b) => a * b, 1);
      const got = typeof v === 'number' || typeof v === 'boolean' ? 1 : v?.length;
      if (v === undefined)
        throw new LeRobotError('invalid_argument', `addFrame: frame ${k} lacks feature '${key}'`);
      if (got !== want) {
        throw new LeRobotError(
          'shape_mismatch',
          `addFrame: feature '${key}' has ${got} values, declared shape ${JSON.stringify(spec.shape)} needs ${want}`,
        );
      }
    }
    for (const key of this.numericKeys) {
      const v = frame[key];
      const col = this.columns[key];
      const f32 = this.features[key].dtype === 'float32';
      const push = (x: number): void => {
        col.push(f32 ? Math.fround(x) : this.features[key].dtype === 'bool' ? (x ? 1 : 0) : x);
      };
      if (typeof v === 'number') push(v);
      else if (typeof v === 'boolean') push(v ? 1 : 0);
      else for (let i = 0; i < v.length; i++) push(Number(v[i]));
    }
    for (const key of this.videoKeys) {
      const [h, w] = this.features[key].shape;
      const bytes =
        frame[key] instanceof Uint8Array
          ? (frame[key] as Uint8Array)
          : Uint8Array.from(frame[key] as ArrayLike<number>);
      this.encoders[key] ??= new VideoStreamEncoder(join(this.tmp, `ep${this.episodes.length}-${key}.mp4`), {
        codec: this.codecs[key],
        fps: this.opts.fps,
        width: w,
        height: h,
        crf: this.opts.crf,
        gop: this.opts.gop,
        ffmpegPath: this.ffmpeg,
      });
      this.encoders[key].write(bytes.slice());
      // Keep a strided copy for image statistics (LeRobot subsamples pixels the same way).
      const s = imageStatsStride(h, w);
      if (s === 1) this.statFrames[key].push(bytes.slice());
      else {
        const hs = Math.ceil(h / s);
        const ws = Math.ceil(w / s);
        const small = new Uint8Array(hs * ws * 3);
        for (let y = 0, o = 0; y < h; y += s)
          for (let x = 0; x < w; x += s, o += 3)
            small.set(bytes.subarray((y * w + x) * 3, (y * w + x) * 3 + 3), o);
        this.statFrames[key].push(small);
      }
    }
    this.columns.timestamp.push(Math.fround(k / this.opts.fps));
    this.columns.frame_index.push(k);
    this.frameCount++;
  }

  /** Drops the frames of the current episode. */
  async clearEpisode(): Promise<void> {
    await Promise.all(Object.values(this.encoders).map((e) => e.abort()));
    this.resetEpisode();
  }

  /**
   * Closes the current episode: finishes its videos, computes its statistics and queues its
   * rows for the current data file. Resolves to the new episode's index.
   */
  async saveEpisode({ task }: { task: string | string[] }): Promise<number> {
    if (this.finalized)
      throw new LeRobotError('invalid_argument', 'LeRobotWriter: saveEpisode after finalize');
    const length = this.frameCount;
    if (length === 0) throw new LeRobotError('invalid_argument', 'saveEpisode: the episode has no frames');
    const tasks = Array.isArray(task) ? task : [task];
    if (tasks.length === 0 || tasks.some((t) => typeof t !== 'string' || t === '')) {
      throw new LeRobotError(
        'invalid_argument',
        `saveEpisode: task must be a non-empty string, got ${JSON.stringify(task)}`,
      );
    }
    for (const t of tasks) if (!this.tasks.has(t)) this.tasks.set(t, this.tasks.size);
    const episodeIndex = this.episodes.length;
    const from = this.globalIndex;
    const c = this.columns;
    for (let i = 0; i < length; i++) {
      c.episode_index.push(episodeIndex);
      c.index.push(from + i);
      c.task_index.push(this.tasks.get(tasks[0])!);
    }
    const videoPaths: Record<string, string> = {};
    await Promise.all(
      this.videoKeys.map(async (key) => {
        await this.encoders[key].finish();
        videoPaths[key] = this.encoders[key].output;
      }),
    );
    const stats: DatasetStats = {};
    for (const key of [...this.numericKeys, ...INDEX_KEYS]) {
      const spec = this.features[key] ?? INDEX_SPECS[key];
      stats[key] = computeFeatureStats(c[key], spec.shape[0]);
    }
    for (const key of this.videoKeys) {
      const frames = this.statFrames[key];
      const picked = imageStatsSampleIndices(length).map((i) => frames[i]);
      const values = new Float64Array(picked.reduce((a, f) => a + f.length, 0));
      let o = 0;
      for (const f of picked) for (let i = 0; i < f.length; i++) values[o++] = f[i] / 255;
      stats[key] = computeFeatureStats(values, 3, { count: picked.length });
    }
    const videoFrameOffset = this.fileEpisodes.reduce((a, e) => a + e.length, 0);
    const ep: SavedEpisode = {
      episodeIndex,
      tasks,
      length,
      from,
      chunk: this.chunk,
      file: this.file,
      videoFrameOffset,
      videoFrom: {},
      stats,
    };
    this.episodes.push(ep);
    this.fileEpisodes.push(ep);
    for (const key of this.videoKeys) this.fileEpisodeVideos[key].push(videoPaths[key]);
    for (const [key, values] of Object.entries(c)) for (const v of values) this.fileRows[key].push(v);
    this.globalIndex += length;
    this.resetEpisode();
    if (this.fileEpisodes.length >= (this.opts.episodesPerFile ?? Infinity)) await this.flushFile();
    return episodeIndex;
  }

  private rel(template: string, extra: Record<string, string | number> = {}): string {
    return formatPathTemplate(template, { chunk_index: this.chunk, file_index: this.file, ...extra });
  }

  private async put(rel: string, bytes: Uint8Array | string): Promise<void> {
    const full = join(this.root, rel);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, bytes);
  }

  private hfFeatures(): string {
    const features: Record<string, unknown> = {};
    for (const key of [...this.numericKeys, ...INDEX_KEYS]) {
      const spec = this.features[key] ?? INDEX_SPECS[key];
      const value = { dtype: spec.dtype, _type: 'Value' };
      // LeRobot stores shape [1] as a scalar column, longer vectors as fixed-length lists.
      features[key] = spec.shape[0] === 1 ? value : { feature: value, length: spec.shape[0], _type: 'List' };
    }
    return JSON.stringify({ info: { features } });
  }

  /** Writes the data parquet and joins the episode videos of the current file, then moves on. */
  private async flushFile(): Promise<void> {
    if (this.fileEpisodes.length === 0) return;
    const cols = [...this.numericKeys, ...INDEX_KEYS].map((key) => {
      const spec = this.features[key] ?? INDEX_SPECS[key];
      const values = this.fileRows[key];
      const leaf: SchemaElement = { name: key, type: PARQUET_TYPE[spec.dtype] };
      const cast = (x: number): unknown =>
        spec.dtype === 'int64' ? BigInt(x) : spec.dtype === 'bool' ? x !== 0 : x;
      if (spec.shape[0] === 1)
        return {
          name: key,
          data: values.map(cast),
          schema: [{ ...leaf, repetition_type: 'OPTIONAL' as const }],
        };
      const w = spec.shape[0];
      const rows = Array.from({ length: values.length / w }, (_, i) =>
        values.slice(i * w, (i + 1) * w).map(cast),
      );
      return { name: key, data: rows, schema: listSchema(key, leaf) };
    });
    await this.put(
      this.rel(DATA_PATH),
      writeParquet(
        cols,
        this.fileEpisodes.map((e) => e.length),
        { huggingface: this.hfFeatures() },
      ),
    );
    const storage = new NodeFileStorage(this.root);
    for (const key of this.videoKeys) {
      const rel = this.rel(VIDEO_PATH, { video_key: key });
      const out = join(this.root, rel);
      await mkdir(dirname(out), { recursive: true });
      const inputs = this.fileEpisodeVideos[key];
      if (inputs.length === 1)
        await rename(inputs[0], out).catch(() =>
          concatVideos(inputs, out, join(this.tmp, 'list.txt'), this.ffmpeg),
        );
      else await concatVideos(inputs, out, join(this.tmp, `list-${key}.txt`), this.ffmpeg);
      // Episode start times come from the joined file itself, and every frame must sit on the fps grid.
      const index = await readMp4Index(storage, rel);
      const total = this.fileEpisodes.reduce((a, e) => a + e.length, 0);
      if (index.frames.length !== total) {
        throw new LeRobotError(
          'video_error',
          `${rel} has ${index.frames.length} frames after joining, expected ${total}`,
          { path: rel },
        );
      }
      for (const e of this.fileEpisodes) {
        const start = index.frames[e.videoFrameOffset].time;
        for (let k = 0; k < e.length; k++) {
          const t = index.frames[e.videoFrameOffset + k].time;
          if (Math.abs(t - start - k / this.opts.fps) > 1e-4) {
            throw new LeRobotError(
              'video_error',
              `${rel}: frame ${k} of episode ${e.episodeIndex} is at ${t - start} s, expected ${k / this.opts.fps}`,
              { path: rel },
            );
          }
        }
        e.videoFrom[key] = start;
      }
    }
    this.resetFile();
    this.file += 1;
    if (this.file >= (this.opts.chunksSize ?? 1000)) {
      this.chunk += 1;
      this.file = 0;
    }
  }

  /** Writes the remaining data and all metadata; the writer cannot be used afterwards. */
  async finalize(): Promise<void> {
    if (this.finalized) return;
    if (this.frameCount > 0)
      throw new LeRobotError(
        'invalid_argument',
        `finalize: ${this.frameCount} frames were added but not saved (call saveEpisode or clearEpisode)`,
      );
    if (this.episodes.length === 0)
      throw new LeRobotError('invalid_argument', 'finalize: no episode was saved');
    await this.flushFile();
    this.finalized = true;
    const fps = this.opts.fps;
    const statKeys = [...this.numericKeys, ...INDEX_KEYS, ...this.videoKeys];
    // meta/episodes: column order as LeRobot writes it.
    const int64 = (xs: number[]) => xs.map((x) => BigInt(x));
    const eps = this.episodes;
    const colsE: { name: string; data: unknown[]; schema: SchemaElement[] }[] = [
      {
        name: 'episode_index',
        data: int64(eps.map((e) => e.episodeIndex)),
        schema: [{ name: 'episode_index', type: 'INT64', repetition_type: 'OPTIONAL' }],
      },
      {
        name: 'tasks',
        data: eps.map((e) => e.tasks),
        schema: listSchema('tasks', { name: 'tasks', type: 'BYTE_ARRAY', converted_type: 'UTF8' }),
      },
      {
        name: 'length',
        data: int64(eps.map((e) => e.length)),
        schema: [{ name: 'length', type: 'INT64', repetition_type: 'OPTIONAL' }],
      },
    ];
    const scalar = (name: string, type: 'INT64' | 'DOUBLE', data: number[]) =>
      colsE.push({
        name,
        data: type === 'INT64' ? int64(data) : data,
        schema: [{ name, type, repetition_type: 'OPTIONAL' }],
      });
    scalar(
      'data/chunk_index',
      'INT64',
      eps.map((e) => e.chunk),
    );
    scalar(
      'data/file_index',
      'INT64',
      eps.map((e) => e.file),
    );
    scalar(
      'dataset_from_index',
      'INT64',
      eps.map((e) => e.from),
    );
    scalar(
      'dataset_to_index',
      'INT64',
      eps.map((e) => e.from + e.length),
    );
    for (const key of this.videoKeys) {
      scalar(
        `videos/${key}/chunk_index`,
        'INT64',
        eps.map((e) => e.chunk),
      );
      scalar(
        `videos/${key}/file_index`,
        'INT64',
        eps.map((e) => e.file),
      );
      scalar(
        `videos/${key}/from_timestamp`,
        'DOUBLE',
        eps.map((e) => e.videoFrom[key]),
      );
      scalar(
        `videos/${key}/to_timestamp`,
        'DOUBLE',
        eps.map((e) => e.videoFrom[key] + e.length / fps),
      );
    }
    for (const key of statKeys) {
      const image = this.videoKeys.includes(key);
      for (const stat of STAT_KEYS) {
        const name = `stats/${key}/${stat}`;
        const isCount = stat === 'count';
        const leaf: SchemaElement = { name, type: isCount ? 'INT64' : 'DOUBLE' };
        const data = eps.map((e) => {
          const v = e.stats[key][stat]!;
          if (isCount) return v.map((x) => BigInt(x));
          return image ? v.map((x) => [[x]]) : [...v];
        });
        colsE.push({ name, data, schema: listSchema(name, leaf, image && !isCount ? 3 : 1) });
      }
    }
    scalar(
      'meta/episodes/chunk_index',
      'INT64',
      eps.map(() => 0),
    );
    scalar(
      'meta/episodes/file_index',
      'INT64',
      eps.map(() => 0),
    );
    await this.put('meta/episodes/chunk-000/file-000.parquet', writeParquet(colsE, eps.length));

    // meta/tasks.parquet: the task text is the pandas index, as LeRobot stores it.
    const taskList = [...this.tasks.entries()].sort((a, b) => a[1] - b[1]);
    const pandas = {
      index_columns: ['__index_level_0__'],
      column_indexes: [
        {
          name: null,
          field_name: null,
          pandas_type: 'unicode',
          numpy_type: 'object',
          metadata: { encoding: 'UTF-8' },
        },
      ],
      columns: [
        {
          name: 'task_index',
          field_name: 'task_index',
          pandas_type: 'int64',
          numpy_type: 'int64',
          metadata: null,
        },
        {
          name: null,
          field_name: '__index_level_0__',
          pandas_type: 'unicode',
          numpy_type: 'object',
          metadata: null,
        },
      ],
      attributes: {},
      creator: { library: '@vla/lerobot', version: '0' },
      pandas_version: '2.3.3',
    };
    await this.put(
      'meta/tasks.parquet',
      writeParquet(
        [
          {
            name: 'task_index',
            data: int64(taskList.map(([, i]) => i)),
            schema: [{ name: 'task_index', type: 'INT64', repetition_type: 'OPTIONAL' }],
          },
          {
            name: '__index_level_0__',
            data: taskList.map(([t]) => t),
            schema: [
              {
                name: '__index_level_0__',
                type: 'BYTE_ARRAY',
                converted_type: 'UTF8',
                repetition_type: 'OPTIONAL',
              },
            ],
          },
        ],
        taskList.length,
        { pandas: JSON.stringify(pandas) },
      ),
    );

    const stats = aggregateStats(eps.map((e) => e.stats));
    await this.put('meta/stats.json', JSON.stringify(statsToJson(stats, this.videoKeys), null, 4));

    const features: Record<string, unknown> = {};
    for (const [key, f] of Object.entries(this.features)) {
      if (f.dtype === 'video') {
        features[key] = {
          dtype: 'video',
          shape: f.shape,
          names: f.names ?? ['height', 'width', 'channels'],
          info: {
            'video.height': f.shape[0],
            'video.width': f.shape[1],
            'video.codec': codecFamily(this.codecs[key]),
            'video.pix_fmt': 'yuv420p',
            'video.is_depth_map': false,
            'video.fps': fps,
            'video.channels': 3,
            has_audio: false,
          },
        };
      } else {
        features[key] = { dtype: f.dtype, shape: f.shape, names: f.names ?? null };
      }
    }
    for (const key of INDEX_KEYS) features[key] = { ...INDEX_SPECS[key] };
    const info = {
      codebase_version: 'v3.0',
      robot_type: this.opts.robotType ?? null,
      total_episodes: eps.length,
      total_frames: this.globalIndex,
      total_tasks: this.tasks.size,
      chunks_size: this.opts.chunksSize ?? 1000,
      data_files_size_in_mb: 100,
      video_files_size_in_mb: 500,
      fps,
      splits: { train: `0:${eps.length}` },
      data_path: DATA_PATH,
      video_path: this.videoKeys.length > 0 ? VIDEO_PATH : null,
      features,
    };
    await this.put('meta/info.json', JSON.stringify(info, null, 4));
    await rm(this.tmp, { recursive: true, force: true });
  }
}
