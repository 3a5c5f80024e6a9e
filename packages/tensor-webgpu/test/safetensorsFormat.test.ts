// The safetensors container without a GPU: spec byte vectors, every dtype round trip on the host,
// and a corpus of corrupted files that must each be rejected with a message naming the problem.
import { describe, expect, it } from 'vitest';
import {
  parseSafetensorsHeader,
  readSafetensors,
  serializeSafetensors,
  SafetensorsError,
  type HostTensor,
  type SafetensorsDType,
} from '../src/index.js';
import { prng } from './util.js';

const enc = new TextEncoder();

/** A file assembled by hand as the format README describes: u64 LE length, JSON, data. */
function handBuilt(
  header: string | Uint8Array,
  data: ArrayLike<number> = [],
  lengthOverride?: bigint,
): Uint8Array {
  const json = typeof header === 'string' ? enc.encode(header) : header;
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(Uint8Array.from(data), 8 + json.length);
  return out;
}

async function rejection(bytes: Uint8Array | Blob): Promise<Error> {
  try {
    const f = await readSafetensors(bytes);
    await f.close();
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    return e as Error;
  }
  throw new Error('expected the file to be rejected');
}

describe('safetensors format: spec byte vectors', () => {
  it('reads the README example byte for byte', async () => {
    // {"test": I32 [2,2] at [0,16]} + metadata, data = 0,1,2,3 as little-endian i32.
    const header =
      '{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]},"__metadata__":{"foo":"bar"}}';
    const data = [0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0];
    const file = await readSafetensors(handBuilt(header, data));
    expect(file.metadata).toEqual({ foo: 'bar' });
    expect(file.header.dataStart).toBe(8 + header.length);
    const e = file.tensors.get('test')!;
    expect([e.dtype, e.shape, e.byteLength, e.fileOffset]).toEqual(['I32', [2, 2], 16, 8 + header.length]);
    expect(Array.from((await e.data()) as Int32Array)).toEqual([0, 1, 2, 3]);
    await file.close();
  });

  it('accepts a header padded with trailing spaces, and F16/BF16/I64/BOOL bit patterns', async () => {
    const header =
      '{"h":{"dtype":"F16","shape":[3],"data_offsets":[0,6]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[6,10]},' +
      '"i":{"dtype":"I64","shape":[1],"data_offsets":[10,18]},"z":{"dtype":"BOOL","shape":[2],"data_offsets":[18,20]}}   ';
    // f16 1.0 = 0x3c00, -2 = 0xc000, 65504 = 0x7bff; bf16 1.0 = 0x3f80, -0.5 = 0xbf00; i64 -3.
    const data = [
      0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x80, 0x3f, 0x00, 0xbf, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 1, 0,
    ];
    const file = await readSafetensors(handBuilt(header, data));
    expect(Array.from((await file.tensors.get('h')!.data()) as Uint16Array)).toEqual([
      0x3c00, 0xc000, 0x7bff,
    ]);
    expect(Array.from((await file.tensors.get('b')!.data()) as Uint16Array)).toEqual([0x3f80, 0xbf00]);
    expect(Array.from((await file.tensors.get('i')!.data()) as BigInt64Array)).toEqual([-3n]);
    expect(Array.from((await file.tensors.get('z')!.data()) as Uint8Array)).toEqual([1, 0]);
    await file.close();
  });

  it('writes exactly the bytes the format prescribes (header padded to 8 with spaces, wide dtypes first)', () => {
    const bytes = serializeSafetensors(
      {
        m: { dtype: 'U8', shape: [3], data: Uint8Array.of(7, 8, 9) },
        w: { dtype: 'F32', shape: [2], data: Float32Array.of(1, -2) },
      },
      { format: 'pt' },
    );
    const json =
      '{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
      '"m":{"dtype":"U8","shape":[3],"data_offsets":[8,11]}}';
    const padded = json + ' '.repeat((8 - (json.length % 8)) % 8);
    const expected = handBuilt(padded, [0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, 7, 8, 9]);
    expect(Array.from(bytes)).toEqual(Array.from(expected));
    expect((8 + padded.length) % 8).toBe(0);
  });

  it('parseSafetensorsHeader works on a prefix with the file size given', () => {
    const bytes = serializeSafetensors({ a: { dtype: 'F32', shape: [4], data: new Float32Array(4) } });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const h = parseSafetensorsHeader(bytes.subarray(0, 8 + n), bytes.length);
    expect(h.tensors).toEqual([{ name: 'a', dtype: 'F32', shape: [4], dataOffsets: [0, 16] }]);
    expect(h.dataBytes).toBe(16);
  });
});

