import { describe, expect, it } from 'vitest';
import './setup.js';
import * as T from '../src/index.js';
import * as R from './reference/index.js';

/** Kolmogorov–Smirnov statistic of samples against a CDF. */
function ks(samples: ArrayLike<number>, cdf: (x: number) => number): number {
  const s = Float64Array.from(samples).sort();
  let d = 0;
  for (let i = 0; i < s.length; i++) {
    const f = cdf(s[i]);
    d = Math.max(d, Math.abs(f - i / s.length), Math.abs((i + 1) / s.length - f));
  }
  return d;
}

function moments(a: ArrayLike<number>): { mean: number; variance: number } {
  let m = 0;
  for (let i = 0; i < a.length; i++) m += a[i];
  m /= a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i] - m) ** 2;
  return { mean: m, variance: v / (a.length - 1) };
}

const N = 20_000;
// KS critical value at alpha = 0.001 is 1.95 / sqrt(n).
const KS_MAX = 1.95 / Math.sqrt(N);

describe('random', () => {
  it('Philox4x32-10 matches the Random123 known-answer vector', async () => {
    expect(Array.from(await T.randBits([4], { seed: 0 }).toArray())).toEqual([0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
  });

  it('uniform: range, moments, KS', async () => {
    const u = await T.randUniform([N], { seed: 1 }).toArray();
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    const { mean, variance } = moments(u);
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.003);
    expect(ks(u, (x) => x)).toBeLessThan(KS_MAX);
    const v = await T.randUniform([1001], { seed: 2, low: -3, high: 5 }).toArray();
    expect(Math.min(...v)).toBeGreaterThanOrEqual(-3);
    expect(Math.max(...v)).toBeLessThan(5);
    expect(ks(v, (x) => (x + 3) / 8)).toBeLessThan(1.95 / Math.sqrt(1001));
  });

  it('normal: moments, KS, mean/std options', async () => {
    const z = await T.randNormal([N + 3], { seed: 3 }).toArray();
    const { mean, variance } = moments(z);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.04);
    expect(ks(z, R.normalCdf)).toBeLessThan(KS_MAX);
    const y = await T.randNormal([N], { seed: 4, mean: 2, std: 0.5 }).toArray();
    expect(ks(y, (x) => R.normalCdf((x - 2) / 0.5))).toBeLessThan(KS_MAX);
  });

  // Beta(a, b) has mean a/(a+b) and variance ab/((a+b)^2 (a+b+1)): 0.6 and 0.0686 for (1.5, 1).
  it('Beta(1.5, 1): mean 0.6, variance 0.0686, KS against its CDF x^1.5', async () => {
    const b = await T.randBeta([N], 1.5, 1, { seed: 5 }).toArray();
    const { mean, variance } = moments(b);
    expect(Math.abs(mean - 0.6)).toBeLessThan(0.006);
    expect(Math.abs(variance - 1.5 / (2.5 ** 2 * 3.5))).toBeLessThan(0.003);
    expect(Math.min(...b)).toBeGreaterThan(0);
    expect(Math.max(...b)).toBeLessThanOrEqual(1);
    expect(ks(b, (x) => x ** 1.5)).toBeLessThan(KS_MAX);
  });

  it('Beta with shapes below 1 (boost path): Beta(0.5, 0.5) is the arcsine law', async () => {
    const b = await T.randBeta([N], 0.5, 0.5, { seed: 6 }).toArray();
    expect(ks(b, (x) => (2 / Math.PI) * Math.asin(Math.sqrt(x)))).toBeLessThan(KS_MAX);
    const c = await T.randBeta([N], 2, 5, { seed: 7 }).toArray();
    const { mean, variance } = moments(c);
    expect(Math.abs(mean - 2 / 7)).toBeLessThan(0.006);
    expect(Math.abs(variance - 10 / (49 * 8))).toBeLessThan(0.002);
  });

  it('deterministic per seed, different across seeds, Generator streams', async () => {
    const a = await T.randNormal([257], { seed: 42 }).toArray();
    const b = await T.randNormal([257], { seed: 42 }).toArray();
    const c = await T.randNormal([257], { seed: 43 }).toArray();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    // Counter-based: a prefix does not depend on the total size.
    expect(Array.from(await T.randNormal([10], { seed: 42 }).toArray())).toEqual(Array.from(a.slice(0, 10)));
    // Seeds above 2^32 use the high key word.
    const hi = await T.randUniform([8], { seed: 2 ** 40 + 42 }).toArray();
    expect(Array.from(hi)).not.toEqual(Array.from(await T.randUniform([8], { seed: 42 }).toArray()));
    const g1 = new T.Generator(7);
    const g2 = new T.Generator(7);
    const s1 = [g1.next(), g1.next()];
    expect([g2.next(), g2.next()]).toEqual(s1);
    expect(s1[0]).not.toBe(s1[1]);
    expect(Number.isSafeInteger(s1[0])).toBe(true);
    const x = await T.randUniform([16], { seed: new T.Generator(7) }).toArray();
    expect(Array.from(x)).toEqual(Array.from(await T.randUniform([16], { seed: s1[0] }).toArray()));
    expect(() => T.randUniform([2], { seed: -1 })).toThrow(/randUniform: seed/);
    expect(() => T.randBeta([2], 0, 1, { seed: 1 })).toThrow(/randBeta: alpha must be > 0 and finite, got 0/);
  });
});
