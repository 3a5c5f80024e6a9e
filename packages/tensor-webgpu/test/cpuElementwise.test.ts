// The CPU engine's elementwise and cast kernels (csrc/elementwise.c, csrc/cast.c): every op on
// layouts large enough to spread over threads gives the same bits on 1 and 3 threads and matches a
// float64 reference; integer rules (wrapping, division by zero), NaN/Inf, casts with saturation, f16
// and u8 packing, writes into strided destinations.
import { describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { CpuEngine } from '../src/cpu/cpuEngine.js';
import { EW_OP_CODES } from '../src/cpu/elementwise.js';
import { toHalfBits, fromHalfBits } from '../src/half.js';
import { launchPack } from '../src/kernels/cast.js';
import {
  EW_OPS,
  launchCopy,
  launchElementwise,
  launchFill,
  type EwOperand,
} from '../src/kernels/elementwise.js';
import type { DType } from '../src/dtype.js';
import { Tensor } from '../src/tensor.js';
import * as R from './reference/index.js';
import { expectClose, prng, randomArray } from './util.js';
import { cpuEngines } from './cpuEngines.js';

let e1: CpuEngine;
let e3: CpuEngine;
cpuEngines((one, three) => ((e1 = one), (e3 = three)));

/** Row-major index → coordinates. */
function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}

/**
 * A view of `shape` holding `data` (row-major) stored in reversed dim order behind 3 elements of
 * padding: a non-contiguous view with a non-zero offset.
 */
function permutedView(data: ArrayLike<number>, shape: readonly number[], dtype: DType, e: CpuEngine): Tensor {
  const n = data.length;
  const rev = [...shape].reverse();
  const revStrides = rev.map((_, d) => rev.slice(d + 1).reduce((a, b) => a * b, 1));
  const strides = [...revStrides].reverse();
  const stored = new Float64Array(n + 3);
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, shape);
    stored[3 + idx.reduce((acc, c, d) => acc + c * strides[d], 0)] = data[i];
  }
  const base = Tensor.fromData(stored, [n + 3], dtype, e);
  const view = base.view(shape, strides, 3);
  base.dispose();
  return view;
}

/** Element-by-element equality without a deep diff of large arrays. */
function expectSameBits(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i]) expect.fail(`${what}: element ${i} is ${actual[i]}, want ${expected[i]}`);
  }
}

async function bits(t: Tensor): Promise<Uint32Array> {
  const a = await t.toArray();
  return new Uint32Array(a.buffer, a.byteOffset, a.byteLength / 4);
}

/** Runs `op` on both engines (same layouts), expects identical bits, returns the 3-thread result. */
async function onBoth(
  op: string,
  make: (e: CpuEngine) => EwOperand[],
  out: DType,
  shape?: number[],
): Promise<Float32Array | Int32Array | Uint32Array> {
  const r1 = launchElementwise(op, make(e1), out, { shape, engine: e1 });
  const r3 = launchElementwise(op, make(e3), out, { shape, engine: e3 });
  expectSameBits(await bits(r3), await bits(r1), `${op}: 1 vs 3 threads`);
  const v = (await r3.toArray()) as Float32Array | Int32Array | Uint32Array;
  r1.dispose();
  r3.dispose();
  return v;
}

const phi = (x: number) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
const gtInner = (x: number) => Math.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x));

