import { describe, expect, it } from 'vitest';
import './setup.js';
import * as T from '../src/index.js';
import { nd } from './reference/ndarray.js';
import * as R from './reference/resize.js';
import { expectTensorClose, gradCheck, randomArray } from './util.js';

const sizes: [string, [number, number], [number, number]][] = [
  ['up x2', [3, 4], [6, 8]],
  ['up fractional', [5, 3], [7, 8]],
  ['down', [9, 10], [4, 6]],
  ['to one pixel', [4, 5], [1, 1]],
];

describe('resizeNearest', () => {
  it.each(sizes)('%s matches PyTorch nearest', async (_n, [h, w], size) => {
    const x = randomArray(2 * 3 * h * w, h * w);
    const out = T.resizeNearest(T.tensor(x, [2, 3, h, w]), size);
    await expectTensorClose(out, R.resize(nd(x, [2, 3, h, w]), size, 'nearest'), {
      atol: 0,
      rtol: 0,
      what: 'nearest',
    });
  });

  it('gradient (sum over the copies) matches finite differences', async () => {
    await gradCheck(
      (x) => T.resizeNearest(x, [7, 3]),
      [{ data: randomArray(1 * 2 * 4 * 5, 3), shape: [1, 2, 4, 5] }],
      { what: 'resizeNearest' },
    );
  });
});

describe('resizeBilinear', () => {
  for (const alignCorners of [false, true]) {
    it.each(sizes)(`%s matches PyTorch bilinear (alignCorners=${alignCorners})`, async (_n, [h, w], size) => {
      const x = randomArray(2 * 2 * h * w, h * w + 1);
      const out = T.resizeBilinear(T.tensor(x, [2, 2, h, w]), size, { alignCorners });
      await expectTensorClose(out, R.resize(nd(x, [2, 2, h, w]), size, 'bilinear', alignCorners), {
        atol: 2e-6,
        what: `bilinear align=${alignCorners}`,
      });
    });

    it(`gradient matches finite differences up and down (alignCorners=${alignCorners})`, async () => {
      await gradCheck(
        (x) => T.resizeBilinear(x, [9, 4], { alignCorners }),
        [{ data: randomArray(1 * 2 * 5 * 7, 4), shape: [1, 2, 5, 7] }],
        { what: 'resizeBilinear' },
      );
    });
  }

  it('rejects a bad size', () => {
    expect(() => T.resizeBilinear(T.zeros([1, 1, 2, 2]), [0, 3])).toThrow(
      /resizeBilinear: size must be integers >= 1, got \[0, 3\]/,
    );
  });
});
