import { describe, expect, it } from 'vitest';
import './setup.js';
import * as T from '../src/index.js';
import * as R from './reference/index.js';
import { expectTensorClose, gradCheck, layoutInput, randomArray } from './util.js';

const a = randomArray(2 * 3 * 5, 201);
const ref = R.nd(a, [2, 3, 5]);

describe('views share storage', () => {
  it('reshape (with -1), permute, transpose, slice, narrow, expand, squeeze, unsqueeze', async () => {
    const x = T.tensor(a, [2, 3, 5]);
    const views: [string, T.Tensor, R.Nd][] = [
      ['reshape', T.reshape(x, [6, -1]), { data: ref.data, shape: [6, 5] }],
      ['permute', T.permute(x, [2, 0, 1]), R.permute(ref, [2, 0, 1])],
      ['transpose', T.transpose(x), R.permute(ref, [0, 2, 1])],
      ['transpose 0 2', T.transpose(x, 0, 2), R.permute(ref, [2, 1, 0])],
      ['slice', T.slice(x, -1, 1, 4), R.slice(ref, 2, 1, 4)],
      ['slice clamps', T.slice(x, 1, -2, 100), R.slice(ref, 1, 1, 3)],
      ['narrow', T.narrow(x, 1, 1, 2), R.slice(ref, 1, 1, 3)],
      ['expand', T.expand(T.slice(x, 1, 0, 1), [4, 2, 3, 5]), R.expand(R.slice(ref, 1, 0, 1), [4, 2, 3, 5])],
      ['unsqueeze', T.unsqueeze(x, -1), { data: ref.data, shape: [2, 3, 5, 1] }],
      ['squeeze', T.squeeze(T.unsqueeze(x, 1)), ref],
    ];
    for (const [name, v, r] of views) {
      expect(v.buffer, name).toBe(x.buffer);
      await expectTensorClose(v, r, { what: name });
    }
    // A split of a permuted view is still a view, with the right values.
    const parts = T.split(T.permute(x, [2, 0, 1]), [2, 3], 0);
    expect(parts.map((p) => p.shape)).toEqual([
      [2, 2, 3],
      [3, 2, 3],
    ]);
    for (const p of parts) expect(p.buffer).toBe(x.buffer);
    await expectTensorClose(parts[1], R.slice(R.permute(ref, [2, 0, 1]), 0, 2, 5));
    const thirds = T.split(x, 3, 1);
    await expectTensorClose(thirds[2], R.slice(ref, 1, 2, 3));
  });

  it('reshape of a non-contiguous view copies only when it must', async () => {
    const x = T.tensor(a, [2, 3, 5]);
    const p = T.permute(x, [1, 0, 2]); // [3, 2, 5]: dims 1..2 are still contiguous
    const merged = T.reshape(p, [3, 10]);
    expect(merged.buffer).not.toBe(x.buffer);
    await expectTensorClose(merged, { data: R.permute(ref, [1, 0, 2]).data, shape: [3, 10] });
    const split = T.reshape(p, [3, 2, 5, 1]);
    expect(split.buffer).toBe(x.buffer);
    const inner = T.reshape(T.slice(x, 2, 1, 5), [2, 3, 2, 2]);
    expect(inner.buffer).toBe(x.buffer);
    await expectTensorClose(inner, { data: R.slice(ref, 2, 1, 5).data, shape: [2, 3, 2, 2] });
    const c = T.contiguous(T.transpose(x));
    expect(c.isContiguous).toBe(true);
    await expectTensorClose(c, R.permute(ref, [0, 2, 1]));
  });

  it('errors name the op and shapes', () => {
    const x = T.zeros([2, 3]);
    expect(() => T.reshape(x, [4, -1])).toThrow(/reshape: cannot reshape \[2, 3\]/);
    expect(() => T.permute(x, [0, 0])).toThrow(/permute/);
    expect(() => T.expand(x, [2, 4])).toThrow(/expand: cannot expand \[2, 3\] to \[2, 4\]/);
    expect(() => T.squeeze(x, 0)).toThrow(/squeeze: axis 0 of \[2, 3\] has size 2/);
    expect(() => T.narrow(x, 1, 2, 2)).toThrow(/narrow/);
    expect(() => T.concat([x, T.zeros([3, 3])], 1)).toThrow(/concat: shapes \[2, 3\], \[3, 3\] differ outside axis 1/);
    expect(() => T.split(x, 2, 1)).toThrow(/split: 2 parts do not divide/);
    expect(() => T.pad(x, [[1, 1]])).toThrow(/pad: 1 \[before, after\] pairs for 2 dims/);
    expect(() => T.sum(x, 2)).toThrow(/sum: axis 2 is out of range for rank 2/);
  });
});

