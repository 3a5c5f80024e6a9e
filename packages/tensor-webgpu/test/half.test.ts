// f16 on every device. With shader-f16 these paths run native f16 kernels; without it (SwiftShader,
// CI) f16 is storage only — packed two per word — and the same assertions hold. The reference is
// the host's round-to-nearest-even conversion (toHalfBits) and float64 products.
import { describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { Embedding, Linear, Module, RMSNorm } from '../src/index.js';
import * as R from './reference/matmul.js';
import { nd } from './reference/ndarray.js';
import { eng } from './setup.js';
import { expectClose, expectTensorClose, gradCheck, layoutInput, randomArray, randomInts } from './util.js';

const half = (v: number) => T.fromHalfBits(T.toHalfBits(v));
const halves = (a: ArrayLike<number>) => Float64Array.from(a, half);

describe('f16 storage on every device', () => {
  it('uploads and reads back odd sizes bit-exactly', async () => {
    for (const n of [1, 2, 7, 33]) {
      const x = randomArray(n, n, -50, 50);
      const t = T.tensor(x, [n], 'f16');
      expect(Array.from(await t.toArray())).toEqual(Array.from(halves(x)));
      t.dispose();
    }
  });

  it('casts f32 → f16 with round-to-nearest-even, overflow to ±Inf, NaN kept', async () => {
    const special = [65504, 65519, 65520, -70000, Infinity, -Infinity, NaN, 6e-8, 3e-8, -1e-5, 0.1, 1 / 3];
    const x = Float32Array.from([...randomArray(37, 5, -1000, 1000), ...special]);
    const h = T.cast(T.tensor(x), 'f16');
    expect(h.dtype).toBe('f16');
    expectClose(await h.toArray(), halves(x), { atol: 0, rtol: 0, what: 'cast f32→f16' });
    expectClose(await T.cast(h, 'f32').toArray(), halves(x), { atol: 0, rtol: 0, what: 'cast f16→f32' });
  });

  it.each(['permuted', 'sliced', 'expanded'] as const)('casts and copies %s f16 views (odd offsets included)', async (layout) => {
    const x = randomArray(3 * 5, 9, -4, 4);
    const { t, data } = layoutInput(halves(x), [3, 5], layout, 'f16');
    const f = T.cast(t, 'f32');
    expectClose(await f.toArray(), data, { atol: 0, rtol: 0, what: `cast ${layout}` });
    const c = T.contiguous(t);
    expect(c.dtype).toBe('f16');
    expectClose(await c.toArray(), data, { atol: 0, rtol: 0, what: `contiguous ${layout}` });
    // An f16 slice starting in the middle of a 32-bit word.
    const odd = T.slice(T.reshape(c, [c.size]), 0, 1, c.size);
    expectClose(await T.cast(odd, 'f32').toArray(), data.slice(1), { atol: 0, rtol: 0, what: `odd slice ${layout}` });
  });

  it('fills f16 tensors, ±Inf included', async () => {
    expect(Array.from(await T.full([5], 1 / 3, 'f16').toArray())).toEqual(new Array(5).fill(half(1 / 3)));
    expect(Array.from(await T.full([3], -Infinity, 'f16').toArray())).toEqual([-Infinity, -Infinity, -Infinity]);
    expect(Array.from(await T.zeros([1], 'f16').toArray())).toEqual([0]);
  });

  it('gathers rows of an f16 table (rows starting mid-word, out-of-range ids read 0)', async () => {
    const [V, D] = [11, 5];
    const table = halves(randomArray(V * D, 3, -2, 2));
    const W = T.tensor(table, [V, D], 'f16');
    const ids = Int32Array.from([...randomInts(9, 4, 0, V), V + 3, -1]);
    const rows = T.embedding(W, T.tensor(ids, [11], 'i32'));
    expect(rows.dtype).toBe('f16');
    const expected = Array.from(ids).flatMap((id) => (id >= 0 && id < V ? Array.from(table.slice(id * D, id * D + D)) : new Array(D).fill(0)));
    expectClose(await rows.toArray(), expected, { atol: 0, rtol: 0, what: 'embedding f16' });
  });
});

describe('weight-only f16 (f32 activations × f16 weights)', () => {
  // [M, K, N]: scalar loads (K, N odd) and vec4 loads (K % 4 == 0); bias on and off.
  it.each([
    [7, 37, 13, true],
    [9, 40, 12, false],
    [70, 64, 67, true],
  ])('linear M=%i K=%i N=%i bias=%s matches float64 with rounded weights', async (M, K, N, bias) => {
    const x = randomArray(M * K, M + K);
    const w = halves(randomArray(N * K, N + K));
    const b = randomArray(N, N);
    const y = T.linear(T.tensor(x, [M, K]), T.tensor(w, [N, K], 'f16'), bias ? T.tensor(b) : null);
    expect(y.dtype).toBe('f32');
    await expectTensorClose(y, R.linear(nd(x, [M, K]), nd(w, [N, K]), bias ? nd(b, [N]) : undefined), {
      atol: 1e-5,
      rtol: 1e-4,
      what: 'linear f32×f16',
    });
  });

  it('matmul broadcasts batches and reads transposed f16 operands', async () => {
    const [M, K, N] = [5, 9, 6];
    const a = randomArray(2 * M * K, 1);
    const b = halves(randomArray(N * K, 2));
    const C = T.matmul(T.tensor(a, [2, M, K]), T.tensor(b, [N, K], 'f16'), { transB: true });
    expect(C.dtype).toBe('f32');
    await expectTensorClose(C, R.matmul(nd(a, [2, M, K]), nd(b, [N, K]), false, true), { atol: 1e-5, rtol: 1e-4, what: 'matmul f32×f16ᵀ' });
  });

  it('differentiates through an f16 weight (input gradient in f32, weight gradient stored as f16)', async () => {
    const w = halves(randomArray(4 * 6, 8));
    await gradCheck((x) => T.linear(x, T.tensor(w, [4, 6], 'f16')), [{ data: randomArray(3 * 6, 7), shape: [3, 6] }], { what: 'dx' });
    const W = T.tensor(w, [4, 6], 'f16');
    W.requiresGrad = true;
    const x = randomArray(3 * 6, 7);
    const loss = T.sum(T.linear(T.tensor(x, [3, 6]), W));
    loss.backward();
    expect(W.grad!.dtype).toBe('f16');
    // d sum(x Wᵀ) / dW[o, i] = Σ_rows x[r, i].
    const colSums = Array.from({ length: 6 }, (_, i) => x[i] + x[6 + i] + x[12 + i]);
    expectClose(await W.grad!.toArray(), halves(Array.from({ length: 24 }, (_, k) => colSums[k % 6])), { atol: 0, rtol: 0, what: 'dW' });
  });

  // [N, Cin, H, W, Cout, k, stride, pad]: Cin·k² = 27 (scalar weight loads) and 32 (vec4 loads).
  it.each([
    [2, 3, 7, 6, 5, 3, 1, 1],
    [1, 8, 6, 5, 4, 2, 2, 0],
  ])('conv2d and convTranspose2d with an f16 kernel equal f32 with the rounded kernel (N=%i Cin=%i %ix%i Cout=%i k=%i)', async (N, Cin, H, W, Cout, k, stride, padding) => {
    const x = T.tensor(randomArray(N * Cin * H * W, 3), [N, Cin, H, W]);
    const w = halves(randomArray(Cout * Cin * k * k, 4));
    const b = T.tensor(randomArray(Cout, 5));
    const [wh, wf] = [T.tensor(w, [Cout, Cin, k, k], 'f16'), T.tensor(w, [Cout, Cin, k, k])];
    const y = T.conv2d(x, wh, b, { stride, padding });
    expect(y.dtype).toBe('f32');
    expectClose(await y.toArray(), await T.conv2d(x, wf, b, { stride, padding }).toArray(), { atol: 1e-6, rtol: 1e-6, what: 'conv2d' });
    // The same kernel as a transposed convolution: weight [Cout, Cin, k, k] maps Cout channels to Cin.
    const z = T.tensor(randomArray(N * Cout * 4 * 3, 6), [N, Cout, 4, 3]);
    expectClose(
      await T.convTranspose2d(z, wh, null, { stride }).toArray(),
      await T.convTranspose2d(z, wf, null, { stride }).toArray(),
      { atol: 1e-6, rtol: 1e-6, what: 'convTranspose2d' },
    );
    await gradCheck((xi) => T.conv2d(xi, wh, null, { stride, padding }), [{ data: randomArray(N * Cin * H * W, 7), shape: [N, Cin, H, W] }], { what: 'conv dx' });
    const trainable = T.tensor(w, [Cout, Cin, k, k], 'f16');
    trainable.requiresGrad = true;
    T.sum(T.conv2d(x, trainable, null, { stride, padding })).backward();
    expect(trainable.grad!.dtype).toBe('f16');
  });

  it('refuses an f32 weight with an f16 input and a bias of another dtype', () => {
    const x = T.cast(T.tensor(randomArray(6, 1), [2, 3]), 'f16');
    expect(() => T.linear(x, T.tensor(randomArray(6, 2), [2, 3]))).toThrow(/linear: dtypes differ/);
    expect(() => T.linear(T.tensor(randomArray(6, 1), [2, 3]), T.tensor(randomArray(6, 2), [2, 3], 'f16'), T.tensor([1, 2], [2], 'f16'))).toThrow(
      /bias.*must have the input's dtype f32/,
    );
  });

  it.skipIf(eng.hasF16)('without shader-f16, f16 arithmetic fails with an error naming the op', () => {
    const a = T.tensor(randomArray(4, 1), [4], 'f16');
    expect(() => T.add(a, a)).toThrow(/add \[4\]: f16 arithmetic needs the shader-f16 feature.*Cast to f32 first/);
    expect(() => T.sum(a)).toThrow(/f16 arithmetic needs the shader-f16 feature/);
  });
});

/** Embedding → RMSNorm → Linear, as in a language model. */
class TinyLm extends Module {
  readonly embed = this.module('embed', new Embedding(13, 8, { seed: 1 }));
  readonly norm = this.module('norm', new RMSNorm(8));
  readonly head = this.module('head', new Linear(8, 5, { seed: 2 }));
  forward(ids: T.Tensor): T.Tensor {
    return this.head.forward(this.norm.forward(this.embed.forward(ids)));
  }
}

describe('Module.toDtype(f16, { matricesOnly })', () => {
  it('converts only weight matrices and computes like the f32 model with rounded weights', async () => {
    const ids = T.tensor(randomInts(7, 3, 0, 13), [7], 'i32');
    const f16 = new TinyLm();
    const ref = new TinyLm();
    // The reference: same weights, rounded to half, kept in f32.
    for (const name of ['embed.weight', 'head.weight']) {
      const t = ref.stateDict()[name];
      await ref.loadStateDict({ ...ref.stateDict(), [name]: T.tensor(halves(await t.toArray()), t.shape) });
    }
    f16.toDtype('f16', { matricesOnly: true });
    const dtypes = Object.fromEntries(Object.entries(f16.stateDict()).map(([k, t]) => [k, t.dtype]));
    expect(dtypes).toEqual({ 'embed.weight': 'f16', 'norm.weight': 'f32', 'head.weight': 'f16', 'head.bias': 'f32' });
    expect(f16.embed.outputDtype).toBe('f32');
    const y = f16.forward(ids);
    expect(y.dtype).toBe('f32');
    expectClose(await y.toArray(), await ref.forward(ids).toArray(), { atol: 1e-5, rtol: 1e-5, what: 'f16-weight model' });
    // Back to f32: the table feeds its own dtype again.
    f16.toDtype('f32');
    expect(f16.embed.outputDtype).toBeNull();
    expect(f16.head.weight.dtype).toBe('f32');
    f16.dispose();
    ref.dispose();
  });

  it('withMatrixDtype builds the same model with f16 matrices from the start', async () => {
    const ids = T.tensor(randomInts(6, 9, 0, 13), [6], 'i32');
    const built = T.withMatrixDtype('f16', () => new TinyLm());
    const converted = new TinyLm().toDtype('f16', { matricesOnly: true });
    expect(built.embed.outputDtype).toBe('f32');
    expect(built.head.weight.dtype).toBe('f16');
    expect(built.head.bias!.dtype).toBe('f32');
    expect(Array.from(await built.forward(ids).toArray())).toEqual(Array.from(await converted.forward(ids).toArray()));
    expect(T.withMatrixDtype('f16', () => T.meta(() => new TinyLm())).namedSpecs()[0][1].dtype).toBe('f16');
    built.dispose();
    converted.dispose();
  });

  it('uploads half bits unconverted', async () => {
    const bits = Uint16Array.of(0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000);
    expect(Array.from(await T.Tensor.fromHalfBits(bits, [5]).toArray())).toEqual(Array.from(bits, T.fromHalfBits));
    expect(() => T.Tensor.fromHalfBits(bits, [4])).toThrow(/5 values do not fill shape \[4\]/);
  });

  it('records matrix specs inside meta()', () => {
    const m = T.meta(() => new TinyLm().toDtype('f16', { matricesOnly: true }));
    expect(m.namedSpecs().map(([n, s]) => `${n}:${s.dtype}`)).toEqual(['embed.weight:f16', 'norm.weight:f32', 'head.weight:f16', 'head.bias:f32']);
  });
});
