// Host-level reading: validate the header up front, then fetch each tensor's bytes only when asked.
import { openByteSource, type ByteSource, type ByteSourceInput } from './byteSource.js';
import {
  parseHeaderJson,
  readHeaderLength,
  SafetensorsError,
  type HeaderOptions,
  type SafetensorsDType,
  type SafetensorsHeader,
} from './safetensorsFormat.js';

/** Typed array a safetensors dtype is read into (F16/BF16 as raw bits, BOOL/F8 as bytes). */
export type SafetensorsArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** Wraps little-endian bytes of `dtype` as the matching typed array (no copy; bytes must be aligned). */
export function typedArrayFor(dtype: SafetensorsDType, bytes: Uint8Array): SafetensorsArray {
  const { buffer, byteOffset, byteLength } = bytes;
  switch (dtype) {
    case 'F32':
      return new Float32Array(buffer, byteOffset, byteLength / 4);
    case 'F64':
      return new Float64Array(buffer, byteOffset, byteLength / 8);
    case 'I64':
      return new BigInt64Array(buffer, byteOffset, byteLength / 8);
    case 'U64':
      return new BigUint64Array(buffer, byteOffset, byteLength / 8);
    case 'I32':
      return new Int32Array(buffer, byteOffset, byteLength / 4);
    case 'U32':
      return new Uint32Array(buffer, byteOffset, byteLength / 4);
    case 'I16':
      return new Int16Array(buffer, byteOffset, byteLength / 2);
    case 'U16':
    case 'F16':
    case 'BF16':
      return new Uint16Array(buffer, byteOffset, byteLength / 2);
    case 'I8':
      return new Int8Array(buffer, byteOffset, byteLength);
    default:
      return bytes;
  }
}

// Typed arrays use the platform's byte order; every platform WebGPU runs on is little-endian.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** One tensor of a file: its description and a lazy read of its data. */
export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** Absolute file offset of the first byte. */
  fileOffset: number;
  byteLength: number;
  /** Reads this tensor's data (a fresh array each call). */
  data(): Promise<SafetensorsArray>;
}

/** An open safetensors file. Call {@link SafetensorsFile.close} when done (it holds a file handle in Node). */
export interface SafetensorsFile {
  readonly source: string;
  readonly header: SafetensorsHeader;
  /** `__metadata__` of the file. */
  readonly metadata: Record<string, string>;
  /** Tensors by name, in header order; data is read on demand. */
  readonly tensors: Map<string, SafetensorsEntry>;
  close(): Promise<void>;
}

/** Options for {@link readSafetensors}. */
export type ReadSafetensorsOptions = Omit<HeaderOptions, 'source'>;

/** Reads and validates the header of `source`. @internal */
export async function readHeader(
  src: ByteSource,
  options: ReadSafetensorsOptions = {},
): Promise<SafetensorsHeader> {
  const opts = { ...options, source: src.name };
  const prefix = src.size >= 8 ? await src.read(0, 8) : new Uint8Array(0);
  const n = readHeaderLength(prefix, src.size, opts);
  return parseHeaderJson(await src.read(8, n), src.size, opts);
}

/**
 * Opens a safetensors file (a path in Node, a Blob/File, or bytes) and validates its header. Tensor
 * data is read per tensor when `entry.data()` is called, so files larger than memory work.
 * Throws {@link SafetensorsError} for malformed files.
 */
export async function readSafetensors(
  input: ByteSourceInput,
  options: ReadSafetensorsOptions = {},
): Promise<SafetensorsFile> {
  if (!LITTLE_ENDIAN) throw new Error('safetensors: big-endian hosts are not supported');
  const src = await openByteSource(input);
  let header: SafetensorsHeader;
  try {
    header = await readHeader(src, options);
  } catch (e) {
    await src.close();
    throw e;
  }
  let closed = false;
  const tensors = new Map<string, SafetensorsEntry>();
  for (const info of header.tensors) {
    const [begin, end] = info.dataOffsets;
    const fileOffset = header.dataStart + begin;
    tensors.set(info.name, {
      name: info.name,
      dtype: info.dtype,
      shape: info.shape,
      fileOffset,
      byteLength: end - begin,
      async data() {
        if (closed)
          throw new SafetensorsError(src.name, `tensor ${JSON.stringify(info.name)}: file was closed`);
        // A fresh buffer starting at offset 0 is aligned for every element size.
        return typedArrayFor(info.dtype, await src.read(fileOffset, end - begin));
      },
    });
  }
  return {
    source: src.name,
    header,
    metadata: header.metadata,
    tensors,
    async close() {
      if (closed) return;
      closed = true;
      await src.close();
    },
  };
}
