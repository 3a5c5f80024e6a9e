// What a latent cache depends on, hashed into the name of its file: the dataset's metadata and the
// files its frames come from, the tokenizer's encoder weights and configuration, and the image
// transform in front of it. Anything that could change one cached latent changes the fingerprint.
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { PolicyProcessor } from '@vla/internvla-a1';
import type { LeRobotDataset } from '@vla/lerobot';
import { noGrad, tidy } from '@vla/tensor-webgpu';
import type { CosmosImageTokenizer } from '@vla/vae';

/** Version of the cache file layout; bump it when what a file holds or means changes. */
export const LATENT_CACHE_VERSION = 1;

/** Size and modification time of a data or video file (mtime null where the storage has none). */
export interface LatentFileStamp {
  /** Bytes. */
  size: number;
  /** Modification time in ms since the epoch, or null for storages without local files. */
  mtimeMs: number | null;
}

/** Everything a cache file's latents depend on (stored in its metadata as JSON). */
export interface LatentFingerprintInputs {
  /** Version of the cache layout of the writer. */
  version: number;
  /** Storage dtype of the latents. */
  dtype: 'F16' | 'F32';
  /** The dataset. */
  dataset: {
    /** Where it is (folder or URL). */
    location: string;
    /** sha256 of each meta file (info, episodes, tasks, stats), by dataset-relative path. */
    meta: Record<string, string>;
    /** Size and mtime of each data and video file the cache reads, by dataset-relative path. */
    files: Record<string, LatentFileStamp>;
  };
  /** The frozen tokenizer. */
  tokenizer: {
    /** Its configuration. */
    config: unknown;
    /** sha256 over the names, dtypes, shapes and values of its encoder-side weights. */
    weights: string;
  };
  /** The image transform in front of the tokenizer. */
  transform: {
    /** The processor's square image side. */
    imageSize: number;
    /** The processor's cameras (view slots) in view order. */
    cameras: string[];
    /** Video key feeding each of those slots, null for a missing camera. */
    sources: (string | null)[];
    /**
     * sha256 of the transform's output for a fixed pseudo-random frame at each source's size: a
     * change of the resize code (or of the device's arithmetic) is a change of the cache.
     */
    probe: string;
  };
}

const sha256 = () => createHash('sha256');

