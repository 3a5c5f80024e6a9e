// Loading never changes a value beyond rounding: overflowing conversions, BOOL bytes other than
// 0/1 and integer data read as weights are errors naming the tensor; nothing stays allocated, and
// sizes are checked against the device before the first allocation.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  loadSafetensors,
  readSafetensors,
  saveSafetensors,
  SafetensorsError,
  serializeSafetensors,
  Tensor,
  tensorFromSafetensors,
  type HostTensor,
} from '../src/index.js';
import { eng } from './setup.js';
import { prng } from './util.js';

/** Loads `bytes`, expecting a SafetensorsError matching `message`, and checks the pool is back where it was. */
async function refused(
  bytes: Uint8Array,
  message: RegExp,
  options: Parameters<typeof loadSafetensors>[1] = {},
): Promise<void> {
  const start = eng.poolStats().inUseBytes;
  const err = await loadSafetensors(bytes, options).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SafetensorsError);
  expect((err as Error).message).toMatch(message);
  expect(eng.poolStats().inUseBytes).toBe(start);
}

/** A file whose tensor `name` has its data bytes replaced (writers refuse to produce such files). */
function withBytes(
  tensors: Record<string, HostTensor>,
  name: string,
  patch: (data: Uint8Array) => void,
): Uint8Array {
  const bytes = serializeSafetensors(tensors);
  const prefix = Number(new DataView(bytes.buffer).getBigUint64(0, true)) + 8;
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, prefix))) as Record<
    string,
    { data_offsets: [number, number] }
  >;
  const [begin, end] = header[name].data_offsets;
  patch(bytes.subarray(prefix + begin, prefix + end));
  return bytes;
}

afterEach(() => vi.restoreAllMocks());

