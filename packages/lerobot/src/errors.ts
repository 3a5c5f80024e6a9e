/** What went wrong, machine-readable, so callers can branch without parsing messages. */
export type LeRobotErrorCode =
  | 'missing_file'
  | 'malformed_info'
  | 'malformed_metadata'
  | 'malformed_data'
  | 'shape_mismatch'
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
