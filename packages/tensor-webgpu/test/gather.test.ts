import { describe, expect, it } from 'vitest';
import './setup.js';
import * as T from '../src/index.js';
import * as R from './reference/index.js';
import { expectClose, expectTensorClose, gradCheck, layoutInput, randomArray, randomInts } from './util.js';

describe('gather family', () => {
  it('embedding with repeated ids of any shape', async () => {
    const w = randomArray(11 * 6, 301);
    const ids = randomInts(2 * 3 * 4, 302, 0, 11);
    const out = T.embedding(T.tensor(w, [11, 6]), T.tensor(ids, [2, 3, 4], 'i32'));
    await expectTensorClose(out, R.embedding(R.nd(w, [11, 6]), R.nd(ids, [2, 3, 4])));
    const u = T.embedding(T.tensor(w, [11, 6]), T.tensor(ids, [24], 'u32'));
    await expectTensorClose(u, R.embedding(R.nd(w, [11, 6]), R.nd(ids, [24])));
  });

  it('indexSelect on every axis of a strided tensor', async () => {
    const s = [4, 3, 5];
    const x = randomArray(60, 303);
    const P = layoutInput(x, s, 'permuted');
    for (const axis of [0, 1, 2, -1]) {
      const n = s[(axis + 3) % 3];
      const idx = randomInts(7, 304 + axis, 0, n);
      await expectTensorClose(T.indexSelect(P.t, axis, T.tensor(idx, [7], 'i32')), R.indexSelect(R.nd(x, s), axis, idx), { what: `axis ${axis}` });
    }
  });

  it('gather (torch semantics) with idx smaller than x off the axis', async () => {
    const x = randomArray(20, 305);
    const idx = randomInts(6, 306, 0, 5);
    await expectTensorClose(T.gather(T.tensor(x, [4, 5]), 1, T.tensor(idx, [3, 2], 'i32')), R.gather(R.nd(x, [4, 5]), 1, R.nd(idx, [3, 2])));
  });

  it('scatterAdd accumulates duplicates (scatter_add and index_add forms)', async () => {
    const base = randomArray(5 * 3, 307);
    const src = randomArray(40 * 3, 308);
    // 40 rows into 5: many duplicates per target, so the atomic CAS loop is exercised.
    const idx1 = randomInts(40, 309, 0, 5);
    const out = T.scatterAdd(T.tensor(base, [5, 3]), 0, T.tensor(idx1, [40], 'i32'), T.tensor(src, [40, 3]));
    await expectTensorClose(out, R.scatterAdd(R.nd(base, [5, 3]), 0, R.nd(idx1, [40]), R.nd(src, [40, 3])), { atol: 1e-5 });
    const idx2 = randomInts(40 * 3, 310, 0, 5);
    const out2 = T.scatterAdd(T.tensor(base, [5, 3]), 0, T.tensor(idx2, [40, 3], 'i32'), T.tensor(src, [40, 3]));
    await expectTensorClose(out2, R.scatterAdd(R.nd(base, [5, 3]), 0, R.nd(idx2, [40, 3]), R.nd(src, [40, 3])), { atol: 1e-5 });
    // All 10000 updates to one element.
    const many = T.scatterAdd(T.zeros([2]), 0, T.zeros([10000], 'i32'), T.ones([10000]));
    expectClose(await many.toArray(), [10000, 0]);
    const ints = T.scatterAdd(T.zeros([3], 'i32'), 0, T.tensor([2, 2, 0], [3], 'i32'), T.tensor([5, -1, 7], [3], 'i32'));
    expect(Array.from(await ints.toArray())).toEqual([7, 0, 4]);
  });

  it('out-of-range indices read 0 and are skipped by scatters', async () => {
    const x = T.tensor([1, 2, 3]);
    expectClose(await T.indexSelect(x, 0, T.tensor([0, 5, -1, 2], [4], 'i32')).toArray(), [1, 0, 0, 3]);
    expectClose(await T.scatterAdd(x, 0, T.tensor([7, 1], [2], 'i32'), T.tensor([10, 20])).toArray(), [1, 22, 3]);
  });

  it('rejects float indices and mismatched shapes', () => {
    expect(() => T.indexSelect(T.zeros([3]), 0, T.zeros([2]))).toThrow(/indexSelect: indices must be i32 or u32/);
    expect(() => T.scatterAdd(T.zeros([3, 2]), 0, T.zeros([4], 'i32'), T.zeros([3, 2]))).toThrow(/scatterAdd: idx must have src's shape/);
  });
});

describe('gather gradients', () => {
  it('embedding weight gradient accumulates repeated ids', async () => {
    const ids = T.tensor([1, 3, 1, 1, 0, 3], [2, 3], 'i32');
    await gradCheck((w) => T.embedding(w, ids), [{ data: randomArray(20, 311), shape: [5, 4] }], { what: 'embedding' });
  });

  it('indexSelect, gather and scatterAdd', async () => {
    const idx = T.tensor([2, 0, 2, 1, 2], [5], 'i32');
    await gradCheck((x) => T.indexSelect(x, 1, idx), [{ data: randomArray(12, 312), shape: [4, 3] }], { what: 'indexSelect' });
    const gidx = T.tensor([0, 2, 2, 1, 0, 0], [3, 2], 'i32');
    await gradCheck((x) => T.gather(x, 1, gidx), [{ data: randomArray(12, 313), shape: [3, 4] }], { what: 'gather' });
    await gradCheck((x, s) => T.scatterAdd(x, 1, idx, s), [
      { data: randomArray(12, 314), shape: [4, 3] },
      { data: randomArray(20, 315), shape: [4, 5] },
    ], { what: 'scatterAdd index form' });
    await gradCheck((x, s) => T.scatterAdd(x, 0, gidx, s), [
      { data: randomArray(12, 316), shape: [3, 4] },
      { data: randomArray(6, 317), shape: [3, 2] },
    ], { what: 'scatterAdd scatter form' });
  });
});