describe('copies: concat, stack, pad', () => {
  it('concat and stack on any axis with strided inputs', async () => {
    const b = randomArray(2 * 4 * 5, 202);
    const P = layoutInput(a, [2, 3, 5], 'permuted');
    const S = layoutInput(b, [2, 4, 5], 'sliced');
    await expectTensorClose(T.concat([P.t, S.t, P.t], 1), R.concat([ref, R.nd(b, [2, 4, 5]), ref], 1));
    const c = randomArray(30, 203);
    await expectTensorClose(T.stack([P.t, T.tensor(c, [2, 3, 5])], 3), R.stack([ref, R.nd(c, [2, 3, 5])], 3));
    await expectTensorClose(T.stack([P.t, T.tensor(c, [2, 3, 5])], 0), R.stack([ref, R.nd(c, [2, 3, 5])], 0));
    await expectTensorClose(T.concat([T.zeros([2, 0, 5]), P.t], 1), ref);
  });

  it('copyInto writes a strided source into rows of a buffer in place, leaving the rest', async () => {
    const buf = T.tensor(randomArray(2 * 7 * 5, 204), [2, 7, 5]);
    const before = await buf.toArray();
    const P = layoutInput(a, [2, 3, 5], 'permuted');
    const alias = T.narrow(buf, 1, 0, 7); // another view of the same storage sees the write
    T.copyInto(T.narrow(buf, 1, 2, 3), P.t);
    const expected = Float32Array.from(before);
    for (let i = 0; i < 2; i++)
      for (let r = 0; r < 3; r++)
        for (let c = 0; c < 5; c++) expected[(i * 7 + 2 + r) * 5 + c] = a[(i * 3 + r) * 5 + c];
    await expectTensorClose(alias, R.nd(expected, [2, 7, 5]));
    expect(() => T.copyInto(T.narrow(buf, 1, 0, 2), P.t)).toThrow(/copyInto: shapes differ \(dest \[2, 2, 5\], src \[2, 3, 5\]\)/);
    const leaf = T.zeros([2, 3, 5]);
    leaf.requiresGrad = true;
    expect(() => T.copyInto(leaf, P.t)).toThrow(/dest \[2, 3, 5\] requires a gradient/);
  });

  it('pad with a constant on any axes, before and after', async () => {
    const P = layoutInput(a, [2, 3, 5], 'permuted');
    await expectTensorClose(
      T.pad(P.t, [
        [1, 0],
        [0, 0],
        [2, 3],
      ], -1.5),
      R.pad(
        ref,
        [
          [1, 0],
          [0, 0],
          [2, 3],
        ],
        -1.5,
      ),
    );
    const i = T.pad(T.tensor([1, 2], [2], 'i32'), [[1, 1]], 9);
    expect(Array.from(await i.toArray())).toEqual([9, 1, 2, 9]);
  });
});

describe('shape gradients', () => {
  const x = { data: a, shape: [2, 3, 5] };
  const w = (s: number[], seed: number) => T.tensor(randomArray(s.reduce((p, q) => p * q, 1), seed), s);
  it.each([
    ['reshape', (t: T.Tensor) => T.mul(T.reshape(t, [5, 6]), w([5, 6], 1))],
    ['permute', (t: T.Tensor) => T.mul(T.permute(t, [2, 0, 1]), w([5, 2, 3], 2))],
    ['slice', (t: T.Tensor) => T.mul(T.slice(t, 2, 1, 4), w([2, 3, 3], 3))],
    ['expand', (t: T.Tensor) => T.mul(T.expand(T.slice(t, 0, 0, 1), [3, 2, 3, 5].slice(1)), t)],
    ['squeeze/unsqueeze', (t: T.Tensor) => T.squeeze(T.unsqueeze(T.exp(t), 1), 1)],
    ['contiguous', (t: T.Tensor) => T.contiguous(T.transpose(T.mul(t, t)))],
    ['concat', (t: T.Tensor) => T.concat([T.mul(t, 2), T.slice(t, 1, 1), t], 1)],
    ['stack', (t: T.Tensor) => T.stack([t, T.exp(t)], 1)],
    ['split', (t: T.Tensor) => T.mul(T.split(t, [1, 4], 2)[1], 3)],
    ['pad', (t: T.Tensor) => T.exp(T.pad(t, [[0, 1], [2, 0], [1, 1]], 0.5))],
  ])('%s', async (name, f) => {
    await gradCheck(f, [x], { what: name });
  });
});
