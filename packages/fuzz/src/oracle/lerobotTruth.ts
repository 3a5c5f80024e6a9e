// The independent view of a LeRobot dataset folder for the dataset oracle: metadata parsed with
// JSON.parse, rows read with hyparquet, videos measured and decoded with the ffmpeg command line.
// It never throws on a bad dataset: everything a strict reader must refuse is listed in
// `violations`, so a dataset the package accepted while violations exist is a silent change.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetMetadata, parquetReadObjects, type SchemaElement } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';

/** A parquet file's schema and rows, as hyparquet reads them. */
export interface ParquetTable {
  schema: SchemaElement[];
  /** Top-level column names in schema order. */
  columns: string[];
  rows: Record<string, unknown>[];
}

/** Reads a whole parquet file with hyparquet. */
export async function readParquetFile(path: string): Promise<ParquetTable> {
  const b = readFileSync(path);
  const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  const schema = parquetMetadata(ab).schema;
  const columns: string[] = [];
  const skip = (k: number): number => {
    let n = k + 1;
    for (let c = 0; c < (schema[k].num_children ?? 0); c++) n = skip(n);
    return n;
  };
  for (let i = 1; i < schema.length; i = skip(i)) columns.push(schema[i].name);
  const rows = (await parquetReadObjects({ file: ab })) as Record<string, unknown>[];
  return { schema, columns, rows };
}

/** Writes rows back with the schema they were read with (hyparquet-writer). */
export function writeParquetFile(path: string, table: ParquetTable): void {
  const buf = parquetWriteBuffer({
    columnData: table.columns.map((name) => ({ name, data: table.rows.map((r) => r[name]) as never })),
    schema: table.schema,
  });
  writeFileSync(path, new Uint8Array(buf));
}

/** Numbers of a row value (nested arrays flattened, bigint and bool as numbers); null if not numeric. */
export function flattenNumbers(v: unknown, out: number[] = []): number[] | null {
  if (typeof v === 'number') out.push(v);
  else if (typeof v === 'bigint') out.push(Number(v));
  else if (typeof v === 'boolean') out.push(v ? 1 : 0);
  else if (Array.isArray(v) || ArrayBuffer.isView(v)) {
    const a = v as ArrayLike<unknown>;
    for (let i = 0; i < a.length; i++) if (!flattenNumbers(a[i], out)) return null;
  } else return null;
  return out;
}

/** `{name:03d}` / `{name}` placeholders of LeRobot path templates. */
export function formatTemplate(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)(?::0(\d+)d)?\}/g, (_, k: string, w?: string) => {
    const v = values[k];
    return w ? String(v).padStart(Number(w), '0') : String(v);
  });
}

/** A numeric (non-video, non-string) feature. */
export interface TruthFeature {
  dtype: string;
  width: number;
}

/** One episode as the files hold it. */
export interface TruthEpisode {
  index: number;
  length: number;
  /** Rows of the episode, in file order. */
  rows: Record<string, unknown>[];
  /** Video file per camera key (dataset-relative). */
  videos: Record<string, string>;
}

/** The dataset as the oracle reads it. */
export interface DatasetTruth {
  version: string;
  fps: number;
  features: Record<string, TruthFeature>;
  videoKeys: string[];
  episodes: TruthEpisode[];
  /** Dataset-relative stats files present (`meta/stats.json`, `meta/episodes_stats.jsonl`). */
  statsFiles: string[];
  /** Reasons a strict reader must refuse this dataset. */
  violations: string[];
}

const NUMERIC = new Set([
  'float32',
  'float64',
  'float16',
  'int64',
  'int32',
  'int16',
  'int8',
  'uint8',
  'uint16',
  'uint32',
  'bool',
]);
const isInt = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v)) || typeof v === 'bigint';
const num = (v: unknown) => (typeof v === 'bigint' ? Number(v) : (v as number));

