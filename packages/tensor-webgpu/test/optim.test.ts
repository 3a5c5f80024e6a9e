// Optimizers against float64 references over several steps, schedules against their closed forms,
// clipping against the reference norm, and state save/restore resuming bit-identically.
import { describe, expect, it } from 'vitest';
import {
  AdamW,
  clipGradNorm,
  constantSchedule,
  keep,
  Linear,
  loadSafetensors,
  relu,
  Sequential,
  saveSafetensors,
  SGD,
  Tensor,
  warmupCosineSchedule,
  type Optimizer,
} from '../src/index.js';
import { refAdamState, refAdamWStep, refClip, refSgdStep, type RefSgdState } from './optimReference.js';
import { eng } from './setup.js';
import { expectClose, randomArray } from './util.js';

const shapes = [[7, 5], [3], [1, 1, 2], [0, 4]] as const;
const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

function makeParams(seed: number): Tensor[] {
  return shapes.map((s, i) => {
    const t = keep(Tensor.fromData(randomArray(size(s), seed + i), s));
    t.requiresGrad = true;
    return t;
  });
}

function gradsAt(step: number, scale = 1): Float32Array[] {
  return shapes.map((s, i) => randomArray(size(s), 1000 * step + i, -scale, scale));
}

function setGrads(params: Tensor[], grads: Float32Array[]): void {
  params.forEach((p, i) => {
    p.grad?.dispose();
    p.grad = keep(Tensor.fromData(grads[i], p.shape));
  });
}

function disposeAll(params: Tensor[], opt?: Optimizer): void {
  for (const p of params) p.dispose();
  opt?.dispose();
}

