// CPU engine specifics of the reductions, softmax / logSoftmax, cumsum and the norms (csrc/reduce.c,
// csrc/norm.c): the same bits on 1 and 3 threads (full reductions of one long row are chunked across
// threads on 3 and not on 1), strided / offset / broadcast views read in place, awkward sizes, integer
// wrap-around, NaN and empty reductions, and the norm backward against a float64 reference. Inputs are
// fresh random data on every run (the seed is in the failure messages).
import { describe, expect, it } from 'vitest';
import { CpuEngine } from '../src/cpu/cpuEngine.js';
import * as T from '../src/index.js';
import { Tensor, type DType } from '../src/index.js';
import * as R from './reference/index.js';
import * as RN from './reference/norm.js';
import { expectClose, prng, randomArray, randomInts } from './util.js';
import { cpuEngines, runSeed } from './cpuEngines.js';

const { fresh, what } = runSeed();

let e1: CpuEngine;
let e3: CpuEngine;
cpuEngines((one, three) => ((e1 = one), (e3 = three)));

type HostArray = Float32Array | Int32Array | Uint32Array;

function bitsOf(
  a: ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; length: number },
): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

/** Runs `f` on the 1-thread and the 3-thread engine, asserts identical bits, returns the values. */
async function sameBits(
  label: string,
  f: (e: CpuEngine) => Tensor,
): Promise<{ data: HostArray; shape: number[] }> {
  const t1 = f(e1);
  const t3 = f(e3);
  const a = (await t1.toArray()) as HostArray;
  const b = (await t3.toArray()) as HostArray;
  expect(t3.shape, what(`${label}: shape`)).toEqual(t1.shape);
  const x = bitsOf(a);
  const y = bitsOf(b);
  expect(y.length, what(label)).toBe(x.length);
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== y[i]) expect.fail(what(`${label}: element ${i} is ${a[i]} on 1 thread, ${b[i]} on 3`));
  }
  return { data: b, shape: [...t3.shape] };
}

/** Ways of viewing stored data as a logical [37, 19, 53] tensor (offsets, strides, broadcast). */
const LOGICAL = [37, 19, 53];
type View = 'contiguous' | 'permuted' | 'sliced' | 'expanded';
interface Placed {
  stored: Float32Array;
  storedShape: number[];
  view: (t: Tensor) => Tensor;
  ref: (n: R.Nd) => R.Nd;
}
function place(view: View, s: number): Placed {
  const [a, b, c] = LOGICAL;
  const shapes: Record<View, number[]> = {
    contiguous: [a, b, c],
    permuted: [c, a, b],
    sliced: [a + 3, b, c + 7],
    expanded: [a, 1, c],
  };
  const storedShape = shapes[view];
  const stored = randomArray(
    storedShape.reduce((p, q) => p * q, 1),
    s,
    -3,
    3,
  );
  const views: Record<View, (t: Tensor) => Tensor> = {
    contiguous: (t) => t,
    permuted: (t) => T.permute(t, [1, 2, 0]),
    sliced: (t) => T.slice(T.slice(t, 0, 2, 2 + a), 2, 5, 5 + c),
    expanded: (t) => T.expand(t, LOGICAL),
  };
  const refs: Record<View, (n: R.Nd) => R.Nd> = {
    contiguous: (n) => n,
    permuted: (n) => R.permute(n, [1, 2, 0]),
    sliced: (n) => R.slice(R.slice(n, 0, 2, 2 + a), 2, 5, 5 + c),
    expanded: (n) => R.expand(n, LOGICAL),
  };
  return { stored, storedShape, view: views[view], ref: refs[view] };
}