function checkStatsEntry(
  where: string,
  key: string,
  entry: unknown,
  features: Record<string, TruthFeature>,
  out: string[],
): void {
  if (entry === null || typeof entry !== 'object') {
    out.push(`${where}: stats of ${key} are not an object`);
    return;
  }
  for (const stat of ['min', 'max', 'mean', 'std']) {
    const v = (entry as Record<string, unknown>)[stat];
    if (v === undefined) continue;
    const flat = flattenNumbers(v);
    if (!flat) {
      out.push(`${where}: ${key}.${stat} is not numeric`);
      continue;
    }
    if (flat.some((x) => !Number.isFinite(x))) out.push(`${where}: ${key}.${stat} holds a non-finite value`);
    const f = features[key];
    if (f && flat.length !== f.width)
      out.push(`${where}: ${key}.${stat} has ${flat.length} values for width ${f.width}`);
  }
}

/** Reads `dir` independently of @vla/lerobot. */
export async function datasetTruth(dir: string): Promise<DatasetTruth> {
  const t: DatasetTruth = {
    version: '',
    fps: NaN,
    features: {},
    videoKeys: [],
    episodes: [],
    statsFiles: [],
    violations: [],
  };
  const v = t.violations;
  let info: Record<string, unknown>;
  try {
    info = JSON.parse(readFileSync(join(dir, 'meta/info.json'), 'utf8')) as Record<string, unknown>;
    if (info === null || typeof info !== 'object' || Array.isArray(info)) throw new Error('not an object');
  } catch (e) {
    v.push(`meta/info.json unreadable (${(e as Error).message})`);
    return t;
  }
  t.version = String(info.codebase_version);
  t.fps = info.fps as number;
  if (typeof info.fps !== 'number' || !Number.isFinite(info.fps) || info.fps <= 0)
    v.push(`fps ${JSON.stringify(info.fps)}`);
  const chunks = info.chunks_size;
  if (!isInt(chunks) || num(chunks) <= 0) v.push(`chunks_size ${JSON.stringify(chunks)}`);
  const feats = info.features as Record<string, Record<string, unknown>> | undefined;
  if (!feats || typeof feats !== 'object') {
    v.push('features missing');
    return t;
  }
  for (const [key, f] of Object.entries(feats)) {
    if (!f || typeof f !== 'object') {
      v.push(`feature ${key} is not an object`);
      continue;
    }
    const shape = f.shape;
    if (
      !Array.isArray(shape) ||
      !shape.length ||
      !shape.every((d) => isInt(d) && num(d) > 0) ||
      shape.reduce((a: number, d) => a * num(d), 1) > 1e7
    ) {
      v.push(`feature ${key} shape ${JSON.stringify(shape)}`);
      continue;
    }
    if (f.dtype === 'video' || f.dtype === 'image') {
      t.videoKeys.push(key);
      const i = (f.info ?? {}) as Record<string, unknown>;
      if (i['video.fps'] !== undefined && i['video.fps'] !== info.fps)
        v.push(
          `feature ${key} video.fps ${JSON.stringify(i['video.fps'])} vs fps ${JSON.stringify(info.fps)}`,
        );
    } else if (NUMERIC.has(f.dtype as string))
      t.features[key] = { dtype: f.dtype as string, width: shape.reduce((a: number, d) => a * num(d), 1) };
    else if (f.dtype !== 'string') v.push(`feature ${key} dtype ${JSON.stringify(f.dtype)}`);
  }
  const dataPath = info.data_path;
  const videoPath = info.video_path;
  if (typeof dataPath !== 'string') {
    v.push('data_path missing');
    return t;
  }
  try {
    if (t.version === 'v2.1') await readV21(dir, info, dataPath, videoPath as string, t);
    else if (t.version === 'v3.0') await readV30(dir, info, dataPath, videoPath as string, t);
    else v.push(`codebase_version ${JSON.stringify(info.codebase_version)}`);
  } catch (e) {
    v.push(`unreadable: ${(e as Error).message}`);
  }
  const total = t.episodes.reduce((a, e) => a + e.length, 0);
  if (info.total_frames !== total)
    v.push(`total_frames ${JSON.stringify(info.total_frames)} but the episodes hold ${total} rows`);
  if (info.total_episodes !== t.episodes.length)
    v.push(`total_episodes ${JSON.stringify(info.total_episodes)} but ${t.episodes.length} episodes listed`);
  for (const ep of t.episodes) checkRows(ep, t, v);
  return t;
}