describe('AdamW', () => {
  it('matches the float64 reference over 6 steps with a schedule and weight decay', async () => {
    const start = eng.poolStats().inUseBytes;
    const params = makeParams(1);
    const refs = await Promise.all(params.map(async (p) => refAdamState(await p.toArray())));
    const schedule = warmupCosineSchedule({ peakLr: 0.05, decayLr: 0.005, warmupSteps: 2, decaySteps: 5 });
    const opt = new AdamW(params, { lr: schedule, weightDecay: 0.1 });
    expect(opt.betas).toEqual([0.9, 0.95]);
    expect(opt.eps).toBe(1e-8);
    for (let step = 0; step < 6; step++) {
      const grads = gradsAt(step);
      setGrads(params, grads);
      const lr = schedule(step);
      expect(opt.lr).toBe(lr);
      opt.step();
      refs.forEach((r, i) =>
        refAdamWStep(r, grads[i], { lr, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 }),
      );
    }
    const sd = opt.stateDict();
    for (let i = 0; i < params.length; i++) {
      expectClose(await params[i].toArray(), refs[i].p, { atol: 2e-6, rtol: 2e-5, what: `param ${i}` });
      expectClose(await sd.tensors.get(`${i}.exp_avg`)!.toArray(), refs[i].m, {
        atol: 1e-6,
        rtol: 1e-5,
        what: `exp_avg ${i}`,
      });
      expectClose(await sd.tensors.get(`${i}.exp_avg_sq`)!.toArray(), refs[i].v, {
        atol: 1e-7,
        rtol: 1e-5,
        what: `exp_avg_sq ${i}`,
      });
    }
    expect(sd.metadata).toEqual({
      optimizer: 'AdamW',
      step_count: '6',
      param_steps: '{"0":6,"1":6,"2":6,"3":6}',
    });
    opt.zeroGrad();
    expect(params.every((p) => p.grad === null)).toBe(true);
    disposeAll(params, opt);
    expect(eng.poolStats().inUseBytes).toBe(start);
  });

  it('fuses global-norm clipping into the update (large and small gradients)', async () => {
    const start = eng.poolStats().inUseBytes;
    const params = makeParams(2);
    const refs = await Promise.all(params.map(async (p) => refAdamState(await p.toArray())));
    const opt = new AdamW(params, { lr: 0.01, maxGradNorm: 1 });
    for (let step = 0; step < 4; step++) {
      // Steps 0 and 2 have a norm far above 1, steps 1 and 3 below it.
      const grads = gradsAt(step, step % 2 ? 0.05 : 10);
      setGrads(params, grads);
      opt.step();
      const { norm, coef } = refClip(grads, 1);
      expect(await opt.lastGradNorm!.item()).toBeCloseTo(norm, 4);
      refs.forEach((r, i) =>
        refAdamWStep(r, grads[i], {
          lr: 0.01,
          beta1: 0.9,
          beta2: 0.95,
          eps: 1e-8,
          weightDecay: 0.01,
          gradScale: coef,
        }),
      );
    }
    for (let i = 0; i < params.length; i++)
      expectClose(await params[i].toArray(), refs[i].p, { atol: 2e-6, rtol: 2e-5, what: `param ${i}` });
    disposeAll(params, opt);
    expect(eng.poolStats().inUseBytes).toBe(start);
  });

  it("keys its state by the parameters' state-dict names when they come from a Module", () => {
    const model = new Sequential(new Linear(2, 3), relu, new Linear(3, 1));
    const opt = new AdamW(model.parameters(), { lr: 0.1 });
    for (const p of model.parameters())
      p.grad = keep(Tensor.fromData(new Float32Array(p.size).fill(1), p.shape));
    opt.step();
    expect([...opt.stateDict().tensors.keys()]).toEqual(
      ['0.weight', '0.bias', '2.weight', '2.bias'].flatMap((k) => [`${k}.exp_avg`, `${k}.exp_avg_sq`]),
    );
    opt.dispose();
    model.dispose();
  });

  it('counts steps per parameter and skips parameters without a gradient', async () => {
    const params = makeParams(3);
    const before = await params[1].toArray();
    const refs = await Promise.all(params.map(async (p) => refAdamState(await p.toArray())));
    const opt = new AdamW(
      [{ params: [params[0]] }, { params: params.slice(1), weightDecay: 0, lrScale: 0.5 }],
      { lr: constantSchedule(0.02) },
    );
    const o = { beta1: 0.9, beta2: 0.95, eps: 1e-8 };
    const g0 = gradsAt(0);
    setGrads([params[0]], [g0[0]]);
    opt.step();
    refAdamWStep(refs[0], g0[0], { ...o, lr: 0.02, weightDecay: 0.01 });
    expect(Array.from(await params[1].toArray())).toEqual(Array.from(before));
    const g1 = gradsAt(1);
    setGrads(params, g1);
    opt.step();
    refAdamWStep(refs[0], g1[0], { ...o, lr: 0.02, weightDecay: 0.01 });
    // params[1] takes its first step (bias correction of step 1) with half the lr and no decay.
    refAdamWStep(refs[1], g1[1], { ...o, lr: 0.01, weightDecay: 0 });
    expect(JSON.parse(opt.stateDict().metadata.param_steps)).toEqual({ 0: 2, 1: 1, 2: 1, 3: 1 });
    expectClose(await params[0].toArray(), refs[0].p, { atol: 2e-6, rtol: 2e-5, what: 'param 0' });
    expectClose(await params[1].toArray(), refs[1].p, { atol: 2e-6, rtol: 2e-5, what: 'param 1' });
    disposeAll(params, opt);
  });

  it('validates its arguments', () => {
    const p = Tensor.fromData([1], [1]);
    expect(() => new AdamW([p, p])).toThrow(/parameter \[1\] f32 is listed twice/);
    expect(() => new AdamW([p], { betas: [1, 0.9] })).toThrow(/betas must be in \[0, 1\)/);
    expect(() => new AdamW([p], { maxGradNorm: 0 })).toThrow(/maxGradNorm must be > 0/);
    const ints = Tensor.fromData([1], [1], 'i32');
    expect(() => new AdamW([ints])).toThrow(/not a float tensor/);
    p.dispose();
    ints.dispose();
  });
});