describe('reductions on the CPU engine', () => {
  const axesCases: (number | number[] | undefined)[] = [undefined, 0, 1, -1, [0, 2], [0, 1], [1, 2]];
  it.each(['contiguous', 'permuted', 'sliced', 'expanded'] as View[])(
    'sum / mean / max / min / argmax / argmin of a %s view',
    async (view) => {
      const p = place(view, fresh());
      const ref = p.ref(R.nd(p.stored, p.storedShape));
      const absRef = p.ref(R.nd(p.stored.map(Math.abs), p.storedShape));
      const on = (e: CpuEngine) => p.view(Tensor.fromData(p.stored, p.storedShape, 'f32', e));
      for (const axes of axesCases) {
        for (const op of ['sum', 'mean', 'max', 'min'] as const) {
          const f = { sum: T.sum, mean: T.mean, max: T.max, min: T.min }[op];
          const keepdim = Array.isArray(axes);
          const label = `${op} ${view} axes ${JSON.stringify(axes)}`;
          const got = await sameBits(label, (e) => f(on(e), axes, keepdim));
          const want = R.reduce(ref, op, axes, keepdim).data;
          if (op === 'max' || op === 'min') {
            expectClose(got.data, want, { atol: 0, rtol: 0, what: what(label) });
            continue;
          }
          // An f32 sum's rounding error grows with the magnitudes summed, not with the (possibly
          // cancelling) result: bound each element by the same reduction of |x|. A dropped or
          // doubled term (|x| up to 3) is still far outside it.
          const scale = R.reduce(absRef, op, axes, keepdim).data;
          for (let i = 0; i < want.length; i++) {
            const bound = 2e-4 + 2e-6 * scale[i];
            if (!(Math.abs(got.data[i] - want[i]) <= bound))
              expect.fail(what(`${label}: element ${i} is ${got.data[i]}, expected ${want[i]} ± ${bound}`));
          }
        }
        if (typeof axes === 'number') {
          for (const op of ['argmax', 'argmin'] as const) {
            const label = `${op} ${view} axis ${axes}`;
            const got = await sameBits(label, (e) => T[op](on(e), axes));
            expectClose(got.data, R.reduce(ref, op, axes).data, { atol: 0, rtol: 0, what: what(label) });
          }
        }
      }
    },
  );

  it('one long row: chunked over threads gives the bits of one thread, within f32 accuracy', async () => {
    const n = 1_000_003;
    const a = randomArray(n, fresh(), -1, 2);
    let s = 0;
    let mx = -Infinity;
    let arg = 0;
    for (let i = 0; i < n; i++) {
      s += a[i];
      if (a[i] > mx) [mx, arg] = [a[i], i];
    }
    const on = (e: CpuEngine) => Tensor.fromData(a, [n], 'f32', e);
    expectClose((await sameBits('sum 1e6', (e) => T.sum(on(e)))).data, [s], {
      rtol: 2e-6,
      atol: 1e-3,
      what: what('sum 1e6'),
    });
    expectClose((await sameBits('mean 1e6', (e) => T.mean(on(e)))).data, [s / n], {
      rtol: 2e-6,
      atol: 1e-9,
      what: what('mean 1e6'),
    });
    expectClose((await sameBits('max 1e6', (e) => T.max(on(e)))).data, [mx], {
      rtol: 0,
      atol: 0,
      what: what('max 1e6'),
    });
    expectClose((await sameBits('argmax 1e6', (e) => T.argmax(on(e), 0))).data, [arg], {
      rtol: 0,
      atol: 0,
      what: what('argmax 1e6'),
    });
    // A slice at an odd offset, viewed as 3 long rows.
    const rows = (e: CpuEngine) => T.reshape(T.slice(on(e), 0, 1, 1 + 3 * 300_001), [3, 300_001]);
    const ref = R.reduce(R.nd(a.subarray(1, 1 + 3 * 300_001), [3, 300_001]), 'sum', 1);
    expectClose((await sameBits('sum 3 rows', (e) => T.sum(rows(e), 1))).data, ref.data, {
      rtol: 2e-6,
      atol: 1e-3,
      what: what('sum 3 rows'),
    });
  });

  it('few long columns (column layout, chunked) and many short rows', async () => {
    const a = randomArray(100_003 * 5, fresh());
    const on = (e: CpuEngine) => Tensor.fromData(a, [100_003, 5], 'f32', e);
    const nd = R.nd(a, [100_003, 5]);
    for (const op of ['sum', 'max', 'min'] as const) {
      const f = { sum: T.sum, max: T.max, min: T.min }[op];
      const got = await sameBits(`${op} columns`, (e) => f(on(e), 0));
      expectClose(got.data, R.reduce(nd, op, 0).data, {
        rtol: op === 'sum' ? 2e-6 : 0,
        atol: op === 'sum' ? 2e-3 : 0,
        what: what(`${op} columns`),
      });
      const rows = await sameBits(`${op} short rows`, (e) => f(on(e), 1));
      expectClose(rows.data, R.reduce(nd, op, 1).data, {
        rtol: 1e-6,
        atol: op === 'sum' ? 1e-6 : 0,
        what: what(`${op} short rows`),
      });
    }
    // 37 columns: groups of 16 and 4 and single columns, shifted by the thread split.
    const b = randomArray(3001 * 37, fresh());
    const wide = await sameBits('sum 37 columns', (e) => T.sum(Tensor.fromData(b, [3001, 37], 'f32', e), 0));
    expectClose(wide.data, R.reduce(R.nd(b, [3001, 37]), 'sum', 0).data, {
      rtol: 2e-6,
      atol: 1e-4,
      what: what('sum 37 columns'),
    });
    for (const op of ['argmax', 'argmin'] as const) {
      const got = await sameBits(`${op} columns`, (e) => T[op](on(e), 0));
      expectClose(got.data, R.reduce(nd, op, 0).data, { rtol: 0, atol: 0, what: what(`${op} columns`) });
    }
  });

  it('integer sums wrap around; i32 / u32 extremes compare as their type; bool sums to i32', async () => {
    const shape = [301, 173];
    const n = shape[0] * shape[1];
    const i32 = randomInts(n, fresh(), -(2 ** 31), 2 ** 31 - 1);
    const r = prng(fresh());
    const u32 = Uint32Array.from({ length: n }, () => Math.floor(r() * 2 ** 32));
    const bools = Uint32Array.from({ length: n }, () => (r() < 0.3 ? 1 : 0));
    const cases: [DType, HostArray][] = [
      ['i32', i32],
      ['u32', u32],
    ];
    for (const [dtype, data] of cases) {
      const on = (e: CpuEngine) => Tensor.fromData(data, shape, dtype, e);
      for (const axis of [0, 1]) {
        const [rows, len] = axis === 1 ? shape : [shape[1], shape[0]];
        const at = (row: number, k: number) =>
          axis === 1 ? data[row * shape[1] + k] : data[k * shape[1] + row];
        const sum = new Array<number>(rows).fill(0);
        const max = new Array<number>(rows).fill(-Infinity);
        const min = new Array<number>(rows).fill(Infinity);
        const argmax = new Array<number>(rows).fill(0);
        const argmin = new Array<number>(rows).fill(0);
        for (let row = 0; row < rows; row++) {
          for (let k = 0; k < len; k++) {
            const v = at(row, k);
            sum[row] = dtype === 'i32' ? (sum[row] + v) | 0 : (sum[row] + v) >>> 0;
            if (v > max[row]) [max[row], argmax[row]] = [v, k];
            if (v < min[row]) [min[row], argmin[row]] = [v, k];
          }
        }
        const expected = { sum, max, min, argmax, argmin };
        for (const op of ['sum', 'max', 'min', 'argmax', 'argmin'] as const) {
          const got = await sameBits(`${op} ${dtype} axis ${axis}`, (e) => T[op](on(e), axis));
          expect(Array.from(got.data), what(`${op} ${dtype} axis ${axis}`)).toEqual(expected[op]);
        }
      }
    }
    const b = await sameBits('bool sum', (e) => T.sum(Tensor.fromData(bools, shape, 'bool', e), 0));
    const counts = new Array<number>(shape[1]).fill(0);
    bools.forEach((v, i) => (counts[i % shape[1]] += v));
    expect(Array.from(b.data)).toEqual(counts);
    expect(
      (await sameBits('bool sum all', (e) => T.sum(Tensor.fromData(bools, shape, 'bool', e)))).data[0],
    ).toBe(bools.reduce((p, q) => p + q, 0));
  });

  it('NaN: max / min / argmax / argmin skip it (a row of NaN only: ∓inf, index -1); ties take the first index', async () => {
    const N = NaN;
    const data = [1, N, 3, 3, N, N, N, N, -Infinity, N, -Infinity, 0, -0, 0, 2, 2];
    const x = Tensor.fromData(data, [4, 4], 'f32', e3);
    expect(Array.from(await T.max(x, 1).toArray())).toEqual([3, -Infinity, 0, 2]);
    // -0 orders below +0 (the result does not depend on the order of the elements).
    expect(Array.from(await T.min(x, 1).toArray())).toEqual([1, Infinity, -Infinity, -0]);
    expect(Array.from(await T.argmax(x, 1).toArray())).toEqual([2, -1, 3, 2]);
    expect(Array.from(await T.argmin(x, 1).toArray())).toEqual([0, -1, 0, 0]);
    const long = randomArray(100_003, fresh());
    for (let i = 0; i < long.length; i += 97) long[i] = NaN;
    const m = long.reduce((p, v) => (Number.isNaN(v) ? p : Math.max(p, v)), -Infinity);
    expect(
      (await sameBits('max with NaN', (e) => T.max(Tensor.fromData(long, [long.length], 'f32', e)))).data[0],
    ).toBe(Math.fround(m));
    const i = Tensor.fromData([-(2 ** 31), -(2 ** 31), 5, 5], [4], 'i32', e1);
    expect(Array.from(await T.argmin(i, 0).toArray())).toEqual([0]);
    expect(Array.from(await T.argmax(i, 0).toArray())).toEqual([2]);
  });

  it('empty reductions: a sum is 0, a mean NaN; max of an empty dim is refused', async () => {
    const x = Tensor.fromData([], [3, 0], 'f32', e3);
    expect(Array.from(await T.sum(x, 1).toArray())).toEqual([0, 0, 0]);
    expect(Array.from(await T.mean(x, 1).toArray())).toEqual([NaN, NaN, NaN]);
    expect(T.sum(x, 0).shape).toEqual([0]);
    expect(Array.from(await T.sum(Tensor.fromData([], [0, 4], 'i32', e3), 0).toArray())).toEqual([
      0, 0, 0, 0,
    ]);
    expect(() => T.max(x, 1)).toThrow(/cannot reduce an empty dimension/);
  });
});

