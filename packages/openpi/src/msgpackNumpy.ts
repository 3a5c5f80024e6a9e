import { Decoder, Encoder } from '@msgpack/msgpack';
import { OpenpiError } from './openpiError.js';
import { NpScalar, isNdArray, ndarrayBytes, ndarrayFromBytes, type NdArray } from './ndarray.js';

// Maps and arrays deeper than this are refused (the walk below is recursive).
const MAX_DEPTH = 64;
// Binary map keys are carried through the decoder as strings with this prefix (its keys must be strings).
const BIN_KEY = '\u0000bin:';

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();
const leafEncoder = new Encoder();
const keyBytes = (k: string): Uint8Array => utf8.encode(k);
const K_NDARRAY = keyBytes('__ndarray__');
const K_NPGENERIC = keyBytes('__npgeneric__');
const K_DATA = keyBytes('data');
const K_DTYPE = keyBytes('dtype');
const K_SHAPE = keyBytes('shape');

/**
 * msgpack bytes exactly as openpi-client's `msgpack_numpy.packb` writes them: an {@link NdArray} becomes a
 * map with BINARY keys `__ndarray__` → true, `data` → bin of its C-order bytes, `dtype` → str,
 * `shape` → array; an {@link NpScalar} a map `__npgeneric__` → true, `data` → the value, `dtype` → str
 * (except `<f8`: np.float64 is a Python float and goes out as a plain float64).
 * Strings are str, Uint8Arrays bin, plain objects maps with str keys, arrays arrays, undefined and null nil.
 * A JS number that is an integer is a msgpack int, any other a float64 (Python's float 2.0 is float64;
 * JS cannot tell 2.0 from 2, so send an {@link NpScalar} with a float dtype where the type matters).
 */
