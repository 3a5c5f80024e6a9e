import { parquetMetadataAsync, parquetReadObjects, type AsyncBuffer, type FileMetaData } from 'hyparquet';
import { LeRobotError } from './errors';
import type { DatasetStorage } from './storage';

/** A parquet file opened through a storage: its footer is read once, row ranges on demand. */
export interface ParquetFile {
  path: string;
  metadata: FileMetaData;
  numRows: number;
  /** Column names at the top level of the schema. */
  columns: string[];
  /** Key/value metadata of the footer (`huggingface`, `pandas`, ...). */
  keyValue: Record<string, string>;
  /** Reads rows `[rowStart, rowEnd)` as objects (int64 as bigint, lists as arrays). */
  readRows(options?: {
    columns?: string[];
    rowStart?: number;
    rowEnd?: number;
  }): Promise<Record<string, unknown>[]>;
}

function storageBuffer(storage: DatasetStorage, path: string, byteLength: number): AsyncBuffer {
  return {
    byteLength,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const bytes = await storage.read(path, { start, end: end ?? byteLength });
      return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
        ? (bytes.buffer as ArrayBuffer)
        : (bytes.slice().buffer as ArrayBuffer);
    },
  };
}

/**
 * Opens a parquet file of the dataset. Absent files raise `missing_file`; files that are not
 * parquet (or are truncated) raise `malformed_data` naming the path.
 */
export async function openParquet(storage: DatasetStorage, path: string): Promise<ParquetFile> {
  const size = await storage.size(path);
  const file = storageBuffer(storage, path, size);
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (e) {
    throw new LeRobotError(
      'malformed_data',
      `${path} is not a readable parquet file: ${(e as Error).message}`,
      {
        path,
        cause: e,
      },
    );
  }
  const columns: string[] = [];
  // Top-level children of the schema root, skipping nested descendants.
  const schema = metadata.schema;
  let i = 1;
  while (i < schema.length) {
    columns.push(String(schema[i].name));
    let pending = schema[i].num_children ?? 0;
    i++;
    while (pending > 0) {
      if (i >= schema.length) {
        throw new LeRobotError(
          'malformed_data',
          `${path} is not a readable parquet file: its schema tree is cut short`,
          {
            path,
          },
        );
      }
      pending += (schema[i].num_children ?? 0) - 1;
      i++;
    }
  }
  const keyValue: Record<string, string> = {};
  for (const kv of metadata.key_value_metadata ?? []) if (kv.value !== undefined) keyValue[kv.key] = kv.value;
  return {
    path,
    metadata,
    numRows: Number(metadata.num_rows),
    columns,
    keyValue,
    async readRows(options = {}) {
      try {
        return (await parquetReadObjects({
          file,
          metadata,
          columns: options.columns,
          rowStart: options.rowStart,
          rowEnd: options.rowEnd,
        })) as Record<string, unknown>[];
      } catch (e) {
        throw new LeRobotError('malformed_data', `failed to read rows of ${path}: ${(e as Error).message}`, {
          path,
          cause: e,
        });
      }
    },
  };
}
