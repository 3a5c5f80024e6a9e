import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eng } from './setup.js';
import * as T from '../src/index.js';
import { normSettings } from '../src/kernels/norm.js';
import { nd } from './reference/ndarray.js';
import * as R from './reference/norm.js';
import { expectTensorClose, gradCheck, randomArray } from './util.js';

// Every case runs on both workgroup reductions the device offers (subgroups, shared-memory tree),
// with workgroups sized for this adapter and for a GPU (on SwiftShader: 4 threads per row vs 64-256).
const paths = eng.hasSubgroups ? ['subgroups', 'shared memory'] : ['shared memory'];
describe.each(paths.flatMap((p) => [`${p}, auto threads`, `${p}, gpu threads`]))('norms (%s)', (path) => {
  beforeEach(() => {
    normSettings.subgroups = path.startsWith('subgroups') ? 'auto' : 'off';
    normSettings.threads = path.endsWith('gpu threads') ? 'gpu' : 'auto';
  });
  afterEach(() => {
    normSettings.subgroups = 'auto';
    normSettings.threads = 'auto';
  });

  describe('layerNorm', () => {
    // Widths around the thread counts (64 / 128 / 256 per row): not multiples, and one row wider than a workgroup pass.
    it.each([
      [3, 5],
      [4, 67],
      [2, 300],
      [1, 1100],
    ])('rows %i x width %i matches the reference, with and without affine', async (rows, d) => {
      const x = randomArray(rows * d, d, -3, 5); // offset mean: checks the two-pass variance
      const w = randomArray(d, d + 1);
      const b = randomArray(d, d + 2);
      const start = eng.poolStats().inUseBytes;
      const X = T.tensor(x, [rows, d]);
      const W = T.tensor(w, [d]);
      const B = T.tensor(b, [d]);
      const y1 = T.layerNorm(X, W, B);
      const y2 = T.layerNorm(X);
      await expectTensorClose(y1, R.layerNorm(nd(x, [rows, d]), nd(w, [d]), nd(b, [d]), 1e-5), {
        atol: 2e-5,
        rtol: 1e-4,
        what: 'layerNorm affine',
      });
      await expectTensorClose(y2, R.layerNorm(nd(x, [rows, d]), undefined, undefined, 1e-5), {
        atol: 2e-5,
        rtol: 1e-4,
        what: 'layerNorm',
      });
      [X, W, B, y1, y2].forEach((t) => t.dispose());
      expect(eng.poolStats().inUseBytes).toBe(start);
    });

    it('gradients of x, weight and bias match finite differences', async () => {
      await gradCheck(
        (x, w, b) => T.layerNorm(x, w, b),
        [
          { data: randomArray(2 * 3 * 70, 1), shape: [2, 3, 70] },
          { data: randomArray(70, 2), shape: [70] },
          { data: randomArray(70, 3), shape: [70] },
        ],
        { what: 'layerNorm', eps: 2e-3 },
      );
    });

    it('backward frees every intermediate', async () => {
      const start = eng.poolStats().inUseBytes;
      const x = T.tensor(randomArray(6 * 10, 11), [6, 10]);
      const w = T.tensor(randomArray(10, 12), [10]);
      x.requiresGrad = true;
      w.requiresGrad = true;
      T.tidy(() => T.sum(T.layerNorm(x, w)).backward());
      expect(x.grad?.shape).toEqual([6, 10]);
      [x, w].forEach((t) => t.dispose());
      expect(eng.poolStats().inUseBytes).toBe(start);
    });

    it('gradients over more rows than one param-grad chunk (40 rows)', async () => {
      await gradCheck(
        (x, w) => T.layerNorm(x, w, null, 1e-3),
        [
          { data: randomArray(40 * 9, 4), shape: [40, 9] },
          { data: randomArray(9, 5), shape: [9] },
        ],
        { what: 'layerNorm 40 rows', eps: 2e-3 },
      );
    });
  });

  describe('rmsNorm', () => {
    it.each([
      [5, 128],
      [3, 77],
      [2, 2049],
    ])('rows %i x width %i matches HF Qwen3 RMSNorm', async (rows, d) => {
      const x = randomArray(rows * d, d + 7, -2, 2);
      const w = randomArray(d, d + 8);
      const y = T.rmsNorm(T.tensor(x, [rows, d]), T.tensor(w, [d]));
      await expectTensorClose(y, R.rmsNorm(nd(x, [rows, d]), nd(w, [d]), 1e-6), {
        atol: 2e-5,
        rtol: 1e-4,
        what: 'rmsNorm',
      });
    });

    it('reads a strided view (per-head norm of a permuted tensor)', async () => {
      const x = randomArray(2 * 3 * 8, 17);
      const w = randomArray(8, 18);
      const X = T.permute(T.tensor(x, [2, 3, 8]), [1, 0, 2]);
      const ref = new Float64Array(48);
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 2; j++)
          for (let k = 0; k < 8; k++) ref[(i * 2 + j) * 8 + k] = x[(j * 3 + i) * 8 + k];
      await expectTensorClose(
        T.rmsNorm(X, T.tensor(w, [8])),
        R.rmsNorm(nd(ref, [3, 2, 8]), nd(w, [8]), 1e-6),
        {
          atol: 2e-5,
          what: 'rmsNorm permuted',
        },
      );
    });

    it('gradients of x and weight match finite differences', async () => {
      await gradCheck(
        (x, w) => T.rmsNorm(x, w),
        [
          { data: randomArray(4 * 67, 6), shape: [4, 67] },
          { data: randomArray(67, 7), shape: [67] },
        ],
        { what: 'rmsNorm', eps: 2e-3 },
      );
    });
  });

  describe('groupNorm', () => {
    it.each([
      [2, 6, 3, [5, 7]],
      [1, 4, 4, [3, 3]],
      [2, 8, 2, []],
    ] as [number, number, number, number[]][])(
      'N=%i C=%i groups=%i spatial %j matches the reference',
      async (n, c, g, sp) => {
        const shape = [n, c, ...sp];
        const size = shape.reduce((a, b) => a * b, 1);
        const x = randomArray(size, size, -1, 3);
        const w = randomArray(c, c + 1);
        const b = randomArray(c, c + 2);
        const y = T.groupNorm(T.tensor(x, shape), g, T.tensor(w, [c]), T.tensor(b, [c]), 1e-6);
        await expectTensorClose(y, R.groupNorm(nd(x, shape), g, nd(w, [c]), nd(b, [c]), 1e-6), {
          atol: 2e-5,
          rtol: 1e-4,
          what: 'groupNorm',
        });
      },
    );

    it('gradients of x, weight and bias match finite differences', async () => {
      await gradCheck(
        (x, w, b) => T.groupNorm(x, 2, w, b),
        [
          { data: randomArray(2 * 4 * 3 * 5, 8), shape: [2, 4, 3, 5] },
          { data: randomArray(4, 9), shape: [4] },
          { data: randomArray(4, 10), shape: [4] },
        ],
        { what: 'groupNorm', eps: 2e-3 },
      );
    });

    it('rejects channels not divisible by groups', () => {
      expect(() => T.groupNorm(T.zeros([1, 6, 2, 2]), 4)).toThrow(
        'groupNorm: 6 channels are not divisible into 4 groups',
      );
    });
  });
});

describe('norm backward after the input is gone', () => {
  it('groupNorm, layerNorm and rmsNorm backpropagate when the forward input was disposed by its scope', async () => {
    const w = T.tensor(randomArray(8, 71), [8]);
    w.requiresGrad = true;
    for (const f of [
      (x: T.Tensor) => T.groupNorm(T.reshape(x, [2, 8, 2, 2]), 4, w, null),
      (x: T.Tensor) => T.layerNorm(T.reshape(x, [8, 8]), w),
      (x: T.Tensor) => T.rmsNorm(T.reshape(x, [8, 8]), w),
    ]) {
      const loss = T.tidy(() => {
        // x exists only inside this scope: the backward below must not need it alive.
        const x = T.mul(T.tensor(randomArray(64, 72), [64]), 2);
        return T.sum(T.mul(f(x), f(x)));
      });
      loss.backward();
      expect(w.grad).not.toBeNull();
      expect(Number.isFinite(await T.sum(w.grad!).item())).toBe(true);
      w.grad!.dispose();
      w.grad = null;
      loss.dispose();
    }
    w.dispose();
  });
});
