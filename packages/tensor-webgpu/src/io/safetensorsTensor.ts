// One safetensors tensor → one GPU tensor, without silent value changes: a conversion may round
// (F32 → f16, F64 → f32, underflow to zero included) but never turns a finite value into an
// infinity, never reads an integer tensor as weights (or floats as integers), and never maps a
// BOOL byte other than 0/1. NaN and ±Infinity already in the file load as they are: they are
// values, not losses of the conversion. Everything is checked on the host before the GPU sees it.
import { isFloat, storageBytes, type DType } from '../dtype.js';
import { bf16ToFloats, floatsToHalf, halfToFloats } from '../half.js';
import type { Backend } from '../runtime/backend.js';
import { engine as defaultEngine } from '../runtime/session.js';
import { Tensor } from '../tensor.js';
import { SafetensorsError, type SafetensorsDType } from './safetensorsFormat.js';
import type { SafetensorsArray } from './safetensorsReader.js';

/** What a conversion needs to know about a file tensor. */
export interface SafetensorsTensorRef {
  name: string;
  dtype: SafetensorsDType;
  shape: readonly number[];
}

/** Options of {@link tensorFromSafetensors} and {@link checkTensorFitsDevice}. */
export interface SafetensorsTensorOptions {
  /** Engine to create the tensor on (default: the default engine). */
  engine?: Backend;
  /** The file's name, for error messages. */
  source?: string;
}

const FLOAT_DTYPES: ReadonlySet<SafetensorsDType> = new Set(['F16', 'BF16', 'F32', 'F64']);

/** The GPU dtype each integer file dtype loads as (U16 widens to i32, I64 narrows with a range check). */
const INTEGER_TARGET: Partial<Record<SafetensorsDType, DType>> = {
  BOOL: 'bool',
  U8: 'u8',
  I8: 'i32',
  I16: 'i32',
  U16: 'i32',
  I32: 'i32',
  I64: 'i32',
  U32: 'u32',
};

/** The file dtypes each integer GPU dtype loads from, for type-mismatch messages. */
const INTEGER_SOURCES: Record<DType, string> = {
  f32: '',
  f16: '',
  i32: 'I8, I16, U16, I32 or I64',
  u32: 'U32',
  u8: 'U8',
  bool: 'BOOL',
};

/**
 * The GPU dtype a file dtype loads as. Float dtypes follow `floatDtype` ('auto': F32/F64 → f32,
 * F16/BF16 → f16 when `hasF16`, else f32); integers and BOOL have one GPU dtype each. Throws
 * {@link SafetensorsError} for dtypes no GPU tensor holds (U64, F8).
 */
export function gpuDtypeFor(
  ref: SafetensorsTensorRef,
  floatDtype: 'auto' | 'f32' | 'f16',
  hasF16: boolean,
  source?: string,
): DType {
  if (FLOAT_DTYPES.has(ref.dtype)) {
    if (floatDtype !== 'auto') return floatDtype;
    return ref.dtype === 'F32' || ref.dtype === 'F64' || !hasF16 ? 'f32' : 'f16';
  }
  const target = INTEGER_TARGET[ref.dtype];
  if (!target) {
    throw new SafetensorsError(
      source,
      `tensor ${JSON.stringify(ref.name)}: dtype ${ref.dtype} cannot be loaded as a GPU tensor`,
    );
  }
  return target;
}

/**
 * True when file data of `dtype` may load into a tensor of `target`: floats into floats, each
 * integer dtype only into its own GPU dtype (I8, I16, U16, I32, I64 → i32; U32 → u32; U8 → u8; BOOL → bool).
 */
export function canLoadAs(dtype: SafetensorsDType, target: DType): boolean {
  return FLOAT_DTYPES.has(dtype) ? isFloat(target) : INTEGER_TARGET[dtype] === target;
}

/**
 * Throws {@link SafetensorsError} when `ref` stored as `target` would not fit one GPU buffer of the
 * engine (`maxBufferSize`) or one storage binding (`maxStorageBufferBindingSize`; a tensor a kernel
 * cannot bind is useless). Zero dims do not excuse the others: `[2^40, 0]` is refused too. Allocates
 * nothing, so a caller can check every tensor of a file before creating the first.
 */
export function checkTensorFitsDevice(
  ref: SafetensorsTensorRef,
  target: DType,
  options: SafetensorsTensorOptions = {},
): void {
  const eng = options.engine ?? defaultEngine();
  let nonZero = 1;
  for (const d of ref.shape) if (d > 0) nonZero *= d;
  const bytes = storageBytes(target, nonZero);
  // The CPU engine's limit is its 4 GiB wasm32 address space.
  const limits: [string, number][] =
    eng.kind === 'webgpu'
      ? [
          ['maxBufferSize', eng.limits.maxBufferSize],
          ['maxStorageBufferBindingSize', eng.limits.maxStorageBufferBindingSize],
        ]
      : [['wasm32 address space', 4 * 1024 ** 3]];
  for (const [limit, max] of limits) {
    if (bytes > max) {
      throw new SafetensorsError(
        options.source,
        `tensor ${JSON.stringify(ref.name)}: shape [${ref.shape.join(', ')}] as ${target} needs ${bytes} bytes, ` +
          `more than the device's ${limit} of ${max}`,
      );
    }
  }
}

