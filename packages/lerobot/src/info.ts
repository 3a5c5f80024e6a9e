import { LeRobotError } from './errors';
import { readJsonObject } from './json';
import type { DatasetStorage } from './storage';

/** Path of the info file, relative to the dataset root. */
export const INFO_PATH = 'meta/info.json';

/** Codebase versions this package reads. */
export type CodebaseVersion = 'v2.0' | 'v2.1' | 'v3.0';

/** One feature of `info.json` (`features[key]`). */
export interface FeatureSpec {
  /** `float32`, `float64`, `int64`, `int32`, `bool`, `string`, `video`, `image`, ... */
  dtype: string;
  /** Per-frame shape; `[height, width, channels]` for images and videos. */
  shape: number[];
  /** Component names (a list, or a dict of lists in some datasets), or null. */
  names?: unknown;
  /** Video details (`video.codec`, `video.fps`, ...) for `dtype: video`. */
  info?: Record<string, unknown>;
}

/** Parsed `meta/info.json`. Unknown fields are kept in `raw`. */
export interface DatasetInfo {
  codebaseVersion: CodebaseVersion;
  robotType: string | null;
  fps: number;
  totalEpisodes: number;
  totalFrames: number;
  totalTasks: number;
  chunksSize: number;
  dataPath: string;
  videoPath: string | null;
  features: Record<string, FeatureSpec>;
  /** The JSON object as read. */
  raw: Record<string, unknown>;
}

/** Keys present in every frame row that are bookkeeping, not observations or actions. */
export const INDEX_KEYS = ['timestamp', 'frame_index', 'episode_index', 'index', 'task_index'] as const;

/**
 * Most values one frame of a feature may hold (2^28: an 8K RGB frame fits). A larger declared
 * shape is refused with `feature_too_large` before anything is allocated for it.
 */
export const MAX_FEATURE_VALUES = 2 ** 28;

function bad(message: string): LeRobotError {
  return new LeRobotError('malformed_info', `${INFO_PATH}: ${message}`, { path: INFO_PATH });
}

function requireNumber(
  obj: Record<string, unknown>,
  key: string,
  opts: { positive?: boolean; integer?: boolean },
): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw bad(`field '${key}' must be a number, got ${JSON.stringify(v)}`);
  if (opts.integer && !Number.isInteger(v)) throw bad(`field '${key}' must be an integer, got ${v}`);
  if (opts.positive ? v <= 0 : v < 0)
    throw bad(`field '${key}' must be ${opts.positive ? '> 0' : '>= 0'}, got ${v}`);
  return v;
}

/**
 * Validates the parsed JSON of `meta/info.json` and returns it typed. Raises a
 * {@link LeRobotError} (`malformed_info`) naming the field at fault.
 */