describe('safetensors loading refuses silent value changes', () => {
  it('F32 → f16: finite values that round to ±Infinity are errors; rounding, Inf and NaN are not', async () => {
    const ok = Float32Array.of(65519, -65504, 1e-8, Infinity, -Infinity, NaN, 1.0009765625);
    const w = (
      await loadSafetensors(serializeSafetensors({ w: { dtype: 'F32', shape: [7], data: ok } }), {
        floatDtype: 'f16',
      })
    ).get('w')!;
    // f16 rounds to nearest even: 65519 → 65504 (max finite), 1e-8 → 0, 1 + 2^-10 stays.
    expect(Array.from(await w.toArray())).toEqual([65504, -65504, 0, Infinity, -Infinity, NaN, 1.0009765625]);
    w.dispose();

    const big = serializeSafetensors({
      a: { dtype: 'F32', shape: [2], data: Float32Array.of(1, 2) },
      w: { dtype: 'F32', shape: [3], data: Float32Array.of(1, 1e5, 2) },
    });
    await refused(big, /safetensors \(buffer\): tensor "w": F32 element 1 = 100000 overflows f16/, {
      floatDtype: 'f16',
    });
    const edge = serializeSafetensors({ w: { dtype: 'F32', shape: [1], data: Float32Array.of(-65520) } });
    await refused(edge, /tensor "w": F32 element 0 = -65520 overflows f16/, { floatDtype: 'f16' });
  });

  it('F32 → f16 on fresh random data: loads exactly when every |x| < 65520, else names the first overflow', async () => {
    const r = prng(4242);
    const seen = { loaded: 0, refused: 0 };
    for (let trial = 0; trial < 6; trial++) {
      const n = 1 + Math.floor(r() * 40);
      const x = Float32Array.from({ length: n }, () => (r() * 2 - 1) * (trial % 2 ? 66000 : 70000));
      const bytes = serializeSafetensors({ x: { dtype: 'F32', shape: [n], data: x } });
      // Reference: round-to-nearest-even overflows f16 from 65520 = 65504 + half an ulp (16) up.
      const first = x.findIndex((v) => Math.abs(v) >= 65520);
      if (first < 0) {
        const t = (await loadSafetensors(bytes, { floatDtype: 'f16' })).get('x')!;
        const got = await t.toArray();
        for (let i = 0; i < n; i++)
          expect(Math.abs(got[i] - x[i])).toBeLessThanOrEqual(Math.abs(x[i]) * 2 ** -11 + 1e-7);
        t.dispose();
        seen.loaded++;
      } else {
        seen.refused++;
        await refused(bytes, new RegExp(`tensor "x": F32 element ${first} = ${x[first]} overflows f16`), {
          floatDtype: 'f16',
        });
      }
    }
    expect(seen.loaded * seen.refused).toBeGreaterThan(0); // both outcomes exercised
  });

  it('F64 → f32: ±1e300 is an error; underflow to 0 and infinities in the file are not', async () => {
    await refused(
      serializeSafetensors({ d: { dtype: 'F64', shape: [3], data: Float64Array.of(0.5, -1e300, 1) } }),
      /tensor "d": F64 element 1 = -1e\+300 overflows f32/,
    );
    await refused(
      serializeSafetensors({ d: { dtype: 'F64', shape: [1], data: Float64Array.of(3.5e38) } }),
      /tensor "d": F64 element 0 = 3\.5e\+38 overflows f32/,
    );
    const d = (
      await loadSafetensors(
        serializeSafetensors({
          d: { dtype: 'F64', shape: [3], data: Float64Array.of(1e-300, Infinity, 0.1) },
        }),
      )
    ).get('d')!;
    expect(Array.from(await d.toArray())).toEqual([0, Infinity, Math.fround(0.1)]);
    d.dispose();
  });

  it('BOOL bytes other than 0 and 1 are errors (the writer refuses them too)', async () => {
    for (const byte of [2, 255]) {
      const bytes = withBytes(
        {
          x: { dtype: 'F32', shape: [1], data: Float32Array.of(1) },
          mask: { dtype: 'BOOL', shape: [3], data: Uint8Array.of(1, 0, 1) },
        },
        'mask',
        (d) => (d[1] = byte),
      );
      await refused(bytes, new RegExp(`tensor "mask": BOOL element 1 is ${byte}, not 0 or 1`));
    }
  });

  it('integer data never loads as float weights, nor floats as integers (type mismatch names the tensor)', () => {
    const alloc = vi.spyOn(eng, 'alloc');
    expect(() =>
      tensorFromSafetensors({ name: 'w', dtype: 'I32', shape: [2] }, Int32Array.of(1065353216, 7), 'f32'),
    ).toThrow(/tensor "w": type mismatch: the file stores I32, but a f32 tensor needs a float dtype/);
    expect(() =>
      tensorFromSafetensors({ name: 'w', dtype: 'U32', shape: [1] }, Uint32Array.of(1), 'f16'),
    ).toThrow(/tensor "w": type mismatch: the file stores U32/);
    expect(() =>
      tensorFromSafetensors({ name: 'ids', dtype: 'F32', shape: [1] }, Float32Array.of(1), 'i32'),
    ).toThrow(
      /tensor "ids": type mismatch: the file stores F32, but a i32 tensor needs I8, I16, U16, I32 or I64/,
    );
    expect(alloc.mock.calls.length, 'buffers allocated').toBe(0);
  });

  it('checks every size against the device before allocating: dims hidden behind a zero count too', async () => {
    const [limit, max] = eng.kind === 'webgpu' ? ['maxBufferSize', eng.limits.maxBufferSize] : ['wasm32 address space', 4 * 1024 ** 3];
    // [2^40, 0] is a valid (empty) safetensors shape, but no GPU buffer or binding can index it.
    const hidden = serializeSafetensors({
      a: { dtype: 'F32', shape: [4], data: new Float32Array(4) },
      z: { dtype: 'F32', shape: [2 ** 40, 0], data: new Float32Array(0) },
    });
    expect((await readSafetensors(hidden)).tensors.get('z')!.shape).toEqual([2 ** 40, 0]);
    const alloc = vi.spyOn(eng, 'alloc');
    await refused(
      hidden,
      new RegExp(
        `tensor "z": shape \\[1099511627776, 0\\] as f32 needs 4398046511104 bytes, more than the device's ${limit} of ${max}`,
      ),
    );
    expect(alloc.mock.calls.length, 'buffers allocated').toBe(0);
    alloc.mockRestore();
    // The filter decides what is checked: the rest of the file loads.
    const a = await loadSafetensors(hidden, { filter: (k) => k === 'a' });
    expect(a.get('a')!.shape).toEqual([4]);
    a.get('a')!.dispose();
  });

  it('saving as F16 refuses values that would become infinities', async () => {
    const t = Tensor.fromData([1, -7e4, 3], [3]);
    await expect(saveSafetensors(undefined, { t }, undefined, { floatDtype: 'F16' })).rejects.toThrow(
      /tensor "t": element 1 = -70000 overflows F16/,
    );
    const f32 = await readSafetensors(await saveSafetensors(undefined, { t }));
    expect(Array.from((await f32.tensors.get('t')!.data()) as Float32Array)).toEqual([1, -7e4, 3]);
    t.dispose();
  });
});