describe('safetensors format: host round trip of every dtype', () => {
  const r = prng(7);
  const cases: [SafetensorsDType, number[], () => ArrayBufferView][] = [
    ['F32', [3, 5], () => Float32Array.from({ length: 15 }, () => r() * 10 - 5)],
    ['F64', [7], () => Float64Array.from({ length: 7 }, () => r() - 0.5)],
    ['F16', [1, 7], () => Uint16Array.from({ length: 7 }, () => Math.floor(r() * 0x7c00))],
    ['BF16', [9], () => Uint16Array.from({ length: 9 }, () => Math.floor(r() * 0xffff))],
    ['I64', [2, 3], () => BigInt64Array.of(-(2n ** 40n), 0n, 1n, -1n, 2n ** 62n, 5n)],
    ['U64', [1], () => BigUint64Array.of(2n ** 64n - 1n)],
    ['I32', [5], () => Int32Array.of(-(2 ** 31), 2 ** 31 - 1, 0, -7, 3)],
    ['U32', [2], () => Uint32Array.of(0, 2 ** 32 - 1)],
    ['I16', [3], () => Int16Array.of(-32768, 32767, 1)],
    ['U16', [1], () => Uint16Array.of(65535)],
    ['I8', [3], () => Int8Array.of(-128, 127, 0)],
    ['U8', [7], () => Uint8Array.from({ length: 7 }, (_, i) => i * 37)],
    ['BOOL', [3], () => Uint8Array.of(1, 0, 1)],
    ['F8_E4M3', [2], () => Uint8Array.of(0x38, 0xb8)],
    ['F32', [], () => Float32Array.of(3.25)],
    ['I32', [0, 4], () => new Int32Array(0)],
    ['F16', [2, 0], () => new Uint16Array(0)],
  ];
  it('reads back every dtype, 0-d and empty tensors unchanged', async () => {
    const tensors: Record<string, HostTensor> = {};
    cases.forEach(([dtype, shape, make], i) => (tensors[`t${i}.${dtype}`] = { dtype, shape, data: make() }));
    const bytes = serializeSafetensors(tensors, { note: 'round trip', ü: 'utf-8 ✓' });
    // Tensors start at multiples of their element size within an 8-aligned data section.
    const file = await readSafetensors(bytes);
    expect(file.metadata).toEqual({ note: 'round trip', ü: 'utf-8 ✓' });
    expect(file.header.dataStart % 8).toBe(0);
    expect([...file.tensors.keys()].sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      const e = file.tensors.get(name)!;
      expect(e.dtype, name).toBe(t.dtype);
      expect(e.shape, name).toEqual(t.shape);
      const got = await e.data();
      expect(got.constructor, name).toBe(t.data.constructor);
      expect(Array.from(got as ArrayLike<number>), name).toEqual(
        Array.from(t.data as unknown as ArrayLike<number>),
      );
      const size =
        { F64: 8, I64: 8, U64: 8, F32: 4, I32: 4, U32: 4, F16: 2, BF16: 2, I16: 2, U16: 2 }[
          e.dtype as string
        ] ?? 1;
      expect((e.fileOffset - file.header.dataStart) % size, `${name} alignment`).toBe(0);
    }
    await file.close();
  });

  it('reads from a Blob the same as from bytes', async () => {
    const bytes = serializeSafetensors({ x: { dtype: 'F32', shape: [2], data: Float32Array.of(1.5, -1) } });
    const file = await readSafetensors(new Blob([bytes as Uint8Array<ArrayBuffer>]));
    expect(Array.from((await file.tensors.get('x')!.data()) as Float32Array)).toEqual([1.5, -1]);
    await file.close();
    await expect(file.tensors.get('x')!.data()).rejects.toThrow(/file was closed/);
  });

  it('rejects bad input to the writer', () => {
    expect(() =>
      serializeSafetensors({ a: { dtype: 'F32', shape: [3], data: new Float32Array(2) } }),
    ).toThrow(/tensor "a": 8 bytes of data do not match shape \[3\] of F32 \(12 bytes\)/);
    expect(() =>
      serializeSafetensors({ b: { dtype: 'BOOL', shape: [2], data: Uint8Array.of(0, 2) } }),
    ).toThrow(/BOOL element 1 is 2/);
    expect(() =>
      serializeSafetensors({ __metadata__: { dtype: 'U8', shape: [0], data: new Uint8Array(0) } }),
    ).toThrow(/__metadata__/);
    expect(() =>
      serializeSafetensors({ z: { dtype: 'F32', shape: [1e15, 1e15, 0], data: new Float32Array(0) } }),
    ).toThrow(/tensor "z": shape \[1000000000000000, 1000000000000000, 0\] is absurd/);
    expect(() => serializeSafetensors({}, { n: 3 as unknown as string })).toThrow(
      /metadata value for "n" must be a string/,
    );
  });
});

