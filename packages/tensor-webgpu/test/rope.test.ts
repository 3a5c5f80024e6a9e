import { describe, expect, it } from 'vitest';
import './setup.js';
import * as T from '../src/index.js';
import { nd, permute } from './reference/ndarray.js';
import * as R from './reference/rope.js';
import { expectClose, expectTensorClose, gradCheck, randomArray, randomInts } from './util.js';

describe('ropeTables', () => {
  it.each([
    [128, 5e6],
    [24, 1e4],
  ])('head_dim %i, theta %d: cos/sin of f32 angles, accurate for large positions', async (d, theta) => {
    const pos = Array.from(randomInts(37, d, 0, 60000));
    pos[0] = 0;
    pos[1] = 1;
    const { cos, sin } = T.ropeTables(pos, d, theta);
    expect(cos.shape).toEqual([37, d / 2]);
    const ang = R.angles([pos], d, theta, () => 0);
    expectClose(await cos.toArray(), ang.map(Math.cos), { atol: 1e-6, rtol: 0, what: 'cos' });
    expectClose(await sin.toArray(), ang.map(Math.sin), { atol: 1e-6, rtol: 0, what: 'sin' });
  });

  it('accepts a [B, S] position tensor', async () => {
    const pos = randomInts(2 * 5, 3, 0, 100);
    const { cos } = T.ropeTables(T.tensor(pos, [2, 5], 'i32'), 8, 1e4);
    expect(cos.shape).toEqual([2, 5, 4]);
    expectClose(await cos.toArray(), R.angles([Array.from(pos)], 8, 1e4, () => 0).map(Math.cos), {
      atol: 1e-6,
      rtol: 0,
    });
  });
});

describe('mropeTables (Qwen3-VL interleaved M-RoPE)', () => {
  it('slot s < 60 with s%3==1 uses h, s%3==2 uses w, all others t (head_dim 128, theta 5e6)', async () => {
    const S = 19;
    const t = Array.from(randomInts(S, 1, 0, 3000));
    const h = Array.from(randomInts(S, 2, 0, 3000));
    const w = Array.from(randomInts(S, 3, 0, 3000));
    const { cos, sin } = T.mropeTables([t, h, w], 128, 5e6);
    // The SPEC rule written out directly.
    const axisOf = (s: number) => (s < 60 && s % 3 === 1 ? 1 : s < 60 && s % 3 === 2 ? 2 : 0);
    const ang = R.angles([t, h, w], 128, 5e6, axisOf);
    expectClose(await cos.toArray(), ang.map(Math.cos), { atol: 1e-6, rtol: 0, what: 'mrope cos' });
    expectClose(await sin.toArray(), ang.map(Math.sin), { atol: 1e-6, rtol: 0, what: 'mrope sin' });
    // Equal ids on all three axes reduce to 1-D RoPE.
    const same = T.mropeTables([t, t, t], 128, 5e6);
    const plain = T.ropeTables(t, 128, 5e6);
    expectClose(await same.cos.toArray(), await plain.cos.toArray(), {
      atol: 0,
      rtol: 0,
      what: 'mrope == rope',
    });
  });

  it('generalises by the 3·section boundary: head_dim 32 with section [4, 6, 6], [3, B, S] ids', async () => {
    const ids = randomInts(3 * 2 * 6, 9, 0, 500);
    const { cos } = T.mropeTables(T.tensor(ids, [3, 2, 6], 'i32'), 32, 1e4, { section: [4, 6, 6] });
    expect(cos.shape).toEqual([2, 6, 16]);
    const rows = [0, 1, 2].map((a) => Array.from(ids.slice(a * 12, a * 12 + 12)));
    const ang = R.angles(rows, 32, 1e4, R.mropeAxis([4, 6, 6]));
    expectClose(await cos.toArray(), ang.map(Math.cos), { atol: 1e-6, rtol: 0 });
    expect(T.defaultMropeSection(128)).toEqual([24, 20, 20]);
    expect(() => T.mropeTables([[1], [1], [1]], 32, 1e4, { section: [4, 4, 4] })).toThrow(
      /summing to headDim\/2 = 16/,
    );
  });
});

describe('rotaryEmbedding', () => {
  it('half tables [S, D/2] equal HF rotate_half with cat(freqs, freqs), on a permuted x', async () => {
    const [B, S, H, D] = [2, 5, 3, 12];
    const x = randomArray(B * S * H * D, 1);
    const pos = Array.from({ length: S }, (_, i) => 3 * i + 1);
    const { cos, sin } = T.ropeTables(pos, D, 1e4);
    // x stored [B, S, H, D] and viewed as [B, H, S, D] (as after the q projection).
    const X = T.permute(T.tensor(x, [B, S, H, D]), [0, 2, 1, 3]);
    const y = T.rotaryEmbedding(X, cos, sin);
    const ang = R.angles([pos], D, 1e4, () => 0);
    const xr = permute(nd(x, [B, S, H, D]), [0, 2, 1, 3]);
    const ref = R.rotary(
      xr,
      R.duplicateHalves(ang.map(Math.cos), S, D / 2),
      R.duplicateHalves(ang.map(Math.sin), S, D / 2),
    );
    await expectTensorClose(y, ref, { atol: 2e-6, what: 'rotary half tables' });
  });

  it('full-width tables [B, 1, S, D] are used element by element (broadcast over heads)', async () => {
    const [B, H, S, D] = [2, 3, 4, 8];
    const x = randomArray(B * H * S * D, 2);
    const c = randomArray(B * S * D, 3);
    const s = randomArray(B * S * D, 4);
    const y = T.rotaryEmbedding(
      T.tensor(x, [B, H, S, D]),
      T.tensor(c, [B, 1, S, D]),
      T.tensor(s, [B, 1, S, D]),
    );
    const ref = new Float64Array(x.length);
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++) {
        const off = (b * H + h) * S * D;
        const r = R.rotary(
          nd(x.slice(off, off + S * D), [S, D]),
          Float64Array.from(c.slice(b * S * D, (b + 1) * S * D)),
          Float64Array.from(s.slice(b * S * D, (b + 1) * S * D)),
        );
        ref.set(r.data, off);
      }
    await expectTensorClose(
      y,
      { data: ref, shape: [B, H, S, D] },
      { atol: 2e-6, what: 'rotary full tables' },
    );
  });

  it('gradients of x, cos and sin match finite differences (half and full tables)', async () => {
    await gradCheck(
      (x, c, s) => T.rotaryEmbedding(x, c, s),
      [
        { data: randomArray(2 * 3 * 6, 5), shape: [2, 3, 6] },
        { data: randomArray(3 * 3, 6), shape: [3, 3] },
        { data: randomArray(3 * 3, 7), shape: [3, 3] },
      ],
      { what: 'rotary half' },
    );
    await gradCheck(
      (x, c, s) => T.rotaryEmbedding(x, c, s),
      [
        { data: randomArray(2 * 3 * 6, 8), shape: [2, 3, 6] },
        { data: randomArray(3 * 6, 9), shape: [3, 6] },
        { data: randomArray(3 * 6, 10), shape: [3, 6] },
      ],
      { what: 'rotary full' },
    );
  });

  it('rejects a table of the wrong width', () => {
    expect(() => T.rotaryEmbedding(T.zeros([2, 8]), T.zeros([2, 3]), T.zeros([2, 3]))).toThrow(
      /table last dim must be D\/2 = 4 or D = 8/,
    );
  });
});