export function parseInfo(json: unknown): DatasetInfo {
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw bad('top level must be a JSON object');
  const raw = json as Record<string, unknown>;
  const version = raw.codebase_version;
  if (version !== 'v2.0' && version !== 'v2.1' && version !== 'v3.0') {
    throw bad(`unsupported codebase_version ${JSON.stringify(version)} (expected v2.0, v2.1 or v3.0)`);
  }
  const fps = requireNumber(raw, 'fps', { positive: true });
  const totalEpisodes = requireNumber(raw, 'total_episodes', { integer: true });
  const totalFrames = requireNumber(raw, 'total_frames', { integer: true });
  const totalTasks = raw.total_tasks === undefined ? 0 : requireNumber(raw, 'total_tasks', { integer: true });
  const chunksSize =
    raw.chunks_size === undefined
      ? 1000
      : requireNumber(raw, 'chunks_size', { integer: true, positive: true });
  if (typeof raw.data_path !== 'string' || raw.data_path === '')
    throw bad(`field 'data_path' must be a string`);
  if (raw.video_path !== undefined && raw.video_path !== null && typeof raw.video_path !== 'string') {
    throw bad(`field 'video_path' must be a string or null`);
  }
  const feats = raw.features;
  if (feats === null || typeof feats !== 'object' || Array.isArray(feats))
    throw bad(`field 'features' must be an object`);
  const features: Record<string, FeatureSpec> = {};
  for (const [key, f] of Object.entries(feats as Record<string, unknown>)) {
    if (f === null || typeof f !== 'object') throw bad(`feature '${key}' must be an object`);
    const spec = f as Record<string, unknown>;
    if (typeof spec.dtype !== 'string') throw bad(`feature '${key}' has no string 'dtype'`);
    const shape = spec.shape;
    if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 0)) {
      throw bad(
        `feature '${key}' has invalid shape ${JSON.stringify(shape)} (expected a list of non-negative integers)`,
      );
    }
    if ((spec.dtype === 'video' || spec.dtype === 'image') && shape.length !== 3) {
      throw bad(
        `feature '${key}' (${spec.dtype}) must have shape [height, width, channels], got ${JSON.stringify(shape)}`,
      );
    }
    const size = (shape as number[]).reduce((a, b) => a * b, 1);
    if (size > MAX_FEATURE_VALUES) {
      throw new LeRobotError(
        'feature_too_large',
        `${INFO_PATH}: feature '${key}' has shape ${JSON.stringify(shape)} (${size} values per frame, more than ${MAX_FEATURE_VALUES})`,
        { path: INFO_PATH },
      );
    }
    // The bookkeeping columns are read as one number per row.
    if ((INDEX_KEYS as readonly string[]).includes(key) && size !== 1)
      throw bad(`feature '${key}' must hold one value per frame, got shape ${JSON.stringify(shape)}`);
    features[key] = {
      dtype: spec.dtype,
      shape: shape as number[],
      names: spec.names,
      info: spec.info && typeof spec.info === 'object' ? (spec.info as Record<string, unknown>) : undefined,
    };
  }
  const hasVideo = Object.values(features).some((f) => f.dtype === 'video');
  if (hasVideo && typeof raw.video_path !== 'string') throw bad(`has video features but no 'video_path'`);
  // Check the path templates' fields here, where the error can name the field, not at first use.
  const fileFields =
    version === 'v3.0'
      ? ['chunk_index', 'file_index']
      : ['episode_chunk', 'episode_index', 'chunk_index', 'file_index'];
  checkTemplateFields('data_path', raw.data_path, fileFields, bad);
  if (typeof raw.video_path === 'string')
    checkTemplateFields('video_path', raw.video_path, [...fileFields, 'video_key'], bad);
  return {
    codebaseVersion: version,
    robotType: typeof raw.robot_type === 'string' ? raw.robot_type : null,
    fps,
    totalEpisodes,
    totalFrames,
    totalTasks,
    chunksSize,
    dataPath: raw.data_path,
    videoPath: typeof raw.video_path === 'string' ? raw.video_path : null,
    features,
    raw,
  };
}

/**
 * Reads and validates `meta/info.json` from a storage (`bad_json` when it is not a JSON object,
 * `malformed_info` / `feature_too_large` when a field is wrong).
 */
export async function readInfo(storage: DatasetStorage): Promise<DatasetInfo> {
  return parseInfo(await readJsonObject(storage, INFO_PATH));
}

/** Keys of features stored as mp4 videos. */
export function videoKeys(info: DatasetInfo): string[] {
  return Object.keys(info.features).filter((k) => info.features[k].dtype === 'video');
}

/** Number of scalars per frame of a feature (product of its shape). */
export function featureWidth(spec: FeatureSpec): number {
  return spec.shape.reduce((a, b) => a * b, 1);
}

const TEMPLATE_FIELD = /\{([A-Za-z_][A-Za-z0-9_]*)(?::(0?)(\d*)d)?\}/g;

function checkTemplateFields(
  field: string,
  template: string,
  allowed: readonly string[],
  bad: (msg: string) => LeRobotError,
): void {
  for (const m of template.matchAll(TEMPLATE_FIELD)) {
    if (!allowed.includes(m[1])) {
      throw bad(
        `field '${field}' (${JSON.stringify(template)}) uses unknown field '{${m[1]}}'; this version allows ${allowed.map((a) => `{${a}}`).join(', ')}`,
      );
    }
  }
}

/**
 * Fills a Python format-string path template such as
 * `data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet`.
 * Supports `{name}` and `{name:0Nd}`; an unknown name is an error.
 */
export function formatPathTemplate(template: string, values: Record<string, string | number>): string {
  return template.replace(
    TEMPLATE_FIELD,
    (_m, name: string, zero: string, width: string) => {
      const v = values[name];
      if (v === undefined) {
        throw new LeRobotError(
          'malformed_info',
          `path template ${JSON.stringify(template)} uses unknown field '${name}'`,
          {
            path: INFO_PATH,
          },
        );
      }
      // A width is a few digits in practice; a huge one would only allocate a huge string.
      if (Number(width) > 64) {
        throw new LeRobotError(
          'malformed_info',
          `path template ${JSON.stringify(template)} pads to ${width} characters`,
          {
            path: INFO_PATH,
          },
        );
      }
      const s = String(v);
      return width ? s.padStart(Number(width), zero ? '0' : ' ') : s;
    },
  );
}
