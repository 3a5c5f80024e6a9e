import { describe, expect, it } from 'vitest';
import { eng } from './setup.js';
import * as T from '../src/index.js';
import * as R from './reference/attention.js';
import { nd, permute } from './reference/ndarray.js';
import { expectClose, expectTensorClose, gradCheck, prng, randomArray } from './util.js';

/** Random SPEC §1 ar/pad vectors: a few segments, some padding. */
function randomSegments(n: number, seed: number): { ar: number[]; pad: boolean[] } {
  const r = prng(seed);
  const ar = Array.from({ length: n }, (_, i) => (i === 0 ? 0 : r() < 0.25 ? 1 : 0));
  const pad = Array.from({ length: n }, () => r() < 0.2);
  return { ar, pad };
}

describe('scaledDotProductAttention forward', () => {
  it.each([
    [2, 4, 2, 7, 9, 24],
    [1, 2, 1, 3, 17, 128],
  ])(
    'B=%i Hq=%i Hkv=%i Sq=%i Sk=%i D=%i without mask matches the reference',
    async (B, Hq, Hkv, Sq, Sk, D) => {
      const q = randomArray(B * Hq * Sq * D, D + 1, -2, 2);
      const k = randomArray(B * Hkv * Sk * D, D + 2, -2, 2);
      const v = randomArray(B * Hkv * Sk * D, D + 3);
      const start = eng.poolStats().inUseBytes;
      const out = T.tidy(() =>
        T.scaledDotProductAttention(
          T.tensor(q, [B, Hq, Sq, D]),
          T.tensor(k, [B, Hkv, Sk, D]),
          T.tensor(v, [B, Hkv, Sk, D]),
        ),
      );
      const ref = R.attention(
        nd(q, [B, Hq, Sq, D]),
        nd(k, [B, Hkv, Sk, D]),
        nd(v, [B, Hkv, Sk, D]),
        1 / Math.sqrt(D),
      );
      await expectTensorClose(out, ref, { atol: 2e-5, rtol: 1e-4, what: 'attention' });
      out.dispose();
      expect(eng.poolStats().inUseBytes).toBe(start);
    },
  );

  it('SPEC §1 cumulative segment mask (bool and additive, GQA 8:2, padded rows give 0)', async () => {
    const [B, Hq, Hkv, S, D] = [2, 8, 2, 21, 32];
    const masks = [randomSegments(S, 1), randomSegments(S, 2)].map(({ ar, pad }) => R.segmentMask(ar, pad));
    masks[1][4] = masks[1][4].map(() => false); // make sure one row is fully padded
    const boolData = new Uint32Array(B * S * S);
    masks.forEach((m, b) =>
      m.forEach((row, i) => row.forEach((ok, j) => (boolData[(b * S + i) * S + j] = ok ? 1 : 0))),
    );
    const q = randomArray(B * Hq * S * D, 11, -2, 2);
    const k = randomArray(B * Hkv * S * D, 12, -2, 2);
    const v = randomArray(B * Hkv * S * D, 13);
    const Q = T.tensor(q, [B, Hq, S, D]);
    const K = T.tensor(k, [B, Hkv, S, D]);
    const V = T.tensor(v, [B, Hkv, S, D]);
    const ref = R.attention(
      nd(q, Q.shape),
      nd(k, K.shape),
      nd(v, V.shape),
      1 / Math.sqrt(D),
      (b, _h, i, j) => !masks[b][i][j],
    );
    const boolMask = T.tensor(boolData, [B, 1, S, S], 'bool');
    await expectTensorClose(T.scaledDotProductAttention(Q, K, V, { mask: boolMask }), ref, {
      atol: 2e-5,
      rtol: 1e-4,
      what: 'bool mask',
    });
    for (const neg of [-1e30, -3.4e38, -Infinity]) {
      const add = T.tensor(
        Float32Array.from(boolData, (x) => (x ? 0 : neg)),
        [B, 1, S, S],
      );
      const out = T.scaledDotProductAttention(Q, K, V, { mask: add });
      const data = await out.toArray();
      expect(data.every(Number.isFinite)).toBe(true);
      expectClose(data, ref.data, { atol: 2e-5, rtol: 1e-4, what: `additive mask ${neg}` });
    }
    // The fully padded row is exactly zero for every head.
    const out = await T.scaledDotProductAttention(Q, K, V, { mask: boolMask }).toArray();
    for (let h = 0; h < Hq; h++)
      for (let d = 0; d < D; d++) expect(out[((1 * Hq + h) * S + 4) * D + d]).toBe(0);
  });

  it('KV-cache shape: 51 queries against 393 keys with an additive [Sq, Sk] mask and a scale', async () => {
    const [Hq, Hkv, Sq, Sk, D] = [2, 1, 51, 393, 32];
    const { ar, pad } = randomSegments(Sk, 5);
    const full = R.segmentMask(ar, pad);
    const rows = full.slice(Sk - Sq);
    const bias = randomArray(Sq * Sk, 6, -1, 1);
    const add = Float32Array.from(bias, (b, e) => (rows[Math.floor(e / Sk)][e % Sk] ? b : -1e30));
    const q = randomArray(Hq * Sq * D, 7, -2, 2);
    const k = randomArray(Hkv * Sk * D, 8, -2, 2);
    const v = randomArray(Hkv * Sk * D, 9);
    const out = T.scaledDotProductAttention(
      T.tensor(q, [1, Hq, Sq, D]),
      T.tensor(k, [1, Hkv, Sk, D]),
      T.tensor(v, [1, Hkv, Sk, D]),
      {
        mask: T.tensor(add, [Sq, Sk]),
        scale: 0.3,
      },
    );
    const ref = R.attention(
      nd(q, [1, Hq, Sq, D]),
      nd(k, [1, Hkv, Sk, D]),
      nd(v, [1, Hkv, Sk, D]),
      0.3,
      (_b, _h, i, j) => !rows[i][j],
      (_b, _h, i, j) => bias[i * Sk + j],
    );
    await expectTensorClose(out, ref, { atol: 2e-5, rtol: 1e-4, what: 'kv cache' });
  });

  it('reads q/k/v as strided [B, S, H, D] → [B, H, S, D] views', async () => {
    const [B, S, Hq, Hkv, D] = [1, 6, 4, 2, 24];
    const q = randomArray(B * S * Hq * D, 21);
    const k = randomArray(B * S * Hkv * D, 22);
    const v = randomArray(B * S * Hkv * D, 23);
    const view = (x: Float32Array, h: number) => T.permute(T.tensor(x, [B, S, h, D]), [0, 2, 1, 3]);
    const out = T.scaledDotProductAttention(view(q, Hq), view(k, Hkv), view(v, Hkv));
    const p = (x: Float32Array, h: number) => permute(nd(x, [B, S, h, D]), [0, 2, 1, 3]);
    await expectTensorClose(out, R.attention(p(q, Hq), p(k, Hkv), p(v, Hkv), 1 / Math.sqrt(D)), {
      atol: 2e-5,
      what: 'strided',
    });
  });

  it('rejects q heads that are not a multiple of kv heads', () => {
    expect(() =>
      T.scaledDotProductAttention(T.zeros([1, 3, 2, 4]), T.zeros([1, 2, 2, 4]), T.zeros([1, 2, 2, 4])),
    ).toThrow(/q heads 3 must be a multiple of kv heads 2/);
  });
});

