import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { add, engine, init, mul, shutdown, sub, tensor, type Tensor } from '@vla/tensor-webgpu';
import { eulerSample, sampleTime } from '../src/index.js';
import { normals } from './random.js';
import { timeCdfRef } from './reference.js';

beforeAll(async () => {
  await init();
});
afterAll(() => shutdown());

describe('sampleTime', () => {
  it('has the moments and CDF of Beta(1.5, 1)·0.999 + 0.001', async () => {
    const n = 100_000;
    const t = sampleTime(n, { seed: 11 });
    const xs = Float64Array.from(await t.toArray());
    t.dispose();
    let mean = 0;
    for (const x of xs) mean += x / n;
    let v = 0;
    for (const x of xs) v += (x - mean) ** 2 / (n - 1);
    // Beta(1.5, 1): mean 0.6, variance 1.5/(2.5²·3.5) = 0.0685714.
    const wantMean = 0.6 * 0.999 + 0.001;
    const wantVar = 0.999 ** 2 * (1.5 / (6.25 * 3.5));
    // Standard errors: sd(mean) = sqrt(0.0684/1e5) = 8.3e-4; sd(var) ≈ sqrt((μ4 − σ⁴)/n) ≈ 1.7e-4.
    // 5 standard errors each.
    expect(Math.abs(mean - wantMean)).toBeLessThan(4.2e-3);
    expect(Math.abs(v - wantVar)).toBeLessThan(9e-4);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0.001 - 1e-7);
    expect(Math.max(...xs)).toBeLessThanOrEqual(1 + 1e-6);
    // Kolmogorov–Smirnov against the exact CDF; critical value at α = 1e-6 is sqrt(ln(2/α)/(2n)) = 0.0085.
    const sorted = Float64Array.from(xs).sort();
    let ks = 0;
    sorted.forEach((x, i) => {
      const F = timeCdfRef(x);
      ks = Math.max(ks, Math.abs(F - i / n), Math.abs(F - (i + 1) / n));
    });
    expect(ks).toBeLessThan(0.0085);
  });

  it('is deterministic per seed', async () => {
    const a = sampleTime(64, { seed: 5 });
    const b = sampleTime(64, { seed: 5 });
    const c = sampleTime(64, { seed: 6 });
    const [va, vb, vc] = await Promise.all([a.toArray(), b.toArray(), c.toArray()]);
    expect(Array.from(va)).toEqual(Array.from(vb));
    expect(Array.from(va)).not.toEqual(Array.from(vc));
    for (const x of [a, b, c]) x.dispose();
    expect(() => sampleTime(0, { seed: 1 })).toThrow(/positive integer, got 0/);
  });
});

describe('eulerSample', () => {
  const shape = [4, 3];
  const eps = normals(12, 21);
  const c = normals(12, 22);

  async function run(velocity: (x: Tensor, t: number) => Tensor, steps: number): Promise<Float32Array> {
    const noise = tensor(eps, shape);
    const x = eulerSample(velocity, shape, { steps, noise });
    const out = (await x.toArray()) as Float32Array;
    x.dispose();
    noise.dispose();
    return out;
  }

  it('integrates dx/dt = x − c: the Euler closed form, within first-order error of the exact flow', async () => {
    const cT = tensor(c, shape);
    const field = (x: Tensor) => sub(x, cT);
    for (const steps of [10, 100]) {
      const got = await run(field, steps);
      // Euler with dt = −1/N: x_N − c = (ε − c)(1 − 1/N)^N; the exact flow gives (ε − c)e^{−1}.
      const euler = (1 - 1 / steps) ** steps;
      for (let i = 0; i < 12; i++) {
        expect(got[i]).toBeCloseTo(c[i] + (eps[i] - c[i]) * euler, 5);
        const exact = c[i] + (eps[i] - c[i]) * Math.exp(-1);
        // First-order global error: |e^{-1} − (1 − 1/N)^N| ≈ e^{-1}/(2N).
        expect(Math.abs(got[i] - exact)).toBeLessThanOrEqual(
          Math.abs(eps[i] - c[i]) * (Math.exp(-1) / (2 * steps)) * 1.1 + 1e-5,
        );
      }
    }
    cT.dispose();
  });

  it('evaluates v at t = 1, 0.9, …, 0.1 (dx/dt = a·t)', async () => {
    const aT = tensor(c, shape);
    const times: number[] = [];
    const got = await run((_, t) => {
      times.push(t);
      return mul(aT, t);
    }, 10);
    expect(times.map((t) => +t.toFixed(12))).toEqual([1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]);
    // x_N = ε − a·Σ t_k/N = ε − 0.55·a (the exact flow would give ε − 0.5·a).
    for (let i = 0; i < 12; i++) expect(got[i]).toBeCloseTo(eps[i] - 0.55 * c[i], 5);
    aT.dispose();
  });

  it('a velocity that throws at a later step frees every x and temporary, but not the caller noise', () => {
    const inUse = () => engine().poolStats().inUseBytes;
    const noise = tensor([1, 2, 3, 4], [2, 2]);
    const base = inUse();
    const failingAt = (step: number) => (x: Tensor, _t: number, k: number) => {
      const v = add(mul(x, 2), 1);
      if (k === step) throw new Error(`velocity failed at step ${k}`);
      return v;
    };
    for (const step of [2, 3]) {
      expect(() => eulerSample(failingAt(step), [2, 2], { steps: 4, seed: 1 })).toThrow(`step ${step}`);
      expect(inUse()).toBe(base);
      expect(() => eulerSample(failingAt(step), [2, 2], { steps: 4, noise })).toThrow(`step ${step}`);
      expect(inUse()).toBe(base);
      expect(noise.isDisposed).toBe(false);
    }
    const x = eulerSample(failingAt(-1), [2, 2], { steps: 4, noise });
    expect(inUse()).toBeGreaterThan(base);
    x.dispose();
    expect(inUse()).toBe(base);
    noise.dispose();
  });

  it('draws its own noise from a seed, and checks shapes', async () => {
    const x1 = eulerSample((x) => mul(x, 0), [2, 2], { seed: 3 });
    const x2 = eulerSample((x) => add(mul(x, 0), 0), [2, 2], { seed: 3 });
    expect(Array.from(await x1.toArray())).toEqual(Array.from(await x2.toArray()));
    x1.dispose();
    x2.dispose();
    expect(() => eulerSample((x) => x, [2, 2], { steps: 0 })).toThrow(/steps must be a positive integer/);
    expect(() => eulerSample(() => tensor([1], [1]), [2, 2], { seed: 1 })).toThrow(/velocity returned \[1\]/);
  });
});
