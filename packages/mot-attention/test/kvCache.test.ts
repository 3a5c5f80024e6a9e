// KVCache: appends write into one preallocated store per layer and `layer(i)` views the cached rows
// in place (checked against the host concatenation of what was appended); the cache owns its
// stores, so the caller's tensors stay under the caller's scope rules, no scope frees the cache,
// and disposing it returns the pool to exactly where it was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engine, init, permute, shutdown, tensor, tidy, type Tensor } from '@vla/tensor-webgpu';
import { KVCache } from '../src/index.js';
import { normals } from './random.js';

beforeAll(async () => {
  await init();
});
afterAll(() => shutdown());

const [B, H, D] = [2, 3, 4];
const inUse = (): number => engine().poolStats().inUseBytes;
const handedOut = (): number => engine().poolStats().acquiredBytes;
const kv = (S: number, seed: number): { k: Tensor; v: Tensor } => ({
  k: tensor(normals(B * H * S * D, seed), [B, H, S, D]),
  v: tensor(normals(B * H * S * D, seed + 1), [B, H, S, D]),
});

/** Host concatenation along S of [B, H, S_i, D] arrays. */
function hostConcat(parts: { data: Float32Array; S: number }[]): Float32Array {
  const S = parts.reduce((n, p) => n + p.S, 0);
  const out = new Float32Array(B * H * S * D);
  for (let bh = 0; bh < B * H; bh++) {
    let at = 0;
    for (const p of parts) {
      out.set(p.data.subarray(bh * p.S * D, (bh + 1) * p.S * D), (bh * S + at) * D);
      at += p.S;
    }
  }
  return out;
}

describe('KVCache', () => {
  it.each([
    ['room reserved for every append', 12],
    ['growing past the first append', 0],
  ])('appends of 5, 3 and 4 tokens read back as their concatenation (%s)', async (_name, capacity) => {
    const base = inUse();
    const cache = new KVCache(2, { capacity });
    const lengths = [5, 3, 4];
    lengths.forEach((S, n) =>
      tidy(() => {
        cache.append(0, kv(S, 10 * n));
        cache.append(1, kv(S, 10 * n + 5));
      }),
    );
    expect(cache.length).toBe(12);
    expect(cache.batch).toBe(B);
    expect(cache.capacity).toBe(capacity || 20); // 5, then doubled to 10, then 20
    for (const layer of [0, 1]) {
      const entry = cache.layer(layer)!;
      expect(entry.k.shape).toEqual([B, H, 12, D]);
      expect(entry.k.requiresGrad).toBe(false);
      const parts = (off: number) =>
        lengths.map((S, n) => ({ data: normals(B * H * S * D, 10 * n + layer * 5 + off), S }));
      expect(Array.from(await entry.k.toArray())).toEqual(Array.from(hostConcat(parts(0))));
      expect(Array.from(await entry.v.toArray())).toEqual(Array.from(hostConcat(parts(1))));
    }
    expect(inUse()).toBeGreaterThan(base);
    cache.dispose();
    expect(cache.length).toBe(0);
    expect(cache.layer(0)).toBeNull();
    expect(inUse()).toBe(base);
  });

  it('an append within the capacity allocates nothing; the views read the store in place', async () => {
    const cache = new KVCache(1, { capacity: 9 });
    tidy(() => cache.append(0, kv(4, 1)));
    const before = handedOut();
    const strided = tidy(() => {
      // A strided source: [B, S, H, D] data permuted to [B, H, S, D].
      const k = permute(tensor(normals(B * 5 * H * D, 3), [B, 5, H, D]), [0, 2, 1, 3]);
      const v = permute(tensor(normals(B * 5 * H * D, 4), [B, 5, H, D]), [0, 2, 1, 3]);
      const at = handedOut();
      cache.append(0, { k, v });
      return handedOut() - at;
    });
    expect(strided).toBe(0);
    expect(handedOut() - before).toBeGreaterThan(0); // the sources themselves
    const entry = cache.layer(0)!;
    expect(entry.k.shape).toEqual([B, H, 9, D]);
    expect(entry.k.strides).toEqual([H * 9 * D, 9 * D, D, 1]);
    const src = normals(B * 5 * H * D, 3);
    const got = await entry.k.toArray();
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++)
        for (let s = 0; s < 5; s++)
          for (let d = 0; d < D; d++)
            expect(got[((b * H + h) * 9 + 4 + s) * D + d]).toBe(src[((b * 5 + s) * H + h) * D + d]);
    cache.dispose();
  });

  it('keeps its values when the tensors it was given are disposed by their owner', async () => {
    const cache = new KVCache(1);
    const given = kv(3, 7);
    cache.append(0, given);
    const k = await given.k.toArray();
    given.k.dispose();
    given.v.dispose();
    expect(Array.from(await cache.layer(0)!.k.toArray())).toEqual(Array.from(k));
    cache.dispose();
  });

  it('rejects layers out of range and keys/values that do not fit', () => {
    const cache = new KVCache(2);
    expect(() => cache.layer(2)).toThrow(/layer 2 out of range \(2 layers\)/);
    expect(() => tidy(() => cache.append(-1, kv(2, 10)))).toThrow(/layer -1 out of range/);
    expect(() => new KVCache(1, { capacity: 1.5 })).toThrow(/capacity must be a whole number/);
    tidy(() => {
      cache.append(0, kv(2, 11));
      const other = {
        k: tensor(normals(B * 2 * 2 * D, 1), [B, 2, 2, D]),
        v: tensor(normals(B * 2 * 2 * D, 2), [B, 2, 2, D]),
      };
      expect(() => cache.append(0, other)).toThrow(
        /layer 0 holds \[2, 3, S, 4\] f32, given \[2, 2, 2, 4\] f32/,
      );
      const bad = kv(2, 12);
      expect(() => cache.append(1, { k: bad.k, v: kv(3, 13).v })).toThrow(
        /keys \[2, 3, 2, 4\] f32 and values \[2, 3, 3, 4\]/,
      );
    });
    cache.dispose();
  });
});
