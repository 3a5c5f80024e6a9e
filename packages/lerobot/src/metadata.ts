import { checkEpisodeRanges, checkStats } from './consistency';
import { LeRobotError } from './errors';
import { formatPathTemplate, videoKeys, type DatasetInfo } from './info';
import { readJsonl, readJsonObject } from './json';
import { openParquet } from './parquetFile';
import { parseStats, STAT_KEYS, type DatasetStats, type FeatureStats } from './stats';
import type { DatasetStorage } from './storage';

/** Where one episode's frames of one camera lie inside an mp4. */
export interface VideoSegment {
  /** Dataset-relative mp4 path. */
  path: string;
  chunkIndex: number;
  fileIndex: number;
  /** Start of the episode inside the file, in seconds (0 in v2.1). */
  fromTimestamp: number;
  toTimestamp: number;
}

/** One episode, the same for v2.1 and v3.0. */
export interface EpisodeMeta {
  episodeIndex: number;
  length: number;
  tasks: string[];
  /** Global row indices `[from, to)` of the episode (the `index` column). */
  datasetFromIndex: number;
  datasetToIndex: number;
  /** Dataset-relative parquet path holding the episode's rows. */
  dataPath: string;
  videos: Record<string, VideoSegment>;
  /** Per-episode statistics as stored (v2.1 `episodes_stats.jsonl`, v3.0 `stats/*` columns). */
  stats?: DatasetStats;
}

/** Everything under `meta/`. */
export interface DatasetMeta {
  episodes: EpisodeMeta[];
  /** task_index → task text. */
  tasks: Map<number, string>;
  /** `meta/stats.json` when present (v3.0, v2.0), else null. */
  stats: DatasetStats | null;
}

function metaError(path: string, message: string, cause?: unknown): LeRobotError {
  return new LeRobotError('malformed_metadata', `${path}: ${message}`, { path, cause });
}

function int(v: unknown, where: string, path: string): number {
  const n = typeof v === 'bigint' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
    throw metaError(path, `${where} must be a non-negative integer, got ${String(v)}`);
  return n;
}

function num(v: unknown, where: string, path: string): number {
  const n = typeof v === 'bigint' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n))
    throw metaError(path, `${where} must be a number, got ${String(v)}`);
  return n;
}

async function readV2(storage: DatasetStorage, info: DatasetInfo): Promise<DatasetMeta> {
  const epPath = 'meta/episodes.jsonl';
  const lines = await readJsonl(storage, epPath);
  const tasks = new Map<number, string>();
  for (const t of await readJsonl(storage, 'meta/tasks.jsonl')) {
    if (typeof t.task !== 'string')
      throw metaError('meta/tasks.jsonl', `task ${JSON.stringify(t)} has no 'task' text`);
    tasks.set(int(t.task_index, 'task_index', 'meta/tasks.jsonl'), t.task);
  }
  const epStats = new Map<number, DatasetStats>();
  if (await storage.exists('meta/episodes_stats.jsonl')) {
    for (const line of await readJsonl(storage, 'meta/episodes_stats.jsonl')) {
      const ep = int(line.episode_index, 'episode_index', 'meta/episodes_stats.jsonl');
      epStats.set(
        ep,
        parseStats(line.stats, `meta/episodes_stats.jsonl episode ${ep}`, 'meta/episodes_stats.jsonl'),
      );
    }
  }
  const stats = await readStatsJson(storage);
  const vkeys = videoKeys(info);
  const parsed = lines
    .map((l, i) => ({
      episodeIndex: int(l.episode_index, `line ${i + 1} episode_index`, epPath),
      length: int(l.length, `line ${i + 1} length`, epPath),
      tasks: Array.isArray(l.tasks) ? l.tasks.map(String) : [],
    }))
    .sort((a, b) => a.episodeIndex - b.episodeIndex);
  let from = 0;
  const episodes: EpisodeMeta[] = parsed.map((p) => {
    const chunk = Math.floor(p.episodeIndex / info.chunksSize);
    const fields = {
      episode_chunk: chunk,
      episode_index: p.episodeIndex,
      chunk_index: chunk,
      file_index: p.episodeIndex,
    };
    const videos: Record<string, VideoSegment> = {};
    for (const key of vkeys) {
      videos[key] = {
        path: formatPathTemplate(info.videoPath!, { ...fields, video_key: key }),
        chunkIndex: chunk,
        fileIndex: p.episodeIndex,
        fromTimestamp: 0,
        toTimestamp: p.length / info.fps,
      };
    }
    const own = epStats.get(p.episodeIndex);
    if (own) {
      const where = `meta/episodes_stats.jsonl episode ${p.episodeIndex}`;
      checkStats(own, info, where, 'meta/episodes_stats.jsonl', p.length, epPath);
    }
    const ep: EpisodeMeta = {
      ...p,
      datasetFromIndex: from,
      datasetToIndex: from + p.length,
      dataPath: formatPathTemplate(info.dataPath, fields),
      videos,
      stats: own,
    };
    from += p.length;
    return ep;
  });
  return { episodes, tasks, stats };
}

