// CPU engine specifics of the gather, random, optimizer and image kernels (csrc/gather.c,
// csrc/random.c, csrc/optimizer.c, csrc/image.c): the same bits on 1 and 3 threads for calls large
// enough to spread over threads, awkward shapes, strided and offset views read in place, exact
// source-order scatter sums, the Philox streams against the WebGPU engine, and float64 references.
// Inputs are fresh random data on every run (the seed is in the failure messages).
import { describe, expect, it } from 'vitest';
import { CpuEngine } from '../src/cpu/cpuEngine.js';
import { launchGather, launchScatterAdd } from '../src/kernels/gather.js';
import { launchRgbToPlanar } from '../src/kernels/image.js';
import { launchAdamW, launchClipScale, launchGlobalNorm, launchSgd } from '../src/kernels/optimizer.js';
import { launchAvgPool, type PoolGeometry } from '../src/kernels/pool.js';
import { launchResize, type ResizeGeometry, type ResizeMode } from '../src/kernels/resize.js';
import {
  Engine,
  randBeta,
  randBits,
  randNormal,
  randUniform,
  Tensor,
  type Backend,
  type DType,
} from '../src/index.js';
import { avgPool2d as refAvgPool2d } from './reference/conv.js';
import { nd } from './reference/ndarray.js';
import { resize as refResize } from './reference/resize.js';
import { refAdamState, refAdamWStep, refClip, refSgdStep, type RefSgdState } from './optimReference.js';
import { expectClose, randomArray, randomInts } from './util.js';
import { cpuEngines, runSeed } from './cpuEngines.js';

const { fresh, what } = runSeed();

let e1: CpuEngine;
let e3: CpuEngine;
cpuEngines((one, three) => ((e1 = one), (e3 = three)));

