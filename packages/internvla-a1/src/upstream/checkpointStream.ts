// Writes a policy checkpoint (the format `savePolicy` writes and `loadPolicyBundle` reads) from a
// stream of host tensors, one at a time, so a converted model is never held in memory whole. The
// manifest needs every tensor's CRC-32, known only after its data is written: the header is written
// first with placeholder checksums of the same length, then rewritten in place at the end. The file
// appears under its name only when complete (temporary file, fsync, rename).
import CRC32 from 'crc-32';
import {
  floatsToBf16,
  fromHalfBits,
  bf16ToFloats,
  planSafetensors,
  toHalfBits,
  type SafetensorsArray,
  type SafetensorsDType,
} from '@vla/tensor-webgpu';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, type ManifestTensor } from '../checkpoint.js';
import type { InternVLAA1Config } from '../config.js';
import type { PolicyProcessor } from '../policyProcessor.js';
import { UpstreamImportError } from './upstreamImportError.js';

/** Storage dtype of a converted checkpoint's tensors. */
export type CheckpointFloatDtype = 'F32' | 'F16' | 'BF16';

/** Raw tensor data as a safetensors file holds it (F16/BF16 as bits). */
export interface RawTensor {
  dtype: SafetensorsDType;
  data: SafetensorsArray;
}

/** One tensor to write: its name and shape, and a read of its data when its turn comes. */
export interface StreamedTensor {
  name: string;
  shape: readonly number[];
  /** Called once, when the tensor is written; the data may be in any float dtype. */
  read(): Promise<RawTensor>;
}

/** Progress of a streaming write: tensor `index` (1-based) of `count` is done. */
export interface StreamProgress {
  index: number;
  count: number;
  name: string;
  /** Bytes of tensor data written so far / in all. */
  bytes: number;
  totalBytes: number;
}

/** Options of {@link writeCheckpointStream}. */
export interface WriteCheckpointStreamOptions {
  /** Storage dtype (default F32). */
  dtype?: CheckpointFloatDtype;
  /** Stored beside the weights (checked to fit `config`). */
  processor?: PolicyProcessor | null;
  /** Called after each tensor. */
  onProgress?: (p: StreamProgress) => void;
}

const HEX_PLACEHOLDER = '00000000';
const hex = (crc: number) => (crc >>> 0).toString(16).padStart(8, '0');
const bytesOf = (v: ArrayBufferView) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);

/** Float values of raw float data; throws for integer dtypes. */
export function rawToFloats(raw: RawTensor, what: string): Float32Array {
  switch (raw.dtype) {
    case 'F32':
      return raw.data as Float32Array;
    case 'BF16':
      return bf16ToFloats(raw.data as Uint16Array);
    case 'F16':
      return Float32Array.from(raw.data as Uint16Array, fromHalfBits);
    case 'F64':
      return Float32Array.from(raw.data as Float64Array);
    default:
      throw new Error(`${what} is ${raw.dtype}, not a float tensor`);
  }
}

/** The stored bytes of `raw` as `dtype`: bit-exact when the dtypes agree, else converted. */
function storedBytes(raw: RawTensor, dtype: CheckpointFloatDtype, name: string, src: string): Uint8Array {
  if (raw.dtype === dtype) return bytesOf(raw.data);
  const values = rawToFloats(raw, `tensor ${name}`);
  if (dtype === 'F32') return bytesOf(values);
  if (dtype === 'BF16') return bytesOf(floatsToBf16(values));
  const half = Uint16Array.from(values, toHalfBits);
  const bad = half.findIndex((b, i) => (b & 0x7fff) === 0x7c00 && Number.isFinite(values[i]));
  if (bad >= 0)
    throw new UpstreamImportError(
      src,
      `tensor ${name}: element ${bad} = ${values[bad]} overflows F16 (largest finite ±65504); convert to F32 or BF16`,
    );
  return bytesOf(half);
}

function metadata(
  config: InternVLAA1Config,
  manifest: ManifestTensor[],
  processor: PolicyProcessor | null | undefined,
): Record<string, string> {
  const out: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    format_version: String(CHECKPOINT_VERSION),
    config: JSON.stringify(config),
    manifest: JSON.stringify(manifest),
  };
  if (processor) {
    // Same two fields savePolicy writes: the processor's JSON and that text's CRC-32.
    const text = JSON.stringify(processor.toJSON());
    out.processor = text;
    out.processor_crc32 = hex(CRC32.buf(new TextEncoder().encode(text)));
  }
  return out;
}

/**
 * Writes a policy checkpoint at `path` from `tensors` (names and shapes must be the policy's; the
 * caller checks them), reading and converting one tensor at a time. Node only. On any error the
 * partial file is removed and nothing exists under `path` that was not there before.
 */
export async function writeCheckpointStream(
  path: string,
  config: InternVLAA1Config,
  tensors: readonly StreamedTensor[],
  options: WriteCheckpointStreamOptions = {},
): Promise<void> {
  const dtype = options.dtype ?? 'F32';
  if (options.processor) options.processor.checkFits(config);
  const fs = await import('node:fs/promises');
  const { dirname, basename, join } = await import('node:path');
  const manifest: ManifestTensor[] = tensors.map((t) => ({
    name: t.name,
    shape: [...t.shape],
    dtype,
    crc32: HEX_PLACEHOLDER,
  }));
  const entries = tensors.map((t) => ({ name: t.name, dtype, shape: t.shape }));
  const draft = planSafetensors(entries, metadata(config, manifest, options.processor));
  const byName = new Map(tensors.map((t, i) => [t.name, { t, m: manifest[i] }]));
  const totalBytes = draft.order.reduce((a, e) => a + e.end - e.begin, 0);

  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  const handle = await fs.open(tmp, 'wx');
  let ok = false;
  try {
    const writeAt = async (bytes: Uint8Array, position: number) => {
      let done = 0;
      while (done < bytes.byteLength) {
        const n = Math.min(bytes.byteLength - done, 1 << 30);
        const { bytesWritten } = await handle.write(bytes, done, n, position + done);
        done += bytesWritten;
      }
    };
    await writeAt(draft.prefix, 0);
    let bytes = 0;
    for (const [i, e] of draft.order.entries()) {
      const { t, m } = byName.get(e.name)!;
      const data = storedBytes(await t.read(), dtype, t.name, path);
      if (data.byteLength !== e.end - e.begin)
        throw new UpstreamImportError(
          path,
          `tensor ${t.name}: ${data.byteLength} bytes for shape [${t.shape.join(', ')}] of ${dtype}`,
        );
      m.crc32 = hex(CRC32.buf(data));
      await writeAt(data, draft.prefix.byteLength + e.begin);
      bytes += data.byteLength;
      options.onProgress?.({ index: i + 1, count: draft.order.length, name: t.name, bytes, totalBytes });
    }
    // Same names, shapes and 8-digit checksums: the final header has the draft's length.
    const final = planSafetensors(entries, metadata(config, manifest, options.processor));
    if (final.prefix.byteLength !== draft.prefix.byteLength)
      throw new Error('writeCheckpointStream: header length changed between draft and final');
    await writeAt(final.prefix, 0);
    await handle.sync();
    await handle.close();
    await fs.rename(tmp, path);
    ok = true;
  } finally {
    if (!ok) {
      await handle.close().catch(() => undefined);
      await fs.rm(tmp, { force: true }).catch(() => undefined);
    }
  }
}