// Float ops: [op, float64 reference, operand ranges].
const floatCases: [string, (...v: number[]) => number, [number, number][]][] = [
  ['copy', (x) => x, [[-3, 3]]],
  ['neg', (x) => -x, [[-3, 3]]],
  ['abs', Math.abs, [[-3, 3]]],
  ['sign', Math.sign, [[-3, 3]]],
  ['exp', Math.exp, [[-20, 20]]],
  ['log', Math.log, [[1e-4, 100]]],
  ['sqrt', Math.sqrt, [[0, 100]]],
  ['rsqrt', (x) => 1 / Math.sqrt(x), [[0.01, 100]]],
  ['tanh', Math.tanh, [[-8, 8]]],
  ['sigmoid', R.sigmoid, [[-20, 20]]],
  ['silu', (x) => x * R.sigmoid(x), [[-10, 10]]],
  ['relu', (x) => Math.max(x, 0), [[-3, 3]]],
  ['erf', R.erf, [[-4, 4]]],
  ['gelu', (x) => R.gelu(x), [[-6, 6]]],
  ['geluTanh', (x) => R.gelu(x, 'tanh'), [[-6, 6]]],
  [
    'add',
    (a, b) => a + b,
    [
      [-3, 3],
      [-3, 3],
    ],
  ],
  [
    'sub',
    (a, b) => a - b,
    [
      [-3, 3],
      [-3, 3],
    ],
  ],
  [
    'mul',
    (a, b) => a * b,
    [
      [-3, 3],
      [-3, 3],
    ],
  ],
  [
    'div',
    (a, b) => a / b,
    [
      [-3, 3],
      [0.5, 3],
    ],
  ],
  [
    'pow',
    (a, b) => a ** b,
    [
      [0.1, 4],
      [-3, 3],
    ],
  ],
  [
    'maximum',
    Math.max,
    [
      [-3, 3],
      [-3, 3],
    ],
  ],
  [
    'minimum',
    Math.min,
    [
      [-3, 3],
      [-3, 3],
    ],
  ],
  [
    'geluGrad',
    (x, g) => g * (R.normalCdf(x) + x * phi(x)),
    [
      [-6, 6],
      [-2, 2],
    ],
  ],
  [
    'geluTanhGrad',
    (x, g) =>
      g *
      (0.5 * (1 + gtInner(x)) +
        0.5 * x * (1 - gtInner(x) ** 2) * 0.7978845608028654 * (1 + 0.134145 * x * x)),
    [
      [-6, 6],
      [-2, 2],
    ],
  ],
  [
    'siluGrad',
    (x, g) => g * R.sigmoid(x) * (1 + x * (1 - R.sigmoid(x))),
    [
      [-10, 10],
      [-2, 2],
    ],
  ],
  [
    'clamp',
    (x, lo, hi) => Math.min(Math.max(x, lo), hi),
    [
      [-3, 3],
      [-2, 0],
      [0, 2],
    ],
  ],
];

describe('CPU elementwise: f32 ops over threads and layouts', () => {
  // 3 × 129 × 173 = 66951 elements: odd rows, enough work for every thread.
  const shape = [3, 129, 173];
  const n = 3 * 129 * 173;

  it('the op codes follow the op table', () => {
    expect([...EW_OP_CODES]).toEqual(Object.keys(EW_OPS));
  });

  it.each(floatCases)(
    '%s: 1 and 3 threads agree bit for bit and match float64 (strided, broadcast, scalar operands)',
    async (op, ref, ranges) => {
      const seed = op.length * 97 + op.charCodeAt(0);
      const datas = ranges.map(([lo, hi], k) => randomArray(n, seed + k, lo, hi));
      // Operand 0: a permuted, offset view; operand 1: broadcast rows [129, 1]; operand 2: contiguous.
      const bShape = [129, 1];
      const bData = ranges.length > 1 ? randomArray(129, seed + 50, ...ranges[1]) : new Float32Array(0);
      const make = (e: CpuEngine): EwOperand[] =>
        ranges.map((_, k) => {
          if (k === 0) return { tensor: permutedView(datas[0], shape, 'f32', e) };
          if (k === 1) return { tensor: Tensor.fromData(bData, bShape, 'f32', e) };
          return { tensor: Tensor.fromData(datas[k], shape, 'f32', e) };
        });
      const got = await onBoth(op, make, 'f32');
      const expected = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const row = unravel(i, shape)[1];
        const args = ranges.map((_, k) => (k === 0 ? datas[0][i] : k === 1 ? bData[row] : datas[k][i]));
        expected[i] = ref(...args.map((v) => Math.fround(v)));
      }
      const rtol = op === 'pow' || op === 'exp' ? 1e-5 : 3e-6;
      expectClose(got, expected, { atol: 3e-6, rtol, what: op });
      // The same op with a scalar last operand (contiguous fast path).
      if (ranges.length >= 2) {
        const s = Math.fround((ranges[1][0] + ranges[1][1]) / 2 + 0.1);
        const scalarMake = (e: CpuEngine): EwOperand[] =>
          ranges.map((_, k) =>
            k === 1
              ? { scalar: s, dtype: 'f32' as const }
              : { tensor: Tensor.fromData(datas[k], shape, 'f32', e) },
          );
        const got2 = await onBoth(op, scalarMake, 'f32');
        const exp2 = Float64Array.from({ length: n }, (_, i) =>
          ref(...ranges.map((__, k) => (k === 1 ? s : Math.fround(datas[k][i])))),
        );
        expectClose(got2, exp2, { atol: 3e-6, rtol, what: `${op} with a scalar` });
      }
    },
  );

  it('where and the comparisons over broadcast operands of every dtype', async () => {
    const cond = Float32Array.from(randomArray(n, 5, -1, 1), (v) => (v > 0 ? 1 : 0));
    const a = randomArray(n, 6, -3, 3);
    const b = randomArray(173, 7, -3, 3);
    const w = await onBoth(
      'where',
      (e) => [
        { tensor: permutedView(cond, shape, 'bool', e) },
        { tensor: Tensor.fromData(a, shape, 'f32', e) },
        { tensor: Tensor.fromData(b, [173], 'f32', e) },
      ],
      'f32',
    );
    expectSameBits(
      w,
      Array.from({ length: n }, (_, i) => (cond[i] ? a[i] : b[i % 173])),
      'where',
    );
    for (const [op, f] of [
      ['eq', (x: number, y: number) => x === y],
      ['ne', (x: number, y: number) => x !== y],
      ['lt', (x: number, y: number) => x < y],
      ['le', (x: number, y: number) => x <= y],
      ['gt', (x: number, y: number) => x > y],
      ['ge', (x: number, y: number) => x >= y],
    ] as const) {
      for (const dtype of ['f32', 'i32', 'u32'] as const) {
        const xs = Float64Array.from(randomArray(n, 8, 0, 6), Math.floor);
        const ys = Float64Array.from(randomArray(173, 9, 0, 6), Math.floor);
        const r = await onBoth(
          op,
          (e) => [
            { tensor: permutedView(xs, shape, dtype, e) },
            { tensor: Tensor.fromData(ys, [173], dtype, e) },
          ],
          'bool',
        );
        expectSameBits(
          r,
          Array.from({ length: n }, (_, i) => (f(xs[i], ys[i % 173]) ? 1 : 0)),
          `${op} ${dtype}`,
        );
      }
    }
  });
});

