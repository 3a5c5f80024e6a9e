// Two-source attention (a KV cache read in place): keys/values = cached prefix `past` followed by
// the present k/v, one logical sequence. Checked against the float64 reference on the host-side
// concatenation, against the one-source op on a GPU concatenation, with the cache as a strided view
// of a larger preallocated store, and by the bytes the pool hands out (no copy of the prefix).
import { describe, expect, it } from 'vitest';
import { eng } from './setup.js';
import * as T from '../src/index.js';
import * as R from './reference/attention.js';
import { nd } from './reference/ndarray.js';
import { expectTensorClose, gradCheck, prng, randomArray } from './util.js';

/** Joins [B, H, Sa, D] and [B, H, Sb, D] host arrays along S. */
function hostConcat(a: Float32Array, b: Float32Array, B: number, H: number, Sa: number, Sb: number, D: number) {
  const out = new Float32Array(B * H * (Sa + Sb) * D);
  for (let bh = 0; bh < B * H; bh++) {
    out.set(a.subarray(bh * Sa * D, (bh + 1) * Sa * D), bh * (Sa + Sb) * D);
    out.set(b.subarray(bh * Sb * D, (bh + 1) * Sb * D), (bh * (Sa + Sb) + Sa) * D);
  }
  return out;
}

/**
 * `data` [B, H, S, D] written at rows [0, S) of a fresh [B, H, cap, D] store whose other rows hold
 * garbage; returns the store and the view on the written rows (head stride cap·D, not S·D).
 */
function inStore(data: Float32Array, B: number, H: number, S: number, cap: number, D: number) {
  const host = randomArray(B * H * cap * D, 999, 50, 60); // garbage that would dominate any sum
  for (let bh = 0; bh < B * H; bh++) host.set(data.subarray(bh * S * D, (bh + 1) * S * D), bh * cap * D);
  const store = T.tensor(host, [B, H, cap, D]);
  return { store, view: T.narrow(store, 2, 0, S) };
}

