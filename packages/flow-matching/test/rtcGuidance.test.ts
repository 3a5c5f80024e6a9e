import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { add, engine, init, mul, shutdown, tensor, type Tensor } from '@vla/tensor-webgpu';
import { eulerSample, rtcGuidanceWeight, rtcPrefixWeights, type SamplerGuidance } from '../src/index.js';
import { normals, rng } from './random.js';
import { maxAbsDiff } from './reference.js';

beforeAll(async () => {
  await init();
});
afterAll(() => shutdown());

// Float64 reference of LeRobot's RTC step, written from its τ form (τ = 1 − t, c = (1 − τ)/τ,
// 1/r² = ((1 − τ)² + τ²)/(1 − τ)², w = min(β, c/r²)), for the toy field v = a⊙x + b·t.
function guidedEulerRef(
  eps: Float32Array,
  a: Float32Array,
  b: Float32Array,
  target: Float32Array,
  weights: Float32Array,
  shape: [number, number, number],
  steps: number,
  beta: number,
): Float64Array {
  const [B, H, D] = shape;
  const x = Float64Array.from(eps);
  for (let k = 0; k < steps; k++) {
    const t = 1 - k / steps;
    const tau = 1 - t;
    const w =
      tau === 0 ? beta : Math.min(beta, ((1 - tau) / tau) * (((1 - tau) ** 2 + tau ** 2) / (1 - tau) ** 2));
    const next = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const row = Math.floor(i / D); // b·H + h
      const v = a[i] * x[i] + b[i] * t;
      const x1 = x[i] - t * v;
      const g = v - w * weights[row] * (target[i] - x1);
      next[i] = x[i] - g / steps;
    }
    x.set(next);
  }
  void B;
  void H;
  return x;
}

