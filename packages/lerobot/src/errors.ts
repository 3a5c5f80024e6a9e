/**
 * What went wrong, machine-readable, so callers can branch without parsing messages:
 * - `missing_file`: a file the layout or metadata names does not exist (or is not a file).
 * - `io_error`: a file exists but cannot be read.
 * - `bad_json`: a `.json` / `.jsonl` file (or line) is not valid JSON, or not an object.
 * - `malformed_info`: `meta/info.json` is valid JSON with a missing or wrong field.
 * - `malformed_metadata`: episodes, tasks or stats files disagree with themselves or with info.json.
 * - `malformed_data`: a data parquet is unreadable, or its rows disagree with the episode metadata.
 * - `bad_timestamps`: an episode's `timestamp` / `frame_index` column is not `frame_index / fps`
 *   with `frame_index` counting 0, 1, 2, …
 * - `bad_stats`: stored statistics have the wrong width for their feature, or an impossible count.
 * - `feature_too_large`: a feature shape (or an episode of it) is too large to hold in memory.
 * - `shape_mismatch`: values or frames have another size than info.json declares.
 * - `bad_mp4`: an mp4 is not an mp4, is truncated, or its index cannot be parsed.
 * - `fragmented_mp4`: an mp4 is fragmented (`moof` / `mvex`), which is not supported.
 * - `video_mismatch`: a video's frames do not line up with its episode (count, fps, from/to range).
 * - `timestamp_not_found`: no video frame within tolerance of a requested timestamp.
 * - `video_error`: decoding failed (ffmpeg exit, timeout, short output, WebCodecs error).
 * - `unsupported`: a valid feature this package does not handle.
 * - `invalid_argument`: the caller passed something wrong.
 */
export type LeRobotErrorCode =
  | 'missing_file'
  | 'io_error'
  | 'bad_json'
  | 'malformed_info'
  | 'malformed_metadata'
  | 'malformed_data'
  | 'bad_timestamps'
  | 'bad_stats'
  | 'feature_too_large'
  | 'shape_mismatch'
  | 'bad_mp4'
  | 'fragmented_mp4'
  | 'video_mismatch'
  | 'timestamp_not_found'
  | 'video_error'
  | 'unsupported'
  | 'invalid_argument';

/**
 * Error raised by every reader, writer and transform of this package. The message names the file,
 * key, shape or value at fault; `code` classifies it and `path` (when known) is the dataset-relative file.
 */
export class LeRobotError extends Error {
  /** Classification of the failure. */
  readonly code: LeRobotErrorCode;
  /** Dataset-relative path of the file involved, when there is one. */
  readonly path?: string;

  constructor(code: LeRobotErrorCode, message: string, options: { path?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LeRobotError';
    this.code = code;
    this.path = options.path;
  }
}
