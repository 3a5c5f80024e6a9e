import { OpenpiError } from './openpiError.js';

/** The typed array that holds an {@link NdArray}'s elements, by dtype. */
export type NdArrayData =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

/**
 * A numpy array as the openpi wire carries it: C-order elements, a numpy dtype string and a shape.
 * `data` is the typed array of the dtype (see {@link NDARRAY_DTYPES}): `|b1` is a Uint8Array of 0/1,
 * `<f2` a Uint16Array of raw IEEE half bits, `<i8`/`<u8` BigInt64Array/BigUint64Array.
 */
export type NdArray = {
  /** numpy dtype string (`dtype.str`): `<f4`, `|u1`, ... */
  dtype: string;
  /** Dimensions, outermost first; `[]` is a 0-d array of one element. */
  shape: number[];
  /** Elements in C order, `product(shape)` of them. */
  data: NdArrayData;
};

type DtypeInfo = {
  readonly size: number;
  readonly make: (buffer: ArrayBuffer, offset: number, length: number) => NdArrayData;
  readonly is: (data: NdArrayData) => boolean;
};

/** The dtypes the codec reads and writes, with their element size in bytes. Little-endian only. */
const DTYPES: Readonly<Record<string, DtypeInfo>> = {
  '|u1': { size: 1, make: (b, o, n) => new Uint8Array(b, o, n), is: (d) => d instanceof Uint8Array },
  '|b1': { size: 1, make: (b, o, n) => new Uint8Array(b, o, n), is: (d) => d instanceof Uint8Array },
  '|i1': { size: 1, make: (b, o, n) => new Int8Array(b, o, n), is: (d) => d instanceof Int8Array },
  '<u2': { size: 2, make: (b, o, n) => new Uint16Array(b, o, n), is: (d) => d instanceof Uint16Array },
  '<f2': { size: 2, make: (b, o, n) => new Uint16Array(b, o, n), is: (d) => d instanceof Uint16Array },
  '<i2': { size: 2, make: (b, o, n) => new Int16Array(b, o, n), is: (d) => d instanceof Int16Array },
  '<u4': { size: 4, make: (b, o, n) => new Uint32Array(b, o, n), is: (d) => d instanceof Uint32Array },
  '<i4': { size: 4, make: (b, o, n) => new Int32Array(b, o, n), is: (d) => d instanceof Int32Array },
  '<f4': { size: 4, make: (b, o, n) => new Float32Array(b, o, n), is: (d) => d instanceof Float32Array },
  '<f8': { size: 8, make: (b, o, n) => new Float64Array(b, o, n), is: (d) => d instanceof Float64Array },
  '<i8': { size: 8, make: (b, o, n) => new BigInt64Array(b, o, n), is: (d) => d instanceof BigInt64Array },
  '<u8': { size: 8, make: (b, o, n) => new BigUint64Array(b, o, n), is: (d) => d instanceof BigUint64Array },
};

/** numpy dtype strings the codec supports (little-endian / byte-sized, C order). */
export const NDARRAY_DTYPES: readonly string[] = Object.freeze(Object.keys(DTYPES));

// Typed arrays use the platform's byte order; the wire is little-endian.
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new OpenpiError('@vla/openpi needs a little-endian platform');
}

function dtypeInfo(dtype: string, where: string): DtypeInfo {
  const info = Object.prototype.hasOwnProperty.call(DTYPES, dtype) ? DTYPES[dtype] : undefined;
  if (!info) {
    throw new OpenpiError(
      `${where}: dtype ${JSON.stringify(dtype)} is not supported (supported: ${NDARRAY_DTYPES.join(' ')})`,
    );
  }
  return info;
}

function elementCount(shape: readonly number[], where: string): number {
  let n = 1;
  for (const d of shape) {
    if (!(Number.isSafeInteger(d) && d >= 0)) {
      throw new OpenpiError(
        `${where}: shape [${shape.join(', ')}] has a dimension that is not a non-negative integer`,
      );
    }
    n *= d;
  }
  if (!Number.isSafeInteger(n)) throw new OpenpiError(`${where}: shape [${shape.join(', ')}] is too large`);
  return n;
}