/** Reads the task table of v3.0 (`task_index` plus the text, stored as the pandas index). */
async function readTasksParquet(storage: DatasetStorage, path: string): Promise<Map<number, string>> {
  const file = await openParquet(storage, path);
  let textColumn = file.columns.includes('task') ? 'task' : undefined;
  if (!textColumn && file.keyValue.pandas) {
    try {
      const pandas = JSON.parse(file.keyValue.pandas) as { index_columns?: unknown[] };
      const idx = pandas.index_columns?.find((c): c is string => typeof c === 'string');
      if (idx && file.columns.includes(idx)) textColumn = idx;
    } catch {
      // fall through to the default name
    }
  }
  textColumn ??= file.columns.includes('__index_level_0__') ? '__index_level_0__' : undefined;
  if (!textColumn || !file.columns.includes('task_index')) {
    throw metaError(
      path,
      `expected columns 'task_index' and 'task' (or a pandas index), found ${file.columns.join(', ')}`,
    );
  }
  const tasks = new Map<number, string>();
  for (const row of await file.readRows())
    tasks.set(int(row.task_index, 'task_index', path), String(row[textColumn]));
  return tasks;
}

const STATS_PATH = 'meta/stats.json';

async function readStatsJson(storage: DatasetStorage): Promise<DatasetStats | null> {
  if (!(await storage.exists(STATS_PATH))) return null;
  return parseStats(await readJsonObject(storage, STATS_PATH), STATS_PATH, STATS_PATH);
}

function statsFromColumns(row: Record<string, unknown>, path: string, ep: number): DatasetStats | undefined {
  // A Map, so a column such as `stats/__proto__/min` cannot reach Object.prototype.
  const out = new Map<string, Record<string, unknown>>();
  for (const [col, v] of Object.entries(row)) {
    if (!col.startsWith('stats/')) continue;
    const slash = col.lastIndexOf('/');
    const feature = col.slice(6, slash);
    const stat = col.slice(slash + 1);
    if (!(STAT_KEYS as readonly string[]).includes(stat) || v === null || v === undefined) continue;
    if (!out.has(feature)) out.set(feature, {});
    out.get(feature)![stat] = v;
  }
  if (out.size === 0) return undefined;
  return parseStats(
    Object.fromEntries(out) as unknown as Record<string, FeatureStats>,
    `${path} episode ${ep}`,
    path,
  );
}