describe('CPU elementwise: integer rules', () => {
  const I32_MIN = -2147483648;
  it('i32 wraps, divides by zero to the dividend, and INT_MIN / -1 stays INT_MIN (as WGSL)', async () => {
    const a = [7, -7, 7, -7, 5, I32_MIN, I32_MIN, 2147483647, 0, -1];
    const b = [2, 2, -2, -2, 0, -1, 0, 1, 0, 3];
    const run = (op: string) =>
      onBoth(
        op,
        (e) => [
          { tensor: Tensor.fromData(Int32Array.from(a), [a.length], 'i32', e) },
          { tensor: Tensor.fromData(Int32Array.from(b), [b.length], 'i32', e) },
        ],
        'i32',
      );
    expect(Array.from(await run('div'))).toEqual([3, -3, -3, 3, 5, I32_MIN, I32_MIN, 2147483647, 0, 0]);
    expect(Array.from(await run('add'))).toEqual(a.map((v, i) => (v + b[i]) | 0));
    expect(Array.from(await run('sub'))).toEqual(a.map((v, i) => (v - b[i]) | 0));
    expect(Array.from(await run('mul'))).toEqual(a.map((v, i) => Math.imul(v, b[i])));
    expect(Array.from(await run('maximum'))).toEqual(a.map((v, i) => Math.max(v, b[i])));
    const un = (op: string) =>
      onBoth(op, (e) => [{ tensor: Tensor.fromData(Int32Array.from(a), [a.length], 'i32', e) }], 'i32');
    expect(Array.from(await un('neg'))).toEqual(a.map((v) => -v | 0));
    expect(Array.from(await un('abs'))).toEqual(a.map((v) => Math.abs(v) | 0));
    expect(Array.from(await un('sign'))).toEqual(a.map((v) => Math.sign(v)));
    expect(Array.from(await un('relu'))).toEqual(a.map((v) => Math.max(v, 0)));
    const c = await onBoth(
      'clamp',
      (e) => [
        { tensor: Tensor.fromData(Int32Array.from(a), [a.length], 'i32', e) },
        { scalar: -5, dtype: 'i32' },
        { scalar: 6, dtype: 'i32' },
      ],
      'i32',
    );
    expect(Array.from(c)).toEqual(a.map((v) => Math.min(Math.max(v, -5), 6)));
  });

  it('u32 divides by zero to the dividend and compares unsigned', async () => {
    const a = [7, 4294967295, 5, 0x80000000];
    const b = [2, 2, 0, 1];
    const mk = (e: CpuEngine): EwOperand[] => [
      { tensor: Tensor.fromData(Uint32Array.from(a), [4], 'u32', e) },
      { tensor: Tensor.fromData(Uint32Array.from(b), [4], 'u32', e) },
    ];
    expect(Array.from(await onBoth('div', mk, 'u32'))).toEqual([3, 2147483647, 5, 0x80000000]);
    expect(Array.from(await onBoth('gt', mk, 'bool'))).toEqual([1, 1, 1, 1]);
    expect(Array.from(await onBoth('sub', mk, 'u32'))).toEqual([5, 4294967293, 5, 0x7fffffff]);
  });

  it('arange (index) over threads, as f32 and i32', async () => {
    const n = 100003;
    for (const dtype of ['f32', 'i32'] as const) {
      const r = await onBoth('index', () => [], dtype, [n]);
      expect(r.length).toBe(n);
      expect(r[n - 1]).toBe(n - 1);
      expect(r.every((v, i) => v === i)).toBe(true);
    }
  }, 20_000);
});