describe('SGD', () => {
  for (const cfg of [
    { momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 },
    { momentum: 0.9, dampening: 0.1, nesterov: false, weightDecay: 0.05 },
    { momentum: 0.8, dampening: 0, nesterov: true, weightDecay: 0 },
  ]) {
    it(`matches torch.optim.SGD semantics (${JSON.stringify(cfg)})`, async () => {
      const params = makeParams(4);
      const refs: RefSgdState[] = await Promise.all(
        params.map(async (p) => ({ p: Float64Array.from(await p.toArray()), buf: null })),
      );
      const opt = new SGD(params, { lr: 0.1, ...cfg });
      for (let step = 0; step < 4; step++) {
        const grads = gradsAt(step);
        setGrads(params, grads);
        opt.step();
        refs.forEach((r, i) => refSgdStep(r, grads[i], { lr: 0.1, ...cfg }));
      }
      for (let i = 0; i < params.length; i++)
        expectClose(await params[i].toArray(), refs[i].p, { atol: 1e-6, rtol: 1e-5, what: `param ${i}` });
      expect([...opt.stateDict().tensors.keys()].length).toBe(cfg.momentum ? params.length : 0);
      disposeAll(params, opt);
    });
  }
});

describe('clipGradNorm', () => {
  it('returns the global norm and scales every gradient by min(1, max/(norm+1e-6))', async () => {
    for (const [scale, maxNorm] of [
      [3, 1],
      [0.01, 1],
      [1, 0.5],
    ]) {
      const params = makeParams(5);
      const grads = gradsAt(9, scale);
      setGrads(params, grads);
      const norm = clipGradNorm(params, maxNorm);
      const ref = refClip(grads, maxNorm);
      expect(norm.shape).toEqual([]);
      expect(await norm.item()).toBeCloseTo(ref.norm, 4);
      for (let i = 0; i < params.length; i++) {
        expectClose(
          await params[i].grad!.toArray(),
          Array.from(grads[i], (g) => g * ref.coef),
          { atol: 1e-7, rtol: 1e-5, what: `grad ${i}` },
        );
      }
      norm.dispose();
      disposeAll(params);
    }
  });

  it('handles many tensors and a tensor larger than 64 workgroups', async () => {
    const big = Tensor.fromData(randomArray(70_000, 1), [70_000]);
    big.requiresGrad = true;
    const g = randomArray(70_000, 2);
    big.grad = keep(Tensor.fromData(g, [70_000]));
    const norm = clipGradNorm([big], 1e9);
    expect(await norm.item()).toBeCloseTo(refClip([g], 1).norm, 2);
    norm.dispose();
    big.dispose();
    expect(() => clipGradNorm([], 0)).toThrow(/maxNorm must be > 0/);
  });
});

describe('learning-rate schedules', () => {
  it('constant', () => {
    const s = constantSchedule(3e-4);
    expect([s(0), s(10), s(1e6)]).toEqual([3e-4, 3e-4, 3e-4]);
    expect(() => constantSchedule(-1)).toThrow(/lr must be >= 0/);
  });

  it('linear warmup then cosine decay to a floor, against the closed form', () => {
    const peak = 5e-5;
    const floor = 5e-6;
    const W = 2000;
    const D = 30000;
    const s = warmupCosineSchedule({ peakLr: peak, decayLr: floor, warmupSteps: W, decaySteps: D });
    expect(s(0)).toBeCloseTo(peak / (W + 1), 15);
    expect(s(1000)).toBeCloseTo(peak * ((1 / (W + 1) - 1) * 0.5 + 1), 15);
    expect(s(W - 1)).toBeLessThan(peak);
    expect(s(W)).toBeCloseTo(floor + (peak - floor) * 0.5 * (1 + Math.cos((Math.PI * W) / D)), 15);
    expect(s(D / 2)).toBeCloseTo(floor + (peak - floor) * 0.5, 15);
    expect(s(D)).toBeCloseTo(floor, 15);
    expect(s(D + 12345)).toBeCloseTo(floor, 15);
    for (let k = 1; k < W; k += 97) expect(s(k)).toBeGreaterThan(s(k - 1));
    for (let k = W + 1; k <= D; k += 311) expect(s(k)).toBeLessThanOrEqual(s(k - 1));
    expect(() => warmupCosineSchedule({ peakLr: 1, decayLr: 0, warmupSteps: -1, decaySteps: 10 })).toThrow(
      /warmupSteps/,
    );
  });
});

