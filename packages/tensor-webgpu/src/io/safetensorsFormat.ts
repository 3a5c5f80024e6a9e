// The safetensors container (huggingface/safetensors, "Format" section of its README):
//   8 bytes   N, unsigned little-endian 64-bit: size of the header
//   N bytes   UTF-8 JSON object, starting with '{', optionally padded at the end with spaces:
//             { "__metadata__": {string: string}, "<name>": {dtype, shape, data_offsets: [begin, end]} }
//   rest      the byte buffer; offsets are relative to its start, tensors are little-endian, row-major,
//             and together cover the buffer without holes or overlaps.
// Everything a reader must reject is checked here, before any tensor byte is touched, so a corrupt
// file ends in a SafetensorsError naming the tensor and the problem rather than a crash or a hang.

/** Element types defined by the safetensors format. */
export type SafetensorsDType =
  | 'BOOL'
  | 'U8'
  | 'I8'
  | 'F8_E5M2'
  | 'F8_E4M3'
  | 'I16'
  | 'U16'
  | 'F16'
  | 'BF16'
  | 'I32'
  | 'U32'
  | 'F32'
  | 'F64'
  | 'I64'
  | 'U64';

/** Bytes per element of each safetensors dtype. */
export const SAFETENSORS_DTYPE_BYTES: Readonly<Record<SafetensorsDType, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
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

/** The reference implementation's cap on the header size; larger values mean a corrupt file. */
export const DEFAULT_MAX_HEADER_BYTES = 100_000_000;

/** Where one tensor lives in a safetensors file. */
export interface SafetensorsTensorInfo {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** [begin, end) relative to the start of the data section. */
  dataOffsets: [number, number];
}

/** A parsed and validated header. */
export interface SafetensorsHeader {
  /** N, the JSON header's length in bytes. */
  headerBytes: number;
  /** Absolute file offset of the data section (8 + N). */
  dataStart: number;
  /** Bytes in the data section. */
  dataBytes: number;
  /** The `__metadata__` map ({} when absent). */
  metadata: Record<string, string>;
  /** Tensors in header order. */
  tensors: SafetensorsTensorInfo[];
}

/** Options for header validation. */
export interface HeaderOptions {
  /** Refuse headers larger than this (default {@link DEFAULT_MAX_HEADER_BYTES}). */
  maxHeaderBytes?: number;
  /** Accept unused bytes between or after tensors (the format forbids them; default false). */
  allowGaps?: boolean;
  /** Name of the file or source, used in error messages. */
  source?: string;
}

/**
 * A file that is not valid safetensors, or whose tensors cannot be loaded as asked (a value that
 * would change in conversion, a type mismatch, a tensor too large for the device); the message
 * names the file, the tensor and the problem.
 */
export class SafetensorsError extends Error {
  /** The file or source the problem is in (undefined for writer-side errors). */
  readonly source: string | undefined;
  /** The message without its `safetensors (source):` prefix, for callers that wrap it. */
  readonly problem: string;
  constructor(source: string | undefined, message: string) {
    super(`safetensors${source ? ` (${source})` : ''}: ${message}`);
    this.name = 'SafetensorsError';
    this.source = source;
    this.problem = message;
  }
}

/**
 * Why `shape` cannot describe a tensor of `dtype`, or null when it can: every dim must be a
 * non-negative safe integer, and the non-zero dims' product in bytes must stay below 2^53, so a
 * zero dim cannot hide absurd sizes such as `[1e15, 1e15, 0]` and no byte count loses precision.
 */
export function shapeProblem(shape: unknown, dtype: SafetensorsDType): string | null {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0))
    return `shape must be an array of non-negative integers, got ${shown(shape)}`;
  let nonZero = 1;
  for (const d of shape as number[]) if (d > 0) nonZero *= d;
  const bytes = nonZero * SAFETENSORS_DTYPE_BYTES[dtype];
  if (!Number.isSafeInteger(bytes)) {
    return (
      `shape [${shape.join(', ')}] is absurd: its non-zero dims make ${nonZero} elements of ${dtype} ` +
      `(${bytes} bytes), beyond 2^53`
    );
  }
  return null;
}

/** True when `dtype` is one of the format's dtype names. */
export function isSafetensorsDType(dtype: unknown): dtype is SafetensorsDType {
  return typeof dtype === 'string' && Object.prototype.hasOwnProperty.call(SAFETENSORS_DTYPE_BYTES, dtype);
}

/**
 * Reads the header length N from the first 8 bytes and checks it against the file size and cap.
 * Returns N as a number.
 */
