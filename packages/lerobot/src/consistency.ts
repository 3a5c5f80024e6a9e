// Checks made when a dataset, an episode or an episode's video is opened, so that inconsistent
// files fail loudly up front instead of silently yielding other frames or rows later.
import { LeRobotError } from './errors';
import { featureWidth, type DatasetInfo, type FeatureSpec } from './info';
import type { EpisodeMeta, VideoSegment } from './metadata';
import type { Mp4Index } from './mp4Index';
import type { DatasetStats } from './stats';

/** Vector statistics whose length must equal the feature's width. */
const VECTOR_STAT = /^(min|max|mean|std|q\d+)$/;

const NUMERIC_DTYPES = new Set([
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

/** Whether a feature's rows are numbers (what the reader turns into columns). */
export function isNumericFeature(spec: FeatureSpec): boolean {
  return NUMERIC_DTYPES.has(spec.dtype);
}

/** Length of a feature's stats vectors: its width, or its channel count for images and videos. */
function statsWidth(spec: FeatureSpec): number | undefined {
  if (spec.dtype === 'video' || spec.dtype === 'image') {
    const chw = Array.isArray(spec.names) && spec.names[0] === 'channels';
    return chw ? spec.shape[0] : spec.shape[2];
  }
  return isNumericFeature(spec) ? featureWidth(spec) : undefined;
}

/**
 * Checks stored statistics against info.json: every vector statistic of a declared feature has
 * the feature's width (channels for images), and `count` is one non-negative integer, at most
 * `maxCount` when given (the episode's length, read from `lengthSource`). Raises `bad_stats` naming
 * `where` and the file.
 */
export function checkStats(
  stats: DatasetStats,
  info: DatasetInfo,
  where: string,
  path: string,
  maxCount?: number,
  lengthSource?: string,
): void {
  for (const [feature, s] of Object.entries(stats)) {
    const spec = Object.hasOwn(info.features, feature) ? info.features[feature] : undefined;
    const width = spec && statsWidth(spec);
    if (width === undefined) continue;
    for (const [k, v] of Object.entries(s) as [string, number[]][]) {
      if (VECTOR_STAT.test(k) && v.length !== width) {
        throw new LeRobotError(
          'bad_stats',
          `${where}: '${feature}' ${k} has ${v.length} values but meta/info.json declares shape ` +
            `${JSON.stringify(spec!.shape)} (${width} ${spec!.dtype === 'video' || spec!.dtype === 'image' ? 'channels' : 'values'})`,
          { path },
        );
      }
    }
    const c = s.count;
    if (
      c.length !== 1 ||
      !Number.isInteger(c[0]) ||
      c[0] < 0 ||
      (maxCount !== undefined && c[0] > maxCount)
    ) {
      throw new LeRobotError(
        'bad_stats',
        `${where}: '${feature}' count ${JSON.stringify(c)} must be one integer in 0..${maxCount ?? 'total'}` +
          (maxCount !== undefined && lengthSource ? ` (the episode's length in ${lengthSource})` : ''),
        { path },
      );
    }
  }
}

/**
 * Checks the episode table: unique episode indices whose `[dataset_from_index, dataset_to_index)`
 * ranges tile `[0, total_frames)` without gaps or overlaps.
 */
export function checkEpisodeRanges(episodes: EpisodeMeta[], where: string): void {
  const seen = new Set<number>();
  for (const e of episodes) {
    if (seen.has(e.episodeIndex))
      throw new LeRobotError('malformed_metadata', `${where}: episode ${e.episodeIndex} is listed twice`, {
        path: where,
      });
    seen.add(e.episodeIndex);
  }
  const sorted = [...episodes].sort((a, b) => a.datasetFromIndex - b.datasetFromIndex);
  let next = 0;
  for (const e of sorted) {
    if (e.datasetFromIndex !== next) {
      throw new LeRobotError(
        'malformed_metadata',
        `${where}: episode ${e.episodeIndex} starts at dataset_from_index ${e.datasetFromIndex}, expected ${next} ` +
          `(episode row ranges must follow each other from 0 without gaps or overlaps)`,
        { path: where },
      );
    }
    next = e.datasetToIndex;
  }
}

/** Tolerance for a stored timestamp: `tolerance` plus one float32 step at its magnitude. */
function timestampSlack(t: number, tolerance: number): number {
  return tolerance + Math.abs(t) * 2 ** -23;
}

/**
 * Checks one episode's bookkeeping columns (each one value per row, `undefined` when absent):
 * `frame_index` counts 0, 1, 2, …; `timestamp` strictly increases and equals `frame_index / fps`
 * within `tolerance` (plus float32 rounding); `index` runs from the episode's `dataset_from_index`.
 */
export function checkEpisodeRows(
  ep: EpisodeMeta,
  columns: {
    timestamp?: ArrayLike<number>;
    frameIndex?: ArrayLike<number>;
    index?: ArrayLike<number>;
  },
  fps: number,
  tolerance: number,
  episodeTable = 'the episode table',
): void {
  const path = ep.dataPath;
  const at = (i: number) => `${path}: episode ${ep.episodeIndex} row ${i}`;
  const { timestamp: ts, frameIndex: fi, index } = columns;
  if (fi) {
    for (let i = 0; i < ep.length; i++) {
      if (fi[i] !== i) {
        throw new LeRobotError(
          'bad_timestamps',
          `${at(i)} has frame_index ${fi[i]}, expected ${i} (frame_index must count 0, 1, 2, ... within an episode)`,
          { path },
        );
      }
    }
  }
  if (ts) {
    // Order first, so reversed or repeated rows are reported as such.
    for (let i = 1; i < ep.length; i++) {
      if (!(ts[i] > ts[i - 1])) {
        throw new LeRobotError(
          'bad_timestamps',
          `${at(i)} has timestamp ${ts[i]}, not after the previous row's ${ts[i - 1]} (timestamps must strictly increase)`,
          { path },
        );
      }
    }
    for (let i = 0; i < ep.length; i++) {
      const expected = i / fps;
      if (!(Math.abs(ts[i] - expected) <= timestampSlack(expected, tolerance))) {
        throw new LeRobotError(
          'bad_timestamps',
          `${at(i)} has timestamp ${ts[i]}, but frame_index / fps = ${i} / ${fps} = ${expected} (tolerance ${tolerance} s)`,
          { path },
        );
      }
    }
  }
  if (index) {
    for (let i = 0; i < ep.length; i++) {
      if (index[i] !== ep.datasetFromIndex + i) {
        throw new LeRobotError(
          'malformed_data',
          `${at(i)} has index ${index[i]}, expected ${ep.datasetFromIndex + i} (dataset_from_index ${ep.datasetFromIndex} from ${episodeTable} + row)`,
          { path },
        );
      }
    }
  }
}

/** First position in `frames` (presentation order) whose time is >= t. */
function lowerBound(index: Mp4Index, t: number): number {
  let lo = 0;
  let hi = index.frames.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (index.frames[mid].time < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Checks that an episode's segment of a video holds its frames: `length` consecutive frames at
 * `from_timestamp + k / fps` (within `tolerance`), with `to_timestamp` after the last of them and
 * inside the file; with `wholeFile` (v2.x, one file per episode) the file holds no other frames.
 * No decoding, only the mp4 index.
 * Raises `video_mismatch` naming the file, episode and camera.
 */
export function checkVideoSegment(
  index: Mp4Index,
  seg: VideoSegment,
  ep: EpisodeMeta,
  key: string,
  fps: number,
  tolerance: number,
  wholeFile: boolean,
): void {
  const frames = index.frames;
  const n = frames.length;
  const last = frames[n - 1];
  const fileEnd = last ? last.time + last.duration / index.timescale : 0;
  const videoFps = n > 1 ? (n - 1) / (last.time - frames[0].time) : NaN;
  const fail = (why: string): never => {
    throw new LeRobotError(
      'video_mismatch',
      `${seg.path}: video of episode ${ep.episodeIndex}, key '${key}' does not match the episode: ${why} ` +
        `(episode: ${ep.length} frames at ${fps} fps from ${seg.fromTimestamp} s; file: ${n} frames, ` +
        `about ${Number.isFinite(videoFps) ? videoFps.toPrecision(6) : '?'} fps, ${fileEnd} s long)`,
      { path: seg.path },
    );
  };
  if (wholeFile && n !== ep.length) fail(`the file has ${n} frames, the episode ${ep.length}`);
  // Frame k of the episode must be the k-th frame from from_timestamp: a video at another fps,
  // or another episode's video, fails here already at the first frames.
  const start = lowerBound(index, seg.fromTimestamp - timestampSlack(seg.fromTimestamp, tolerance));
  if (start + ep.length > n)
    fail(`the file has ${n - start} frames from ${seg.fromTimestamp} s on, the episode ${ep.length}`);
  for (let k = 0; k < ep.length; k++) {
    const expected = seg.fromTimestamp + k / fps;
    const t = frames[start + k].time;
    if (!(Math.abs(t - expected) <= timestampSlack(expected, tolerance)))
      fail(`frame ${k} of the episode is at ${t} s, expected ${expected} s`);
  }
  const lastExpected = seg.fromTimestamp + (ep.length - 1) / fps;
  const slack = timestampSlack(seg.toTimestamp, tolerance);
  if (seg.toTimestamp > fileEnd + slack || seg.toTimestamp < lastExpected - slack)
    fail(`to_timestamp ${seg.toTimestamp} s is not between the episode's last frame and the end of the file`);
}
