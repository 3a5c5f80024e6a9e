import { describe, expect, it } from 'vitest';
import { eng } from './setup.js';
import * as T from '../src/index.js';
import { expectClose, gradCheck, layoutInput, randomArray } from './util.js';

describe('creation', () => {
  it('tensor, zeros, ones, full, arange for every dtype', async () => {
    expectClose(await T.tensor([1.5, -2, 3]).toArray(), [1.5, -2, 3]);
    expect(T.tensor([1, 2, 3, 4, 5, 6], [2, 3]).shape).toEqual([2, 3]);
    for (const dtype of ['f32', 'i32', 'u32', 'bool', 'u8'] as T.DType[]) {
      const z = T.zeros([3, 5], dtype);
      expect(z.dtype).toBe(dtype);
      expect(Array.from(await z.toArray())).toEqual(new Array(15).fill(0));
      expect(Array.from(await T.ones([7], dtype).toArray())).toEqual(new Array(7).fill(1));
    }
    expect(Array.from(await T.full([2, 2], -7, 'i32').toArray())).toEqual([-7, -7, -7, -7]);
    expect(Array.from(await T.full([5], 200, 'u8').toArray())).toEqual([200, 200, 200, 200, 200]);
    expect(Array.from(await T.arange(6, 'i32').toArray())).toEqual([0, 1, 2, 3, 4, 5]);
    expectClose(await T.arange(1000).toArray(), Array.from({ length: 1000 }, (_, i) => i));
    const like = T.zerosLike(T.ones([2, 3], 'i32'));
    expect(like.shape).toEqual([2, 3]);
    expect(like.dtype).toBe('i32');
    expectClose(await T.onesLike(T.zeros([4])).toArray(), [1, 1, 1, 1]);
    expect(T.zeros([0, 3]).size).toBe(0);
  });

  it('rejects bad shapes and data length with clear messages', () => {
    expect(() => T.tensor([1, 2, 3], [2, 2])).toThrow(/3 values do not fill shape \[2, 2\]/);
    expect(() => T.zeros([2, -1])).toThrow(/invalid shape/);
    expect(() => T.arange(2.5)).toThrow(/arange/);
  });
});

describe('cast', () => {
  it('f32 → i32 truncates (saturating at the largest f32 below 2^31, as WGSL defines), → u32, → bool, and back', async () => {
    const x = T.tensor([-2.7, -0.2, 0, 1.9, 3e9]);
    expect(Array.from(await T.cast(x, 'i32').toArray())).toEqual([-2, 0, 0, 1, 2147483520]);
    expect(Array.from(await T.cast(x, 'bool').toArray())).toEqual([1, 1, 0, 1, 1]);
    expect(Array.from(await T.cast(T.tensor([0, 1.5, 7]), 'u32').toArray())).toEqual([0, 1, 7]);
    expectClose(await T.cast(T.tensor([-3, 0, 5], [3], 'i32'), 'f32').toArray(), [-3, 0, 5]);
    expectClose(await T.cast(T.tensor([1, 0, 1], [3], 'bool'), 'f32').toArray(), [1, 0, 1]);
  });

  it('u8 → f32 for odd sizes and strided/offset u8 views', async () => {
    const bytes = Uint8Array.from({ length: 2 * 3 * 7 }, (_, i) => (i * 37 + 11) % 256);
    const u8 = T.tensor(bytes, [2, 3, 7], 'u8');
    expectClose(await T.cast(u8, 'f32').toArray(), Array.from(bytes));
    // A permuted, offset view: element (i, j, k) of [7, 3, 2] is bytes at (k, j, i).
    const view = T.slice(T.permute(u8, [2, 1, 0]), 0, 1, 6);
    const expected: number[] = [];
    for (let i = 1; i < 6; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 2; k++) expected.push(bytes[k * 21 + j * 7 + i]);
    expectClose(await T.cast(view, 'f32').toArray(), expected);
    expect(Array.from(await view.toArray())).toEqual(expected);
    // Offset that is not a multiple of 4 (read back through the pack kernel).
    const tail = T.slice(T.reshape(u8, [42]), 0, 5);
    expect(Array.from(await tail.toArray())).toEqual(Array.from(bytes.slice(5)));
  });

  it('f32 → u8 rounds and saturates', async () => {
    const x = T.tensor([-5, 0.4, 0.5, 1.5, 254.6, 255.4, 1000], [7]);
    expect(Array.from(await T.cast(x, 'u8').toArray())).toEqual([0, 0, 0, 2, 255, 255, 255]);
  });

  it('same-dtype cast is a view and is differentiable', async () => {
    const { t } = layoutInput(randomArray(6, 1), [2, 3], 'permuted');
    const c = T.cast(t, 'f32');
    expect(c.buffer).toBe(t.buffer);
    await gradCheck((p) => T.mul(T.cast(p, 'f32'), p), [{ data: randomArray(6, 2), shape: [2, 3] }]);
  });

  it('f32 ↔ f16 round trip (runtime, on every device)', async () => {
    const a = randomArray(33, 3, -100, 100);
    const h = T.cast(T.tensor(a), 'f16');
    expect(h.dtype).toBe('f16');
    const back = await T.cast(h, 'f32').toArray();
    expectClose(back, Array.from(a, (v) => T.fromHalfBits(T.toHalfBits(v))), { atol: 0, rtol: 0 });
  });

  it.skipIf(!eng.hasF16)('f16 arithmetic is differentiable through casts', async () => {
    await gradCheck((p) => T.cast(T.mul(T.cast(p, 'f16'), 2), 'f32'), [{ data: randomArray(5, 4), shape: [5] }], { eps: 1e-2, atol: 2e-2, rtol: 2e-2 });
  });
});