/** The raw 32-bit words of a 32-bit tensor (f32 compared bit for bit, NaN payloads included). */
async function words(t: Tensor): Promise<Uint32Array> {
  const a = await t.toArray();
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

/** A view of `shape` with `strides` at `offset` into a store of random garbage holding `values` there. */
function strided(
  eng: Backend,
  store: Float32Array,
  shape: number[],
  strides: number[],
  offset: number,
  dtype: DType = 'f32',
): Tensor {
  const base = Tensor.fromData(store, [store.length], dtype, eng);
  const t = base.view(shape, strides, offset);
  base.dispose();
  return t;
}

const unravel = (i: number, shape: readonly number[]) => {
  const c = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    c[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return c;
};
const dot = (c: readonly number[], st: readonly number[]) => c.reduce((o, v, d) => o + v * st[d], 0);

describe('gather on the CPU engine', () => {
  it.each([
    ['permuted', [1, 37 * 29 + 5, 37]],
    ['row-major (whole rows copied)', [23 * 29, 29, 1]],
  ])(
    'indexSelect-style gathers of %s offset views on every axis: same bits on 1 and 3 threads',
    async (_layout, st) => {
      // x is a [37, 23, 29] view of a padded store at an offset; idx a strided, offset view.
      const shape = [37, 23, 29];
      const off = 11;
      const store = randomArray(off + dot([36, 22, 28], st) + 7, fresh());
      store[off + dot([3, 4, 5], st)] = Infinity;
      for (const axis of [0, 1, 2]) {
        const m = 61;
        // Indices in range, plus -1, the axis size and a large value, which read 0.
        const ids = randomInts(m, fresh(), -1, shape[axis] + 2);
        ids[7] = 0x7fffffff;
        const idStore = new Int32Array(3 + 2 * m).fill(-5);
        for (let k = 0; k < m; k++) idStore[3 + 2 * k] = ids[k];
        const outShape = [...shape];
        outShape[axis] = m;
        const idxStrides = outShape.map((_, d) => (d === axis ? 2 : 0));
        const results: Uint32Array[] = [];
        for (const eng of [e1, e3]) {
          const x = strided(eng, store, shape, st, off);
          const idx = Tensor.fromData(idStore, [idStore.length], 'i32', eng).view([m], [2], 3);
          const out = launchGather(x, axis, idx, outShape, idxStrides, 'test gather');
          results.push(await words(out));
          for (const t of [x, idx, out]) t.dispose();
        }
        expect(results[1], what(`axis ${axis}: 1 vs 3 threads`)).toEqual(results[0]);
        const want = new Float32Array(results[0].length);
        for (let i = 0; i < want.length; i++) {
          const c = unravel(i, outShape);
          const id = ids[c[axis]];
          if (id < 0 || id >= shape[axis]) continue;
          c[axis] = id;
          want[i] = store[off + dot(c, st)];
        }
        expect(new Float32Array(results[0].buffer), what(`axis ${axis}`)).toEqual(want);
      }
    },
  );

  it('torch-style gather with u32 indices of an idx smaller than x, and f16 storage copied as half bits', async () => {
    const xs = [5, 40, 211];
    const is = [4, 40, 200];
    for (const dtype of ['f32', 'f16'] as const) {
      // Halves: small multiples of 1/8 are exact, as are the infinities and NaN.
      const data = Float32Array.from(randomInts(xs[0] * xs[1] * xs[2], fresh(), -800, 800), (v) => v / 8);
      data[17] = -Infinity;
      data[1000] = NaN;
      const ids = Uint32Array.from(randomInts(is[0] * is[1] * is[2], fresh(), 0, xs[1] + 1));
      ids[5] = 0xffffffff;
      const results: Float32Array[] = [];
      for (const eng of [e1, e3]) {
        const x = Tensor.fromData(data, xs, dtype, eng);
        const idx = Tensor.fromData(ids, is, 'u32', eng);
        const out = launchGather(x, 1, idx, is, idx.strides, 'test gather');
        expect(out.dtype).toBe(dtype);
        results.push((await out.toArray()) as Float32Array);
        for (const t of [x, idx, out]) t.dispose();
      }
      expect(results[1], what(`${dtype}: 1 vs 3 threads`)).toEqual(results[0]);
      const want = new Float32Array(results[0].length);
      for (let i = 0; i < want.length; i++) {
        const [a, , c] = unravel(i, is);
        const id = ids[i];
        want[i] = id < xs[1] ? data[(a * xs[1] + id) * xs[2] + c] : 0;
      }
      expect(results[0], what(dtype)).toEqual(want);
    }
  });
});

describe('scatterAdd on the CPU engine', () => {
  it('index form into [V, D]: each destination is the f32 sum in source order, on 1 and 3 threads', async () => {
    const [V, T, D] = [7, 120, 301];
    const base = randomArray(V * D, fresh());
    const src = randomArray(T * D, fresh(), -100, 100);
    const ids = randomInts(T, fresh(), -1, V + 1);
    // The same sums in the same order, rounded to f32 after every addition.
    const want = Float32Array.from(base);
    for (let t = 0; t < T; t++) {
      if (ids[t] < 0 || ids[t] >= V) continue;
      for (let d = 0; d < D; d++) want[ids[t] * D + d] = Math.fround(want[ids[t] * D + d] + src[t * D + d]);
    }
    for (const eng of [e1, e3]) {
      const out = Tensor.fromData(base, [V, D], 'f32', eng);
      const s = Tensor.fromData(src, [T, D], 'f32', eng);
      const idx = Tensor.fromData(ids, [T], 'i32', eng);
      launchScatterAdd(out, 0, idx, [1, 0], s, 'test scatterAdd');
      expect(await out.toArray(), what(`${eng.threads} threads`)).toEqual(want);
      for (const t of [out, s, idx]) t.dispose();
    }
  });

  it('scatter form along the last axis from a transposed src view, and 32-bit integer wrap-around', async () => {
    // out [61, 17], src [61, 600] read through transposed strides, idx [61, 600] along axis 1.
    const [R, C, S] = [61, 17, 600];
    const base = randomArray(R * C, fresh());
    const stored = randomArray(R * S, fresh());
    const ids = randomInts(R * S, fresh(), 0, C);
    const want = Float32Array.from(base);
    for (let r = 0; r < R; r++)
      for (let s = 0; s < S; s++)
        want[r * C + ids[r * S + s]] = Math.fround(want[r * C + ids[r * S + s]] + stored[s * R + r]);
    for (const eng of [e1, e3]) {
      const out = Tensor.fromData(base, [R, C], 'f32', eng);
      const src = Tensor.fromData(stored, [S, R], 'f32', eng).view([R, S], [1, R], 0);
      const idx = Tensor.fromData(ids, [R, S], 'i32', eng);
      launchScatterAdd(out, 1, idx, idx.strides, src, 'test scatterAdd');
      expect(await out.toArray(), what(`${eng.threads} threads`)).toEqual(want);
      for (const t of [out, src, idx]) t.dispose();
    }
    for (const dtype of ['i32', 'u32'] as const) {
      const big = dtype === 'i32' ? 2 ** 31 - 1 : 2 ** 32 - 1;
      const out = Tensor.fromData(
        dtype === 'i32' ? new Int32Array([big, 5]) : new Uint32Array([big, 5]),
        [2],
        dtype,
        e3,
      );
      const src = Tensor.fromData(
        dtype === 'i32' ? new Int32Array([1, 2, -7]) : new Uint32Array([1, 2, 3]),
        [3],
        dtype,
        e3,
      );
      const idx = Tensor.fromData(new Int32Array([0, 0, 1]), [3], 'i32', e3);
      launchScatterAdd(out, 0, idx, [1], src, 'test scatterAdd');
      const wrapped = dtype === 'i32' ? [-(2 ** 31) + 2, -2] : [2, 8];
      expect(Array.from(await out.toArray()), dtype).toEqual(wrapped);
      for (const t of [out, src, idx]) t.dispose();
    }
  });
});

describe('random on the CPU engine', () => {
  const n = 40_003;

  it('every distribution gives the same bits on 1 and 3 threads, and prefixes do not depend on the size', async () => {
    const s = fresh();
    const draws = (eng: Backend, size: number) => [
      randBits([size], { seed: s, engine: eng }),
      randUniform([size], { seed: s, low: -2, high: 3, engine: eng }),
      randNormal([size], { seed: s, mean: 1, std: 2, engine: eng }),
      randBeta([Math.ceil(size / 8)], 0.7, 2.5, { seed: s, engine: eng }),
    ];
    const a = await Promise.all(draws(e1, n).map(words));
    const b = await Promise.all(draws(e3, n).map(words));
    const c = await Promise.all(draws(e3, 37).map(words));
    for (let k = 0; k < a.length; k++) {
      expect(b[k], what(`distribution ${k}`)).toEqual(a[k]);
      expect(c[k], what(`prefix of distribution ${k}`)).toEqual(a[k].slice(0, c[k].length));
    }
  });

  it('the same streams as the WebGPU engine: bits and uniforms exactly, normals and betas to rounding', async () => {
    const gpu = await Engine.create();
    try {
      const s = fresh() * 4096 + 3; // above 2^32: both key words in use
      const m = 4099;
      const pairs = async (f: (eng: Backend) => Tensor) => [await f(e3).toArray(), await f(gpu).toArray()];
      const [bc, bg] = await pairs((eng) => randBits([m], { seed: s, engine: eng }));
      expect(bc, what('bits')).toEqual(bg);
      const [uc, ug] = await pairs((eng) => randUniform([m], { seed: s, low: -3, high: 5, engine: eng }));
      expect(uc, what('uniform')).toEqual(ug);
      const [nc, ng] = await pairs((eng) => randNormal([m], { seed: s, mean: 0.5, std: 2, engine: eng }));
      // Box–Muller in float64 from the same Philox words: the CPU normals are accurate to f32 rounding.
      const words4 = await randBits([m + 1], { seed: s, engine: e1 }).toArray(); // whole blocks of 4
      const want = new Float64Array(m);
      for (let t = 0; t * 4 < m; t++) {
        const u = (k: number) => (words4[4 * t + k] >>> 8) * 2 ** -24;
        const r = [Math.sqrt(-2 * Math.log(u(0) + 2 ** -24)), Math.sqrt(-2 * Math.log(u(2) + 2 ** -24))];
        const a = [
          Math.fround(Math.fround(2 * Math.PI) * u(1)),
          Math.fround(Math.fround(2 * Math.PI) * u(3)),
        ];
        const v = [
          r[0] * Math.cos(a[0]),
          r[0] * Math.sin(a[0]),
          r[1] * Math.cos(a[1]),
          r[1] * Math.sin(a[1]),
        ];
        for (let j = 0; j < 4 && 4 * t + j < m; j++) want[4 * t + j] = v[j] * 2 + 0.5;
      }
      expectClose(nc, want, { atol: 2e-5, rtol: 1e-5, what: what('normal against float64') });
      // WGSL only bounds cos/sin to an absolute 2^-11 on [-π, π] (SwiftShader comes close to that).
      expectClose(nc, ng, { atol: 4e-3, rtol: 1e-3, what: what('normal against WebGPU') });
      const [tc, tg] = await pairs((eng) => randBeta([m], 0.5, 2, { seed: s, engine: eng }));
      // The Gamma rejection test flips where the GPU's coarse cos moves a proposal across the edge (a
      // different draw then); every other draw agrees to rounding. Another stream would differ everywhere.
      let far = 0;
      for (let i = 0; i < m; i++) if (Math.abs(tc[i] - tg[i]) > 1e-3 * (1 + Math.abs(tg[i]))) far++;
      expect(far, what('beta draws that differ')).toBeLessThanOrEqual(m / 100);
    } finally {
      gpu.destroy();
    }
  });
});

describe('optimizers on the CPU engine', () => {
  const n = 50_001;

  it('AdamW with fused clipping and SGD (momentum, nesterov): same bits on 1 and 3 threads, float64 reference', async () => {
    const p0 = randomArray(n, fresh());
    const grads = [0, 1, 2].map(() => randomArray(n, fresh(), -3, 3));
    const hp = { lr: 0.01, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };
    const sgd = { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01, nesterov: true };
    const results: Uint32Array[][] = [];
    for (const eng of [e1, e3]) {
      const param = Tensor.fromData(p0, [n], 'f32', eng);
      const m = Tensor.empty([n], 'f32', eng);
      const v = Tensor.empty([n], 'f32', eng);
      const sp = Tensor.fromData(p0, [n], 'f32', eng);
      const buf = Tensor.empty([n], 'f32', eng);
      for (let step = 1; step <= 3; step++) {
        // The gradient is an offset view, read in place.
        const g = strided(eng, Float32Array.from([9, 9, 9, ...grads[step - 1]]), [n], [1], 3);
        const norm = launchGlobalNorm([g], eng);
        launchAdamW(param, g, m, v, { ...hp, step }, { norm, maxNorm: 100 });
        launchSgd(sp, g, buf, { ...sgd, first: step === 1 });
        for (const t of [g, norm]) t.dispose();
      }
      results.push(await Promise.all([param, m, v, sp, buf].map(words)));
      for (const t of [param, m, v, sp, buf]) t.dispose();
    }
    for (let k = 0; k < results[0].length; k++)
      expect(results[1][k], what(`state ${k}: 1 vs 3 threads`)).toEqual(results[0][k]);
    const ref = refAdamState(p0);
    const sref: RefSgdState = { p: Float64Array.from(p0), buf: null };
    for (const g of grads) {
      refAdamWStep(ref, g, { ...hp, gradScale: refClip([g], 100).coef });
      refSgdStep(sref, g, sgd);
    }
    const f = (w: Uint32Array) => new Float32Array(w.buffer);
    expectClose(f(results[0][0]), ref.p, { atol: 2e-6, rtol: 2e-5, what: what('AdamW param') });
    expectClose(f(results[0][1]), ref.m, { atol: 1e-6, rtol: 1e-5, what: what('AdamW exp_avg') });
    expectClose(f(results[0][2]), ref.v, { atol: 1e-6, rtol: 1e-5, what: what('AdamW exp_avg_sq') });
    expectClose(f(results[0][3]), sref.p, { atol: 1e-5, rtol: 1e-5, what: what('SGD param') });
    expectClose(f(results[0][4]), sref.buf!, { atol: 1e-5, rtol: 1e-5, what: what('SGD momentum') });
  });

  it('the global norm is the same bits on 1 and 3 threads; clipScale scales by min(1, max / (norm + 1e-6))', async () => {
    const sizes = [70_001, 7, 0, 12_289, 4096];
    const data = sizes.map((s) => randomArray(s, fresh(), -2, 2));
    const { norm, coef } = refClip(data, 3);
    const got: number[] = [];
    for (const eng of [e1, e3]) {
      const ts = data.map((d, i) => Tensor.fromData(d, [sizes[i]], 'f32', eng));
      const nt = launchGlobalNorm(ts, eng);
      got.push((await words(nt))[0]);
      const clipped = launchClipScale(ts[0], nt, 3);
      expectClose(
        await clipped.toArray(),
        Float64Array.from(data[0], (x) => x * coef),
        { atol: 1e-6, rtol: 1e-5, what: what('clipScale') },
      );
      for (const t of [...ts, nt, clipped]) t.dispose();
    }
    expect(got[1], what('norm bits, 1 vs 3 threads')).toBe(got[0]);
    expect(new Float32Array(Uint32Array.of(got[0]).buffer)[0]).toBeCloseTo(norm, 2);
    expect(Math.abs(new Float32Array(Uint32Array.of(got[0]).buffer)[0] / norm - 1)).toBeLessThan(1e-5);
  });

  it('refuses f16 parameters (storage only on this engine)', () => {
    const p = Tensor.fromData([1, 2], [2], 'f16', e1);
    const g = Tensor.fromData([1, 2], [2], 'f16', e1);
    const m = Tensor.empty([2], 'f32', e1);
    const v = Tensor.empty([2], 'f32', e1);
    expect(() =>
      launchAdamW(p, g, m, v, { lr: 1, beta1: 0.9, beta2: 0.9, eps: 1e-8, weightDecay: 0, step: 1 }),
    ).toThrow(/f16 arithmetic needs the shader-f16 feature/);
    for (const t of [p, g, m, v]) t.dispose();
  });
});

describe('pooling, resizing and frames on the CPU engine', () => {
  /** Runs a pool/resize launch from an offset input block on both engines; returns the outputs. */
  async function both(
    input: Float32Array,
    offset: number,
    outSize: number,
    launch: (eng: CpuEngine, x: Tensor, out: Tensor) => void,
  ): Promise<Float32Array> {
    const results: Float32Array[] = [];
    for (const eng of [e1, e3]) {
      const store = new Float32Array(offset + input.length).fill(1e6);
      store.set(input, offset);
      const x = Tensor.fromData(store, [store.length], 'f32', eng);
      const out = Tensor.empty([outSize], 'f32', eng);
      launch(eng, x, out);
      results.push((await out.toArray()) as Float32Array);
      x.dispose();
      out.dispose();
    }
    expect(new Uint32Array(results[1].buffer), what('1 vs 3 threads')).toEqual(
      new Uint32Array(results[0].buffer),
    );
    return results[0];
  }

  it('avgPool2d forward and backward (overlapping windows, padding, odd sizes) against the reference', async () => {
    const g: PoolGeometry = {
      planes: 6,
      h: 67,
      w: 53,
      ho: 0,
      wo: 0,
      kh: 3,
      kw: 4,
      sh: 2,
      sw: 3,
      ph: 1,
      pw: 2,
    };
    g.ho = Math.floor((g.h + 2 * g.ph - g.kh) / g.sh) + 1;
    g.wo = Math.floor((g.w + 2 * g.pw - g.kw) / g.sw) + 1;
    const x = randomArray(g.planes * g.h * g.w, fresh());
    const y = await both(x, 5, g.planes * g.ho * g.wo, (eng, xt, out) =>
      launchAvgPool(eng, 'f32', false, g, { buffer: xt.buffer, offset: 5 }, out.buffer, 'test pool'),
    );
    const want = refAvgPool2d(nd(x, [g.planes, g.h, g.w]), [g.kh, g.kw], [g.sh, g.sw], [g.ph, g.pw]);
    expectClose(y, want.data, { atol: 1e-6, what: what('avgPool2d') });
    // Backward: the adjoint of the forward, dx[i] = Σ over windows o containing i of dy[o] / (kh·kw).
    const dy = randomArray(g.planes * g.ho * g.wo, fresh());
    const dx = await both(dy, 3, g.planes * g.h * g.w, (eng, t, out) =>
      launchAvgPool(eng, 'f32', true, g, { buffer: t.buffer, offset: 3 }, out.buffer, 'test pool backward'),
    );
    const wantDx = new Float64Array(g.planes * g.h * g.w);
    for (let p = 0; p < g.planes; p++)
      for (let oh = 0; oh < g.ho; oh++)
        for (let ow = 0; ow < g.wo; ow++)
          for (let i = 0; i < g.kh; i++)
            for (let j = 0; j < g.kw; j++) {
              const yy = oh * g.sh - g.ph + i;
              const xx = ow * g.sw - g.pw + j;
              if (yy >= 0 && xx >= 0 && yy < g.h && xx < g.w)
                wantDx[(p * g.h + yy) * g.w + xx] += dy[(p * g.ho + oh) * g.wo + ow] / (g.kh * g.kw);
            }
    expectClose(dx, wantDx, { atol: 1e-6, what: what('avgPool2d backward') });
  });

  it.each([
    ['nearest', 33, 47, 70, 29],
    ['bilinear', 31, 19, 64, 45],
    ['bilinear-align', 40, 57, 23, 71],
  ] as [ResizeMode, number, number, number, number][])(
    'resize %s %ix%i → %ix%i forward against the reference, backward as its adjoint',
    async (mode, inH, inW, outH, outW) => {
      const g: ResizeGeometry = { planes: 5, inH, inW, outH, outW };
      const x = randomArray(g.planes * inH * inW, fresh());
      const y = await both(x, 7, g.planes * outH * outW, (eng, t, out) =>
        launchResize(eng, mode, 'f32', false, g, { buffer: t.buffer, offset: 7 }, out.buffer, 'test resize'),
      );
      const want = refResize(
        nd(x, [g.planes, inH, inW]),
        [outH, outW],
        mode === 'nearest' ? 'nearest' : 'bilinear',
        mode === 'bilinear-align',
      );
      // Source coordinates are f32, as in PyTorch (the reference keeps them in float64): ulp 4e-6 at 40.
      expectClose(y, want.data, {
        atol: mode === 'nearest' ? 0 : 2e-5,
        rtol: 0,
        what: what(`resize ${mode}`),
      });
      // <resize(x), dy> = <x, resize_backward(dy)>.
      const dy = randomArray(g.planes * outH * outW, fresh());
      const dx = await both(dy, 1, g.planes * inH * inW, (eng, t, out) =>
        launchResize(
          eng,
          mode,
          'f32',
          true,
          g,
          { buffer: t.buffer, offset: 1 },
          out.buffer,
          'test resize backward',
        ),
      );
      let lhs = 0;
      let rhs = 0;
      for (let i = 0; i < y.length; i++) lhs += want.data[i] * dy[i];
      for (let i = 0; i < x.length; i++) rhs += x[i] * dx[i];
      expect(Math.abs(lhs - rhs), what(`adjoint ${mode}: ${lhs} vs ${rhs}`)).toBeLessThan(
        1e-3 * (1 + Math.abs(lhs)),
      );
    },
  );

  it.each([1, 3])('rgbToPlanar of frames at an odd byte offset, box %i', async (box) => {
    const [n, h, w] = [2, 71, 97];
    const bytes = Uint8Array.from(randomInts(5 + n * h * w * 3, fresh(), 0, 256));
    const oh = Math.floor(h / box);
    const ow = Math.floor(w / box);
    const results: Float32Array[] = [];
    for (const eng of [e1, e3]) {
      const x = Tensor.fromData(bytes, [bytes.length], 'u8', eng).view(
        [n, h, w, 3],
        [h * w * 3, w * 3, 3, 1],
        5,
      );
      const out = launchRgbToPlanar(x, { n, h, w, box }, 'test rgbToPlanar');
      results.push((await out.toArray()) as Float32Array);
      x.dispose();
      out.dispose();
    }
    expect(results[1], what('1 vs 3 threads')).toEqual(results[0]);
    const want = new Float64Array(n * 3 * oh * ow);
    for (let b = 0; b < n; b++)
      for (let c = 0; c < 3; c++)
        for (let y = 0; y < oh; y++)
          for (let xx = 0; xx < ow; xx++) {
            let s = 0;
            for (let dy = 0; dy < box; dy++)
              for (let dx = 0; dx < box; dx++)
                s += bytes[5 + ((b * h + y * box + dy) * w + xx * box + dx) * 3 + c];
            want[((b * 3 + c) * oh + y) * ow + xx] = s / (box * box);
          }
    expectClose(results[0], want, { atol: 1e-4, what: what('rgbToPlanar') });
  });
});