describe('softmax, logSoftmax and cumsum on the CPU engine', () => {
  it.each([
    ['contiguous last axis', [61, 1003], -1, null],
    ['first axis (columns)', [301, 41], 0, null],
    ['middle axis of a permuted view', [53, 37, 19], 1, [1, 2, 0]],
  ] as [string, number[], number, number[] | null][])(
    'softmax / logSoftmax: %s',
    async (_, storedShape, axis, perm) => {
      const n = storedShape.reduce((p, q) => p * q, 1);
      const a = randomArray(n, fresh(), -30, 30);
      // Some -inf (masked) entries: exactly 0 after softmax, -inf after logSoftmax.
      for (let i = 0; i < n; i += 7) a[i] = -Infinity;
      const view = (e: CpuEngine) => {
        const t = Tensor.fromData(a, storedShape, 'f32', e);
        return perm ? T.permute(t, perm) : t;
      };
      const ref = perm ? R.permute(R.nd(a, storedShape), perm) : R.nd(a, storedShape);
      const sm = await sameBits('softmax', (e) => T.softmax(view(e), axis));
      const refSm = R.softmax(ref, axis).data;
      expectClose(sm.data, refSm, { atol: 1e-6, rtol: 1e-4, what: what('softmax') });
      refSm.forEach((v, i) => v === 0 && expect(sm.data[i], what('softmax of -inf')).toBe(0));
      const ls = await sameBits('logSoftmax', (e) => T.logSoftmax(view(e), axis));
      const refLs = R.logSoftmax(ref, axis).data;
      const finite = Array.from(refLs, (v) => (Number.isFinite(v) ? v : 0));
      expectClose(
        Array.from(ls.data, (v, i) => (Number.isFinite(refLs[i]) ? v : 0)),
        finite,
        { atol: 1e-4, rtol: 1e-5, what: what('logSoftmax') },
      );
      refLs.forEach(
        (v, i) => v === -Infinity && expect(ls.data[i], what('logSoftmax of -inf')).toBe(-Infinity),
      );
    },
  );

  it('long lines (a vocabulary; a long strided axis) keep f32 accuracy', async () => {
    // Float64 references by loop (the shared ones spread a line into Math.max).
    const lineRef = (get: (k: number) => number, n: number, log: boolean) => {
      let m = -Infinity;
      for (let k = 0; k < n; k++) m = Math.max(m, get(k));
      let s = 0;
      for (let k = 0; k < n; k++) s += Math.exp(get(k) - m);
      return Float64Array.from({ length: n }, (_, k) =>
        log ? get(k) - m - Math.log(s) : Math.exp(get(k) - m) / s,
      );
    };
    const a = randomArray(150_001, fresh(), -4, 4);
    const row = await sameBits('logSoftmax long row', (e) =>
      T.logSoftmax(Tensor.fromData(a, [1, a.length], 'f32', e), 1),
    );
    const refRow = lineRef((k) => a[k], a.length, true);
    expectClose(row.data, refRow, { atol: 2e-5, rtol: 2e-6, what: what('logSoftmax long row') });
    const [n, c] = [40_003, 5];
    const b = randomArray(n * c, fresh(), -4, 4);
    const cols = await sameBits('softmax long columns', (e) =>
      T.softmax(Tensor.fromData(b, [n, c], 'f32', e), 0),
    );
    const refCols = new Float64Array(n * c);
    for (let j = 0; j < c; j++)
      lineRef((k) => b[k * c + j], n, false).forEach((v, k) => (refCols[k * c + j] = v));
    expectClose(cols.data, refCols, { atol: 1e-9, rtol: 5e-5, what: what('softmax long columns') });
  });

  it('softmax of a line holding +inf or NaN is NaN, as in the WGSL kernel', async () => {
    const x = Tensor.fromData([1, Infinity, 2, 1, NaN, 2, 1, 2, 3], [3, 3], 'f32', e1);
    const y = Array.from(await T.softmax(x, 1).toArray());
    expect(y.slice(0, 6).every(Number.isNaN)).toBe(true);
    expectClose(y.slice(6), R.softmax(R.nd([1, 2, 3], [3])).data, { atol: 1e-6 });
  });

  it.each([
    ['f32', [97, 403]],
    ['i32', [301, 41]],
    ['bool', [129, 257]],
  ] as [DType, number[]][])(
    'cumsum %s %j along both axes, forward and reverse, contiguous and transposed',
    async (dtype, shape) => {
      const n = shape[0] * shape[1];
      const data =
        dtype === 'f32'
          ? randomArray(n, fresh())
          : dtype === 'i32'
            ? randomInts(n, fresh(), -(2 ** 30), 2 ** 30)
            : Uint32Array.from(randomInts(n, fresh(), 0, 2));
      for (const transposed of [false, true]) {
        const view = (e: CpuEngine) => {
          const t = Tensor.fromData(data, shape, dtype, e);
          return transposed ? T.transpose(t, 0, 1) : t;
        };
        const nd = transposed ? R.permute(R.nd(data, shape), [1, 0]) : R.nd(data, shape);
        for (const axis of [0, 1]) {
          for (const reverse of [false, true]) {
            const label = `cumsum ${dtype} axis ${axis} ${reverse ? 'reverse' : 'forward'}${transposed ? ' transposed' : ''}`;
            const got = await sameBits(label, (e) => T.cumsum(view(e), axis, { reverse }));
            let ref = R.cumsum(nd, axis, reverse).data;
            if (dtype === 'i32') ref = ref.map((v) => v | 0);
            expectClose(got.data, ref, {
              atol: dtype === 'f32' ? 1e-4 : 0,
              rtol: dtype === 'f32' ? 1e-5 : 0,
              what: what(label),
            });
          }
        }
      }
    },
  );
});

