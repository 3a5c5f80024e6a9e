import { describe, expect, it } from 'vitest';
import { eng } from './setup.js';
import * as T from '../src/index.js';
import { launchMatmul, type GemmTile } from '../src/kernels/matmul.js';
import { TUNING } from '../src/kernels/tuning.js';
import * as R from './reference/matmul.js';
import { nd, permute } from './reference/ndarray.js';
import { expectClose, expectTensorClose, gradCheck, randomArray } from './util.js';

const sz = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

// Every distinct GEMM tile of the tuning table (any adapter class may be chosen on some device).
const ALL_TILES = new Map<string, [string, GemmTile]>(
  Object.entries(TUNING).flatMap(([cls, t]) =>
    Object.entries(t.gemm.tiles).map(
      ([name, tile]) => [JSON.stringify(tile), [`${cls} ${name}`, tile]] as const,
    ),
  ),
);

/** Stored shape of an operand given its logical [.., r, c] and a transpose flag. */
const stored = (s: number[], trans: boolean) =>
  trans ? [...s.slice(0, -2), s[s.length - 1], s[s.length - 2]] : s;

describe('matmul', () => {
  // [batchA, batchB, M, N, K, transA, transB]: awkward sizes, broadcast batches, every transpose.
  const cases: [number[], number[], number, number, number, boolean, boolean][] = [
    [[], [], 1, 1, 1, false, false],
    [[], [], 7, 33, 65, false, false],
    [[2, 1], [1, 3], 5, 7, 9, true, false],
    [[3], [], 130, 7, 33, false, true],
    [[1], [2], 1, 65, 7, true, true],
    [[2], [2], 33, 36, 40, false, false], // vec4 loads of both operands and vec4 stores
  ];
  it.each(cases)(
    'batch %j x %j, M=%i N=%i K=%i transA=%s transB=%s matches the reference',
    async (ba, bb, M, N, K, tA, tB) => {
      const aShape = stored([...ba, M, K], tA);
      const bShape = stored([...bb, K, N], tB);
      const a = randomArray(sz(aShape), M * 31 + K);
      const b = randomArray(sz(bShape), N * 17 + K);
      const start = eng.poolStats().inUseBytes;
      const A = T.tensor(a, aShape);
      const B = T.tensor(b, bShape);
      const C = T.matmul(A, B, { transA: tA, transB: tB });
      await expectTensorClose(C, R.matmul(nd(a, aShape), nd(b, bShape), tA, tB), {
        atol: 1e-5,
        rtol: 1e-4,
        what: 'matmul',
      });
      T.tidy(() => [A, B, C].forEach((t) => t.dispose()));
      expect(eng.poolStats().inUseBytes).toBe(start);
    },
  );

  it('reads transposed and sliced views in place', async () => {
    const a = randomArray(6 * 9, 3);
    const b = randomArray(5 * 6, 4);
    const A = T.tensor(a, [6, 9]);
    const B = T.tensor(b, [5, 6]);
    // (Aᵀ as a permuted view) · (Bᵀ as a view), and a column slice with an odd offset.
    const C = T.matmul(T.transpose(A), T.transpose(B));
    await expectTensorClose(C, R.matmul(nd(a, [6, 9]), nd(b, [5, 6]), true, true), {
      atol: 1e-5,
      what: 'transposed views',
    });
    const As = T.slice(A, 1, 1, 7); // [6, 6] with row stride 9, offset 1
    const D = T.matmul(As, T.transpose(B));
    const ref = permute(nd(a, [6, 9]), [0, 1]);
    const sliced = new Float64Array(36);
    for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) sliced[i * 6 + j] = ref.data[i * 9 + 1 + j];
    await expectTensorClose(D, R.matmul(nd(sliced, [6, 6]), nd(b, [5, 6]), false, true), {
      atol: 1e-5,
      what: 'sliced view',
    });
  });

  // Scalar loads ([70,19]·[19,67]) and vec4 loads with register transposes ([68,20]·[72,20]ᵀ).
  it.each([
    [70, 67, 19, false],
    [68, 72, 20, true],
  ])(
    'every tile shape of the GEMM template is correct at ragged edges: M=%i N=%i K=%i transB=%s',
    async (M, N, K, tB) => {
      const a = randomArray(M * K, 11);
      const b = randomArray(K * N, 12);
      const A = T.tensor(a, [M, K]);
      const B = T.tensor(b, tB ? [N, K] : [K, N]);
      const ref = R.matmul(nd(a, [M, K]), nd(b, B.shape), false, tB);
      for (const [name, tile] of ALL_TILES.values()) {
        const C = T.Tensor.empty([M, N]);
        launchMatmul(eng, {
          dtype: 'f32',
          M,
          N,
          K,
          batchShape: [],
          a: { buffer: A.buffer, offset: 0, ld: K, trans: false, batchStrides: [] },
          b: { buffer: B.buffer, offset: 0, ld: tB ? K : N, trans: tB, batchStrides: [] },
          out: C.buffer,
          label: `tile ${name}`,
          tile,
        });
        expectClose(await C.toArray(), ref.data, { atol: 1e-5, rtol: 1e-4, what: `tile ${name}` });
        C.dispose();
      }
    },
  );

  it('handles 1-D operands like PyTorch', async () => {
    const a = randomArray(5, 1);
    const m = randomArray(15, 2);
    const v = T.tensor(a, [5]);
    const M = T.tensor(m, [5, 3]);
    const vm = T.matmul(v, M);
    expect(vm.shape).toEqual([3]);
    await expectTensorClose(
      vm,
      { data: R.matmul(nd(a, [1, 5]), nd(m, [5, 3])).data, shape: [3] },
      { what: 'vector·matrix' },
    );
    const mv = T.matmul(T.transpose(M), v);
    expect(mv.shape).toEqual([3]);
    await expectTensorClose(
      mv,
      { data: R.matmul(nd(m, [5, 3]), nd(a, [5, 1]), true).data, shape: [3] },
      { what: 'matrix·vector' },
    );
  });

  it('rejects mismatched shapes with a message naming them', () => {
    const a = T.zeros([2, 3]);
    const b = T.zeros([4, 5]);
    expect(() => T.matmul(a, b)).toThrow('matmul: inner dims differ, [2,3] x [4,5]');
    expect(() => T.matmul(T.zeros([2, 2, 3]), T.zeros([3, 3, 4]))).toThrow(/batch dims do not broadcast/);
  });

  it('gradients with broadcast batches and transposes match finite differences', async () => {
    await gradCheck(
      (a, b) => T.matmul(a, b, { transB: true }),
      [
        { data: randomArray(2 * 1 * 3 * 4, 5), shape: [2, 1, 3, 4] },
        { data: randomArray(3 * 5 * 4, 6), shape: [3, 5, 4] },
      ],
      { what: 'matmul transB broadcast' },
    );
    await gradCheck(
      (a, b) => T.matmul(a, b, { transA: true }),
      [
        { data: randomArray(4 * 3, 7), shape: [4, 3] },
        { data: randomArray(2 * 4 * 5, 8), shape: [2, 4, 5] },
      ],
      { what: 'matmul transA shared A' },
    );
  });
});

