import { describe, expect, it, vi } from 'vitest';
import { eng, gpuEngine, onWebGpu } from './setup.js';
import * as T from '../src/index.js';
import { elementwiseProgram, EW_OPS } from '../src/kernels/elementwise.js';
import * as R from './reference/index.js';
import { expectClose, expectTensorClose, gradCheck, layoutInput, randomArray, type Layout } from './util.js';

const unaryCases: [string, (x: T.Tensor) => T.Tensor, (v: number) => number, [number, number]][] = [
  ['neg', T.neg, (v) => -v, [-3, 3]],
  ['abs', T.abs, Math.abs, [-3, 3]],
  ['exp', T.exp, Math.exp, [-4, 4]],
  ['log', T.log, Math.log, [0.05, 5]],
  ['sqrt', T.sqrt, Math.sqrt, [0.05, 5]],
  ['rsqrt', T.rsqrt, (v) => 1 / Math.sqrt(v), [0.05, 5]],
  ['tanh', T.tanh, Math.tanh, [-5, 5]],
  ['sigmoid', T.sigmoid, R.sigmoid, [-8, 8]],
  ['silu', T.silu, (v) => v * R.sigmoid(v), [-6, 6]],
  ['relu', T.relu, (v) => Math.max(v, 0), [-3, 3]],
  ['gelu', (x) => T.gelu(x), (v) => R.gelu(v), [-5, 5]],
  ['gelu tanh', (x) => T.gelu(x, { approximate: 'tanh' }), (v) => R.gelu(v, 'tanh'), [-5, 5]],
  ['erf', T.erf, R.erf, [-4, 4]],
  ['sign', T.sign, Math.sign, [-3, 3]],
];

describe('unary ops', () => {
  const shape = [3, 5, 7];
  it.each(unaryCases)(
    '%s matches the float64 reference on strided inputs',
    async (name, f, ref, [lo, hi]) => {
      const data = randomArray(105, name.length * 31 + 7, lo, hi);
      for (const layout of ['contiguous', 'permuted', 'sliced'] as Layout[]) {
        const { t, data: d } = layoutInput(data, shape, layout);
        const out = f(t);
        await expectTensorClose(
          out,
          { data: d.map(ref), shape },
          { atol: 2e-6, rtol: 2e-6, what: `${name} ${layout}` },
        );
        out.dispose();
        t.dispose();
      }
    },
  );

  it('erf is within 1e-6 of the true erf on a dense grid', async () => {
    const n = 4001;
    const xs = Float32Array.from({ length: n }, (_, i) => -5 + (10 * i) / (n - 1));
    const out = T.erf(T.tensor(xs));
    expectClose(await out.toArray(), Array.from(xs, R.erf), { atol: 1e-6, rtol: 0, what: 'erf' });
  });

  it('tanh and sigmoid stay finite for huge inputs', async () => {
    const x = T.tensor([-1e4, -100, 100, 1e4]);
    expectClose(await T.tanh(x).toArray(), [-1, -1, 1, 1]);
    expectClose(await T.sigmoid(x).toArray(), [0, 0, 1, 1]);
  });
});

const binaryCases: [
  string,
  (a: T.TensorOrScalar, b: T.TensorOrScalar) => T.Tensor,
  (a: number, b: number) => number,
][] = [
  ['add', T.add, (a, b) => a + b],
  ['sub', T.sub, (a, b) => a - b],
  ['mul', T.mul, (a, b) => a * b],
  ['div', T.div, (a, b) => a / b],
  ['maximum', T.maximum, Math.max],
  ['minimum', T.minimum, Math.min],
  ['pow', T.pow, (a, b) => a ** b],
];