async function readV3(storage: DatasetStorage, info: DatasetInfo): Promise<DatasetMeta> {
  const tasks = await readTasksParquet(storage, 'meta/tasks.parquet');
  const stats = await readStatsJson(storage);
  const vkeys = videoKeys(info);
  const episodes: EpisodeMeta[] = [];
  // Episode files are numbered like data files; walk them until every episode is found.
  let chunk = 0;
  let fileIdx = 0;
  const fmt = (c: number, f: number) =>
    `meta/episodes/chunk-${String(c).padStart(3, '0')}/file-${String(f).padStart(3, '0')}.parquet`;
  while (episodes.length < info.totalEpisodes) {
    let path = fmt(chunk, fileIdx);
    if (!(await storage.exists(path))) {
      const next = fmt(chunk + 1, 0);
      if (episodes.length === 0) {
        throw new LeRobotError(
          'missing_file',
          `file not found: ${path} (in dataset ${storage.location}); found 0 of ${info.totalEpisodes} episodes`,
          { path },
        );
      }
      if (!(await storage.exists(next))) {
        throw metaError(
          'meta/episodes',
          `holds ${episodes.length} episodes (no ${path} or ${next}) but meta/info.json says total_episodes=${info.totalEpisodes}`,
        );
      }
      chunk += 1;
      fileIdx = 0;
      path = next;
    }
    const file = await openParquet(storage, path);
    for (const col of [
      'episode_index',
      'length',
      'data/chunk_index',
      'data/file_index',
      'dataset_from_index',
      'dataset_to_index',
    ]) {
      if (!file.columns.includes(col)) throw metaError(path, `missing column '${col}'`);
    }
    for (const row of await file.readRows()) {
      const ep = int(row.episode_index, 'episode_index', path);
      const length = int(row.length, `episode ${ep} length`, path);
      const dataChunk = int(row['data/chunk_index'], `episode ${ep} data/chunk_index`, path);
      const dataFile = int(row['data/file_index'], `episode ${ep} data/file_index`, path);
      const videos: Record<string, VideoSegment> = {};
      for (const key of vkeys) {
        const c = int(row[`videos/${key}/chunk_index`], `episode ${ep} videos/${key}/chunk_index`, path);
        const f = int(row[`videos/${key}/file_index`], `episode ${ep} videos/${key}/file_index`, path);
        videos[key] = {
          path: formatPathTemplate(info.videoPath!, { video_key: key, chunk_index: c, file_index: f }),
          chunkIndex: c,
          fileIndex: f,
          fromTimestamp: num(
            row[`videos/${key}/from_timestamp`],
            `episode ${ep} videos/${key}/from_timestamp`,
            path,
          ),
          toTimestamp: num(
            row[`videos/${key}/to_timestamp`],
            `episode ${ep} videos/${key}/to_timestamp`,
            path,
          ),
        };
      }
      const epStats = statsFromColumns(row, path, ep);
      if (epStats) checkStats(epStats, info, `${path} episode ${ep}`, path, length, path);
      episodes.push({
        episodeIndex: ep,
        length,
        tasks: Array.isArray(row.tasks) ? row.tasks.map(String) : [],
        datasetFromIndex: int(row.dataset_from_index, `episode ${ep} dataset_from_index`, path),
        datasetToIndex: int(row.dataset_to_index, `episode ${ep} dataset_to_index`, path),
        dataPath: formatPathTemplate(info.dataPath, { chunk_index: dataChunk, file_index: dataFile }),
        videos,
        stats: epStats,
      });
    }
    fileIdx += 1;
  }
  episodes.sort((a, b) => a.episodeIndex - b.episodeIndex);
  return { episodes, tasks, stats };
}

/** Reads episodes, tasks and stats of a v2.x or v3.0 dataset and checks them against info.json. */
export async function readMeta(storage: DatasetStorage, info: DatasetInfo): Promise<DatasetMeta> {
  const meta = info.codebaseVersion === 'v3.0' ? await readV3(storage, info) : await readV2(storage, info);
  const where = info.codebaseVersion === 'v3.0' ? 'meta/episodes' : 'meta/episodes.jsonl';
  if (meta.episodes.length !== info.totalEpisodes) {
    throw metaError(
      where,
      `has ${meta.episodes.length} episodes but meta/info.json says total_episodes=${info.totalEpisodes}`,
    );
  }
  const frames = meta.episodes.reduce((a, e) => a + e.length, 0);
  if (frames !== info.totalFrames) {
    throw metaError(
      where,
      `episode lengths sum to ${frames} but meta/info.json says total_frames=${info.totalFrames}`,
    );
  }
  for (const e of meta.episodes) {
    if (e.datasetToIndex - e.datasetFromIndex !== e.length) {
      throw metaError(
        where,
        `episode ${e.episodeIndex}: dataset_to_index - dataset_from_index = ${e.datasetToIndex - e.datasetFromIndex} but length = ${e.length}`,
      );
    }
  }
  checkEpisodeRanges(meta.episodes, where);
  if (meta.stats) checkStats(meta.stats, info, STATS_PATH, STATS_PATH);
  return meta;
}
