import { describe, expect, it } from 'vitest';
import './setup.js';
import * as T from '../src/index.js';
import * as R from './reference/conv.js';
import { nd } from './reference/ndarray.js';
import { expectTensorClose, gradCheck, randomArray } from './util.js';

describe('avgPool2d', () => {
  const cases: [string, number[], [number, number], [number, number], [number, number]][] = [
    ['2x2 stride 2 on odd sizes', [2, 3, 7, 5], [2, 2], [2, 2], [0, 0]],
    ['3x3 stride 1 pad 1 (padding counted)', [1, 2, 5, 6], [3, 3], [1, 1], [1, 1]],
    ['3x2 stride [2,1] pad [1,0] on [C,H,W]', [3, 6, 5], [3, 2], [2, 1], [1, 0]],
  ];
  it.each(cases)('%s matches the reference', async (_name, shape, k, s, p) => {
    const x = randomArray(
      shape.reduce((a, b) => a * b, 1),
      shape.length * 7 + k[0],
    );
    const out = T.avgPool2d(T.tensor(x, shape), { kernel: k, stride: s, padding: p });
    await expectTensorClose(out, R.avgPool2d(nd(x, shape), k, s, p), { atol: 1e-6, what: 'avgPool2d' });
  });

  it('stride defaults to the kernel size', async () => {
    const x = randomArray(1 * 1 * 6 * 6, 3);
    const out = T.avgPool2d(T.tensor(x, [1, 1, 6, 6]), { kernel: 3 });
    expect(out.shape).toEqual([1, 1, 2, 2]);
    await expectTensorClose(out, R.avgPool2d(nd(x, [1, 1, 6, 6]), [3, 3], [3, 3], [0, 0]), { atol: 1e-6 });
  });

  it('gradient matches finite differences (overlapping windows, padding, uncovered rows)', async () => {
    await gradCheck(
      (x) => T.avgPool2d(x, { kernel: [3, 2], stride: [2, 3], padding: [1, 1] }),
      [{ data: randomArray(2 * 2 * 7 * 8, 5), shape: [2, 2, 7, 8] }],
      {
        what: 'avgPool2d',
      },
    );
  });

  it('rejects padding above half the window', () => {
    expect(() => T.avgPool2d(T.zeros([1, 1, 4, 4]), { kernel: 2, padding: 2 })).toThrow(/at most half/);
  });
});