describe('safetensors format: corrupted files are rejected with a clear message', () => {
  const ok = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
  const eight = [0, 0, 128, 63, 0, 0, 0, 64];
  const entry = (dtype: string, shape: string, offs: string) =>
    `{"dtype":${dtype},"shape":${shape},"data_offsets":${offs}}`;
  const corpus: [string, Uint8Array, RegExp][] = [
    ['empty file', new Uint8Array(0), /file is 0 bytes, shorter than the 8-byte header length prefix/],
    ['5-byte file', Uint8Array.of(1, 2, 3, 4, 5), /file is 5 bytes, shorter than the 8-byte/],
    [
      'truncated header',
      handBuilt(ok).subarray(0, 30),
      /header length 54 runs past the end of the file \(30 bytes\): truncated header/,
    ],
    [
      'absurd header length',
      handBuilt(ok, eight, 2n ** 62n),
      /header length 4611686018427387904 exceeds the limit of 100000000 bytes/,
    ],
    [
      'header length larger than the file',
      handBuilt(ok, eight, 1000n),
      /header length 1000 runs past the end of the file/,
    ],
    ['header length 0', handBuilt('', [], 0n), /header length 0 is too small/],
    ['not UTF-8', handBuilt(Uint8Array.of(0x7b, 0xff, 0xfe, 0x7d)), /header is not valid UTF-8/],
    ['not JSON', handBuilt('{"a": [1, 2}', []), /header is not valid JSON/],
    ['JSON array', handBuilt('[1, 2, 3]'), /header must start with '\{', found "\[1, 2, 3\]"/],
    ['JSON string', handBuilt('"abc"'), /header must start with '\{'/],
    [
      'duplicate tensor name',
      handBuilt(`{"a":${entry('"U8"', '[1]', '[0,1]')},"a":${entry('"U8"', '[1]', '[1,2]')}}`, [1, 2]),
      /duplicate key "a" in header/,
    ],
    [
      'metadata not an object',
      handBuilt('{"__metadata__":[1]}'),
      /__metadata__ must be an object mapping strings to strings, got an array/,
    ],
    [
      'metadata value not a string',
      handBuilt('{"__metadata__":{"k":1}}'),
      /__metadata__ value for "k" must be a string, got number 1/,
    ],
    [
      'entry not an object',
      handBuilt('{"a":5}'),
      /tensor "a": entry must be an object \{dtype, shape, data_offsets\}, got number 5/,
    ],
    [
      'missing field',
      handBuilt('{"a":{"dtype":"F32","shape":[2]}}', eight),
      /tensor "a": missing field "data_offsets"/,
    ],
    [
      'extra field',
      handBuilt(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}}`, eight),
      /tensor "a": unexpected field "x"/,
    ],
    [
      'unknown dtype',
      handBuilt(`{"a":${entry('"F128"', '[2]', '[0,8]')}}`, eight),
      /tensor "a": unknown dtype "F128"/,
    ],
    [
      'lower-case dtype',
      handBuilt(`{"a":${entry('"f32"', '[2]', '[0,8]')}}`, eight),
      /tensor "a": unknown dtype "f32"/,
    ],
    [
      'negative dim',
      handBuilt(`{"a":${entry('"F32"', '[-2]', '[0,8]')}}`, eight),
      /tensor "a": shape must be an array of non-negative integers, got \[-2\]/,
    ],
    [
      'fractional dim',
      handBuilt(`{"a":${entry('"F32"', '[1.5]', '[0,8]')}}`, eight),
      /shape must be an array of non-negative integers, got \[1.5\]/,
    ],
    [
      'absurd dims behind a zero dim',
      handBuilt(`{"a":${entry('"F32"', '[1000000000000000,1000000000000000,0]', '[0,0]')}}`),
      /tensor "a": shape \[1000000000000000, 1000000000000000, 0\] is absurd: its non-zero dims make 1e\+30 elements/,
    ],
    [
      'dims whose product overflows',
      handBuilt(`{"a":${entry('"U8"', '[4294967296,4294967296]', '[0,8]')}}`, eight),
      /tensor "a": shape \[4294967296, 4294967296\] is absurd/,
    ],
    [
      'shape not an array',
      handBuilt(`{"a":${entry('"F32"', '"2"', '[0,8]')}}`, eight),
      /shape must be an array/,
    ],
    [
      'offsets reversed',
      handBuilt(`{"a":${entry('"F32"', '[2]', '[8,0]')}}`, eight),
      /data_offsets must be \[begin, end\] with integers 0 <= begin <= end, got \[8,0\]/,
    ],
    [
      'offsets wrong arity',
      handBuilt(`{"a":${entry('"F32"', '[2]', '[0]')}}`, eight),
      /data_offsets must be \[begin, end\]/,
    ],
    [
      'offsets out of range',
      handBuilt(`{"a":${entry('"F32"', '[4]', '[0,16]')}}`, eight),
      /tensor "a": data_offsets \[0, 16\] exceed the data section of 8 bytes/,
    ],
    [
      'truncated data',
      handBuilt(ok, eight.slice(0, 5)),
      /tensor "a": data_offsets \[0, 8\] exceed the data section of 5 bytes \(truncated file\?\)/,
    ],
    [
      'size mismatch',
      handBuilt(`{"a":${entry('"F32"', '[3]', '[0,8]')}}`, eight),
      /tensor "a": data_offsets \[0, 8\] hold 8 bytes but shape \[3\] of F32 needs 12/,
    ],
    [
      'overlapping ranges',
      handBuilt(`{"a":${entry('"F32"', '[2]', '[0,8]')},"b":${entry('"F32"', '[1]', '[4,8]')}}`, eight),
      /tensors "a" \[0, 8\] and "b" \[4, 8\] overlap/,
    ],
    [
      'gap between tensors',
      handBuilt(
        `{"a":${entry('"U8"', '[2]', '[0,2]')},"b":${entry('"U8"', '[2]', '[4,6]')}}`,
        [1, 2, 3, 4, 5, 6],
      ),
      /bytes \[2, 4\) of the data section belong to no tensor \(gap before "b"\)/,
    ],
    ['trailing bytes', handBuilt(ok, [...eight, 9, 9, 9]), /data section has 3 bytes after the last tensor/],
    [
      'escaped quote in key does not confuse the scanner',
      handBuilt('{"a\\"":{"dtype":"X","shape":[],"data_offsets":[0,0]}}'),
      /tensor "a\\"": unknown dtype "X"/,
    ],
  ];
  for (const [what, bytes, message] of corpus) {
    it(what, async () => {
      const err = await rejection(bytes);
      expect(err.message).toMatch(/^safetensors \(buffer\): /);
      expect(err.message).toMatch(message);
    });
  }

  it('gaps are accepted when asked for', async () => {
    const file = await readSafetensors(handBuilt(ok, [...eight, 0, 0]), { allowGaps: true });
    expect(Array.from((await file.tensors.get('a')!.data()) as Float32Array)).toEqual([1, 2]);
  });

  it('a smaller header cap is honoured', async () => {
    await expect(readSafetensors(handBuilt(ok, eight), { maxHeaderBytes: 16 })).rejects.toThrow(
      /header length 54 exceeds the limit of 16 bytes/,
    );
  });

  it('random corruption never crashes or hangs: every mutant parses or fails with a SafetensorsError', async () => {
    const good = serializeSafetensors(
      {
        w: { dtype: 'F32', shape: [2, 3], data: new Float32Array(6) },
        b: { dtype: 'BF16', shape: [3], data: new Uint16Array(3) },
        i: { dtype: 'I64', shape: [1], data: new BigInt64Array(1) },
      },
      { k: 'v' },
    );
    const r = prng(99);
    for (let trial = 0; trial < 300; trial++) {
      const bad = good.slice(0, trial % 5 === 0 ? Math.floor(r() * good.length) : good.length);
      for (let k = 0; k < 3; k++) bad[Math.floor(r() * bad.length)] = Math.floor(r() * 256);
      try {
        const f = await readSafetensors(bad);
        for (const e of f.tensors.values()) await e.data();
      } catch (e) {
        expect(e, `trial ${trial}`).toBeInstanceOf(SafetensorsError);
      }
    }
  });
});