async function readV21(
  dir: string,
  info: Record<string, unknown>,
  dataPath: string,
  videoPath: string,
  t: DatasetTruth,
): Promise<void> {
  const v = t.violations;
  const lines = readFileSync(join(dir, 'meta/episodes.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim());
  const seen = new Set<number>();
  for (const line of lines) {
    const e = JSON.parse(line) as Record<string, unknown>;
    if (!isInt(e.episode_index) || num(e.episode_index) < 0 || !isInt(e.length) || num(e.length) <= 0) {
      v.push(`episodes.jsonl line ${line.slice(0, 60)}`);
      continue;
    }
    const index = num(e.episode_index);
    if (seen.has(index)) v.push(`episode ${index} listed twice`);
    seen.add(index);
    const chunk = Math.floor(index / num(info.chunks_size));
    const path = formatTemplate(dataPath, { episode_chunk: chunk, episode_index: index });
    if (!existsSync(join(dir, path))) {
      v.push(`${path} missing`);
      continue;
    }
    const rows = (await readParquetFile(join(dir, path))).rows;
    const videos: Record<string, string> = {};
    for (const key of t.videoKeys)
      videos[key] = formatTemplate(videoPath, { episode_chunk: chunk, episode_index: index, video_key: key });
    if (rows.length !== num(e.length))
      v.push(`${path} has ${rows.length} rows, episodes.jsonl says ${num(e.length)}`);
    t.episodes.push({ index, length: num(e.length), rows, videos });
  }
  const statsPath = 'meta/episodes_stats.jsonl';
  if (existsSync(join(dir, statsPath))) {
    t.statsFiles.push(statsPath);
    const statLines = readFileSync(join(dir, statsPath), 'utf8')
      .split('\n')
      .filter((l) => l.trim());
    for (const line of statLines) {
      let e: Record<string, unknown>;
      try {
        e = JSON.parse(line) as Record<string, unknown>;
      } catch {
        v.push(`${statsPath}: line is not JSON`);
        continue;
      }
      const stats = e?.stats as Record<string, unknown> | undefined;
      if (!stats || typeof stats !== 'object') {
        v.push(`${statsPath}: line without stats`);
        continue;
      }
      for (const [key, entry] of Object.entries(stats)) checkStatsEntry(statsPath, key, entry, t.features, v);
    }
  }
}

async function readV30(
  dir: string,
  info: Record<string, unknown>,
  dataPath: string,
  videoPath: string,
  t: DatasetTruth,
): Promise<void> {
  const v = t.violations;
  const epDir = join(dir, 'meta/episodes');
  const files = readdirSync(epDir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.parquet'))
    .sort();
  const fileRows = new Map<string, Record<string, unknown>[]>();
  const seen = new Set<number>();
  for (const f of files) {
    for (const e of (await readParquetFile(join(epDir, f))).rows) {
      const fields = [
        'episode_index',
        'length',
        'data/chunk_index',
        'data/file_index',
        'dataset_from_index',
        'dataset_to_index',
      ];
      const bad = fields.find((k) => !isInt(e[k]) || num(e[k]) < 0);
      if (bad) {
        v.push(`meta/episodes row has ${bad} = ${String(e[bad])}`);
        continue;
      }
      const index = num(e.episode_index);
      const length = num(e.length);
      if (seen.has(index)) v.push(`episode ${index} listed twice`);
      seen.add(index);
      if (num(e.dataset_to_index) - num(e.dataset_from_index) !== length)
        v.push(
          `episode ${index}: from/to ${num(e.dataset_from_index)}..${num(e.dataset_to_index)} vs length ${length}`,
        );
      const path = formatTemplate(dataPath, {
        chunk_index: num(e['data/chunk_index']),
        file_index: num(e['data/file_index']),
      });
      if (!existsSync(join(dir, path))) {
        v.push(`${path} missing`);
        continue;
      }
      let rows = fileRows.get(path);
      if (!rows) fileRows.set(path, (rows = (await readParquetFile(join(dir, path))).rows));
      const from = num(e.dataset_from_index);
      const mine = rows.filter((r) => num(r.index) >= from && num(r.index) < from + length);
      if (mine.length !== length)
        v.push(`${path}: episode ${index} has ${mine.length} rows in index range, length ${length}`);
      const videos: Record<string, string> = {};
      for (const key of t.videoKeys)
        videos[key] = formatTemplate(videoPath, {
          video_key: key,
          chunk_index: num(e[`videos/${key}/chunk_index`]),
          file_index: num(e[`videos/${key}/file_index`]),
        });
      t.episodes.push({ index, length, rows: mine, videos });
    }
  }
  const statsPath = 'meta/stats.json';
  if (existsSync(join(dir, statsPath))) {
    t.statsFiles.push(statsPath);
    let stats: unknown;
    try {
      stats = JSON.parse(readFileSync(join(dir, statsPath), 'utf8'));
    } catch {
      v.push(`${statsPath} is not JSON`);
      return;
    }
    if (!stats || typeof stats !== 'object') v.push(`${statsPath} is not an object`);
    else
      for (const [key, entry] of Object.entries(stats)) checkStatsEntry(statsPath, key, entry, t.features, v);
  }
}

function checkRows(ep: TruthEpisode, t: DatasetTruth, v: string[]): void {
  let prev = -Infinity;
  ep.rows.forEach((r, i) => {
    if (v.length > 20) return;
    const where = `episode ${ep.index} row ${i}`;
    const ts = r.timestamp as number;
    if (typeof ts !== 'number' || !Number.isFinite(ts)) v.push(`${where}: timestamp ${String(ts)}`);
    else {
      if (!(ts > prev)) v.push(`${where}: timestamp ${ts} not after ${prev}`);
      if (Math.abs(ts - i / t.fps) > 1e-4)
        v.push(`${where}: timestamp ${ts} is not frame ${i} at ${t.fps} fps`);
      prev = ts;
    }
    if (num(r.frame_index) !== i) v.push(`${where}: frame_index ${String(r.frame_index)}`);
    if (num(r.episode_index) !== ep.index) v.push(`${where}: episode_index ${String(r.episode_index)}`);
    if (i > 0 && num(r.index) !== num(ep.rows[i - 1].index) + 1)
      v.push(`${where}: index ${String(r.index)} after ${String(ep.rows[i - 1].index)}`);
    for (const [key, f] of Object.entries(t.features)) {
      const flat = flattenNumbers(r[key]);
      if (!flat) v.push(`${where}: ${key} is not numeric (${typeof r[key]})`);
      else if (flat.length !== f.width)
        v.push(`${where}: ${key} has ${flat.length} values, width ${f.width}`);
    }
  });
}

/** Runs a command and returns stdout as bytes (rejects on a non-zero exit). */
export function run(cmd: string, args: string[], maxBuffer = 1 << 28): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { encoding: 'buffer', maxBuffer }, (err, stdout, stderr) =>
      err
        ? reject(new Error(`${cmd} failed: ${String(stderr).split('\n').slice(-3).join(' ')}`))
        : resolve(stdout),
    ),
  );
}

/** Frame rate ffprobe reports for the first video stream (avg_frame_rate), or NaN. */
export async function videoFps(path: string): Promise<number> {
  try {
    const out = (
      await run('ffprobe', [
        '-v',
        'error',
        '-select_streams',
        'v:0',
        '-show_entries',
        'stream=avg_frame_rate',
        '-of',
        'csv=p=0',
        path,
      ])
    )
      .toString()
      .trim();
    const [a, b] = out.split('/').map(Number);
    return b ? a / b : a;
  } catch {
    return NaN;
  }
}

/** Presentation frame `n` of an mp4 as rgb24, decoded by ffmpeg from the start (the reference decode). */
export async function ffmpegFrame(path: string, n: number): Promise<Uint8Array> {
  const out = await run('ffmpeg', [
    '-v',
    'error',
    '-i',
    path,
    '-vf',
    `select=eq(n\\,${n})`,
    '-fps_mode',
    'passthrough',
    '-sws_flags',
    'bicubic+accurate_rnd+full_chroma_int',
    '-frames:v',
    '1',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    'pipe:1',
  ]);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