describe('rtcPrefixWeights', () => {
  it('matches hand values of every schedule (horizon 8, delay 2, execution horizon 6)', () => {
    expect(Array.from(rtcPrefixWeights(8, 2, 6, 'zeros'))).toEqual([1, 1, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(rtcPrefixWeights(8, 2, 6, 'ones'))).toEqual([1, 1, 1, 1, 1, 1, 0, 0]);
    // linspace(1, 0, 6)[1:-1] = 0.8, 0.6, 0.4, 0.2 on rows 2..5.
    const lin = rtcPrefixWeights(8, 2, 6, 'linear');
    expect(maxAbsDiff(lin, [1, 1, 0.8, 0.6, 0.4, 0.2, 0, 0])).toBeLessThan(1e-15);
    const e = (u: number) => (u * (Math.exp(u) - 1)) / (Math.E - 1);
    const exp = rtcPrefixWeights(8, 2, 6, 'exp');
    expect(maxAbsDiff(exp, [1, 1, e(0.8), e(0.6), e(0.4), e(0.2), 0, 0])).toBeLessThan(1e-15);
    // e(0.8) = 0.8·1.2255409/1.7182818 = 0.570589
    expect(exp[2]).toBeCloseTo(0.570589, 6);
  });

  it('clips the delay to the execution horizon and the horizon to the chunk', () => {
    // start = min(4, 3) = 3: no linear rows.
    expect(Array.from(rtcPrefixWeights(5, 4, 3, 'linear'))).toEqual([1, 1, 1, 0, 0]);
    // end past the chunk: n = 4 − 1 = 3 rows, linspace(1, 0, 5)[1:-1].
    expect(Array.from(rtcPrefixWeights(4, 1, 10, 'linear'))).toEqual([1, 0.75, 0.5, 0.25]);
    expect(Array.from(rtcPrefixWeights(3, 0, 0, 'ones'))).toEqual([0, 0, 0]);
    expect(Array.from(rtcPrefixWeights(3, 7, 9, 'zeros'))).toEqual([1, 1, 1]);
    expect(() => rtcPrefixWeights(3, -1, 2, 'linear')).toThrow(
      /delay must be a non-negative integer, got -1/,
    );
  });
});

describe('rtcGuidanceWeight', () => {
  it('is min(β, (t² + (1 − t)²)/(t(1 − t))), β at t = 1 and 0 at t = 0', () => {
    expect(rtcGuidanceWeight(0.5, 10)).toBeCloseTo(2, 14);
    expect(rtcGuidanceWeight(0.75, 10)).toBeCloseTo(0.625 / 0.1875, 12);
    expect(rtcGuidanceWeight(0.5, 1.5)).toBe(1.5);
    expect(rtcGuidanceWeight(1, 7)).toBe(7);
    expect(rtcGuidanceWeight(0, 7)).toBe(0);
    expect(rtcGuidanceWeight(0.1, 100)).toBeCloseTo(0.82 / 0.09, 12);
  });
});

describe('eulerSample with guidance', () => {
  async function sample(
    shape: [number, number, number],
    seed: number,
    steps: number,
    g?: { target: Float32Array; weights: Float32Array; beta: number },
  ) {
    const [B, H, D] = shape;
    const n = B * H * D;
    const eps = normals(n, seed);
    const a = normals(n, seed + 1, 0.5);
    const b = normals(n, seed + 2);
    const noise = tensor(eps, shape);
    const aT = tensor(a, shape);
    const bT = tensor(b, shape);
    let guidance: SamplerGuidance | undefined;
    if (g)
      guidance = {
        target: tensor(g.target, shape),
        weights: tensor(g.weights, [B, H]),
        maxGuidanceWeight: g.beta,
      };
    const x = eulerSample((xt: Tensor, t: number) => add(mul(xt, aT), mul(bT, t)), shape, {
      steps,
      noise,
      ...(guidance ? { guidance } : {}),
    });
    const out = (await x.toArray()) as Float32Array;
    for (const t of [x, noise, aT, bT, guidance?.target, guidance?.weights]) t?.dispose();
    return { out, eps, a, b };
  }

  it('matches a float64 reference of the guided velocity (awkward shapes, fresh seeds)', async () => {
    const cases: { shape: [number, number, number]; steps: number; beta: number; seed: number }[] = [
      { shape: [3, 7, 5], steps: 3, beta: 10, seed: 101 },
      { shape: [2, 11, 3], steps: 5, beta: 1.7, seed: 202 },
      { shape: [1, 4, 9], steps: 1, beta: 4, seed: 303 },
    ];
    for (const c of cases) {
      const [B, H, D] = c.shape;
      const r = rng(c.seed + 7);
      const target = normals(B * H * D, c.seed + 3);
      const weights = Float32Array.from({ length: B * H }, () => r());
      const { out, eps, a, b } = await sample(c.shape, c.seed, c.steps, { target, weights, beta: c.beta });
      const want = guidedEulerRef(eps, a, b, target, weights, c.shape, c.steps, c.beta);
      const scale = Math.max(1, ...Array.from(want, Math.abs));
      expect(maxAbsDiff(out, want) / scale).toBeLessThan(2e-5);
      // The guidance did something: the unguided reference is far.
      const free = guidedEulerRef(eps, a, b, target, new Float32Array(B * H), c.shape, c.steps, c.beta);
      expect(maxAbsDiff(free, want)).toBeGreaterThan(1e-2);
    }
  });

  it('β = 0 or all-zero weights give plain Euler exactly', async () => {
    const shape: [number, number, number] = [2, 5, 3];
    const target = normals(30, 9);
    const plain = await sample(shape, 55, 4);
    const beta0 = await sample(shape, 55, 4, { target, weights: new Float32Array(10).fill(1), beta: 0 });
    const w0 = await sample(shape, 55, 4, { target, weights: new Float32Array(10), beta: 10 });
    expect(Array.from(beta0.out)).toEqual(Array.from(plain.out));
    expect(Array.from(w0.out)).toEqual(Array.from(plain.out));
  });

  it('pulls weighted rows toward the target, more with a larger β; unweighted items stay free', async () => {
    const shape: [number, number, number] = [2, 6, 4];
    const target = normals(48, 77);
    // Item 0: weights 1 on rows 0..2; item 1: none.
    const weights = Float32Array.from({ length: 12 }, (_, i) => (i < 3 ? 1 : 0));
    const dist = (x: Float32Array) => {
      let s = 0;
      for (let i = 0; i < 12; i++) s += (x[i] - target[i]) ** 2;
      return Math.sqrt(s);
    };
    const plain = await sample(shape, 66, 2);
    const errs: number[] = [dist(plain.out)];
    let last = plain.out;
    // β ≤ 2 keeps the two Euler steps (dt = 0.5) from overshooting the target.
    for (const beta of [0.3, 0.8, 1.5]) {
      const g = await sample(shape, 66, 2, { target, weights, beta });
      errs.push(dist(g.out));
      last = g.out;
      // Item 1 has zero weights: it is sampled independently of item 0's guidance.
      expect(maxAbsDiff(g.out.subarray(24), plain.out.subarray(24))).toBe(0);
    }
    for (let i = 1; i < errs.length; i++) expect(errs[i]).toBeLessThan(errs[i - 1]);
    expect(last.length).toBe(48);
  });

  it('checks the guidance shapes and frees its temporaries', () => {
    const inUse = () => engine().poolStats().inUseBytes;
    const target = tensor(new Float32Array(24), [2, 4, 3]);
    const weights = tensor(new Float32Array(8), [2, 4]);
    const bad = tensor(new Float32Array(8), [8]);
    const base = inUse();
    const v = (x: Tensor) => mul(x, 0.5);
    expect(() =>
      eulerSample(v, [2, 4, 3], { steps: 2, guidance: { target, weights: bad, maxGuidanceWeight: 1 } }),
    ).toThrow(/guidance weights \[8\] are not \[2, 4\]/);
    expect(() =>
      eulerSample(v, [2, 4, 2], { steps: 2, guidance: { target, weights, maxGuidanceWeight: 1 } }),
    ).toThrow(/guidance target \[2, 4, 3\] is not \[2, 4, 2\]/);
    const x = eulerSample(v, [2, 4, 3], {
      steps: 3,
      seed: 4,
      guidance: { target, weights, maxGuidanceWeight: 5 },
    });
    x.dispose();
    expect(inUse()).toBe(base);
    for (const t of [target, weights, bad]) t.dispose();
  });
});