export function packOpenpi(value: unknown): Uint8Array {
  const parts: Uint8Array[] = [];
  packValue(value, parts, 0, 'value');
  let n = 0;
  for (const p of parts) n += p.byteLength;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

function header(kind: 'map' | 'array', size: number): Uint8Array {
  const fix = kind === 'map' ? 0x80 : 0x90;
  if (size < 16) return Uint8Array.of(fix + size);
  if (size < 0x10000) return Uint8Array.of(kind === 'map' ? 0xde : 0xdc, size >> 8, size & 0xff);
  const b = new Uint8Array(5);
  b[0] = kind === 'map' ? 0xdf : 0xdd;
  new DataView(b.buffer).setUint32(1, size);
  return b;
}

function binHeader(size: number): Uint8Array {
  if (size < 0x100) return Uint8Array.of(0xc4, size);
  if (size < 0x10000) return Uint8Array.of(0xc5, size >> 8, size & 0xff);
  if (size > 0xffffffff) throw new OpenpiError(`packOpenpi: ${size} bytes do not fit a msgpack bin`);
  const b = new Uint8Array(5);
  b[0] = 0xc6;
  new DataView(b.buffer).setUint32(1, size);
  return b;
}

function float64(v: number): Uint8Array {
  const b = new Uint8Array(9);
  b[0] = 0xcb;
  new DataView(b.buffer).setFloat64(1, v);
  return b;
}

function packValue(v: unknown, parts: Uint8Array[], depth: number, where: string): void {
  if (depth > MAX_DEPTH) throw new OpenpiError(`packOpenpi: ${where} is nested deeper than ${MAX_DEPTH}`);
  if (isNdArray(v)) {
    packNdArray(v, parts, where);
  } else if (v instanceof NpScalar && v.dtype === '<f8' && typeof v.value === 'number') {
    // np.float64 subclasses Python's float, so msgpack writes it as a plain float64, not a numpy map.
    parts.push(float64(v.value));
  } else if (v instanceof NpScalar) {
    parts.push(
      header('map', 3),
      leafEncoder.encode(K_NPGENERIC),
      leafEncoder.encode(true),
      leafEncoder.encode(K_DATA),
    );
    // numpy's item() of a float dtype is a Python float, always written as float64.
    const isFloat = /^[<>=|]?f/.test(v.dtype);
    parts.push(isFloat && typeof v.value === 'number' ? float64(v.value) : leafEncoderFor(v.value));
    parts.push(leafEncoder.encode(K_DTYPE), leafEncoder.encode(v.dtype));
  } else if (Array.isArray(v)) {
    parts.push(header('array', v.length));
    v.forEach((x, i) => packValue(x, parts, depth + 1, `${where}[${i}]`));
  } else if (v instanceof Uint8Array) {
    parts.push(binHeader(v.byteLength), v);
  } else if (v instanceof Map) {
    throw new OpenpiError(`packOpenpi: ${where} is a Map; use a plain object`);
  } else if (typeof v === 'object' && v !== null && !ArrayBuffer.isView(v)) {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    parts.push(header('map', entries.length));
    for (const [k, x] of entries) {
      parts.push(leafEncoder.encode(k));
      packValue(x, parts, depth + 1, `${where}.${k}`);
    }
  } else if (ArrayBuffer.isView(v)) {
    throw new OpenpiError(`packOpenpi: ${where} is a bare ${v.constructor.name}; wrap it with ndarray()`);
  } else {
    parts.push(leafEncoderFor(v === undefined ? null : v));
  }
}

function leafEncoderFor(v: unknown): Uint8Array {
  if (typeof v === 'bigint') return new Encoder({ useBigInt64: true }).encode(v);
  if (typeof v === 'function' || typeof v === 'symbol') {
    throw new OpenpiError(`packOpenpi: a ${typeof v} cannot be sent`);
  }
  return leafEncoder.encode(v);
}

function packNdArray(a: NdArray, parts: Uint8Array[], where: string): void {
  // Validates dtype, shape and element count (throws naming `where`).
  const checked = ndarrayFromBytes(ndarrayBytes(a), a.dtype, a.shape, `packOpenpi: ${where}`);
  const bytes = ndarrayBytes(checked);
  parts.push(header('map', 4), leafEncoder.encode(K_NDARRAY), leafEncoder.encode(true));
  parts.push(leafEncoder.encode(K_DATA), binHeader(bytes.byteLength), bytes);
  parts.push(leafEncoder.encode(K_DTYPE), leafEncoder.encode(a.dtype));
  parts.push(leafEncoder.encode(K_SHAPE), header('array', a.shape.length));
  for (const d of a.shape) parts.push(leafEncoder.encode(d));
}

const decoder = new Decoder({
  useBigInt64: false,
  mapKeyConverter: (key: unknown): string | number => {
    if (typeof key === 'string' || typeof key === 'number') return key;
    if (key instanceof Uint8Array) return BIN_KEY + utf8Decoder.decode(key);
    throw new OpenpiError(
      `unpackOpenpi: a map key of type ${typeof key} (only str, int and bin keys are read)`,
    );
  },
});

/**
 * Decodes msgpack bytes as openpi-client's `msgpack_numpy.unpackb` does: maps with the binary key
 * `__ndarray__` become {@link NdArray}s (dtype, shape and data length checked), maps with `__npgeneric__`
 * {@link NpScalar}s; other binary map keys become string keys; str is string, bin Uint8Array.
 * Throws an {@link OpenpiError} naming the problem (bad msgpack, unsupported dtype, size mismatch).
 */
export function unpackOpenpi(bytes: Uint8Array): unknown {
  let raw: unknown;
  try {
    raw = decoder.decode(bytes);
  } catch (e) {
    if (e instanceof OpenpiError) throw e;
    throw new OpenpiError(`unpackOpenpi: not valid msgpack (${(e as Error).message})`);
  }
  return revive(raw, 0, 'message');
}

function revive(v: unknown, depth: number, where: string): unknown {
  if (depth > MAX_DEPTH) throw new OpenpiError(`unpackOpenpi: ${where} is nested deeper than ${MAX_DEPTH}`);
  if (Array.isArray(v)) return v.map((x, i) => revive(x, depth + 1, `${where}[${i}]`));
  if (
    typeof v !== 'object' ||
    v === null ||
    ArrayBuffer.isView(v) ||
    Object.getPrototypeOf(v) !== Object.prototype
  ) {
    return v;
  }
  const o = v as Record<string, unknown>;
  if (Object.prototype.hasOwnProperty.call(o, BIN_KEY + '__ndarray__')) return reviveNdArray(o, where);
  if (Object.prototype.hasOwnProperty.call(o, BIN_KEY + '__npgeneric__')) {
    const dtype = o[BIN_KEY + 'dtype'];
    const value = o[BIN_KEY + 'data'];
    if (typeof dtype !== 'string')
      throw new OpenpiError(`unpackOpenpi: ${where}: numpy scalar without a str dtype`);
    if (typeof value !== 'number' && typeof value !== 'boolean' && typeof value !== 'bigint') {
      throw new OpenpiError(
        `unpackOpenpi: ${where}: numpy scalar data is ${describe(value)}, not a number or bool`,
      );
    }
    return new NpScalar(value, dtype);
  }
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) {
    const key = k.startsWith(BIN_KEY) ? k.slice(BIN_KEY.length) : k;
    if (key === '__proto__')
      throw new OpenpiError(`unpackOpenpi: ${where}: the key __proto__ is not allowed`);
    out[key] = revive(x, depth + 1, `${where}.${key}`);
  }
  return out;
}

function reviveNdArray(o: Record<string, unknown>, where: string): NdArray {
  const data = o[BIN_KEY + 'data'];
  const dtype = o[BIN_KEY + 'dtype'];
  const shape = o[BIN_KEY + 'shape'];
  if (!(data instanceof Uint8Array)) {
    throw new OpenpiError(`unpackOpenpi: ${where}: ndarray "data" is ${describe(data)}, not bin bytes`);
  }
  if (typeof dtype !== 'string') {
    throw new OpenpiError(`unpackOpenpi: ${where}: ndarray "dtype" is ${describe(dtype)}, not a str`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number')) {
    throw new OpenpiError(
      `unpackOpenpi: ${where}: ndarray "shape" is ${describe(shape)}, not a list of ints`,
    );
  }
  return ndarrayFromBytes(data, dtype, shape as number[], `unpackOpenpi: ${where}`);
}

/** A short description of a decoded value for error messages. */
export function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'nil';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (v instanceof Uint8Array) return `${v.byteLength} bin bytes`;
  if (isNdArray(v)) return `an ndarray ${v.dtype} [${v.shape.join(', ')}]`;
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') return `the str ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return `${typeof v} ${String(v)}`;
}
