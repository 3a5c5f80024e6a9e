import { LeRobotError } from './errors';

/** A half-open byte range `[start, end)` inside a file. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Where a dataset's files live. Paths are relative to the dataset root and use `/`
 * (`meta/info.json`, `data/chunk-000/file-000.parquet`). The reader only ever goes through this
 * interface, so the same code reads a local folder in Node, a URL base or dropped files in a browser.
 */
export interface DatasetStorage {
  /** Where the dataset is, for error messages (a folder, a URL). */
  readonly location: string;
  /**
   * Reads a whole file, or `range` of it. Rejects with a {@link LeRobotError} of code
   * `missing_file` that names the path when the file does not exist.
   */
  read(path: string, range?: ByteRange): Promise<Uint8Array>;
  /** Size in bytes; rejects with `missing_file` when absent. */
  size(path: string): Promise<number>;
  /** Whether the file exists. */
  exists(path: string): Promise<boolean>;
  /** Local filesystem path of a file, when the storage is a local folder (lets ffmpeg read it directly). */
  localPath?(path: string): string | undefined;
}

/** The error every storage raises for an absent file. */
export function missingFile(storage: { location: string }, path: string, cause?: unknown): LeRobotError {
  return new LeRobotError('missing_file', `file not found: ${path} (in dataset ${storage.location})`, {
    path,
    cause,
  });
}

/** Normalises a dataset-relative path and refuses ones that escape the root. */
export function cleanRelativePath(path: string): string {
  const parts: string[] = [];
  for (const part of path.replace(/\\/g, '/').split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw new LeRobotError('invalid_argument', `path escapes the dataset root: ${path}`);
    parts.push(part);
  }
  return parts.join('/');
}

/** Reads a UTF-8 text file through a storage. */
export async function readText(storage: DatasetStorage, path: string): Promise<string> {
  return new TextDecoder().decode(await storage.read(path));
}