describe('scaledDotProductAttention backward', () => {
  it('dQ, dK, dV match finite differences: GQA 4:2, several blocks of Sq≠Sk, D=6, masked row', async () => {
    const [B, Hq, Hkv, Sq, Sk, D] = [1, 4, 2, 19, 37, 6];
    const m = new Float32Array(Sq * Sk).map((_, e) => ((e * 7) % 5 === 0 ? -1e30 : 0));
    for (let j = 0; j < Sk; j++) m[1 * Sk + j] = -Infinity; // query row 1 sees nothing
    const mask = T.tensor(m, [Sq, Sk]);
    await gradCheck(
      (q, k, v) => T.scaledDotProductAttention(q, k, v, { mask }),
      [
        { data: randomArray(B * Hq * Sq * D, 31), shape: [B, Hq, Sq, D] },
        { data: randomArray(B * Hkv * Sk * D, 32), shape: [B, Hkv, Sk, D] },
        { data: randomArray(B * Hkv * Sk * D, 33), shape: [B, Hkv, Sk, D] },
      ],
      { what: 'attention grads', maxPoints: 40 },
    );
  });

  it('dQ, dK, dV match finite differences under a block mask: whole blocks of keys hidden from whole spans of rows', async () => {
    // Three cumulative segments over 40 tokens (rows 0–13 see keys 0–13 only, …): the kernels skip
    // hidden keys, and blocks of keys no row of a span sees.
    const [B, Hq, Hkv, S, D] = [2, 4, 2, 40, 8];
    const seg = (i: number) => Math.floor((i * 3) / S);
    const allow = new Uint32Array(S * S).map((_, e) => (seg(e % S) <= seg(Math.floor(e / S)) ? 1 : 0));
    const mask = T.tensor(allow, [S, S], 'bool');
    await gradCheck(
      (q, k, v) => T.scaledDotProductAttention(q, k, v, { mask }),
      [
        { data: randomArray(B * Hq * S * D, 61), shape: [B, Hq, S, D] },
        { data: randomArray(B * Hkv * S * D, 62), shape: [B, Hkv, S, D] },
        { data: randomArray(B * Hkv * S * D, 63), shape: [B, Hkv, S, D] },
      ],
      { what: 'attention grads, block mask', maxPoints: 60 },
    );
  });

  it('gradients of a padded query row are exactly zero and never NaN (bool mask, GQA 8:2)', async () => {
    const [B, Hq, Hkv, S, D] = [1, 8, 2, 6, 32];
    const start = eng.poolStats().inUseBytes;
    const allow = new Uint32Array(S * S).map((_, e) => (Math.floor(e / S) === 2 ? 0 : 1));
    const q = T.tensor(randomArray(B * Hq * S * D, 41), [B, Hq, S, D]);
    const k = T.tensor(randomArray(B * Hkv * S * D, 42), [B, Hkv, S, D]);
    const v = T.tensor(randomArray(B * Hkv * S * D, 43), [B, Hkv, S, D]);
    for (const t of [q, k, v]) t.requiresGrad = true;
    const mask = T.tensor(allow, [S, S], 'bool');
    T.tidy(() => T.sum(T.scaledDotProductAttention(q, k, v, { mask })).backward());
    const gq = await q.grad!.toArray();
    expect([...gq, ...(await k.grad!.toArray()), ...(await v.grad!.toArray())].every(Number.isFinite)).toBe(
      true,
    );
    for (let h = 0; h < Hq; h++) for (let d = 0; d < D; d++) expect(gq[(h * S + 2) * D + d]).toBe(0);
    // Nothing of the forward or backward outlives the leaves and their gradients.
    [q, k, v, mask].forEach((t) => t.dispose());
    expect(eng.poolStats().inUseBytes).toBe(start);
  });

  it('head_dim 128 gradients match finite differences on sampled entries', async () => {
    const [Hq, Hkv, Sq, Sk, D] = [2, 1, 2, 3, 128];
    await gradCheck(
      (q, k, v) => T.scaledDotProductAttention(q, k, v),
      [
        { data: randomArray(Hq * Sq * D, 51, -0.5, 0.5), shape: [1, Hq, Sq, D] },
        { data: randomArray(Hkv * Sk * D, 52, -0.5, 0.5), shape: [1, Hkv, Sk, D] },
        { data: randomArray(Hkv * Sk * D, 53), shape: [1, Hkv, Sk, D] },
      ],
      { what: 'attention D=128', maxPoints: 16 },
    );
  });
});
