// Numeric options of public ops, layers and optimizers: a NaN, an infinity or a fraction where a count
// is meant throws an Error naming the op, the option and the value, before any kernel is compiled or
// dispatched and without allocating.
import { describe, expect, it } from 'vitest';
import {
  AdamW,
  avgPool2d,
  clipGradNorm,
  constantSchedule,
  Conv2d,
  conv2d,
  convTranspose2d,
  Embedding,
  expand,
  gelu,
  GroupNorm,
  groupNorm,
  keep,
  LayerNorm,
  layerNorm,
  Linear,
  mropeTables,
  randBeta,
  randNormal,
  randUniform,
  resizeBilinear,
  RMSNorm,
  rmsNorm,
  ropeTables,
  scaledDotProductAttention,
  SGD,
  slice,
  SwiGLU,
  Tensor,
  warmupCosineSchedule,
} from '../src/index.js';
import { eng } from './setup.js';

const zeros = (shape: number[]) => Tensor.fromData(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);

describe('option validation', () => {
  it('rejects bad numeric options of ops, layers and optimizers before any dispatch or allocation', () => {
    // Inputs are uploaded (no dispatch) before counting.
    const q = zeros([1, 2, 3, 4]);
    const x2 = zeros([3, 4]);
    const img = zeros([1, 2, 4, 4]);
    const w = zeros([2, 2, 1, 1]);
    const p = keep(zeros([3]));
    p.requiresGrad = true;
    const cases: [() => unknown, RegExp][] = [
      [
        () => scaledDotProductAttention(q, q, q, { scale: NaN }),
        /^scaledDotProductAttention: scale must be a finite number, got NaN$/,
      ],
      [
        () => scaledDotProductAttention(q, q, q, { scale: -Infinity }),
        /^scaledDotProductAttention: scale must be a finite number, got -Infinity$/,
      ],
      [() => layerNorm(x2, null, null, NaN), /^layerNorm: eps must be >= 0 and finite, got NaN$/],
      [() => rmsNorm(x2, null, -1e-6), /^rmsNorm: eps must be >= 0 and finite, got -0.000001$/],
      [() => groupNorm(img, 1.5), /^groupNorm: groups must be an integer >= 1, got 1.5$/],
      [
        () => groupNorm(img, 2, null, null, Infinity),
        /^groupNorm: eps must be >= 0 and finite, got Infinity$/,
      ],
      [() => conv2d(img, w, null, { stride: 1.5 }), /^conv2d: stride must be an integer >= 1, got 1.5$/],
      [
        () => conv2d(img, w, null, { padding: [NaN, 0] }),
        /^conv2d: padding must be integers >= 0, got \[NaN, 0\]$/,
      ],
      [
        () => conv2d(img, w, null, { dilation: [1, 0] }),
        /^conv2d: dilation must be integers >= 1, got \[1, 0\]$/,
      ],
      [() => conv2d(img, w, null, { groups: NaN }), /^conv2d: groups must be an integer >= 1, got NaN$/],
      [
        () => convTranspose2d(img, w, null, { stride: 2, outputPadding: 0.5 }),
        /^convTranspose2d: outputPadding must be an integer >= 0, got 0.5$/,
      ],
      [() => avgPool2d(img, { kernel: NaN }), /^avgPool2d: kernel must be an integer >= 1, got NaN$/],
      [
        () => avgPool2d(img, { kernel: 2, stride: [2, Infinity] }),
        /^avgPool2d: stride must be integers >= 1, got \[2, Infinity\]$/,
      ],
      [() => resizeBilinear(img, [4, 2.5]), /^resizeBilinear: size must be integers >= 1, got \[4, 2.5\]$/],
      [() => randUniform([2], { seed: 1, low: NaN }), /^randUniform: low must be a finite number, got NaN$/],
      [
        () => randUniform([2], { seed: 1, low: 1, high: 0 }),
        /^randUniform: high must be >= 1 and finite, got 0$/,
      ],
      [() => randNormal([2], { seed: 1, std: NaN }), /^randNormal: std must be >= 0 and finite, got NaN$/],
      [
        () => randBeta([2], Infinity, 1, { seed: 1 }),
        /^randBeta: alpha must be > 0 and finite, got Infinity$/,
      ],
      [() => ropeTables([0, 1], 8, Infinity), /^ropeTables: theta must be > 0 and finite, got Infinity$/],
      [() => ropeTables([0, 1], 7, 1e4), /^ropeTables: headDim must be a positive even integer, got 7$/],
      [
        () => mropeTables([[0], [0], [0]], NaN, 1e4),
        /^mropeTables: headDim must be an integer >= 2, got NaN$/,
      ],
      [() => slice(x2, 0, NaN), /^slice: start must be an integer, got NaN$/],
      [() => slice(x2, 0, 0, 1.5), /^slice: end must be an integer, got 1.5$/],
      [() => expand(x2, [2, NaN, 4]), /^expand: shape must be integers >= -1, got \[2, NaN, 4\]$/],
      [
        () => gelu(x2, { approximate: 'fast' as 'tanh' }),
        /^gelu: approximate must be one of 'none', 'tanh', got "fast"$/,
      ],
      [() => new LayerNorm(4, { eps: NaN }), /^LayerNorm: eps must be >= 0 and finite, got NaN$/],
      [() => new RMSNorm(2.5), /^RMSNorm: dim must be an integer >= 1, got 2.5$/],
      [() => new GroupNorm(2, 4, { eps: -1 }), /^GroupNorm: eps must be >= 0 and finite, got -1$/],
      [() => new Linear(NaN, 2), /^Linear: inFeatures must be an integer >= 0, got NaN$/],
      [() => new Embedding(10, 0.5), /^Embedding: embeddingDim must be an integer >= 0, got 0.5$/],
      [() => new Conv2d(2, 2, 1.5), /^Conv2d: kernelSize must be an integer >= 1, got 1.5$/],
      [
        () => new SwiGLU(4, 8, { activation: 'relu' as 'silu' }),
        /^SwiGLU: activation must be one of 'silu', 'gelu', 'gelu_tanh', got "relu"$/,
      ],
      [() => new AdamW([p], { lr: NaN }), /^AdamW: lr must be >= 0 and finite, got NaN$/],
      [() => new AdamW([p], { eps: Infinity }), /^AdamW: eps must be > 0 and finite, got Infinity$/],
      [() => new AdamW([p], { weightDecay: NaN }), /^AdamW: weightDecay must be >= 0 and finite, got NaN$/],
      [
        () => new AdamW([p], { maxGradNorm: Infinity }),
        /^AdamW: maxGradNorm must be > 0 and finite, got Infinity$/,
      ],
      [
        () => new AdamW([{ params: [p], lrScale: NaN }]),
        /^AdamW: group lrScale must be >= 0 and finite, got NaN$/,
      ],
      [() => new SGD([p], { lr: 0.1, momentum: NaN }), /^SGD: momentum must be >= 0 and finite, got NaN$/],
      [() => clipGradNorm([p], NaN), /^clipGradNorm: maxNorm must be > 0 and finite, got NaN$/],
      [() => constantSchedule(Infinity), /^constantSchedule: lr must be >= 0 and finite, got Infinity$/],
      [
        () => warmupCosineSchedule({ peakLr: NaN, decayLr: 0, warmupSteps: 1, decaySteps: 10 }),
        /^warmupCosineSchedule: peakLr must be >= 0 and finite, got NaN$/,
      ],
    ];
    const dispatches = eng.counters.dispatches;
    const stats = eng.poolStats();
    const failures: string[] = [];
    for (const [fn, re] of cases) {
      let message = '(no error)';
      try {
        fn();
      } catch (e) {
        message = (e as Error).message;
      }
      if (!re.test(message)) failures.push(`${re.source}\n    got: ${message}`);
    }
    expect(failures, failures.join('\n')).toEqual([]);
    expect(eng.counters.dispatches).toBe(dispatches);
    expect(eng.poolStats()).toEqual(stats);
    for (const t of [q, x2, img, w, p]) t.dispose();
  });

  it('checks the learning rate a schedule returns before updating any parameter', async () => {
    const p = keep(Tensor.fromData([1, 2, 3], [3]));
    p.requiresGrad = true;
    p.grad = keep(Tensor.fromData([1, 1, 1], [3]));
    const opt = new SGD([p], { lr: (step) => (step < 1 ? 0.5 : NaN) });
    opt.step();
    expect(Array.from(await p.toArray())).toEqual([0.5, 1.5, 2.5]);
    const dispatches = eng.counters.dispatches;
    expect(() => opt.step()).toThrow(
      /^SGD: lr \(from the schedule at step 1\) must be >= 0 and finite, got NaN$/,
    );
    expect(eng.counters.dispatches).toBe(dispatches);
    expect(opt.stepCount).toBe(1);
    expect(Array.from(await p.toArray())).toEqual([0.5, 1.5, 2.5]);
    opt.dispose();
    p.dispose();
  });
});