describe('scaledDotProductAttention with a cached prefix (past)', () => {
  it.each([
    // B, Hq, Hkv, Sq (present), Sp (cached), D, store capacity
    [2, 6, 2, 5, 7, 10, 11],
    [1, 4, 1, 3, 37, 16, 40],
    [1, 2, 2, 9, 64, 8, 64],
  ])(
    'B=%i Hq=%i Hkv=%i Sq=%i Sp=%i D=%i (store of %i rows) with an additive mask equals attention on the concatenation',
    async (B, Hq, Hkv, Sq, Sp, D, cap) => {
      const Sk = Sp + Sq;
      const r = prng(Sp * 31 + Sq);
      const q = randomArray(B * Hq * Sq * D, Sp + 1, -2, 2);
      const pk = randomArray(B * Hkv * Sp * D, Sp + 2, -2, 2);
      const pv = randomArray(B * Hkv * Sp * D, Sp + 3);
      const k = randomArray(B * Hkv * Sq * D, Sp + 4, -2, 2);
      const v = randomArray(B * Hkv * Sq * D, Sp + 5);
      // Per batch [Sq, Sk] mask: random holes and biases in both the cached and the present columns,
      // and one query row that sees only cached keys.
      const add = new Float32Array(B * Sq * Sk).map(() => (r() < 0.2 ? -Infinity : r() - 0.5));
      for (let j = Sp; j < Sk; j++) add[1 * Sk + j] = -1e30;
      const masked = (b: number, _h: number, i: number, j: number) => add[(b * Sq + i) * Sk + j] <= -1e30;
      const bias = (b: number, _h: number, i: number, j: number) => add[(b * Sq + i) * Sk + j];
      const ref = R.attention(
        nd(q, [B, Hq, Sq, D]),
        nd(hostConcat(pk, k, B, Hkv, Sp, Sq, D), [B, Hkv, Sk, D]),
        nd(hostConcat(pv, v, B, Hkv, Sp, Sq, D), [B, Hkv, Sk, D]),
        0.7,
        masked,
        bias,
      );
      const start = eng.poolStats().inUseBytes;
      const [out, cat] = T.tidy(() => {
        const sk = inStore(pk, B, Hkv, Sp, cap, D);
        const sv = inStore(pv, B, Hkv, Sp, cap, D);
        const Q = T.tensor(q, [B, Hq, Sq, D]);
        const K = T.tensor(k, [B, Hkv, Sq, D]);
        const V = T.tensor(v, [B, Hkv, Sq, D]);
        const mask = T.tensor(add, [B, 1, Sq, Sk]);
        const past = { k: sk.view, v: sv.view };
        return [
          T.scaledDotProductAttention(Q, K, V, { mask, scale: 0.7, past }),
          // The one-source op on the GPU concatenation.
          T.scaledDotProductAttention(Q, T.concat([sk.view, K], 2), T.concat([sv.view, V], 2), {
            mask,
            scale: 0.7,
          }),
        ];
      });
      await expectTensorClose(out, ref, { atol: 2e-5, rtol: 1e-4, what: 'past vs reference' });
      await expectTensorClose(out, { data: await cat.toArray(), shape: cat.shape }, { atol: 1e-6, what: 'past vs concat' });
      out.dispose();
      cat.dispose();
      expect(eng.poolStats().inUseBytes).toBe(start);
    },
  );

  it('bool mask, present k/v as strided [B, S, H, D] views, GQA 8:2', async () => {
    const [B, Hq, Hkv, Sq, Sp, D] = [1, 8, 2, 4, 9, 12];
    const Sk = Sp + Sq;
    const allow = new Uint32Array(Sq * Sk).map((_, e) => ((e * 5) % 7 === 0 ? 0 : 1));
    const q = randomArray(B * Hq * Sq * D, 61, -2, 2);
    const pk = randomArray(B * Hkv * Sp * D, 62, -2, 2);
    const pv = randomArray(B * Hkv * Sp * D, 63);
    const kBSHD = randomArray(B * Sq * Hkv * D, 64, -2, 2);
    const vBSHD = randomArray(B * Sq * Hkv * D, 65);
    // [B, S, H, D] → [B, H, S, D] on the host for the reference.
    const toBHSD = (x: Float32Array) =>
      Float32Array.from({ length: x.length }, (_, e) => {
        const d = e % D;
        const s = Math.floor(e / D) % Sq;
        const h = Math.floor(e / (D * Sq));
        return x[(s * Hkv + h) * D + d];
      });
    const ref = R.attention(
      nd(q, [B, Hq, Sq, D]),
      nd(hostConcat(pk, toBHSD(kBSHD), B, Hkv, Sp, Sq, D), [B, Hkv, Sk, D]),
      nd(hostConcat(pv, toBHSD(vBSHD), B, Hkv, Sp, Sq, D), [B, Hkv, Sk, D]),
      1 / Math.sqrt(D),
      (_b, _h, i, j) => allow[i * Sk + j] === 0,
    );
    const out = T.tidy(() => {
      const view = (x: Float32Array) => T.permute(T.tensor(x, [B, Sq, Hkv, D]), [0, 2, 1, 3]);
      return T.scaledDotProductAttention(T.tensor(q, [B, Hq, Sq, D]), view(kBSHD), view(vBSHD), {
        mask: T.tensor(allow, [Sq, Sk], 'bool'),
        past: { k: T.tensor(pk, [B, Hkv, Sp, D]), v: T.tensor(pv, [B, Hkv, Sp, D]) },
      });
    });
    await expectTensorClose(out, ref, { atol: 2e-5, rtol: 1e-4, what: 'bool mask, strided present' });
    out.dispose();
  });

  it('hands out the same bytes for a cached prefix of 8 or 64 rows (the prefix is not copied)', () => {
    const [B, Hq, Hkv, Sq, D] = [1, 4, 2, 5, 16];
    const bytesFor = (Sp: number): number =>
      T.tidy(() => {
        const pk = T.tensor(randomArray(B * Hkv * Sp * D, 71), [B, Hkv, Sp, D]);
        const pv = T.tensor(randomArray(B * Hkv * Sp * D, 72), [B, Hkv, Sp, D]);
        const q = T.tensor(randomArray(B * Hq * Sq * D, 73), [B, Hq, Sq, D]);
        const k = T.tensor(randomArray(B * Hkv * Sq * D, 74), [B, Hkv, Sq, D]);
        const v = T.tensor(randomArray(B * Hkv * Sq * D, 75), [B, Hkv, Sq, D]);
        const mask = T.zeros([Sq, Sp + Sq]);
        const before = eng.poolStats().acquiredBytes;
        T.scaledDotProductAttention(q, k, v, { mask, past: { k: pk, v: pv } });
        return eng.poolStats().acquiredBytes - before;
      });
    const short = bytesFor(8);
    expect(short).toBeGreaterThan(0);
    expect(bytesFor(64)).toBe(short);
  });

  it('gradients flow through q, k, v and the cached prefix when asked for (finite differences)', async () => {
    const [B, Hq, Hkv, Sq, Sp, D] = [1, 2, 1, 3, 4, 6];
    const m = new Float32Array(Sq * (Sp + Sq)).map((_, e) => (e % 5 === 2 ? -1e30 : 0));
    const mask = T.tensor(m, [Sq, Sp + Sq]);
    await gradCheck(
      (q, k, v, pk, pv) => T.scaledDotProductAttention(q, k, v, { mask, past: { k: pk, v: pv } }),
      [
        { data: randomArray(B * Hq * Sq * D, 81), shape: [B, Hq, Sq, D] },
        { data: randomArray(B * Hkv * Sq * D, 82), shape: [B, Hkv, Sq, D] },
        { data: randomArray(B * Hkv * Sq * D, 83), shape: [B, Hkv, Sq, D] },
        { data: randomArray(B * Hkv * Sp * D, 84), shape: [B, Hkv, Sp, D] },
        { data: randomArray(B * Hkv * Sp * D, 85), shape: [B, Hkv, Sp, D] },
      ],
      { what: 'attention with past grads', maxPoints: 30 },
    );
    mask.dispose();
  });

  it('rejects a cached prefix that does not fit k, and a mask without its columns', () => {
    T.tidy(() => {
      const q = T.zeros([1, 4, 2, 8]);
      const k = T.zeros([1, 2, 2, 8]);
      expect(() =>
        T.scaledDotProductAttention(q, k, k, { past: { k: T.zeros([1, 1, 3, 8]), v: T.zeros([1, 1, 3, 8]) } }),
      ).toThrow(/past\.k \[1,1,3,8\] must be \[B, Hkv, Sp, D\] with k \[1,2,2,8\]/);
      expect(() =>
        T.scaledDotProductAttention(q, k, k, { past: { k: T.zeros([1, 2, 3, 8]), v: T.zeros([1, 2, 4, 8]) } }),
      ).toThrow(/past\.k \[1,2,3,8\] and past\.v \[1,2,4,8\] differ/);
      const past = { k: T.zeros([1, 2, 3, 8]), v: T.zeros([1, 2, 3, 8]) };
      expect(() => T.scaledDotProductAttention(q, k, k, { past, mask: T.zeros([2, 2]) })).toThrow(
        /does not broadcast to \[B, Hq, Sq, Sk\] = \[1,4,2,5\]/,
      );
    });
  });
});
