import { afterEach, describe, expect, it } from 'vitest';
import { eng } from './setup.js';
import * as T from '../src/index.js';
import { reduceSettings, reduceWgsl } from '../src/kernels/reduce.js';
import * as R from './reference/index.js';
import { expectClose, expectTensorClose, gradCheck, layoutInput, randomArray, type Layout } from './util.js';

const shape = [3, 1, 5, 67];
const data = randomArray(3 * 5 * 67, 101, -3, 3);
const axesCases: (number | number[] | undefined)[] = [undefined, 0, -1, 2, [0, 2], [1, 3], [0, 2, 3]];

afterEach(() => {
  reduceSettings.subgroups = 'auto';
});

describe.each(eng.hasSubgroups ? ['subgroups', 'shared memory'] : ['shared memory'])('reductions (%s path)', (path) => {
  const setPath = () => (reduceSettings.subgroups = path === 'subgroups' ? 'auto' : 'off');

  it.each(['sum', 'mean', 'max', 'min'] as const)('%s over single, multiple and all axes, keepdim or not, strided', async (op) => {
    setPath();
    const f = { sum: T.sum, mean: T.mean, max: T.max, min: T.min }[op];
    const layouts: Layout[] = ['contiguous', 'permuted', 'sliced', 'expanded'];
    let k = 0;
    for (const axes of axesCases) {
      for (const keepdim of [false, true]) {
        const layout = layouts[k++ % layouts.length];
        const { t, data: d } = layoutInput(data, shape, layout);
        const out = f(t, axes, keepdim);
        const ref = R.reduce(R.nd(d, shape), op, axes, keepdim);
        await expectTensorClose(out, ref, { atol: 1e-4, rtol: 1e-5, what: `${op} axes ${JSON.stringify(axes)} keepdim ${keepdim} ${layout}` });
        t.dispose();
        out.dispose();
      }
    }
  });

  it('sums 1e6 elements (two passes) within f32 tolerance', async () => {
    setPath();
    const n = 1_000_003;
    const a = randomArray(n, 7, 0, 1);
    let s = 0;
    for (const v of a) s += v;
    const x = T.tensor(a);
    expectClose(await T.sum(x).toArray(), [s], { rtol: 2e-6, atol: 0, what: 'sum 1e6' });
    expectClose(await T.mean(x).toArray(), [s / n], { rtol: 2e-6, atol: 0, what: 'mean 1e6' });
    const m = a.reduce((p, v) => Math.max(p, v), -Infinity);
    expectClose(await T.max(x).toArray(), [m], { atol: 0, rtol: 0 });
    // Few long rows: chunked first pass, then the partials.
    const rows = T.reshape(T.slice(x, 0, 0, 3 * 200_000), [3, 200_000]);
    const ref = R.reduce(R.nd(a.subarray(0, 600_000), [3, 200_000]), 'sum', 1);
    await expectTensorClose(T.sum(rows, 1), ref, { rtol: 2e-6, atol: 0 });
  });

  it('integer and bool sums', async () => {
    setPath();
    const a = T.tensor([1, -2, 3, 4, 5, -6], [2, 3], 'i32');
    expect(Array.from(await T.sum(a, 1).toArray())).toEqual([2, 3]);
    expect(Array.from(await T.max(a, 0).toArray())).toEqual([4, 5, 3]);
    const b = T.gt(a, 0);
    const c = T.sum(b);
    expect(c.dtype).toBe('i32');
    expect(await c.item()).toBe(4);
  });
});

describe('argmax / argmin', () => {
  it('first index on ties, any axis, keepdim', async () => {
    const x = T.tensor([1, 3, 3, 0, 5, 5, 2, 5, -1, -1, 7, 0], [3, 4]);
    expect(Array.from(await T.argmax(x, 1).toArray())).toEqual([1, 0, 2]);
    expect(Array.from(await T.argmax(x, 0).toArray())).toEqual([1, 1, 2, 1]);
    expect(Array.from(await T.argmin(x, -1).toArray())).toEqual([3, 2, 0]);
    const k = T.argmax(x, 0, true);
    expect(k.shape).toEqual([1, 4]);
    expect(k.dtype).toBe('i32');
  });

  it('matches the reference on a strided input with long rows (chunked: two passes)', async () => {
    const s = [2, 40_000];
    const a = randomArray(80_000, 8);
    const { t, data: d } = layoutInput(a, s, 'permuted');
    await expectTensorClose(T.argmax(t, 1), R.reduce(R.nd(d, s), 'argmax', 1), { atol: 0, rtol: 0 });
    await expectTensorClose(T.argmin(t, 0), R.reduce(R.nd(d, s), 'argmin', 0), { atol: 0, rtol: 0 });
  });
});

