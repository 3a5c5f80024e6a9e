// Tensor-level safetensors: load a file straight into GPU tensors (one tensor's bytes on the host at
// a time) and save tensors back, streaming to disk in Node.
import type { DType } from '../dtype.js';
import { floatsToBf16, floatsToHalf } from '../half.js';
import type { Backend } from '../runtime/backend.js';
import { engine as defaultEngine } from '../runtime/session.js';
import type { Tensor } from '../tensor.js';
import { writeFileAtomic } from './atomicWrite.js';
import type { ByteSourceInput } from './byteSource.js';
import { planSafetensors, SafetensorsError, type SafetensorsDType } from './safetensorsFormat.js';
import { readSafetensors, type ReadSafetensorsOptions, type SafetensorsEntry } from './safetensorsReader.js';
import { checkTensorFitsDevice, gpuDtypeFor, tensorFromSafetensors } from './safetensorsTensor.js';
import { entriesOf, type NamedTensors } from './safetensorsWriter.js';

/** Options for {@link loadSafetensors}. */
export interface LoadSafetensorsOptions extends ReadSafetensorsOptions {
  /** Engine to create tensors on (default: the default engine). */
  engine?: Backend;
  /**
   * dtype for floating-point tensors. 'auto' (default): F32 → f32; F16 and BF16 → f16 when the
   * device has shader-f16, else f32. 'f32' / 'f16' force one dtype for every float tensor ('f16'
   * works on every device: without shader-f16 the tensors are storage only, e.g. linear weights).
   */
  floatDtype?: 'auto' | 'f32' | 'f16';
  /** Load only the tensors for which this returns true. */
  filter?: (name: string) => boolean;
}

/**
 * Loads a safetensors file (path in Node, Blob/File or bytes) into GPU tensors, one tensor at a time.
 * The returned tensors belong to the caller (or the enclosing `tidy`). Every tensor's dtype and size
 * (against the device's buffer limits) is checked before the first is allocated. Throws
 * {@link SafetensorsError} naming the tensor for malformed files, tensors too large for the device,
 * and values a conversion would change beyond rounding (see {@link tensorFromSafetensors}); on
 * error nothing stays allocated.
 */
export async function loadSafetensors(
  source: ByteSourceInput,
  options: LoadSafetensorsOptions = {},
): Promise<Map<string, Tensor>> {
  const eng = options.engine ?? defaultEngine();
  const file = await readSafetensors(source, options);
  const out = new Map<string, Tensor>();
  try {
    // Every tensor's dtype and size is checked before the first one is allocated.
    const plan: [SafetensorsEntry, DType][] = [];
    for (const entry of file.tensors.values()) {
      if (options.filter && !options.filter(entry.name)) continue;
      const target = gpuDtypeFor(entry, options.floatDtype ?? 'auto', eng.hasF16, file.source);
      checkTensorFitsDevice(entry, target, { engine: eng, source: file.source });
      plan.push([entry, target]);
    }
    for (const [entry, target] of plan) {
      const data = await entry.data();
      out.set(entry.name, tensorFromSafetensors(entry, data, target, { engine: eng, source: file.source }));
    }
  } catch (e) {
    for (const t of out.values()) t.dispose();
    throw e;
  } finally {
    await file.close();
  }
  return out;
}

/** Options for {@link saveSafetensors}. */
export interface SaveSafetensorsOptions {
  /** Store every floating-point tensor in this dtype (default: F32 for f32, F16 for f16). */
  floatDtype?: 'F32' | 'F16' | 'BF16';
  /** Store i32 tensors as I32 (default) or I64 (PyTorch's index type). */
  intDtype?: 'I32' | 'I64';
}

function fileDtype(t: Tensor, name: string, options: SaveSafetensorsOptions): SafetensorsDType {
  switch (t.dtype) {
    case 'f32':
      return options.floatDtype ?? 'F32';
    case 'f16':
      return options.floatDtype ?? 'F16';
    case 'i32':
      return options.intDtype ?? 'I32';
    case 'u32':
      return 'U32';
    case 'u8':
      return 'U8';
    case 'bool':
      return 'BOOL';
    default:
      throw new SafetensorsError(
        undefined,
        `tensor ${JSON.stringify(name)}: dtype ${String(t.dtype)} cannot be saved`,
      );
  }
}

async function hostBytes(t: Tensor, name: string, dtype: SafetensorsDType): Promise<Uint8Array> {
  if (t.size === 0) return new Uint8Array(0);
  const values = await t.toArray();
  let out: ArrayBufferView;
  switch (dtype) {
    case 'F32':
      out = values;
      break;
    case 'F16': {
      const bits = floatsToHalf(values);
      // Like loading, saving refuses to turn a finite value into an infinity.
      const bad = bits.findIndex((b, i) => (b & 0x7fff) === 0x7c00 && Number.isFinite(values[i]));
      if (bad >= 0)
        throw new SafetensorsError(
          undefined,
          `tensor ${JSON.stringify(name)}: element ${bad} = ${values[bad]} overflows F16 (largest finite ±65504); save it as F32 or BF16`,
        );
      out = bits;
      break;
    }
    case 'BF16':
      out = floatsToBf16(values);
      break;
    case 'I64':
      out = BigInt64Array.from(values as Int32Array, (v) => BigInt(v));
      break;
    case 'BOOL':
      out = Uint8Array.from(values, (v) => (v ? 1 : 0));
      break;
    default:
      out = values;
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * Saves tensors in safetensors format. With a path (Node), streams the file to disk atomically
 * (temporary file, fsync, rename) one tensor at a time and resolves to undefined; with `undefined`,
 * resolves to the file's bytes. Tensors are read back from the GPU, not modified.
 */
export function saveSafetensors(
  path: string,
  tensors: NamedTensors<Tensor>,
  metadata?: Record<string, string>,
  options?: SaveSafetensorsOptions,
): Promise<void>;
export function saveSafetensors(
  path: undefined,
  tensors: NamedTensors<Tensor>,
  metadata?: Record<string, string>,
  options?: SaveSafetensorsOptions,
): Promise<Uint8Array>;
export async function saveSafetensors(
  path: string | undefined,
  tensors: NamedTensors<Tensor>,
  metadata?: Record<string, string>,
  options: SaveSafetensorsOptions = {},
): Promise<Uint8Array | void> {
  const list = entriesOf(tensors);
  const byName = new Map(list);
  const layout = planSafetensors(
    list.map(([name, t]) => ({ name, dtype: fileDtype(t, name, options), shape: t.shape })),
    metadata,
  );
  if (path === undefined) {
    const out = new Uint8Array(layout.fileBytes);
    out.set(layout.prefix);
    for (const e of layout.order)
      out.set(await hostBytes(byName.get(e.name)!, e.name, e.dtype), layout.prefix.byteLength + e.begin);
    return out;
  }
  await writeFileAtomic(path, async (write) => {
    await write(layout.prefix);
    for (const e of layout.order) await write(await hostBytes(byName.get(e.name)!, e.name, e.dtype));
  });
}