describe('linear', () => {
  it('matches x·Wᵀ + b for leading dims and non-contiguous input', async () => {
    const x = randomArray(2 * 3 * 5, 21);
    const w = randomArray(7 * 5, 22);
    const bias = randomArray(7, 23);
    const X = T.tensor(x, [2, 3, 5]);
    const W = T.tensor(w, [7, 5]);
    const Bb = T.tensor(bias, [7]);
    await expectTensorClose(T.linear(X, W, Bb), R.linear(nd(x, [2, 3, 5]), nd(w, [7, 5]), nd(bias, [7])), {
      atol: 1e-5,
      what: 'linear',
    });
    await expectTensorClose(T.linear(X, W), R.linear(nd(x, [2, 3, 5]), nd(w, [7, 5])), {
      atol: 1e-5,
      what: 'linear without bias',
    });
    // A permuted input [3, 2, 5] view.
    const Xp = T.permute(X, [1, 0, 2]);
    await expectTensorClose(
      T.linear(Xp, W, Bb),
      R.linear(permute(nd(x, [2, 3, 5]), [1, 0, 2]), nd(w, [7, 5]), nd(bias, [7])),
      { atol: 1e-5, what: 'linear permuted' },
    );
  });

  it('gradients of x, weight and bias match finite differences', async () => {
    await gradCheck(
      (x, w, b) => T.linear(x, w, b),
      [
        { data: randomArray(2 * 3 * 5, 31), shape: [2, 3, 5] },
        { data: randomArray(6 * 5, 32), shape: [6, 5] },
        { data: randomArray(6, 33), shape: [6] },
      ],
      { what: 'linear' },
    );
  });

  it('with no input features is the bias for every row (the leading dims still count)', async () => {
    const bias = randomArray(7, 24);
    const y = T.linear(T.zeros([2, 3, 0]), T.zeros([7, 0]), T.tensor(bias, [7]));
    expect(y.shape).toEqual([2, 3, 7]);
    expect(Array.from(await y.toArray())).toEqual(Array.from({ length: 6 }, () => Array.from(bias)).flat());
    y.dispose();
  });

  it('rejects a weight of the wrong width', () => {
    expect(() => T.linear(T.zeros([2, 5]), T.zeros([3, 4]))).toThrow('linear: input [2,5] does not end in 4');
  });

  it.skipIf(!eng.hasF16)('f16 storage with f32 accumulation', async () => {
    const x = randomArray(9 * 40, 41);
    const w = randomArray(12 * 40, 42);
    const out = T.linear(T.tensor(x, [9, 40], 'f16'), T.tensor(w, [12, 40], 'f16'));
    expect(out.dtype).toBe('f16');
    await expectTensorClose(out, R.linear(nd(x, [9, 40]), nd(w, [12, 40])), {
      atol: 3e-2,
      rtol: 1e-2,
      what: 'linear f16',
    });
  });
});