describe('norms on the CPU engine', () => {
  /** Float64 backward of a row norm: dx, and Σ dy·x̂, Σ dy per column. */
  function rowNormBackward(
    x: Float32Array,
    dy: Float32Array,
    w: Float32Array | null,
    rows: number,
    d: number,
    rms: boolean,
  ) {
    const dx = new Float64Array(rows * d);
    const dw = new Float64Array(d);
    const db = new Float64Array(d);
    for (let r = 0; r < rows; r++) {
      let mean = 0;
      if (!rms) for (let j = 0; j < d; j++) mean += x[r * d + j] / d;
      let v = 0;
      for (let j = 0; j < d; j++) v += (x[r * d + j] - mean) ** 2 / d;
      const rstd = 1 / Math.sqrt(v + 1e-5);
      let sg = 0;
      let sgx = 0;
      for (let j = 0; j < d; j++) {
        const g = dy[r * d + j] * (w ? w[j] : 1);
        const xh = (x[r * d + j] - mean) * rstd;
        sg += g / d;
        sgx += (g * xh) / d;
        dw[j] += dy[r * d + j] * xh;
        db[j] += dy[r * d + j];
      }
      for (let j = 0; j < d; j++) {
        const g = dy[r * d + j] * (w ? w[j] : 1);
        const xh = (x[r * d + j] - mean) * rstd;
        dx[r * d + j] = rstd * (g - (rms ? 0 : sg) - xh * sgx);
      }
    }
    return { dx, dw, db };
  }

  it.each([
    ['layerNorm', 67, 1031],
    ['rmsNorm', 45, 1001],
    ['layerNorm', 1200, 37],
  ] as ['layerNorm' | 'rmsNorm', number, number][])(
    '%s [%i, %i]: forward and gradients',
    async (op, rows, d) => {
      const x = randomArray(rows * d, fresh(), -2, 4);
      const w = randomArray(d, fresh());
      const b = randomArray(d, fresh());
      const dy = randomArray(rows * d, fresh());
      const grads: Record<string, { data: HostArray }> = {};
      const run = (e: CpuEngine, part: 'y' | 'dx' | 'dw' | 'db') => {
        const X = Tensor.fromData(x, [rows, d], 'f32', e);
        const W = Tensor.fromData(w, [d], 'f32', e);
        const B = Tensor.fromData(b, [d], 'f32', e);
        X.requiresGrad = W.requiresGrad = B.requiresGrad = true;
        const y = op === 'layerNorm' ? T.layerNorm(X, W, B, 1e-5) : T.rmsNorm(X, W, 1e-5);
        if (part === 'y') return y;
        y.backward(Tensor.fromData(dy, [rows, d], 'f32', e));
        return { dx: X.grad!, dw: W.grad!, db: B.grad! }[part];
      };
      const y = await sameBits(`${op} forward`, (e) => run(e, 'y'));
      const ref =
        op === 'layerNorm'
          ? RN.layerNorm(R.nd(x, [rows, d]), R.nd(w, [d]), R.nd(b, [d]), 1e-5)
          : RN.rmsNorm(R.nd(x, [rows, d]), R.nd(w, [d]), 1e-5);
      expectClose(y.data, ref.data, { atol: 2e-5, rtol: 1e-4, what: what(`${op} forward`) });
      const parts = op === 'layerNorm' ? (['dx', 'dw', 'db'] as const) : (['dx', 'dw'] as const);
      for (const part of parts) grads[part] = await sameBits(`${op} ${part}`, (e) => run(e, part));
      const g = rowNormBackward(x, dy, w, rows, d, op === 'rmsNorm');
      expectClose(grads.dx.data, g.dx, { atol: 1e-4, rtol: 1e-4, what: what(`${op} dx`) });
      expectClose(grads.dw.data, g.dw, { atol: 1e-3, rtol: 1e-4, what: what(`${op} dw`) });
      if (grads.db) expectClose(grads.db.data, g.db, { atol: 1e-3, rtol: 1e-4, what: what(`${op} db`) });
    },
  );

  it('groupNorm [3, 12, 31, 29] in 4 groups: forward, and the same gradient bits on 1 and 3 threads', async () => {
    const shape = [3, 12, 31, 29];
    const n = shape.reduce((p, q) => p * q, 1);
    const x = randomArray(n, fresh(), -1, 3);
    const w = randomArray(12, fresh());
    const b = randomArray(12, fresh());
    const dy = randomArray(n, fresh());
    const run = (e: CpuEngine, part: 'y' | 'dx' | 'dw' | 'db') => {
      const X = Tensor.fromData(x, shape, 'f32', e);
      const W = Tensor.fromData(w, [12], 'f32', e);
      const B = Tensor.fromData(b, [12], 'f32', e);
      X.requiresGrad = W.requiresGrad = B.requiresGrad = true;
      const y = T.groupNorm(X, 4, W, B, 1e-5);
      if (part === 'y') return y;
      y.backward(Tensor.fromData(dy, shape, 'f32', e));
      return { dx: X.grad!, dw: W.grad!, db: B.grad! }[part];
    };
    const y = await sameBits('groupNorm forward', (e) => run(e, 'y'));
    expectClose(y.data, RN.groupNorm(R.nd(x, shape), 4, R.nd(w, [12]), R.nd(b, [12]), 1e-5).data, {
      atol: 2e-5,
      rtol: 1e-4,
      what: what('groupNorm forward'),
    });
    const db = await sameBits('groupNorm db', (e) => run(e, 'db'));
    const ref = new Float64Array(12);
    dy.forEach((v, i) => (ref[Math.floor(i / (31 * 29)) % 12] += v));
    expectClose(db.data, ref, { atol: 1e-3, rtol: 1e-4, what: what('groupNorm db') });
    await sameBits('groupNorm dx', (e) => run(e, 'dx'));
    await sameBits('groupNorm dw', (e) => run(e, 'dw'));
  });

  it('f16 norms are refused (f16 is storage only on the CPU engine)', () => {
    const x = Tensor.fromData(new Float32Array(8), [2, 4], 'f16', e1);
    expect(() => T.layerNorm(x)).toThrow(/storage only/);
  });
});
