// Tensor-level safetensors on the GPU (bytes and Blob sources, so it also runs in the browser).
import { describe, expect, it } from 'vitest';
import { floatsToHalf, fromHalfBits, halfToFloats, toHalfBits } from '../src/half.js';
import {
  bf16ToFloats,
  floatsToBf16,
  loadSafetensors,
  readSafetensors,
  saveSafetensors,
  serializeSafetensors,
  Tensor,
} from '../src/index.js';
import { eng } from './setup.js';
import { randomArray, randomInts } from './util.js';

describe('saveSafetensors / loadSafetensors', () => {
  it('round-trips every GPU dtype, odd sizes, 0-d and empty tensors', async () => {
    const start = eng.poolStats().inUseBytes;
    const f = randomArray(15, 1, -3, 3);
    const ints = randomInts(6, 2, -1000, 1000);
    const tensors = {
      'layers.0.weight': Tensor.fromData(f, [3, 5]),
      ids: Tensor.fromData(ints, [2, 3], 'i32'),
      u: Tensor.fromData(Uint32Array.of(0, 4294967295, 17), [3], 'u32'),
      pixels: Tensor.fromData(Uint8Array.of(0, 1, 127, 128, 200, 254, 255), [7], 'u8'),
      mask: Tensor.fromData([1, 0, 0, 1, 1], [5], 'bool'),
      scalar: Tensor.fromData([2.5], []),
      empty: Tensor.fromData([], [0, 3]),
    };
    const bytes = await saveSafetensors(undefined, tensors, { step: '12' });
    const file = await readSafetensors(bytes);
    expect(file.metadata).toEqual({ step: '12' });
    expect(Object.fromEntries([...file.tensors].map(([k, e]) => [k, e.dtype]))).toEqual({
      'layers.0.weight': 'F32',
      ids: 'I32',
      u: 'U32',
      pixels: 'U8',
      mask: 'BOOL',
      scalar: 'F32',
      empty: 'F32',
    });
    expect(Array.from((await file.tensors.get('mask')!.data()) as Float32Array)).toEqual([1, 0, 0, 1, 1]);

    const loaded = await loadSafetensors(bytes);
    expect([...loaded.keys()].sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      const l = loaded.get(name)!;
      expect([l.dtype, l.shape], name).toEqual([t.dtype, t.shape]);
      expect(Array.from(await l.toArray()), name).toEqual(Array.from(await t.toArray()));
    }
    for (const t of [...Object.values(tensors), ...loaded.values()]) t.dispose();
    expect(eng.poolStats().inUseBytes).toBe(start);
  });

  it('stores i32 as I64 on request and loads I64 back as i32', async () => {
    const t = Tensor.fromData(Int32Array.of(-(2 ** 31), 5, 2 ** 31 - 1), [3], 'i32');
    const bytes = await saveSafetensors(undefined, { t }, undefined, { intDtype: 'I64' });
    const file = await readSafetensors(bytes);
    expect(file.tensors.get('t')!.dtype).toBe('I64');
    expect(Array.from((await file.tensors.get('t')!.data()) as BigInt64Array)).toEqual([
      -(2n ** 31n),
      5n,
      2n ** 31n - 1n,
    ]);
    const back = (await loadSafetensors(bytes)).get('t')!;
    expect([back.dtype, ...(await back.toArray())]).toEqual(['i32', -(2 ** 31), 5, 2 ** 31 - 1]);
    t.dispose();
    back.dispose();
  });

  it('rejects I64 values outside the i32 range, naming the tensor and element, and frees what it loaded', async () => {
    const start = eng.poolStats().inUseBytes;
    const bytes = serializeSafetensors({
      a: { dtype: 'F32', shape: [2], data: Float32Array.of(1, 2) },
      ids: { dtype: 'I64', shape: [3], data: BigInt64Array.of(1n, 2n ** 31n, 0n) },
    });
    await expect(loadSafetensors(bytes)).rejects.toThrow(
      /tensor "ids": I64 element 1 = 2147483648 does not fit in i32/,
    );
    expect(eng.poolStats().inUseBytes).toBe(start);
  });

  it('F16 and BF16 become f32 on devices without shader-f16 (or when asked), with exact values', async () => {
    const x = randomArray(9, 3, -100, 100);
    const bytes = serializeSafetensors({
      h: { dtype: 'F16', shape: [3, 3], data: floatsToHalf(x) },
      b: { dtype: 'BF16', shape: [9], data: floatsToBf16(x) },
    });
    const loaded = await loadSafetensors(bytes, { floatDtype: 'f32' });
    const h = loaded.get('h')!;
    const b = loaded.get('b')!;
    expect([h.dtype, b.dtype]).toEqual(['f32', 'f32']);
    expect(Array.from(await h.toArray())).toEqual(Array.from(halfToFloats(floatsToHalf(x))));
    expect(Array.from(await b.toArray())).toEqual(Array.from(bf16ToFloats(floatsToBf16(x))));
    const auto = await loadSafetensors(bytes);
    expect(auto.get('h')!.dtype).toBe(eng.hasF16 ? 'f16' : 'f32');
    expect(Array.from(await auto.get('h')!.toArray())).toEqual(Array.from(halfToFloats(floatsToHalf(x))));
    for (const t of [...loaded.values(), ...auto.values()]) t.dispose();
  });

  it('saves floats as BF16/F16 on request', async () => {
    const x = randomArray(6, 4);
    const t = Tensor.fromData(x, [2, 3]);
    const bf = await readSafetensors(
      await saveSafetensors(undefined, { t }, undefined, { floatDtype: 'BF16' }),
    );
    expect(Array.from((await bf.tensors.get('t')!.data()) as Uint16Array)).toEqual(
      Array.from(floatsToBf16(x)),
    );
    const hf = await readSafetensors(
      await saveSafetensors(undefined, { t }, undefined, { floatDtype: 'F16' }),
    );
    expect(Array.from((await hf.tensors.get('t')!.data()) as Uint16Array)).toEqual(
      Array.from(floatsToHalf(x)),
    );
    t.dispose();
  });

  it('floatDtype f16 converts F32 on load, on every device', async () => {
    const x = randomArray(7, 5, -3, 3);
    const bytes = serializeSafetensors({ w: { dtype: 'F32', shape: [7], data: x } });
    const w = (await loadSafetensors(bytes, { floatDtype: 'f16' })).get('w')!;
    expect(w.dtype).toBe('f16');
    expect(Array.from(await w.toArray())).toEqual(Array.from(x, (v) => fromHalfBits(toHalfBits(v))));
    w.dispose();
  });

  it('keeps f16 bits exactly and refuses BF16 values that overflow f16', async () => {
    const bits = Uint16Array.of(0x3c00, 0x7bff, 0x0001, 0x8400, 0xc000);
    const t = (
      await loadSafetensors(serializeSafetensors({ h: { dtype: 'F16', shape: [5], data: bits } }), { floatDtype: 'f16' })
    ).get('h')!;
    expect(t.dtype).toBe('f16');
    const again = await readSafetensors(await saveSafetensors(undefined, { h: t }));
    expect(Array.from((await again.tensors.get('h')!.data()) as Uint16Array)).toEqual(Array.from(bits));
    t.dispose();
    const big = serializeSafetensors({ b: { dtype: 'BF16', shape: [2], data: floatsToBf16([1, 1e6]) } });
    await expect(loadSafetensors(big, { floatDtype: 'f16' })).rejects.toThrow(/tensor "b": BF16 element 1 = 999424 overflows f16/);
  });

  it('loads a subset with filter, and from a Blob', async () => {
    const bytes = serializeSafetensors({
      'a.weight': { dtype: 'F32', shape: [2], data: Float32Array.of(1, 2) },
      'b.weight': { dtype: 'F32', shape: [1], data: Float32Array.of(3) },
    });
    const some = await loadSafetensors(new Blob([bytes as Uint8Array<ArrayBuffer>]), {
      filter: (n) => n.startsWith('b.'),
    });
    expect([...some.keys()]).toEqual(['b.weight']);
    expect(Array.from(await some.get('b.weight')!.toArray())).toEqual([3]);
    some.get('b.weight')!.dispose();
  });

  it('saves strided views by their logical values', async () => {
    const base = Tensor.fromData([0, 1, 2, 3, 4, 5], [2, 3]);
    const col = base.view([2], [3], 1); // column 1: values 1, 4
    const file = await readSafetensors(await saveSafetensors(undefined, { col }));
    expect(Array.from((await file.tensors.get('col')!.data()) as Float32Array)).toEqual([1, 4]);
    base.dispose();
    col.dispose();
  });
});
