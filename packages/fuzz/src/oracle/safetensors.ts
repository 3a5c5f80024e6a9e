// An independent, plain-TypeScript safetensors reader and writer for the oracles: it shares no code
// with @vla/tensor-webgpu, so what a loader accepted can be checked against what the file holds.
// Reading is strict (everything the format forbids is a reason); writing takes any header object so
// that mutated files can be built.
import { parseStrictJson } from './strictJson.js';

/** Bytes per element of each dtype this oracle decodes. */
export const DTYPE_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

/** Floating-point dtypes. */
export const FLOAT_DTYPES: ReadonlySet<string> = new Set(['F16', 'BF16', 'F32', 'F64']);

/** One tensor as the oracle sees it. */
export interface OracleTensor {
  name: string;
  dtype: string;
  shape: number[];
  /** Its bytes (a view into the file). */
  bytes: Uint8Array;
}

/** A file the oracle accepts. */
export interface OracleFile {
  metadata: Record<string, string> | undefined;
  tensors: OracleTensor[];
}

/** Result of {@link parseFile}: the file, or why the format forbids it. */
export type OracleParse = { ok: true; file: OracleFile } | { ok: false; reason: string };

const isNonNegInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Parses and validates a whole safetensors file (header, offsets tiling the data, sizes). */
export function parseFile(bytes: Uint8Array): OracleParse {
  const bad = (reason: string): OracleParse => ({ ok: false, reason });
  if (bytes.byteLength < 8) return bad('shorter than the 8-byte length prefix');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n > bytes.byteLength - 8) return bad(`header length ${n} runs past the end`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    return bad('header is not UTF-8');
  }
  if (!text.startsWith('{')) return bad('header does not start with "{"');
  let header: unknown;
  try {
    header = parseStrictJson(text.replace(/ +$/, ''));
  } catch (e) {
    return bad(`header JSON: ${(e as Error).message}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    return bad('header is not an object');
  const dataStart = 8 + n;
  const dataBytes = bytes.byteLength - dataStart;
  let metadata: Record<string, string> | undefined;
  const tensors: (OracleTensor & { begin: number; end: number })[] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
        return bad('__metadata__ is not an object');
      for (const v of Object.values(entry))
        if (typeof v !== 'string') return bad('__metadata__ has a non-string value');
      metadata = entry as Record<string, string>;
      continue;
    }
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
      return bad(`${name}: entry is not an object`);
    const e = entry as Record<string, unknown>;
    const keys = Object.keys(e).sort().join();
    if (keys !== 'data_offsets,dtype,shape') return bad(`${name}: fields are ${keys}`);
    if (typeof e.dtype !== 'string' || !(e.dtype in DTYPE_BYTES))
      return bad(`${name}: dtype ${JSON.stringify(e.dtype)}`);
    if (!Array.isArray(e.shape) || !e.shape.every(isNonNegInt))
      return bad(`${name}: shape ${JSON.stringify(e.shape)}`);
    const o = e.data_offsets;
    if (!Array.isArray(o) || o.length !== 2 || !o.every(isNonNegInt) || o[0] > o[1])
      return bad(`${name}: data_offsets ${JSON.stringify(o)}`);
    const [begin, end] = o as [number, number];
    if (end > dataBytes) return bad(`${name}: data_offsets past the data section`);
    let elements = 1;
    for (const d of e.shape as number[]) elements *= d;
    if (elements * DTYPE_BYTES[e.dtype] !== end - begin)
      return bad(`${name}: ${end - begin} bytes for shape ${JSON.stringify(e.shape)} ${e.dtype}`);
    tensors.push({
      name,
      dtype: e.dtype,
      shape: e.shape as number[],
      begin,
      end,
      bytes: bytes.subarray(dataStart + begin, dataStart + end),
    });
  }
  const sorted = [...tensors].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const t of sorted) {
    if (t.begin !== at)
      return bad(t.begin < at ? `${t.name}: overlaps the previous tensor` : `gap before ${t.name}`);
    at = t.end;
  }
  if (at !== dataBytes) return bad(`${dataBytes - at} trailing bytes after the last tensor`);
  return {
    ok: true,
    file: {
      metadata,
      tensors: tensors.map(({ name, dtype, shape, bytes }) => ({ name, dtype, shape, bytes })),
    },
  };
}

/** IEEE half bits → number. */
export function halfToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** floor(log2(a)) for a > 0, exact (Math.log2 can be off by one next to powers of two). */
function exponentOf(a: number): number {
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  return e;
}

/** number → nearest IEEE half (ties to even), as a number: what an f16 store of `x` holds. */
export function roundToHalf(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const a = Math.abs(x);
  // 65520 = the midpoint between the largest half (65504) and 2^16: rounds to infinity.
  if (a >= 65520) return Math.sign(x) * Infinity;
  const ulp = 2 ** (Math.max(exponentOf(a), -14) - 10);
  const q = a / ulp; // exact: ulp is a power of two
  let r = Math.round(q);
  if (q - Math.floor(q) === 0.5 && r % 2 === 1) r -= 1; // ties to even
  return Math.sign(x) * r * ulp;
}

/** The values of a tensor as numbers (I64/U64 through Number; BOOL as its raw bytes). */
export function decodeValues(t: OracleTensor): Float64Array {
  const b = t.bytes;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = b.byteLength / DTYPE_BYTES[t.dtype];
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    switch (t.dtype) {
      case 'F32':
        out[i] = v.getFloat32(4 * i, true);
        break;
      case 'F64':
        out[i] = v.getFloat64(8 * i, true);
        break;
      case 'F16':
        out[i] = halfToNumber(v.getUint16(2 * i, true));
        break;
      case 'BF16':
        out[i] = new Float32Array(new Uint32Array([v.getUint16(2 * i, true) << 16]).buffer)[0];
        break;
      case 'I32':
        out[i] = v.getInt32(4 * i, true);
        break;
      case 'U32':
        out[i] = v.getUint32(4 * i, true);
        break;
      case 'I16':
        out[i] = v.getInt16(2 * i, true);
        break;
      case 'U16':
        out[i] = v.getUint16(2 * i, true);
        break;
      case 'I8':
        out[i] = v.getInt8(i);
        break;
      case 'U8':
      case 'BOOL':
        out[i] = v.getUint8(i);
        break;
      case 'I64':
        out[i] = Number(v.getBigInt64(8 * i, true));
        break;
      case 'U64':
        out[i] = Number(v.getBigUint64(8 * i, true));
        break;
    }
  }
  return out;
}

/** Encodes numbers as little-endian bytes of `dtype` (F16/BF16 rounded; BF16 by truncation with rounding). */
export function encodeValues(dtype: string, values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * DTYPE_BYTES[dtype]);
  const v = new DataView(out.buffer);
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    switch (dtype) {
      case 'F32':
        v.setFloat32(4 * i, x, true);
        break;
      case 'F64':
        v.setFloat64(8 * i, x, true);
        break;
      case 'F16':
        v.setUint16(2 * i, halfBits(x), true);
        break;
      case 'BF16':
        f32[0] = x;
        v.setUint16(2 * i, Number.isNaN(x) ? 0x7fc0 : (u32[0] + 0x7fff + ((u32[0] >> 16) & 1)) >>> 16, true);
        break;
      case 'I32':
        v.setInt32(4 * i, x, true);
        break;
      case 'U32':
        v.setUint32(4 * i, x, true);
        break;
      case 'I16':
        v.setInt16(2 * i, x, true);
        break;
      case 'U16':
        v.setUint16(2 * i, x, true);
        break;
      case 'I8':
        v.setInt8(i, x);
        break;
      case 'U8':
      case 'BOOL':
        v.setUint8(i, x);
        break;
      case 'I64':
        v.setBigInt64(8 * i, BigInt(Math.trunc(x)), true);
        break;
      case 'U64':
        v.setBigUint64(8 * i, BigInt(Math.trunc(x)), true);
        break;
    }
  }
  return out;
}

/** Half bits of the half nearest `x`. */
export function halfBits(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const r = roundToHalf(x);
  const sign = r < 0 || Object.is(r, -0) ? 0x8000 : 0;
  const a = Math.abs(r);
  if (a === Infinity) return sign | 0x7c00;
  if (a === 0) return sign;
  if (a < 2 ** -14) return sign | Math.round(a / 2 ** -24);
  const exp = exponentOf(a);
  return sign | ((exp + 15) << 10) | Math.round((a / 2 ** exp - 1) * 1024);
}

/** A tensor to write: any dtype string and shape (nothing is checked, so broken files can be made). */
export interface RawTensor {
  name: string;
  dtype: string;
  shape: number[];
  data: Uint8Array;
}

/**
 * Lays tensors out back to back in the given order and returns the header object (with
 * `__metadata__` first when given) and the data section.
 */
export function layout(
  tensors: readonly RawTensor[],
  metadata?: Record<string, string>,
): { header: Record<string, unknown>; data: Uint8Array } {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let at = 0;
  for (const t of tensors) {
    Object.defineProperty(header, t.name, {
      value: { dtype: t.dtype, shape: t.shape, data_offsets: [at, at + t.data.byteLength] },
      enumerable: true,
      writable: true,
      configurable: true,
    });
    at += t.data.byteLength;
  }
  const data = new Uint8Array(at);
  at = 0;
  for (const t of tensors) {
    data.set(t.data, at);
    at += t.data.byteLength;
  }
  return { header, data };
}

/** A file from header text (padded with spaces to a multiple of 8) and a data section. */
export function assemble(headerText: string, data: Uint8Array): Uint8Array {
  let json = new TextEncoder().encode(headerText);
  const padded = Math.ceil(json.byteLength / 8) * 8;
  if (padded !== json.byteLength) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  out.set(data, 8 + json.byteLength);
  return out;
}

/** A valid file holding `tensors` (in this order) and `metadata`. */
export function writeFile(tensors: readonly RawTensor[], metadata?: Record<string, string>): Uint8Array {
  const { header, data } = layout(tensors, metadata);
  return assemble(JSON.stringify(header), data);
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE) of `bytes` as 8 hex digits, the form policy manifests use. */
export function crc32Hex(bytes: Uint8Array): string {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ((c ^ 0xffffffff) >>> 0).toString(16).padStart(8, '0');
}