describe('optimizer state save/restore', () => {
  it('resumes bit-identically after a safetensors round trip', async () => {
    const run = (params: Tensor[], opt: Optimizer, from: number, to: number) => {
      for (let step = from; step < to; step++) {
        setGrads(params, gradsAt(step, 2));
        opt.step();
      }
    };
    const schedule = warmupCosineSchedule({ peakLr: 0.03, decayLr: 0.001, warmupSteps: 2, decaySteps: 8 });
    // Uninterrupted: 7 steps.
    const a = makeParams(6);
    const optA = new AdamW(a, { lr: schedule, maxGradNorm: 1 });
    run(a, optA, 0, 7);
    // Interrupted after 3: save parameters and optimizer, restore into fresh ones, continue.
    const b = makeParams(6);
    const optB = new AdamW(b, { lr: schedule, maxGradNorm: 1 });
    run(b, optB, 0, 3);
    const sd = optB.stateDict();
    const stateBytes = await saveSafetensors(undefined, sd.tensors, sd.metadata);
    const paramBytes = await saveSafetensors(undefined, Object.fromEntries(b.map((p, i) => [String(i), p])));
    disposeAll(b, optB);

    const c = makeParams(77); // different initial values: everything must come from the files
    const loadedParams = await loadSafetensors(paramBytes);
    c.forEach((p, i) =>
      eng.copy(loadedParams.get(String(i))!.buffer, 0, p.buffer, 0, Math.max(4, p.size * 4)),
    );
    for (const t of loadedParams.values()) t.dispose();
    const optC = new AdamW(c, { lr: schedule, maxGradNorm: 1 });
    const file = await loadSafetensors(stateBytes);
    const { readSafetensors } = await import('../src/index.js');
    const meta = (await readSafetensors(stateBytes)).metadata;
    optC.loadStateDict({ tensors: file, metadata: meta });
    for (const t of file.values()) t.dispose();
    expect(optC.stepCount).toBe(3);
    expect(optC.lr).toBe(schedule(3));
    run(c, optC, 3, 7);
    for (let i = 0; i < a.length; i++)
      expect(Array.from(await c[i].toArray()), `param ${i}`).toEqual(Array.from(await a[i].toArray()));
    disposeAll(a, optA);
    disposeAll(c, optC);
  });

  it('rejects state from another optimizer, unknown parameters and wrong shapes', async () => {
    const params = makeParams(8);
    const opt = new AdamW(params, { lr: 0.1 });
    setGrads(params, gradsAt(0));
    opt.step();
    const sd = opt.stateDict();
    const sgd = new SGD(params, { lr: 0.1, momentum: 0.9 });
    expect(() => sgd.loadStateDict(sd)).toThrow(/state was saved by "AdamW", not SGD/);
    const other = new AdamW(params.slice(0, 2), { lr: 0.1 });
    expect(() => other.loadStateDict(sd)).toThrow(/state for unknown parameter "2"/);
    const wrong = new Map(sd.tensors);
    const bad = Tensor.fromData(new Float32Array(6), [2, 3]);
    wrong.set('1.exp_avg', bad);
    expect(() => opt.loadStateDict({ tensors: wrong, metadata: sd.metadata })).toThrow(
      /"1.exp_avg" is \[2, 3\] f32, expected \[3\] f32/,
    );
    const extra = new Map(sd.tensors);
    extra.set('0.bogus', bad);
    expect(() => opt.loadStateDict({ tensors: extra, metadata: sd.metadata })).toThrow(
      /unexpected tensor "0.bogus"/,
    );
    const missing = new Map(sd.tensors);
    missing.delete('0.exp_avg_sq');
    expect(() => opt.loadStateDict({ tensors: missing, metadata: sd.metadata })).toThrow(
      /missing "0.exp_avg_sq"/,
    );
    bad.dispose();
    disposeAll(params, opt);
    sgd.dispose();
    other.dispose();
  });
});
