import { describe, expect, it } from 'vitest';
import { Xoshiro128 } from '../src/index';
import { chiSquare, chiSquareCritical } from './reference';

// p ≈ 1e-6 upper tail: a correct generator fails one of these checks about once in a million seeds,
// while the biases they guard against (modulo bias, off-by-one) push the statistic far past it.
const Z = 4.75;

describe('Xoshiro128', () => {
  it('matches the reference C implementation (xoshiro128starstar.c) from a given state', () => {
    // Printed by the authors' algorithm compiled with gcc (rotl(s1*5,7)*9, then the state update).
    const a = Xoshiro128.fromState([1, 2, 3, 4]);
    expect(Array.from({ length: 8 }, () => a.nextUint32())).toEqual([
      11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849,
    ]);
    const b = Xoshiro128.fromState([0x9e3779b9, 0xdeadbeef, 0x12345678, 0xfedcba98]);
    expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual([
      1162347276, 1472368062, 2978965300, 3404596460, 44521588, 2801418294, 4168866123, 610024963,
    ]);
  });

  it('gives the same stream for the same key and unrelated streams for nearby keys', () => {
    const draw = (key: number[]) => {
      const g = new Xoshiro128(key);
      return Array.from({ length: 16 }, () => g.nextUint32());
    };
    expect(draw([1, 2, 3])).toEqual(draw([1, 2, 3]));
    const keys = [[1, 2, 3], [1, 2, 4], [1, 3, 3], [2, 2, 3], [1, 2], [1, 2, 3, 0], [2 ** 32 + 1, 2, 3], [0]];
    const firsts = keys.map((k) => draw(k).join(','));
    expect(new Set(firsts).size).toBe(keys.length);
    // High and low 32-bit halves of a key both count.
    expect(draw([2 ** 40])).not.toEqual(draw([0]));
  });

  it('nextFloat lies in [0, 1) and is uniform over 16 bins', () => {
    const g = new Xoshiro128([42]);
    const bins = new Array<number>(16).fill(0);
    let outside = 0;
    for (let i = 0; i < 160_000; i++) {
      const u = g.nextFloat();
      if (!(u >= 0 && u < 1)) outside++;
      else bins[Math.floor(u * 16)]++;
    }
    expect(outside).toBe(0);
    expect(chiSquare(bins, new Array(16).fill(1 / 16))).toBeLessThan(chiSquareCritical(15, Z));
  });

  it('nextInt has no modulo bias (n = 3·2^30, where x % n would put half the mass in the first third)', () => {
    const n = 3 * 2 ** 30;
    const g = new Xoshiro128([7]);
    const bins = [0, 0, 0];
    for (let i = 0; i < 60_000; i++) bins[Math.floor(g.nextInt(n) / 2 ** 30)]++;
    expect(chiSquare(bins, [1 / 3, 1 / 3, 1 / 3])).toBeLessThan(chiSquareCritical(2, Z));
    // The check has teeth: the biased distribution a plain modulo would give is rejected.
    expect(chiSquare(bins, [1 / 2, 1 / 4, 1 / 4])).toBeGreaterThan(chiSquareCritical(2, Z));
  });

  it('nextInt is uniform for small n and for n beyond 2^32', () => {
    const g = new Xoshiro128([8]);
    for (const n of [1, 2, 7, 10]) {
      const counts = new Array<number>(n).fill(0);
      for (let i = 0; i < 10_000 * n; i++) counts[g.nextInt(n)]++;
      if (n > 1)
        expect(chiSquare(counts, new Array(n).fill(1 / n))).toBeLessThan(chiSquareCritical(n - 1, Z));
      else expect(counts).toEqual([10_000]);
    }
    const big = 2 ** 40 + 3;
    const bins = new Array<number>(8).fill(0);
    let outside = 0;
    for (let i = 0; i < 40_000; i++) {
      const x = g.nextInt(big);
      if (!(Number.isInteger(x) && x >= 0 && x < big)) outside++;
      else bins[Math.floor((x / big) * 8)]++;
    }
    expect(outside).toBe(0);
    expect(chiSquare(bins, new Array(8).fill(1 / 8))).toBeLessThan(chiSquareCritical(7, Z));
  });

  it('rejects bad keys, states and bounds', () => {
    expect(() => new Xoshiro128([-1])).toThrow(/key\[0\].*-1/);
    expect(() => new Xoshiro128([1, 0.5])).toThrow(/key\[1\].*0\.5/);
    expect(() => Xoshiro128.fromState([0, 0, 0, 0])).toThrow(/all zero/);
    expect(() => Xoshiro128.fromState([2 ** 32, 0, 0, 1])).toThrow(/state\[0\]/);
    const g = new Xoshiro128([1]);
    expect(() => g.nextInt(0)).toThrow(/positive safe integer, got 0/);
    expect(() => g.nextInt(2 ** 53)).toThrow(/positive safe integer/);
  });
});