export function readHeaderLength(prefix: Uint8Array, fileSize: number, options: HeaderOptions = {}): number {
  const fail = (m: string) => new SafetensorsError(options.source, m);
  if (fileSize < 8 || prefix.byteLength < 8) {
    throw fail(
      `file is ${fileSize} bytes, shorter than the 8-byte header length prefix (truncated or not a safetensors file)`,
    );
  }
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  const cap = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  if (n > BigInt(cap)) {
    throw fail(
      `header length ${n} exceeds the limit of ${cap} bytes (corrupt file or not a safetensors file)`,
    );
  }
  if (n > BigInt(fileSize - 8)) {
    throw fail(`header length ${n} runs past the end of the file (${fileSize} bytes): truncated header`);
  }
  if (n < 2n) throw fail(`header length ${n} is too small for a JSON object`);
  return Number(n);
}

// JSON.parse keeps the last of duplicate keys silently; the format forbids duplicates.
function findDuplicateKey(text: string): string | null {
  const stack: (Set<string> | null)[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      const keys = stack[stack.length - 1];
      if (keys) {
        let k = j + 1;
        while (k < text.length && /\s/.test(text[k])) k++;
        if (text[k] === ':') {
          const key = JSON.parse(text.slice(i, j + 1)) as string;
          if (keys.has(key)) return key;
          keys.add(key);
        }
      }
      i = j;
    } else if (c === 0x7b /* { */) stack.push(new Set());
    else if (c === 0x5b /* [ */) stack.push(null);
    else if (c === 0x7d || c === 0x5d) stack.pop();
  }
  return null;
}

function describeJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

function shown(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/**
 * Parses and validates a safetensors header.
 *
 * @param headerJson - the N header bytes (after the 8-byte prefix)
 * @param fileSize - total file size, so offsets can be checked against the data section
 */
export function parseHeaderJson(
  headerJson: Uint8Array,
  fileSize: number,
  options: HeaderOptions = {},
): SafetensorsHeader {
  const fail = (m: string) => new SafetensorsError(options.source, m);
  const headerBytes = headerJson.byteLength;
  const dataStart = 8 + headerBytes;
  if (fileSize < dataStart)
    throw fail(
      `header length ${headerBytes} runs past the end of the file (${fileSize} bytes): truncated header`,
    );
  const dataBytes = fileSize - dataStart;

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerJson);
  } catch {
    throw fail('header is not valid UTF-8');
  }
  if (text[0] !== '{') throw fail(`header must start with '{', found ${JSON.stringify(text.slice(0, 12))}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw fail(`header JSON must be an object, got ${describeJson(json)}`);
  }
  const dup = findDuplicateKey(text);
  if (dup !== null) throw fail(`duplicate key ${JSON.stringify(dup)} in header`);

  const metadata: Record<string, string> = {};
  const tensors: SafetensorsTensorInfo[] = [];
  for (const [name, entry] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
        throw fail(`__metadata__ must be an object mapping strings to strings, got ${describeJson(entry)}`);
      }
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string')
          throw fail(`__metadata__ value for ${JSON.stringify(k)} must be a string, got ${describeJson(v)}`);
        metadata[k] = v;
      }
      continue;
    }
    const t = (m: string) => fail(`tensor ${JSON.stringify(name)}: ${m}`);
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      throw t(`entry must be an object {dtype, shape, data_offsets}, got ${describeJson(entry)}`);
    }
    const e = entry as Record<string, unknown>;
    for (const key of Object.keys(e)) {
      if (key !== 'dtype' && key !== 'shape' && key !== 'data_offsets')
        throw t(`unexpected field ${JSON.stringify(key)}`);
    }
    for (const key of ['dtype', 'shape', 'data_offsets']) if (!(key in e)) throw t(`missing field "${key}"`);
    if (!isSafetensorsDType(e.dtype)) throw t(`unknown dtype ${shown(e.dtype)}`);
    const shape = e.shape;
    const bad = shapeProblem(shape, e.dtype);
    if (bad) throw t(bad);
    const offs = e.data_offsets;
    if (
      !Array.isArray(offs) ||
      offs.length !== 2 ||
      !offs.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      (offs[0] as number) > (offs[1] as number)
    ) {
      throw t(`data_offsets must be [begin, end] with integers 0 <= begin <= end, got ${shown(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    if (end > dataBytes) {
      throw t(
        `data_offsets [${begin}, ${end}] exceed the data section of ${dataBytes} bytes (truncated file?)`,
      );
    }
    const elements = (shape as number[]).reduce((a, b) => a * b, 1);
    const want = elements * SAFETENSORS_DTYPE_BYTES[e.dtype];
    if (!Number.isSafeInteger(want) || end - begin !== want) {
      throw t(
        `data_offsets [${begin}, ${end}] hold ${end - begin} bytes but shape [${(shape as number[]).join(', ')}] of ${e.dtype} ` +
          `needs ${want} (${elements} elements x ${SAFETENSORS_DTYPE_BYTES[e.dtype]} bytes)`,
      );
    }
    tensors.push({ name, dtype: e.dtype, shape: [...(shape as number[])], dataOffsets: [begin, end] });
  }

  // Ranges in order must tile the data section: no overlap, and (per the format) no holes.
  const sorted = [...tensors].sort(
    (a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1],
  );
  let covered = 0;
  let last: SafetensorsTensorInfo | null = null;
  for (const info of sorted) {
    const [begin, end] = info.dataOffsets;
    if (begin < covered && last) {
      throw fail(
        `tensors ${JSON.stringify(last.name)} [${last.dataOffsets.join(', ')}] and ${JSON.stringify(info.name)} ` +
          `[${begin}, ${end}] overlap in the data section`,
      );
    }
    if (begin > covered && !options.allowGaps) {
      throw fail(
        `bytes [${covered}, ${begin}) of the data section belong to no tensor (gap before ${JSON.stringify(info.name)})`,
      );
    }
    if (end >= covered) {
      covered = end;
      last = info;
    }
  }
  if (covered < dataBytes && !options.allowGaps) {
    throw fail(
      `data section has ${dataBytes - covered} bytes after the last tensor that belong to no tensor`,
    );
  }
  return { headerBytes, dataStart, dataBytes, metadata, tensors };
}

/**
 * Parses and validates the header of a safetensors file given its first bytes (at least 8 + N;
 * passing the whole file is fine) and the file's total size.
 */
export function parseSafetensorsHeader(
  prefix: Uint8Array,
  fileSize: number = prefix.byteLength,
  options: HeaderOptions = {},
): SafetensorsHeader {
  const n = readHeaderLength(prefix, fileSize, options);
  if (prefix.byteLength < 8 + n) {
    throw new SafetensorsError(
      options.source,
      `need the first ${8 + n} bytes to parse the header, got ${prefix.byteLength}`,
    );
  }
  return parseHeaderJson(prefix.subarray(8, 8 + n), fileSize, options);
}

/** A tensor to be written: its dtype, shape and byte length. */
export interface SafetensorsPlanEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: readonly number[];
}