describe('CPU elementwise: NaN, Inf and casts', () => {
  const specials = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 1e-40, 3e9, -3e9, 5e9, 2.5, -2.5];
  const f32 = (e: CpuEngine, v: readonly number[] = specials) =>
    Tensor.fromData(Float32Array.from(v), [v.length], 'f32', e);

  it('comparisons with NaN are false except ne; NaN and -0 cast to bool as "not zero"', async () => {
    const x = [NaN, NaN, 1, -0];
    const y = [NaN, 1, NaN, 0];
    const mk = (e: CpuEngine): EwOperand[] => [{ tensor: f32(e, x) }, { tensor: f32(e, y) }];
    for (const op of ['eq', 'lt', 'le', 'gt', 'ge'])
      expect(Array.from(await onBoth(op, mk, 'bool')), op).toEqual([
        0,
        0,
        0,
        op === 'eq' || op.endsWith('e') ? 1 : 0,
      ]);
    expect(Array.from(await onBoth('ne', mk, 'bool'))).toEqual([1, 1, 1, 0]);
    expect(Array.from(await onBoth('toBool', (e) => [{ tensor: f32(e, x) }], 'bool'))).toEqual([1, 1, 1, 0]);
    const w = await onBoth(
      'where',
      (e) => [{ tensor: f32(e, x) }, { scalar: 1, dtype: 'f32' }, { scalar: 2, dtype: 'f32' }],
      'f32',
    );
    expect(Array.from(w)).toEqual([1, 1, 1, 2]);
  });

  it('exp, log, tanh, sigmoid, erf, sqrt at NaN, ±Inf, 0 and in the subnormal range', async () => {
    const x = [NaN, Infinity, -Infinity, 0, -0, -100, -110, 88, 89];
    const run = async (op: string) => Array.from(await onBoth(op, (e) => [{ tensor: f32(e, x) }], 'f32'));
    const exp = await run('exp');
    expect(exp.slice(0, 5)).toEqual([NaN, Infinity, 0, 1, 1]);
    // A subnormal result, not flushed: within one subnormal step (2^-149).
    expect(Math.abs(exp[5] - Math.exp(-100))).toBeLessThanOrEqual(2 ** -149);
    expect(exp[6]).toBe(0);
    expect(exp[7] / Math.exp(88)).toBeCloseTo(1, 5);
    expect(exp[8]).toBe(Infinity);
    expect((await run('log')).slice(0, 5)).toEqual([NaN, Infinity, NaN, -Infinity, -Infinity]);
    const logs = Array.from(await onBoth('log', (e) => [{ tensor: f32(e, [1e-40, -1, 1]) }], 'f32'));
    expect(logs[0]).toBeCloseTo(Math.log(1e-40), 4); // a subnormal input
    expect(logs.slice(1)).toEqual([NaN, 0]);
    expect((await run('tanh')).slice(0, 5)).toEqual([NaN, 1, -1, 0, -0]);
    expect((await run('sigmoid')).slice(0, 4)).toEqual([NaN, 1, 0, 0.5]);
    expect((await run('erf')).slice(0, 5)).toEqual([NaN, 1, -1, 0, -0]);
    expect((await run('sqrt')).slice(0, 5)).toEqual([NaN, Infinity, NaN, 0, -0]);
  });

  it('pow gives the real-valued answers of the WGSL kernel', async () => {
    const a = [0, 0, 0, -2, -2, -2, NaN, 2, 1, 4];
    const b = [-1, 2, 0, 3, 2, 0.5, 0, 10, Infinity, 0.5];
    const r = await onBoth('pow', (e) => [{ tensor: f32(e, a) }, { tensor: f32(e, b) }], 'f32');
    expectClose(r, [Infinity, 0, 1, -8, 4, NaN, 1, 1024, NaN, 2], { atol: 0, rtol: 2e-6, what: 'pow' });
  });

  it('f32 → i32/u32 truncate and saturate at the largest f32 inside the range; NaN gives 0', async () => {
    const i = await onBoth('cast', (e) => [{ tensor: f32(e) }], 'i32');
    expect(Array.from(i)).toEqual([
      0, 2147483520, -2147483648, 0, 0, 1, -1, 0, 2147483520, -2147483648, 2147483520, 2, -2,
    ]);
    const u = await onBoth('cast', (e) => [{ tensor: f32(e) }], 'u32');
    expect(Array.from(u)).toEqual([0, 4294967040, 0, 0, 0, 1, 0, 0, 3e9, 0, 4294967040, 2, 0]);
    const back = await onBoth(
      'cast',
      (e) => [{ tensor: Tensor.fromData(Int32Array.from([-2147483648, 16777217, -3]), [3], 'i32', e) }],
      'f32',
    );
    expect(Array.from(back)).toEqual([-2147483648, 16777216, -3]);
    const ub = await onBoth(
      'cast',
      (e) => [{ tensor: Tensor.fromData(Uint32Array.from([4294967295, 7]), [2], 'u32', e) }],
      'f32',
    );
    expect(Array.from(ub)).toEqual([4294967296, 7]);
    // i32 <-> u32 keep the bits.
    const iu = await onBoth(
      'cast',
      (e) => [{ tensor: Tensor.fromData(Int32Array.from([-1, 5]), [2], 'i32', e) }],
      'u32',
    );
    expect(Array.from(iu)).toEqual([4294967295, 5]);
  });

  it('f32 → f16 packs with round-to-nearest-even like toHalfBits (subnormals, overflow, NaN) on every thread count', async () => {
    const r = prng(11);
    const n = 70001;
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = (r() - 0.5) * 2 ** Math.floor(r() * 48 - 30);
    v.set(
      [65504, 65519, 65520, -70000, Infinity, -Infinity, 6e-8, 3e-8, 2.98e-8, -1e-5, 0.1, 1 / 3, 0, -0],
      0,
    );
    const shape = [7, 10000];
    const data = v.subarray(0, 70000);
    const h1 = launchPack(permutedView(data, shape, 'f32', e1), 'f16');
    const h3 = launchPack(permutedView(data, shape, 'f32', e3), 'f16');
    const b1 = new Uint16Array((await e1.read(h1.buffer, h1.byteOffset, 2 * 70000)) as ArrayBuffer);
    const b3 = new Uint16Array((await e3.read(h3.buffer, h3.byteOffset, 2 * 70000)) as ArrayBuffer);
    expectSameBits(b3, b1, 'f16 pack: 1 vs 3 threads');
    const want = Array.from(data, (x) => toHalfBits(x));
    expectSameBits(b1, want, 'f16 pack vs toHalfBits');
    // The contiguous (vectorized) path gives the same bits as the strided one.
    const hc = launchPack(Tensor.fromData(data, shape, 'f32', e3), 'f16');
    expectSameBits(
      new Uint16Array((await e3.read(hc.buffer, hc.byteOffset, 2 * 70000)) as ArrayBuffer),
      want,
      'contiguous f16 pack vs toHalfBits',
    );
    // And back to f32, exactly, through a strided f16 view.
    const back = launchElementwise(
      'cast',
      [{ tensor: permutedView(Array.from(want, fromHalfBits), shape, 'f16', e3) }],
      'f32',
    );
    expectSameBits((await back.toArray()) as Float32Array, want.map(fromHalfBits), 'f16 → f32');
    // NaN becomes the quiet NaN 0x7e00, as the WGSL kernel writes it.
    const nan = launchPack(Tensor.fromData(Float32Array.from([NaN, -NaN]), [2], 'f32', e1), 'f16');
    expect(
      Array.from(new Uint16Array((await e1.read(nan.buffer, nan.byteOffset, 4)) as ArrayBuffer)),
    ).toEqual([0x7e00, 0x7e00]);
  }, 30_000);

  it('→ u8 rounds half to even and saturates; i32/u32 clamp; strided u8 views read back', async () => {
    const x = [2.5, 3.5, -1, 300, NaN, 254.5, 0.49, Infinity];
    const u = launchPack(Tensor.fromData(Float32Array.from(x), [8], 'f32', e3), 'u8');
    expect(Array.from((await u.toArray()) as Uint8Array)).toEqual([2, 4, 0, 255, 0, 254, 0, 255]);
    const i = launchPack(Tensor.fromData(Int32Array.from([-5, 7, 256, 255]), [4], 'i32', e3), 'u8');
    expect(Array.from((await i.toArray()) as Uint8Array)).toEqual([0, 7, 255, 255]);
    const w = launchPack(Tensor.fromData(Uint32Array.from([4294967295, 9]), [2], 'u32', e3), 'u8');
    expect(Array.from((await w.toArray()) as Uint8Array)).toEqual([255, 9]);
    // A large permuted u8 view: byte copy and u8 → f32 over 3 threads equal 1 thread.
    const shape = [5, 211, 67];
    const n = 5 * 211 * 67;
    const bytes = Uint8Array.from({ length: n }, (_, k) => (k * 131 + 7) % 256);
    const v1 = permutedView(bytes, shape, 'u8', e1);
    const v3 = permutedView(bytes, shape, 'u8', e3);
    expectSameBits((await launchPack(v3, 'u8').toArray()) as Uint8Array, bytes, 'u8 copy');
    const f1 = await launchElementwise('cast', [{ tensor: v1 }], 'f32').toArray();
    const f3 = await launchElementwise('cast', [{ tensor: v3 }], 'f32').toArray();
    expectSameBits(f3, bytes, 'u8 → f32');
    expectSameBits(f1, f3, 'u8 → f32: 1 vs 3 threads');
  });
});

