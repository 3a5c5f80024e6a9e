// Finding and opening an upstream checkpoint's shards: a directory (with an index json or a single
// model.safetensors), an index json, or one safetensors file. Every shard's header is read and checked
// (present, not truncated, agreeing with the index) before any tensor data is touched.
import { readSafetensors, type SafetensorsEntry, type SafetensorsFile } from '@vla/tensor-webgpu';
import { listShort, UpstreamImportError } from './upstreamImportError.js';

/** Name of the index Hugging Face / LeRobot write beside sharded weights. */
export const INDEX_FILE = 'model.safetensors.index.json';
/** Name of an unsharded checkpoint's weights. */
export const SINGLE_FILE = 'model.safetensors';

/** An opened checkpoint: its directory, shards, and every tensor with the shard that holds it. */
export interface OpenedShards {
  /** Directory of the weights (where config.json and stats.json are looked for). */
  dir: string;
  /** Shard paths, in index order. */
  files: string[];
  /** Every tensor by name, with its shard. */
  tensors: Map<string, { file: SafetensorsFile; entry: SafetensorsEntry }>;
  /** Closes every shard. */
  close(): Promise<void>;
}

async function exists(path: string): Promise<boolean> {
  const fs = await import('node:fs/promises');
  return fs.stat(path).then(
    () => true,
    () => false,
  );
}

async function readIndex(path: string): Promise<Map<string, string>> {
  const fs = await import('node:fs/promises');
  let json: unknown;
  try {
    json = JSON.parse(await fs.readFile(path, 'utf8')) as unknown;
  } catch (e) {
    throw new UpstreamImportError(path, `is not a readable JSON index (${(e as Error).message})`);
  }
  const map = (json as { weight_map?: unknown } | null)?.weight_map;
  if (map === null || typeof map !== 'object' || Array.isArray(map))
    throw new UpstreamImportError(path, 'has no weight_map object');
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(map)) {
    if (typeof v !== 'string' || v.length === 0 || v.includes('/') || v.includes('\\'))
      throw new UpstreamImportError(
        path,
        `weight_map.${k} must be a shard file name, got ${JSON.stringify(v)}`,
      );
    out.set(k, v);
  }
  return out;
}

/**
 * Opens an upstream (or Hugging Face) checkpoint: `source` is a directory holding
 * `model.safetensors.index.json` or `model.safetensors`, an index json, or a safetensors file.
 * Checks, before returning, that every shard the index names exists and has a valid, complete header,
 * that each shard holds exactly the tensors the index assigns to it, and that no tensor appears twice.
 * Throws {@link UpstreamImportError} naming the file and the tensor.
 */
export async function openShards(source: string): Promise<OpenedShards> {
  const fs = await import('node:fs/promises');
  const { dirname, join } = await import('node:path');
  const st = await fs.stat(source).catch(() => null);
  if (!st) throw new UpstreamImportError(source, 'does not exist');
  let dir: string;
  let index: Map<string, string> | null = null;
  let indexPath = '';
  let single = '';
  if (st.isDirectory()) {
    dir = source;
    if (await exists(join(dir, INDEX_FILE))) indexPath = join(dir, INDEX_FILE);
    else if (await exists(join(dir, SINGLE_FILE))) single = join(dir, SINGLE_FILE);
    else throw new UpstreamImportError(source, `holds neither ${INDEX_FILE} nor ${SINGLE_FILE}`);
  } else {
    dir = dirname(source);
    if (source.endsWith('.json')) indexPath = source;
    else single = source;
  }
  if (indexPath) index = await readIndex(indexPath);

  const shardNames = index ? [...new Set(index.values())] : [];
  const files = index ? shardNames.map((f) => join(dir, f)) : [single];
  for (const [i, path] of files.entries()) {
    if (!(await exists(path))) {
      const example = index ? [...index].find(([, f]) => f === shardNames[i])![0] : '';
      throw new UpstreamImportError(
        path,
        `shard is missing${index ? ` (${indexPath} assigns ${example} and others to it)` : ''}`,
      );
    }
  }
  const opened: SafetensorsFile[] = [];
  const close = async () => {
    for (const f of opened) await f.close();
  };
  try {
    for (const path of files) {
      try {
        opened.push(await readSafetensors(path));
      } catch (e) {
        throw new UpstreamImportError(path, `is not a complete safetensors file (${(e as Error).message})`);
      }
    }
    const tensors: OpenedShards['tensors'] = new Map();
    for (const file of opened) {
      for (const entry of file.tensors.values()) {
        const prior = tensors.get(entry.name);
        if (prior)
          throw new UpstreamImportError(
            file.source,
            `tensor ${entry.name} also appears in ${prior.file.source}`,
          );
        const assigned = index?.get(entry.name);
        if (index && assigned === undefined)
          throw new UpstreamImportError(
            file.source,
            `holds tensor ${entry.name}, which ${indexPath} does not list`,
          );
        if (index && join(dir, assigned!) !== file.source)
          throw new UpstreamImportError(
            file.source,
            `holds tensor ${entry.name}, which ${indexPath} assigns to ${assigned}`,
          );
        tensors.set(entry.name, { file, entry });
      }
    }
    if (index) {
      const absent = [...index.keys()].filter((k) => !tensors.has(k));
      if (absent.length)
        throw new UpstreamImportError(
          indexPath,
          `lists tensors no shard holds: ${listShort(absent.map((k) => `${k} (in ${index.get(k)})`))}`,
        );
    }
    return { dir, files, tensors, close };
  } catch (e) {
    await close();
    throw e;
  }
}