/**
 * Builds an {@link NdArray}, checking that `data` is the typed array of `dtype` and holds
 * `product(shape)` elements. `dtype` defaults from the typed array (`<f4` for Float32Array, `|u1` for
 * Uint8Array, ...). Throws an {@link OpenpiError} naming the mismatch.
 */
export function ndarray(data: NdArrayData, shape: readonly number[], dtype?: string): NdArray {
  const dt = dtype ?? defaultDtype(data);
  const info = dtypeInfo(dt, 'ndarray');
  if (!info.is(data)) {
    throw new OpenpiError(`ndarray: dtype ${dt} does not match a ${data.constructor.name}`);
  }
  const n = elementCount(shape, 'ndarray');
  if (data.length !== n) {
    throw new OpenpiError(
      `ndarray: shape [${shape.join(', ')}] needs ${n} elements, data has ${data.length}`,
    );
  }
  return { dtype: dt, shape: [...shape], data };
}

function defaultDtype(data: NdArrayData): string {
  if (data instanceof Uint8Array) return '|u1';
  if (data instanceof Int8Array) return '|i1';
  if (data instanceof Uint16Array) return '<u2';
  if (data instanceof Int16Array) return '<i2';
  if (data instanceof Uint32Array) return '<u4';
  if (data instanceof Int32Array) return '<i4';
  if (data instanceof Float32Array) return '<f4';
  if (data instanceof Float64Array) return '<f8';
  if (data instanceof BigInt64Array) return '<i8';
  return '<u8';
}

/** The raw little-endian bytes of an array's elements (a view, no copy). */
export function ndarrayBytes(a: NdArray): Uint8Array {
  return new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
}

/**
 * Wire bytes → an {@link NdArray}: checks the dtype, the shape and that `bytes` holds exactly
 * `product(shape) × itemsize` bytes; copies when the bytes are not aligned for the dtype.
 */
export function ndarrayFromBytes(
  bytes: Uint8Array,
  dtype: string,
  shape: readonly number[],
  where = 'ndarray',
): NdArray {
  const info = dtypeInfo(dtype, where);
  const n = elementCount(shape, where);
  if (bytes.byteLength !== n * info.size) {
    throw new OpenpiError(
      `${where}: dtype ${dtype} shape [${shape.join(', ')}] needs ${n * info.size} bytes of data, got ${bytes.byteLength}`,
    );
  }
  // A copy when misaligned for the element type (new Uint8Array copies; Buffer's slice would not).
  const src = bytes.byteOffset % info.size === 0 ? bytes : new Uint8Array(bytes);
  return { dtype, shape: [...shape], data: info.make(src.buffer as ArrayBuffer, src.byteOffset, n) };
}

function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** The elements of a numeric array as float64 (`<f2` decoded from its half bits, 64-bit ints rounded). */
export function ndarrayToFloat64(a: NdArray): Float64Array {
  const out = new Float64Array(a.data.length);
  if (a.dtype === '<f2') {
    for (let i = 0; i < out.length; i++) out[i] = halfToNumber(a.data[i] as number);
  } else {
    for (let i = 0; i < out.length; i++) out[i] = Number(a.data[i]);
  }
  return out;
}

/**
 * Whether a value is an {@link NdArray}: a dtype string, a shape list and a typed array. A map with a
 * str key `__ndarray__` is not one (msgpack-numpy's keys are binary; such a map decodes as a plain map).
 */
export function isNdArray(v: unknown): v is NdArray {
  if (typeof v !== 'object' || v === null || '__ndarray__' in v) return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.dtype === 'string' &&
    Array.isArray(o.shape) &&
    ArrayBuffer.isView(o.data) &&
    !(o.data instanceof DataView)
  );
}

/**
 * A numpy scalar (`np.float32(1.5)`, `np.int64(3)`): msgpack-numpy sends it as a map with binary keys
 * `__npgeneric__`, `data` (the Python value) and `dtype`. Decoded messages carry them as this class;
 * pack one to send a numpy scalar.
 */
export class NpScalar {
  /**
   * @param value the element (`item()` in Python)
   * @param dtype numpy dtype string, e.g. `<f4`
   */
  constructor(
    readonly value: number | bigint | boolean,
    readonly dtype: string,
  ) {}
}