function fail(ref: SafetensorsTensorRef, source: string | undefined, message: string): SafetensorsError {
  return new SafetensorsError(source, `tensor ${JSON.stringify(ref.name)}: ${message}`);
}

/** Float file data as f32 values; F64 values beyond the f32 range are an error, not ±Infinity. */
function toF32(ref: SafetensorsTensorRef, data: SafetensorsArray, source?: string): Float32Array {
  switch (ref.dtype) {
    case 'F32':
      return data as Float32Array;
    case 'F16':
      return halfToFloats(data as Uint16Array);
    case 'BF16':
      return bf16ToFloats(data as Uint16Array);
    default: {
      const src = data as Float64Array;
      const out = Float32Array.from(src);
      for (let i = 0; i < src.length; i++) {
        if (!Number.isFinite(out[i]) && Number.isFinite(src[i]))
          throw fail(
            ref,
            source,
            `F64 element ${i} = ${src[i]} overflows f32 (largest finite ±3.4028235e38)`,
          );
      }
      return out;
    }
  }
}

/** f32 values as f16 bits; finite values that would round to ±Infinity are an error. */
function toF16Bits(ref: SafetensorsTensorRef, floats: Float32Array, source?: string): Uint16Array {
  const bits = floatsToHalf(floats);
  for (let i = 0; i < bits.length; i++) {
    if ((bits[i] & 0x7fff) === 0x7c00 && Number.isFinite(floats[i])) {
      throw fail(
        ref,
        source,
        `${ref.dtype} element ${i} = ${floats[i]} overflows f16 (largest finite ±65504); load it as f32`,
      );
    }
  }
  return bits;
}

function toI32(ref: SafetensorsTensorRef, data: SafetensorsArray, source?: string): Int32Array {
  if (data instanceof Int32Array) return data;
  if (!(data instanceof BigInt64Array)) return Int32Array.from(data as Int16Array);
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < -(2n ** 31n) || v >= 2n ** 31n)
      throw fail(ref, source, `I64 element ${i} = ${v} does not fit in i32 (the GPU integer type)`);
    out[i] = Number(v);
  }
  return out;
}

/**
 * Uploads one file tensor's data (as `entry.data()` returns it) as a GPU tensor of dtype `target`.
 * Throws {@link SafetensorsError} naming the tensor for a type mismatch (see {@link canLoadAs}), for
 * a finite value that would overflow (F64 → f32, anything → f16), for I64 values outside i32, and
 * for BOOL bytes other than 0 and 1. Nothing is allocated when it throws.
 */
export function tensorFromSafetensors(
  ref: SafetensorsTensorRef,
  data: SafetensorsArray,
  target: DType,
  options: SafetensorsTensorOptions = {},
): Tensor {
  const eng = options.engine ?? defaultEngine();
  const { source } = options;
  if (!canLoadAs(ref.dtype, target)) {
    const want = isFloat(target) ? 'a float dtype (F16, BF16, F32 or F64)' : INTEGER_SOURCES[target];
    throw fail(
      ref,
      source,
      `type mismatch: the file stores ${ref.dtype}, but a ${target} tensor needs ${want}`,
    );
  }
  checkTensorFitsDevice(ref, target, options);
  let n = 1;
  for (const d of ref.shape) n *= d;
  if (data.length !== n)
    throw fail(ref, source, `${data.length} values do not fill shape [${ref.shape.join(', ')}]`);
  const shape = [...ref.shape];
  if (target === 'f16') {
    // F16 bits are already what the GPU stores: no round trip through f32.
    const bits =
      ref.dtype === 'F16' ? (data as Uint16Array) : toF16Bits(ref, toF32(ref, data, source), source);
    return Tensor.fromHalfBits(bits, shape, eng);
  }
  if (target === 'f32') return Tensor.fromData(toF32(ref, data, source), shape, 'f32', eng);
  if (target === 'i32') return Tensor.fromData(toI32(ref, data, source), shape, 'i32', eng);
  if (target === 'bool') {
    const bytes = data as Uint8Array;
    const bad = bytes.findIndex((b) => b > 1);
    if (bad >= 0) throw fail(ref, source, `BOOL element ${bad} is ${bytes[bad]}, not 0 or 1`);
    return Tensor.fromData(Uint32Array.from(bytes), shape, 'bool', eng);
  }
  return Tensor.fromData(data as Uint32Array | Uint8Array, shape, target, eng);
}
