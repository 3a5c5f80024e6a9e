// CPU engine specifics of the GEMM family: results are bit-identical on 1 and 3 threads, and match
// float64 references at awkward shapes (odd sizes, offsets, strides, broadcast batches, f16 weights,
// every conv kind with groups, stride, dilation and asymmetric padding), at sizes that spread over
// threads. Fresh random inputs on every run (the seed is printed on failure).
import { describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { CpuEngine, Tensor } from '../src/index.js';
import { launchConv, type ConvGeometry } from '../src/kernels/conv.js';
import * as RC from './reference/conv.js';
import * as RM from './reference/matmul.js';
import { nd } from './reference/ndarray.js';
import { expectClose, randomArray } from './util.js';
import { cpuEngines } from './cpuEngines.js';

let e1: CpuEngine;
let e3: CpuEngine;
cpuEngines((one, three) => ((e1 = one), (e3 = three)));

const seed0 = (Math.random() * 2 ** 31) >>> 0;
let seedN = seed0;
/** Fresh random data for this run. */
const rand = (n: number) => randomArray(n, seedN++);
const sz = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Runs `f` on both engines and returns the results' values (and checks the bits agree). */
async function onBoth(what: string, f: (e: CpuEngine) => Tensor): Promise<Float32Array> {
  const outs: Float32Array[] = [];
  for (const e of [e1, e3]) {
    const t = T.tidy(() => f(e));
    outs.push((await t.toArray()) as Float32Array);
    t.dispose();
  }
  const [a, b] = outs;
  expect(a.length, what).toBe(b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  const bad = ua.findIndex((v, i) => v !== ub[i]);
  expect(bad, `${what} (seed ${seed0}): 1 vs 3 threads differ at ${bad}: ${a[bad]} vs ${b[bad]}`).toBe(-1);
  return a;
}

/** The f16-rounded values of `data` (what an f16 weight holds). */
async function halfValues(data: Float32Array, shape: number[]): Promise<Float32Array> {
  const t = Tensor.fromData(data, shape, 'f16', e1);
  const v = Float32Array.from(await t.toArray());
  t.dispose();
  return v;
}

describe('CPU GEMM', () => {
  it.each([
    // M, N, K, batchA, batchB, transA, transB
    [157, 203, 301, [], [], false, false],
    [130, 67, 513, [2, 1], [1, 3], true, false],
    [33, 250, 96, [3], [], false, true],
    [1, 517, 260, [2], [2], true, true],
    [301, 9, 77, [], [2], false, true],
    // Fewer rows than the register tile: matrix-vector paths (dot products, row sweeps, ragged columns).
    [3, 37, 129, [], [], false, false],
    [2, 70, 300, [2], [], false, true],
    [1, 1000, 45, [], [], true, false],
  ] as const)(
    'M=%i N=%i K=%i batches %j x %j transA=%s transB=%s: same bits on 1 and 3 threads, matches float64',
    async (M, N, K, ba, bb, tA, tB) => {
      const as = [...ba, ...(tA ? [K, M] : [M, K])];
      const bs = [...bb, ...(tB ? [N, K] : [K, N])];
      const a = rand(sz(as));
      const b = rand(sz(bs));
      const got = await onBoth('matmul', (e) =>
        T.matmul(Tensor.fromData(a, as, 'f32', e), Tensor.fromData(b, bs, 'f32', e), {
          transA: tA,
          transB: tB,
        }),
      );
      const ref = RM.matmul(nd(a, as), nd(b, bs), tA, tB);
      expectClose(got, ref.data, { atol: 2e-4 * Math.sqrt(K), what: `matmul (seed ${seed0})` });
    },
  );

  it('reads offset and strided views (slices, permuted batches) in place', async () => {
    const a = rand(4 * 70 * 131);
    const b = rand(129 * 4 * 45);
    const got = await onBoth('views', (e) => {
      // A: [4, 70, 131] sliced to columns 3..130 (offset 3, row stride 131); B: [129, 4, 45] permuted
      // to [4, 45, 129]ᵀ-like batch-strided operand, sliced to k 1..128.
      const A = T.slice(Tensor.fromData(a, [4, 70, 131], 'f32', e), 2, 3, 131);
      const B = T.slice(T.permute(Tensor.fromData(b, [129, 4, 45], 'f32', e), [1, 0, 2]), 1, 1, 129);
      return T.matmul(A, B);
    });
    const As = new Float64Array(4 * 70 * 128);
    const Bs = new Float64Array(4 * 128 * 45);
    for (let z = 0; z < 4; z++)
      for (let i = 0; i < 70; i++)
        for (let k = 0; k < 128; k++) As[(z * 70 + i) * 128 + k] = a[(z * 70 + i) * 131 + 3 + k];
    for (let z = 0; z < 4; z++)
      for (let k = 0; k < 128; k++)
        for (let j = 0; j < 45; j++) Bs[(z * 128 + k) * 45 + j] = b[((k + 1) * 4 + z) * 45 + j];
    const ref = RM.matmul(nd(As, [4, 70, 128]), nd(Bs, [4, 128, 45]));
    expectClose(got, ref.data, { atol: 3e-3, what: `views (seed ${seed0})` });
  });

  it('linear with bias and an f16 weight (weight-only f16) widens the halves', async () => {
    const x = rand(3 * 37 * 200);
    const w = rand(91 * 200);
    const bias = rand(91);
    const wh = await halfValues(w, [91, 200]);
    const got = await onBoth('linear f16 weight', (e) =>
      T.linear(
        Tensor.fromData(x, [3, 37, 200], 'f32', e),
        Tensor.fromData(w, [91, 200], 'f16', e),
        Tensor.fromData(bias, [91], 'f32', e),
      ),
    );
    const ref = RM.linear(nd(x, [3, 37, 200]), nd(wh, [91, 200]), nd(bias, [91]));
    expectClose(got, ref.data, { atol: 3e-3, what: `linear f16 (seed ${seed0})` });
    // A decode step (one row): dot products against the f16 weight rows.
    const got1 = await onBoth('linear f16 weight, one row', (e) =>
      T.linear(
        Tensor.fromData(x.subarray(0, 200), [1, 200], 'f32', e),
        Tensor.fromData(w, [91, 200], 'f16', e),
        Tensor.fromData(bias, [91], 'f32', e),
      ),
    );
    const ref1 = RM.linear(nd(x.subarray(0, 200), [1, 200]), nd(wh, [91, 200]), nd(bias, [91]));
    expectClose(got1, ref1.data, { atol: 3e-3, what: `linear f16 one row (seed ${seed0})` });
    // And an f16 B that is not transposed (matmul x·W with W [K, N] in f16).
    const w2 = rand(200 * 66);
    const w2h = await halfValues(w2, [200, 66]);
    const got2 = await onBoth('matmul f16 B', (e) =>
      T.matmul(Tensor.fromData(x, [111, 200], 'f32', e), Tensor.fromData(w2, [200, 66], 'f16', e)),
    );
    expectClose(got2, RM.matmul(nd(x, [111, 200]), nd(w2h, [200, 66])).data, { atol: 3e-3, what: 'f16 B' });
  });

  it.each([false, true])(
    'f16 B special values (subnormal, max, inf, NaN) widen exactly, transB=%s',
    async (tB) => {
      // B [8, 8] (or its transpose) of halves; A = identity, then A = ones for inf / NaN.
      const vals = [2 ** -24, -(2 ** -24), 3 * 2 ** -20, 65504, -65504, 2 ** -14, -0.5, 1.5];
      const b = new Float32Array(64);
      for (let i = 0; i < 64; i++) b[i] = vals[(i * 5 + (i >> 3)) % 8] * (i % 3 === 0 ? 1 : -1);
      const eye = new Float32Array(64);
      for (let i = 0; i < 8; i++) eye[i * 9] = 1;
      const got = await onBoth('f16 specials', (e) =>
        T.matmul(Tensor.fromData(eye, [8, 8], 'f32', e), Tensor.fromData(b, [8, 8], 'f16', e), {
          transB: tB,
        }),
      );
      const want = new Float32Array(64);
      for (let i = 0; i < 8; i++)
        for (let j = 0; j < 8; j++) want[i * 8 + j] = tB ? b[j * 8 + i] : b[i * 8 + j];
      expect(Array.from(got)).toEqual(Array.from(want));
      const c = new Float32Array(64).fill(1);
      for (let k = 0; k < 8; k++) {
        c[tB ? 0 * 8 + k : k * 8 + 0] = k === 3 ? Infinity : 1;
        c[tB ? 1 * 8 + k : k * 8 + 1] = k === 5 ? -Infinity : 1;
        c[tB ? 2 * 8 + k : k * 8 + 2] = k === 1 ? NaN : 1;
      }
      const got2 = await onBoth('f16 inf/NaN', (e) =>
        T.matmul(
          Tensor.fromData(new Float32Array(8).fill(1), [1, 8], 'f32', e),
          Tensor.fromData(c, [8, 8], 'f16', e),
          { transB: tB },
        ),
      );
      expect(Array.from(got2)).toEqual([Infinity, -Infinity, NaN, 8, 8, 8, 8, 8]);
    },
  );

  it('an empty inner dim gives zeros', async () => {
    const got = await onBoth('K=0', (e) =>
      T.matmul(
        Tensor.fromData(new Float32Array(0), [5, 0], 'f32', e),
        Tensor.fromData(new Float32Array(0), [0, 7], 'f32', e),
      ),
    );
    expect(Array.from(got)).toEqual(new Array(35).fill(0));
  });
});

describe('CPU convolutions', () => {
  const cases = [
    { x: [3, 6, 23, 19], w: [10, 3, 3, 5], stride: [2, 1], pad: [1, 2, 0, 3], dil: [1, 2], groups: 2 },
    { x: [2, 16, 17, 17], w: [24, 16, 3, 3], stride: [1, 1], pad: [1, 1, 1, 1], dil: [1, 1], groups: 1 },
    { x: [2, 12, 9, 11], w: [20, 12, 1, 1], stride: [1, 1], pad: [0, 0, 0, 0], dil: [1, 1], groups: 1 },
    { x: [1, 8, 30, 30], w: [8, 1, 3, 3], stride: [2, 2], pad: [1, 0, 1, 0], dil: [2, 1], groups: 8 },
  ] as const;

  it.each(cases)(
    'conv2d %j: same bits on 1 and 3 threads, matches float64 (f32 and f16 weight)',
    async (c) => {
      const x = rand(sz(c.x));
      const w = rand(sz(c.w));
      const b = rand(c.w[0]);
      const params = {
        stride: [...c.stride] as [number, number],
        padding: [...c.pad] as [number, number, number, number],
        dilation: [...c.dil] as [number, number],
        groups: c.groups,
      };
      for (const dt of ['f32', 'f16'] as const) {
        const wv = dt === 'f16' ? await halfValues(w, [...c.w]) : w;
        const got = await onBoth(`conv2d ${dt}`, (e) =>
          T.conv2d(
            Tensor.fromData(x, c.x, 'f32', e),
            Tensor.fromData(w, c.w, dt, e),
            Tensor.fromData(b, [c.w[0]], 'f32', e),
            params,
          ),
        );
        const ref = RC.conv2d(nd(x, c.x), nd(wv, c.w), nd(b, [c.w[0]]), params);
        expectClose(got, ref.data, { atol: 1e-3, what: `conv2d ${dt} (seed ${seed0})` });
      }
    },
  );

  it('large batches run in chunks of images (im2col over 16M floats): forward and weight gradient', async () => {
    // 16·9·128·128 floats of im2col per image: chunks of 7 images, so 9 images take two passes
    // (the weight gradient accumulates the second into the first).
    const xs = [9, 16, 128, 128];
    const ws = [8, 16, 3, 3];
    const x = rand(sz(xs));
    const w = rand(sz(ws));
    const dy = rand(9 * 8 * 128 * 128);
    const params = {
      stride: [1, 1] as [number, number],
      padding: [1, 1, 1, 1] as [number, number, number, number],
      dilation: [1, 1] as [number, number],
      groups: 1,
    };
    const got = await onBoth('chunked conv2d', (e) =>
      T.conv2d(Tensor.fromData(x, xs, 'f32', e), Tensor.fromData(w, ws, 'f32', e), null, params),
    );
    const ref = RC.conv2d(nd(x, xs), nd(w, ws), undefined, params);
    expectClose(got, ref.data, { atol: 1e-3, what: `chunked conv2d (seed ${seed0})` });
    const g: ConvGeometry = {
      batch: 9,
      cin: 16,
      h: 128,
      w: 128,
      cout: 8,
      ho: 128,
      wo: 128,
      kh: 3,
      kw: 3,
      sh: 1,
      sw: 1,
      ph: 1,
      pw: 1,
      dh: 1,
      dw: 1,
      groups: 1,
    };
    const gw = await onBoth('chunked wgrad', (e) => {
      const X = Tensor.fromData(x, xs, 'f32', e);
      const DY = Tensor.fromData(dy, [9, 8, 128, 128], 'f32', e);
      const out = Tensor.empty(ws, 'f32', e);
      launchConv(
        e,
        'wgrad',
        'f32',
        g,
        {
          x: { buffer: X.buffer, offset: X.offset },
          w: { buffer: DY.buffer, offset: DY.offset },
          out: out.buffer,
        },
        'wgrad',
      );
      return out;
    });
    // Check a few weights against float64 sums.
    for (const [oc, ic, ky, kx] of [
      [0, 0, 0, 0],
      [7, 15, 2, 2],
      [3, 8, 1, 0],
    ]) {
      let s = 0;
      for (let b = 0; b < 9; b++)
        for (let oy = 0; oy < 128; oy++)
          for (let ox = 0; ox < 128; ox++) {
            const iy = oy - 1 + ky;
            const ix = ox - 1 + kx;
            if (iy < 0 || ix < 0 || iy >= 128 || ix >= 128) continue;
            s += dy[((b * 8 + oc) * 128 + oy) * 128 + ox] * x[((b * 16 + ic) * 128 + iy) * 128 + ix];
          }
      expectClose([gw[((oc * 16 + ic) * 3 + ky) * 3 + kx]], [s], {
        atol: 2e-2,
        what: `chunked wgrad [${oc},${ic},${ky},${kx}]`,
      });
    }
  });

  it.each(cases)('convTranspose2d %j: same bits on 1 and 3 threads, matches float64', async (c) => {
    // The transposed conv maps w[0]·… back: x has the conv's output channels, weight [cin, cout/g, kh, kw].
    const cin = c.w[0];
    const coutG = c.w[1];
    const xs = [c.x[0], cin, 7, 9];
    const ws = [cin, coutG, c.w[2], c.w[3]];
    const x = rand(sz(xs));
    const w = rand(sz(ws));
    const b = rand(coutG * c.groups);
    const params = {
      stride: [...c.stride] as [number, number],
      padding: [...c.pad] as [number, number, number, number],
      dilation: [...c.dil] as [number, number],
      groups: c.groups,
      outputPadding: [c.stride[0] - 1, 0] as [number, number],
    };
    for (const dt of ['f32', 'f16'] as const) {
      const wv = dt === 'f16' ? await halfValues(w, ws) : w;
      const got = await onBoth(`convTranspose2d ${dt}`, (e) =>
        T.convTranspose2d(
          Tensor.fromData(x, xs, 'f32', e),
          Tensor.fromData(w, ws, dt, e),
          Tensor.fromData(b, [b.length], 'f32', e),
          params,
        ),
      );
      const ref = RC.convTranspose2d(nd(x, xs), nd(wv, ws), nd(b, [b.length]), params);
      expectClose(got, ref.data, { atol: 1e-3, what: `convTranspose2d ${dt} (seed ${seed0})` });
    }
  });

  it.each(cases)('weight gradient %j: same bits on 1 and 3 threads, matches float64', async (c) => {
    const [n, cin, h, w] = c.x;
    const [cout, cinG, kh, kw] = c.w;
    const ho = Math.floor((h + c.pad[0] + c.pad[1] - c.dil[0] * (kh - 1) - 1) / c.stride[0]) + 1;
    const wo = Math.floor((w + c.pad[2] + c.pad[3] - c.dil[1] * (kw - 1) - 1) / c.stride[1]) + 1;
    const g: ConvGeometry = {
      batch: n,
      cin,
      h,
      w,
      cout,
      ho,
      wo,
      kh,
      kw,
      sh: c.stride[0],
      sw: c.stride[1],
      ph: c.pad[0],
      pw: c.pad[2],
      dh: c.dil[0],
      dw: c.dil[1],
      groups: c.groups,
    };
    const x = rand(sz(c.x));
    const dy = rand(n * cout * ho * wo);
    const got = await onBoth('wgrad', (e) => {
      const X = Tensor.fromData(x, c.x, 'f32', e);
      const DY = Tensor.fromData(dy, [n, cout, ho, wo], 'f32', e);
      const out = Tensor.empty([cout, cinG, kh, kw], 'f32', e);
      launchConv(
        e,
        'wgrad',
        'f32',
        g,
        {
          x: { buffer: X.buffer, offset: X.offset },
          w: { buffer: DY.buffer, offset: DY.offset },
          out: out.buffer,
        },
        'wgrad',
      );
      return out;
    });
    const ref = new Float64Array(cout * cinG * kh * kw);
    const coutG = cout / c.groups;
    for (let oc = 0; oc < cout; oc++) {
      const gi = Math.floor(oc / coutG);
      for (let ic = 0; ic < cinG; ic++)
        for (let ky = 0; ky < kh; ky++)
          for (let kx = 0; kx < kw; kx++) {
            let s = 0;
            for (let b = 0; b < n; b++)
              for (let oy = 0; oy < ho; oy++)
                for (let ox = 0; ox < wo; ox++) {
                  const iy = oy * c.stride[0] - c.pad[0] + ky * c.dil[0];
                  const ix = ox * c.stride[1] - c.pad[2] + kx * c.dil[1];
                  if (iy < 0 || ix < 0 || iy >= h || ix >= w) continue;
                  s +=
                    dy[((b * cout + oc) * ho + oy) * wo + ox] *
                    x[((b * cin + gi * cinG + ic) * h + iy) * w + ix];
                }
            ref[((oc * cinG + ic) * kh + ky) * kw + kx] = s;
          }
    }
    expectClose(got, ref, { atol: 2e-3, what: `wgrad (seed ${seed0})` });
  });
});