describe('binary ops with broadcasting', () => {
  // Broadcasting on both sides, size-1 dims and a missing leading dim.
  const shapesA = [2, 1, 5, 3];
  const shapesB = [4, 1, 3];
  it.each(binaryCases)('%s broadcasts [2,1,5,3] with [4,1,3] and strided views', async (name, f, ref) => {
    const positive = name === 'pow';
    const a = randomArray(30, 11, positive ? 0.1 : -2, 2);
    const b = randomArray(12, 12, positive ? -2 : 0.5, 2);
    for (const layout of ['contiguous', 'permuted', 'sliced', 'expanded'] as Layout[]) {
      const A = layoutInput(a, shapesA, layout);
      const B = layoutInput(b, shapesB, layout === 'expanded' ? 'contiguous' : layout);
      const out = f(A.t, B.t);
      const expected = R.zipWith([R.nd(A.data, shapesA), R.nd(B.data, shapesB)], ref);
      await expectTensorClose(out, expected, { atol: 1e-5, rtol: 1e-5, what: `${name} ${layout}` });
      A.t.dispose();
      B.t.dispose();
      out.dispose();
    }
  });

  it('accepts numbers on either side', async () => {
    const x = T.tensor([1, 2, 3, 4], [2, 2]);
    expectClose(await T.sub(10, x).toArray(), [9, 8, 7, 6]);
    expectClose(await T.div(x, 2).toArray(), [0.5, 1, 1.5, 2]);
    expectClose(await T.pow(2, x).toArray(), [2, 4, 8, 16]);
    expectClose(await T.maximum(x, 2.5).toArray(), [2.5, 2.5, 3, 4]);
  });

  it('pow handles negative bases with integer exponents and x^0', async () => {
    const x = T.tensor([-2, -0.5, 0, 3]);
    expectClose(await T.pow(x, 2).toArray(), [4, 0.25, 0, 9], { rtol: 1e-5 });
    expectClose(await T.pow(x, 3).toArray(), [-8, -0.125, 0, 27], { rtol: 1e-5 });
    expectClose(await T.pow(x, 0).toArray(), [1, 1, 1, 1]);
    const frac = await T.pow(x, 0.5).toArray();
    expect(Number.isNaN(frac[0])).toBe(true);
  });

  it('integer arithmetic stays in i32', async () => {
    const a = T.tensor([7, -7, 9, 1], [4], 'i32');
    const b = T.tensor([2, 2, -4, 5], [4], 'i32');
    const q = T.div(a, b);
    expect(q.dtype).toBe('i32');
    expect(Array.from(await q.toArray())).toEqual([3, -3, -2, 0]);
    expect(Array.from(await T.add(a, 3).toArray())).toEqual([10, -4, 12, 4]);
    expect(Array.from(await T.abs(a).toArray())).toEqual([7, 7, 9, 1]);
    expect(Array.from(await T.clamp(a, -1, 8).toArray())).toEqual([7, -1, 8, 1]);
  });

  it('names the op and shapes on bad input', () => {
    const a = T.zeros([2, 3]);
    const b = T.zeros([4]);
    expect(() => T.add(a, b)).toThrow(/add: shapes \[2, 3\], \[4\] cannot be broadcast/);
    expect(() => T.mul(a, T.zeros([3], 'i32'))).toThrow(/mul: operand dtypes differ/);
    expect(() => T.exp(T.zeros([2], 'i32'))).toThrow(/exp: dtype i32 is not supported/);
  });

  it('a launch of more than 65535 workgroups (split over x and y) covers every element', async () => {
    const n = 256 * 65536 + 300;
    const got = await T.add(T.arange(n, 'i32'), 1).toArray();
    let bad = 0;
    for (let i = 0; i < n; i++) if (got[i] !== i + 1) bad++;
    expect(bad).toBe(0);
  });

  it.runIf(onWebGpu)('takes the contiguous fast path only for contiguous, unbroadcast operands', () => {
    const spy = vi.spyOn(gpuEngine(), 'dispatch');
    const x = T.zeros([4, 6]);
    const keys = () =>
      spy.mock.calls.map((c) => c[0].kernel.key).filter((k) => /^ew:\{op=(add|mul),/.test(k));
    try {
      T.add(x, T.ones([4, 6]));
      T.add(T.slice(x, 0, 1, 3), T.ones([2, 6])); // offset view, still contiguous
      T.mul(x, 2);
      expect(
        keys()
          .slice(-3)
          .every((k) => k.endsWith('strided=false}')),
      ).toBe(true);
      T.add(x, T.ones([6]));
      T.add(T.transpose(x), T.ones([6, 4]));
      expect(
        keys()
          .slice(-2)
          .every((k) => k.endsWith('strided=true}')),
      ).toBe(true);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('comparisons, where, clamp', () => {
  it('comparisons give bool with broadcasting', async () => {
    const a = T.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = T.tensor([2, 2, 5], [3]);
    const cases: [(x: T.Tensor, y: T.Tensor) => T.Tensor, (x: number, y: number) => boolean][] = [
      [T.eq, (x, y) => x === y],
      [T.ne, (x, y) => x !== y],
      [T.lt, (x, y) => x < y],
      [T.le, (x, y) => x <= y],
      [T.gt, (x, y) => x > y],
      [T.ge, (x, y) => x >= y],
    ];
    for (const [f, ref] of cases) {
      const out = f(a, b);
      expect(out.dtype).toBe('bool');
      const expected = R.zipWith([R.nd([1, 2, 3, 4, 5, 6], [2, 3]), R.nd([2, 2, 5], [3])], (x, y) =>
        ref(x, y) ? 1 : 0,
      );
      expect(Array.from(await out.toArray())).toEqual(Array.from(expected.data));
    }
  });

  it('where broadcasts condition, a and b (tensors or numbers)', async () => {
    const c = T.gt(T.tensor([1, -1, 2], [3, 1]), 0);
    const a = T.tensor(randomArray(12, 3), [4, 3, 4].slice(1));
    const b = T.tensor(randomArray(4, 4), [4]);
    const out = T.where(c, a, b);
    const exp = R.zipWith(
      [R.nd([1, 0, 1], [3, 1]), R.nd(await a.toArray(), [3, 4]), R.nd(await b.toArray(), [4])],
      (cc, x, y) => (cc ? x : y),
    );
    await expectTensorClose(out, exp);
    await expectTensorClose(T.where(c, 1, 0), { data: [1, 0, 1], shape: [3, 1] });
  });

  it('clamp with numbers, one-sided, and tensor bounds', async () => {
    const x = T.tensor([-3, -1, 0.5, 2, 9]);
    expectClose(await T.clamp(x, -1, 2).toArray(), [-1, -1, 0.5, 2, 2]);
    expectClose(await T.clamp(x, null, 1).toArray(), [-3, -1, 0.5, 1, 1]);
    expectClose(await T.clamp(x, 0).toArray(), [0, 0, 0.5, 2, 9]);
    expectClose(await T.clamp(x, T.tensor([0, 0, 0, 3, 3]), 4).toArray(), [0, 0, 0.5, 3, 4]);
  });
});

describe('elementwise gradients (central finite differences)', () => {
  const x = { data: randomArray(2 * 3 * 4, 21, -2, 2), shape: [2, 3, 4] };
  const pos = { data: randomArray(2 * 3 * 4, 22, 0.3, 3), shape: [2, 3, 4] };
  const cases: [string, (t: T.Tensor) => T.Tensor, typeof x][] = [
    ['neg', T.neg, x],
    ['abs', T.abs, x],
    ['exp', T.exp, x],
    ['log', T.log, pos],
    ['sqrt', T.sqrt, pos],
    ['rsqrt', T.rsqrt, pos],
    ['tanh', T.tanh, x],
    ['sigmoid', T.sigmoid, x],
    ['silu', T.silu, x],
    ['relu', T.relu, x],
    ['gelu', (t) => T.gelu(t), x],
    ['gelu tanh', (t) => T.gelu(t, { approximate: 'tanh' }), x],
    ['erf', T.erf, x],
    ['clamp', (t) => T.clamp(t, -1, 1.2), x],
  ];
  it.each(cases)('%s', async (name, f, input) => {
    await gradCheck(f, [input], { what: name });
  });

  const a = { data: randomArray(2 * 1 * 4, 31, -2, 2), shape: [2, 1, 4] };
  const b = { data: randomArray(3 * 1, 32, 0.5, 2), shape: [3, 1] };
  const bin: [string, (p: T.Tensor, q: T.Tensor) => T.Tensor][] = [
    ['add', T.add],
    ['sub', T.sub],
    ['mul', T.mul],
    ['div', T.div],
    ['maximum', T.maximum],
    ['minimum', T.minimum],
  ];
  it.each(bin)('%s with broadcasting on both sides', async (name, f) => {
    await gradCheck(f, [a, b], { what: name });
  });

  it('pow (both operands), where, clamp with tensor bounds', async () => {
    const base = { data: randomArray(6, 41, 0.5, 2), shape: [2, 3] };
    const ex = { data: randomArray(3, 42, -1.5, 2), shape: [3] };
    await gradCheck(T.pow, [base, ex], { what: 'pow' });
    await gradCheck((t) => T.pow(t, 3), [{ data: randomArray(6, 43, -2, 2), shape: [6] }], {
      what: 'pow scalar exponent',
    });
    const cond = T.gt(T.tensor(randomArray(4, 44), [4]), 0);
    await gradCheck((p, q) => T.where(cond, p, q), [a, { data: randomArray(4, 45), shape: [4] }], {
      what: 'where',
    });
    const lo = { data: [-0.5, -1, 0.2, -3], shape: [4] };
    await gradCheck((t, l) => T.clamp(t, l, 1.5), [a, lo], { what: 'clamp tensor bound' });
  });

  it('maximum splits the gradient evenly at ties', async () => {
    const p = T.tensor([1, 2, 3]);
    const q = T.tensor([1, 5, 0]);
    p.requiresGrad = q.requiresGrad = true;
    T.sum(T.maximum(p, q)).backward();
    expectClose(await p.grad!.toArray(), [0.5, 0, 1]);
    expectClose(await q.grad!.toArray(), [0.5, 1, 0]);
  });

  it('gradients through a strided (permuted) input', async () => {
    await gradCheck((t) => T.mul(T.permute(t, [2, 0, 1]), T.tensor(randomArray(4, 9), [4, 1, 1])), [x], {
      what: 'permuted mul',
    });
  });
});

describe('f16', () => {
  it('the template generates structurally identical f16 variants', () => {
    for (const op of ['add', 'gelu', 'where']) {
      const arity = EW_OPS[op].arity;
      const operands = Array.from({ length: arity }, (_, i) =>
        op === 'where' && i === 0 ? 't:bool' : 't:f16',
      );
      const f16 = elementwiseProgram.wgsl({ op, operands, out: 'f16', strided: true });
      const f32 = elementwiseProgram.wgsl({
        op,
        operands: operands.map((o) => o.replace('f16', 'f32')),
        out: 'f32',
        strided: true,
      });
      expect(f16.startsWith('enable f16;')).toBe(true);
      expect(f16).toContain('array<f16>');
      expect(f16.replace('enable f16;\n', '').replaceAll('f16', 'f32')).toBe(f32);
    }
  });

  it.skipIf(!eng.hasF16)('f16 elementwise computes in f32 and stores half', async () => {
    const a = randomArray(37, 1, -3, 3);
    const x = T.tensor(a, [37], 'f16');
    const out = T.gelu(T.mul(x, 2));
    expect(out.dtype).toBe('f16');
    expectClose(
      await out.toArray(),
      Array.from(a, (v) => R.gelu(2 * v)),
      { atol: 1e-2, rtol: 1e-2 },
    );
  });
});