describe('softmax, logSoftmax, cumsum', () => {
  it.each([-1, 0, 1])('softmax / logSoftmax along axis %i on strided inputs', async (axis) => {
    const s = [4, 300, 3];
    const a = randomArray(3600, 55 + axis, -20, 20);
    for (const layout of ['contiguous', 'permuted'] as Layout[]) {
      const { t, data: d } = layoutInput(a, s, layout);
      await expectTensorClose(T.softmax(t, axis), R.softmax(R.nd(d, s), axis), { atol: 1e-6, rtol: 1e-4, what: `softmax ${layout}` });
      await expectTensorClose(T.logSoftmax(t, axis), R.logSoftmax(R.nd(d, s), axis), { atol: 1e-4, rtol: 1e-5, what: `logSoftmax ${layout}` });
    }
  });

  it('softmax is stable for huge logits', async () => {
    const x = T.tensor([1000, 1001, 1002, -1e30]);
    expectClose(await T.softmax(x).toArray(), R.softmax(R.nd([1000, 1001, 1002, -1e30], [4])).data, { atol: 1e-6 });
  });

  it('cumsum (forward and reverse) along each axis, strided, long lines', async () => {
    const s = [3, 300];
    const a = randomArray(900, 66);
    for (const layout of ['contiguous', 'permuted'] as Layout[]) {
      const { t, data: d } = layoutInput(a, s, layout);
      for (const axis of [0, 1]) {
        for (const reverse of [false, true]) {
          await expectTensorClose(T.cumsum(t, axis, { reverse }), R.cumsum(R.nd(d, s), axis, reverse), { atol: 2e-5, rtol: 1e-5, what: `cumsum ${axis} ${reverse} ${layout}` });
        }
      }
    }
    expect(Array.from(await T.cumsum(T.tensor([1, 0, 1, 1], [4], 'bool'), 0).toArray())).toEqual([1, 1, 2, 3]);
  });
});

describe('sumToShape', () => {
  it('reduces a broadcast result back to each operand shape', async () => {
    const a = randomArray(2 * 3 * 4, 77);
    const x = T.tensor(a, [2, 3, 4]);
    const ref = R.nd(a, [2, 3, 4]);
    await expectTensorClose(T.sumToShape(x, [3, 1]), { data: R.reduce(ref, 'sum', [0, 2], true).data, shape: [3, 1] }, { atol: 1e-5 });
    await expectTensorClose(T.sumToShape(x, [4]), { data: R.reduce(ref, 'sum', [0, 1]).data, shape: [4] }, { atol: 1e-5 });
    await expectTensorClose(T.sumToShape(x, [2, 1, 1]), { data: R.reduce(ref, 'sum', [1, 2]).data, shape: [2, 1, 1] }, { atol: 1e-5 });
    const same = T.sumToShape(x, [2, 3, 4]);
    expect(same.buffer).toBe(x.buffer);
    expect(() => T.sumToShape(x, [5])).toThrow(/sumToShape: \[5\] does not broadcast to \[2, 3, 4\]/);
  });
});

describe('reduction gradients', () => {
  const x = { data: randomArray(2 * 3 * 5, 88, -2, 2), shape: [2, 3, 5] };
  it.each([
    ['sum all', (t: T.Tensor) => T.sum(t)],
    ['sum [0,2] keepdim', (t: T.Tensor) => T.sum(t, [0, 2], true)],
    ['mean -1', (t: T.Tensor) => T.mean(t, -1)],
    ['max 1', (t: T.Tensor) => T.max(t, 1)],
    ['min [0,1]', (t: T.Tensor) => T.min(t, [0, 1])],
    ['softmax 1', (t: T.Tensor) => T.softmax(t, 1)],
    ['logSoftmax -1', (t: T.Tensor) => T.logSoftmax(t, -1)],
    ['cumsum 2', (t: T.Tensor) => T.cumsum(t, 2)],
    ['cumsum 0 reverse', (t: T.Tensor) => T.cumsum(t, 0, { reverse: true })],
    ['sumToShape', (t: T.Tensor) => T.sumToShape(t, [3, 1])],
  ])('%s', async (name, f) => {
    await gradCheck(f, [x], { what: name });
  });

  it('max splits the gradient among ties', async () => {
    const t = T.tensor([1, 4, 4, 2, 0, 0], [2, 3]);
    t.requiresGrad = true;
    T.sum(T.max(t, 1)).backward();
    expectClose(await t.grad!.toArray(), [0, 0.5, 0.5, 1, 0, 0]);
  });
});

describe('generated code', () => {
  it('f16 variants accumulate in f32 and differ from f32 only in storage', () => {
    const spec = { op: 'sum' as const, input: 'f16' as const, argIn: false, outVal: 'f16' as const, outIdx: null, wg: 256, subgroups: false, serial: false };
    const code = reduceWgsl(spec);
    expect(code).toContain('enable f16;');
    expect(code).toContain('var<workgroup> sh: array<f32, 256>');
    expect(code.replace('enable f16;\n', '').replaceAll('f16', 'f32')).toBe(reduceWgsl({ ...spec, input: 'f32', outVal: 'f32' }));
  });

  it.skipIf(!eng.hasF16)('f16 sum and softmax at runtime', async () => {
    const a = randomArray(500, 4, -2, 2);
    const x = T.tensor(a, [5, 100], 'f16');
    const ref = R.nd(Array.from(a, (v) => T.fromHalfBits(T.toHalfBits(v))), [5, 100]);
    await expectTensorClose(T.sum(x, 1), R.reduce(ref, 'sum', 1), { atol: 0.05, rtol: 2e-3 });
    await expectTensorClose(T.softmax(x, 1), R.softmax(ref, 1), { atol: 1e-3, rtol: 1e-2 });
  });
});