function sortedRecord<T>(entries: [string, T][]): Record<string, T> {
  return Object.fromEntries([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Dataset-relative paths of the meta files that exist: info, episodes, tasks and stats of v2.x
 * (`*.jsonl`, `stats.json`) or v3.0 (`tasks.parquet`, `episodes/chunk-*\/file-*.parquet`, `stats.json`).
 */
async function metaFiles(dataset: LeRobotDataset): Promise<string[]> {
  const storage = dataset.storage;
  const out = ['meta/info.json'];
  const optional =
    dataset.info.codebaseVersion === 'v3.0'
      ? ['meta/tasks.parquet', 'meta/stats.json']
      : ['meta/episodes.jsonl', 'meta/tasks.jsonl', 'meta/episodes_stats.jsonl', 'meta/stats.json'];
  for (const p of optional) if (await storage.exists(p)) out.push(p);
  if (dataset.info.codebaseVersion === 'v3.0') {
    // Episode files are numbered like data files (the reader walks them the same way).
    const name = (c: number, f: number) =>
      `meta/episodes/chunk-${String(c).padStart(3, '0')}/file-${String(f).padStart(3, '0')}.parquet`;
    let chunk = 0;
    let file = 0;
    while (true) {
      if (await storage.exists(name(chunk, file))) {
        out.push(name(chunk, file));
        file++;
      } else if (file > 0 && (await storage.exists(name(chunk + 1, 0)))) {
        chunk++;
        file = 0;
      } else break;
    }
  }
  return out;
}

/** Size and mtime of one dataset file (mtime from the local file system when the storage has one). */
async function fileStamp(dataset: LeRobotDataset, path: string): Promise<LatentFileStamp> {
  const local = dataset.storage.localPath?.(path);
  if (local) {
    const s = await stat(local);
    return { size: s.size, mtimeMs: s.mtimeMs };
  }
  return { size: await dataset.storage.size(path), mtimeMs: null };
}

/** The dataset part: meta files by content, data and video files of the mapped cameras by size and mtime. */
async function datasetInputs(
  dataset: LeRobotDataset,
  keys: readonly string[],
): Promise<LatentFingerprintInputs['dataset']> {
  const meta: [string, string][] = [];
  for (const p of await metaFiles(dataset))
    meta.push([
      p,
      sha256()
        .update(await dataset.storage.read(p))
        .digest('hex'),
    ]);
  const paths = new Set<string>();
  for (const e of dataset.episodes) {
    paths.add(e.dataPath);
    for (const k of keys) if (e.videos[k]) paths.add(e.videos[k].path);
  }
  const files: [string, LatentFileStamp][] = [];
  for (const p of paths) files.push([p, await fileStamp(dataset, p)]);
  return { location: dataset.storage.location, meta: sortedRecord(meta), files: sortedRecord(files) };
}

/**
 * sha256 of the tokenizer's encoder-side weights (`encoder.*`, `quant_conv.*`: all that the latent
 * depends on; the decoder is left out), read back from the GPU one tensor at a time.
 */
export async function tokenizerWeightsHash(tokenizer: CosmosImageTokenizer): Promise<string> {
  const h = sha256();
  const entries = Object.entries(tokenizer.stateDict())
    .filter(([n]) => n.startsWith('encoder.') || n.startsWith('quant_conv.'))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [name, t] of entries) {
    const values = await t.toArray();
    h.update(`${name}|${t.dtype}|${t.shape.join(',')}|`);
    h.update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  return h.digest('hex');
}

/** A deterministic pseudo-random RGB8 frame (xorshift32), the probe of the transform. */
function probeFrame(height: number, width: number): Uint8Array {
  const out = new Uint8Array(height * width * 3);
  let s = 0x9e3779b9 ^ (height * 65_537 + width);
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 0xff;
  }
  return out;
}

/** sha256 of `processor.imageBatchToPolicy` on a probe frame at the size of each source camera. */
async function transformProbe(
  dataset: LeRobotDataset,
  processor: PolicyProcessor,
  sources: (string | null)[],
): Promise<string> {
  const h = sha256();
  const cams = processor.json.cameras;
  for (let v = 0; v < cams.length; v++) {
    const key = sources[v];
    if (!key) continue;
    const [height, width] = dataset.imageShape(key);
    const t = noGrad(() =>
      tidy(() => {
        const { images } = processor.imageBatchToPolicy([
          { [cams[v]]: { height, width, data: probeFrame(height, width) } },
        ]);
        return images[v];
      }),
    );
    try {
      const values = await t.toArray();
      h.update(`${cams[v]}|${height}x${width}|`);
      h.update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    } finally {
      t.dispose();
    }
  }
  return h.digest('hex');
}

/** Arguments of {@link latentFingerprint}. */
export interface LatentFingerprintOptions {
  /** The dataset. */
  dataset: LeRobotDataset;
  /** Video key feeding each of the processor's cameras, null for a missing one. */
  sources: (string | null)[];
  /** The policy's I/O layer (image size, camera order, transform). */
  processor: PolicyProcessor;
  /** The frozen image tokenizer. */
  tokenizer: CosmosImageTokenizer;
  /** Storage dtype. */
  dtype: 'F16' | 'F32';
}

/**
 * The fingerprint of a cache (32 hex digits of the sha256 of its inputs' canonical JSON) and the
 * inputs themselves.
 */
export async function latentFingerprint(
  o: LatentFingerprintOptions,
): Promise<{ fingerprint: string; inputs: LatentFingerprintInputs }> {
  const keys = o.sources.filter((k): k is string => k !== null);
  const inputs: LatentFingerprintInputs = {
    version: LATENT_CACHE_VERSION,
    dtype: o.dtype,
    dataset: await datasetInputs(o.dataset, keys),
    tokenizer: {
      config: JSON.parse(JSON.stringify(o.tokenizer.config)) as unknown,
      weights: await tokenizerWeightsHash(o.tokenizer),
    },
    transform: {
      imageSize: o.processor.json.imageSize,
      cameras: [...o.processor.json.cameras],
      sources: [...o.sources],
      probe: await transformProbe(o.dataset, o.processor, o.sources),
    },
  };
  const fingerprint = sha256().update(JSON.stringify(inputs)).digest('hex').slice(0, 32);
  return { fingerprint, inputs };
}
