// Tensor-level safetensors: load a file straight into GPU tensors (one tensor's bytes on the host at
// a time) and save tensors back, streaming to disk in Node.
import type { DType } from '../dtype.js';
import { bf16ToFloats, floatsToBf16, floatsToHalf, halfToFloats } from '../half.js';
import type { Engine } from '../runtime/engine.js';
import { engine as defaultEngine } from '../runtime/session.js';
import { Tensor } from '../tensor.js';
import { writeFileAtomic } from './atomicWrite.js';
import type { ByteSourceInput } from './byteSource.js';
import { planSafetensors, SafetensorsError, type SafetensorsDType } from './safetensorsFormat.js';
import {
  readSafetensors,
  type ReadSafetensorsOptions,
  type SafetensorsArray,
  type SafetensorsEntry,
} from './safetensorsReader.js';
import { entriesOf, type NamedTensors } from './safetensorsWriter.js';

/** Options for {@link loadSafetensors}. */
export interface LoadSafetensorsOptions extends ReadSafetensorsOptions {
  /** Engine to create tensors on (default: the default engine). */
  engine?: Engine;
  /**
   * dtype for floating-point tensors. 'auto' (default): F32 → f32; F16 and BF16 → f16 when the
   * device has shader-f16, else f32. 'f32' / 'f16' force one dtype for every float tensor ('f16'
   * works on every device: without shader-f16 the tensors are storage only, e.g. linear weights).
   */
  floatDtype?: 'auto' | 'f32' | 'f16';
  /** Load only the tensors for which this returns true. */
  filter?: (name: string) => boolean;
}

const HALF_MAX = 65504;
const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;

function toI32(name: string, src: BigInt64Array, source: string): Int32Array {
  const out = new Int32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (v < I32_MIN || v > I32_MAX) {
      throw new SafetensorsError(
        source,
        `tensor ${JSON.stringify(name)}: I64 element ${i} = ${v} does not fit in i32 (the GPU integer type)`,
      );
    }
    out[i] = Number(v);
  }
  return out;
}

function halfTarget(
  entry: SafetensorsEntry,
  eng: Engine,
  floatDtype: LoadSafetensorsOptions['floatDtype'],
): DType {
  if (floatDtype === 'f32') return 'f32';
  if (floatDtype === 'f16') return 'f16';
  if (entry.dtype === 'F32' || entry.dtype === 'F64') return 'f32';
  return eng.hasF16 ? 'f16' : 'f32';
}

function upload(
  entry: SafetensorsEntry,
  data: SafetensorsArray,
  eng: Engine,
  options: LoadSafetensorsOptions,
  source: string,
): Tensor {
  const { name, shape } = entry;
  switch (entry.dtype) {
    case 'F32':
    case 'F64': {
      const floats = data instanceof Float32Array ? data : Float32Array.from(data as Float64Array);
      return Tensor.fromData(floats, shape, halfTarget(entry, eng, options.floatDtype), eng);
    }
    case 'F16': {
      if (halfTarget(entry, eng, options.floatDtype) === 'f32')
        return Tensor.fromData(halfToFloats(data as Uint16Array), shape, 'f32', eng);
      // The bits are already what the GPU stores: upload them as they are.
      const t = Tensor.empty(shape, 'f16', eng);
      if (data.length) eng.upload(t.buffer, data);
      return t;
    }
    case 'BF16': {
      const floats = bf16ToFloats(data as Uint16Array);
      const target = halfTarget(entry, eng, options.floatDtype);
      if (target === 'f16') {
        const bad = floats.findIndex((x) => Math.abs(x) > HALF_MAX && Number.isFinite(x));
        if (bad >= 0) {
          throw new SafetensorsError(
            source,
            `tensor ${JSON.stringify(name)}: BF16 element ${bad} = ${floats[bad]} overflows f16; load with floatDtype: 'f32'`,
          );
        }
      }
      return Tensor.fromData(floats, shape, target, eng);
    }
    case 'I64':
      return Tensor.fromData(toI32(name, data as BigInt64Array, source), shape, 'i32', eng);
    case 'I32':
      return Tensor.fromData(data as Int32Array, shape, 'i32', eng);
    case 'I16':
    case 'I8':
    case 'U16':
      return Tensor.fromData(Int32Array.from(data as Int16Array), shape, 'i32', eng);
    case 'U32':
      return Tensor.fromData(data as Uint32Array, shape, 'u32', eng);
    case 'U8':
      return Tensor.fromData(data as Uint8Array, shape, 'u8', eng);
    case 'BOOL':
      return Tensor.fromData(
        Uint32Array.from(data as Uint8Array, (b) => (b ? 1 : 0)),
        shape,
        'bool',
        eng,
      );
    default:
      throw new SafetensorsError(
        source,
        `tensor ${JSON.stringify(name)}: dtype ${entry.dtype} cannot be loaded as a GPU tensor`,
      );
  }
}

/**
 * Loads a safetensors file (path in Node, Blob/File or bytes) into GPU tensors, one tensor at a time.
 * The returned tensors belong to the caller (or the enclosing `tidy`). Throws {@link SafetensorsError}
 * for malformed files and for values the GPU types cannot hold (I64 outside the i32 range).
 */
export async function loadSafetensors(
  source: ByteSourceInput,
  options: LoadSafetensorsOptions = {},
): Promise<Map<string, Tensor>> {
  const eng = options.engine ?? defaultEngine();
  const file = await readSafetensors(source, options);
  const out = new Map<string, Tensor>();
  try {
    for (const entry of file.tensors.values()) {
      if (options.filter && !options.filter(entry.name)) continue;
      out.set(entry.name, upload(entry, await entry.data(), eng, options, file.source));
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

async function hostBytes(t: Tensor, dtype: SafetensorsDType): Promise<Uint8Array> {
  if (t.size === 0) return new Uint8Array(0);
  const values = await t.toArray();
  let out: ArrayBufferView;
  switch (dtype) {
    case 'F32':
      out = values;
      break;
    case 'F16':
      out = floatsToHalf(values);
      break;
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
      out.set(await hostBytes(byName.get(e.name)!, e.dtype), layout.prefix.byteLength + e.begin);
    return out;
  }
  await writeFileAtomic(path, async (write) => {
    await write(layout.prefix);
    for (const e of layout.order) await write(await hostBytes(byName.get(e.name)!, e.dtype));
  });
}