/** Header bytes (with the 8-byte prefix) and where each tensor goes. */
export interface SafetensorsPlan {
  /** 8-byte length prefix + JSON header padded with spaces to a multiple of 8. */
  prefix: Uint8Array;
  /** Tensors in the order their bytes follow the header, with data offsets. */
  order: (SafetensorsPlanEntry & { begin: number; end: number })[];
  /** Total file size. */
  fileBytes: number;
}

/**
 * Lays out a file: wider dtypes first (every tensor then starts at a multiple of its element size,
 * as the reference writer does), ties in the given order; the header is padded so data starts at a
 * multiple of 8.
 */
export function planSafetensors(
  entries: readonly SafetensorsPlanEntry[],
  metadata?: Record<string, string>,
): SafetensorsPlan {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string')
        throw new SafetensorsError(
          undefined,
          `metadata value for ${JSON.stringify(k)} must be a string, got ${describeJson(v)}`,
        );
    }
    header.__metadata__ = metadata;
  }
  const seen = new Set<string>();
  const order = entries
    .map((e, i) => ({ e, i }))
    .sort((a, b) => SAFETENSORS_DTYPE_BYTES[b.e.dtype] - SAFETENSORS_DTYPE_BYTES[a.e.dtype] || a.i - b.i)
    .map(({ e }) => e);
  let at = 0;
  const placed: SafetensorsPlan['order'] = [];
  for (const e of order) {
    if (e.name === '__metadata__')
      throw new SafetensorsError(undefined, 'a tensor cannot be named "__metadata__"');
    if (seen.has(e.name))
      throw new SafetensorsError(undefined, `duplicate tensor name ${JSON.stringify(e.name)}`);
    seen.add(e.name);
    if (!isSafetensorsDType(e.dtype))
      throw new SafetensorsError(
        undefined,
        `tensor ${JSON.stringify(e.name)}: unknown dtype ${shown(e.dtype)}`,
      );
    const bad = shapeProblem(e.shape, e.dtype);
    if (bad) throw new SafetensorsError(undefined, `tensor ${JSON.stringify(e.name)}: ${bad}`);
    const bytes = e.shape.reduce((a, b) => a * b, 1) * SAFETENSORS_DTYPE_BYTES[e.dtype];
    placed.push({ ...e, begin: at, end: at + bytes });
    // Object keys that look like integers would be reordered by JSON.stringify; order does not matter to readers.
    Object.defineProperty(header, e.name, {
      value: { dtype: e.dtype, shape: [...e.shape], data_offsets: [at, at + bytes] },
      enumerable: true,
      writable: true,
      configurable: true,
    });
    at += bytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.byteLength / 8) * 8;
  if (padded !== json.byteLength) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const prefix = new Uint8Array(8 + json.byteLength);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  prefix.set(json, 8);
  return { prefix, order: placed, fileBytes: prefix.byteLength + at };
}
