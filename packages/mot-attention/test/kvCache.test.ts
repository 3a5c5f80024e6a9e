// KVCache ownership: the cache holds its own handles on the keys/values it is given, so the caller's
// tensors stay under the caller's scope rules, no scope frees the cache's entries, and replacing an
// entry or disposing the cache returns the pool to exactly where it was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engine, init, shutdown, tensor, tidy, type Tensor } from '@vla/tensor-webgpu';
import { KVCache } from '../src/index.js';
import { normals } from './random.js';

beforeAll(async () => {
  await init();
});
afterAll(() => shutdown());

const SHAPE = [1, 2, 3, 4];
const N = 24;
const inUse = (): number => engine().poolStats().inUseBytes;
const kv = (seed: number): { k: Tensor; v: Tensor } => ({
  k: tensor(normals(N, seed), SHAPE),
  v: tensor(normals(N, seed + 1), SHAPE),
});

describe('KVCache', () => {
  it('keeps its entries when the tensors it was given are disposed by their owner', async () => {
    const cache = new KVCache(2);
    const given = kv(1);
    cache.set(0, given);
    const k = await given.k.toArray();
    given.k.dispose();
    given.v.dispose();
    const entry = cache.layer(0)!;
    expect(entry.k.isDisposed).toBe(false);
    expect(Array.from(await entry.k.toArray())).toEqual(Array.from(k));
    expect(entry.k.requiresGrad).toBe(false);
    cache.dispose();
  });

  it('entries set inside a tidy scope outlive it; dispose() returns the pool to its baseline', async () => {
    const base = inUse();
    const cache = new KVCache(2);
    tidy(() => {
      cache.set(0, kv(2));
      cache.set(1, kv(4));
    });
    expect(cache.length).toBe(3);
    expect(cache.batch).toBe(1);
    expect(Array.from(await cache.layer(1)!.v.toArray())).toEqual(Array.from(normals(N, 5)));
    expect(inUse()).toBeGreaterThan(base);
    cache.dispose();
    expect(cache.length).toBe(0);
    expect(inUse()).toBe(base);
  });

  it('replacing an entry frees the previous one (also when given the same tensors again)', () => {
    const base = inUse();
    const cache = new KVCache(1);
    const first = kv(6);
    tidy(() => cache.set(0, first));
    const once = inUse();
    cache.set(0, first); // the same tensors again: a new handle replaces the old one
    expect(inUse()).toBe(once);
    tidy(() => cache.set(0, kv(8)));
    first.k.dispose();
    first.v.dispose();
    expect(inUse()).toBe(once);
    cache.dispose();
    expect(inUse()).toBe(base);
  });

  it('rejects layers out of range', () => {
    const cache = new KVCache(2);
    expect(() => cache.layer(2)).toThrow(/layer 2 out of range \(2 layers\)/);
    expect(() => tidy(() => cache.set(-1, kv(10)))).toThrow(/layer -1 out of range/);
  });
});