describe('CPU elementwise: destinations and fills', () => {
  it('copies and fills into strided destination views, leaving the rest untouched', async () => {
    for (const e of [e1, e3]) {
      const big = Tensor.fromData(new Float32Array(400 * 301).fill(-1), [400, 301], 'f32', e);
      // dest: every other row, columns 1..300 transposed: shape [300, 200], strides [1, 602], offset 1.
      const dest = big.view([300, 200], [1, 602], 1);
      const src = randomArray(300 * 200, 21, -5, 5);
      launchCopy(Tensor.fromData(src, [300, 200], 'f32', e), dest);
      const got = (await big.toArray()) as Float32Array;
      for (let r = 0; r < 400; r++) {
        for (let c = 0; c < 301; c++) {
          const want = r % 2 === 0 && c >= 1 ? src[(c - 1) * 200 + r / 2] : -1;
          if (got[r * 301 + c] !== want)
            expect.fail(`dest copy (${e.threads} threads): [${r}, ${c}] = ${got[r * 301 + c]}, want ${want}`);
        }
      }
      launchFill([300, 200], 7, 'f32', e, dest);
      const filled = (await big.toArray()) as Float32Array;
      expect(filled.filter((v) => v === 7).length).toBe(300 * 200);
      expect(filled.filter((v) => v === -1).length).toBe(400 * 301 - 300 * 200);
    }
  });

  it('fills f16 (storage only) and u8 tensors of odd sizes through 32-bit words', async () => {
    const h = T.full([5], 1 / 3, 'f16', e3);
    expect(Array.from(await h.toArray())).toEqual(new Array(5).fill(fromHalfBits(toHalfBits(1 / 3))));
    const u = T.full([7], 300, 'u8', e3);
    expect(Array.from(await u.toArray())).toEqual(new Array(7).fill(255));
    // Operands of two engines (two memories) are refused.
    const other = Tensor.fromData([1, 2, 3, 4, 5], [5], 'f32', e1);
    expect(() => launchElementwise('add', [{ tensor: T.cast(h, 'f32') }, { tensor: other }], 'f32')).toThrow(
      /different engines/,
    );
    // f16 arithmetic is refused, as on a WebGPU device without shader-f16.
    expect(() => launchElementwise('add', [{ tensor: h }, { tensor: h }], 'f16')).toThrow(/storage only/);
  });
});
