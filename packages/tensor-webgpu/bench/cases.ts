// The benchmark rows: shapes from the model (transformer projections at 393 tokens, attention with
// the cumulative segment mask, the VAE's 3x3 convolutions, RMS/layer norm) and the same computation
// written with tfjs ops. Sizes are cut down on SwiftShader; `--full` runs the GPU sizes.
import * as vla from '../src/index.js';
import { conv2d, layerNorm, matmul, randUniform, rmsNorm, Tensor, tidy, type Engine } from '../src/index.js';
import type { Tfjs } from './tfjs.js';
import type { Runner } from './timing.js';

/** A runner plus the tensors it owns. */
export interface Prepared extends Runner {
  dispose: () => void;
}

/** One row of the table. */
export interface BenchCase {
  group: string;
  /** Shape description shown in the table. */
  shape: string;
  /** Floating-point operations per run (for GFLOP/s) or bytes moved (for GB/s). */
  flops?: number;
  bytes?: number;
  ours: (engine: Engine) => Prepared | null;
  tfjs: (t: Tfjs) => Prepared;
}

const rand = (shape: number[], seed: number) => vla.keep(randUniform(shape, { seed, low: -1, high: 1 }));

function oursRunner(engine: Engine, inputs: Tensor[], fn: () => Tensor): Prepared {
  return {
    run: () => {
      tidy(() => {
        fn();
      });
    },
    sync: () => engine.sync(),
    dispose: () => inputs.forEach((t) => t.dispose()),
  };
}

function tfRunner(t: Tfjs, inputs: { dispose(): void }[], fn: () => unknown): Prepared {
  return {
    run: () => {
      t.tf.tidy(() => {
        fn();
      });
    },
    sync: t.sync,
    dispose: () => inputs.forEach((x) => x.dispose()),
  };
}

/** C[m,n] = A[m,k]·B[k,n]. */
export function matmulCase(m: number, k: number, n: number, label?: string): BenchCase {
  return {
    group: 'matmul',
    shape: label ?? `[${m}x${k}]x[${k}x${n}]`,
    flops: 2 * m * k * n,
    ours: (e) => {
      const a = rand([m, k], 1);
      const b = rand([k, n], 2);
      return oursRunner(e, [a, b], () => matmul(a, b));
    },
    tfjs: (t) => {
      const a = t.tf.randomUniform([m, k], -1, 1);
      const b = t.tf.randomUniform([k, n], -1, 1);
      return tfRunner(t, [a, b], () => t.tf.matMul(a, b));
    },
  };
}

/**
 * y = x·Wᵀ with the weight stored in f16 (weight-only f16: packed halves, f32 arithmetic) against
 * tfjs's f32 matMul of the same shape (tfjs has no f16 weights). M = tokens, K → N a projection.
 */
export function linearHalfWeightCase(m: number, k: number, n: number): BenchCase {
  return {
    group: 'linear f16 weights',
    shape: `[${m}x${k}]x[${n}x${k}]ᵀ`,
    flops: 2 * m * k * n,
    ours: (e) => {
      const x = rand([m, k], 1);
      const w = vla.keep(vla.cast(rand([n, k], 2), 'f16'));
      return oursRunner(e, [x, w], () => vla.linear(x, w));
    },
    tfjs: (t) => {
      const x = t.tf.randomUniform([m, k], -1, 1);
      const w = t.tf.randomUniform([n, k], -1, 1);
      return tfRunner(t, [x, w], () => t.tf.matMul(x, w, false, true));
    },
  };
}

/**
 * `allowed[i][j]` of the cumulative segment mask (SPEC §1) for a sequence laid out like the 3B model's
 * 393 tokens (prefix 246 | generation 96 | state 1 | actions 50), scaled to `s` tokens.
 */
export function segmentMask(s: number): Uint32Array {
  const prefix = Math.round((s * 246) / 393);
  const gen = Math.round((s * 96) / 393);
  const ar = new Array<number>(s).fill(0);
  if (prefix < s) ar[prefix] = 1; // generation starts
  if (prefix + gen < s) ar[prefix + gen] = 1; // state token
  if (prefix + gen + 1 < s) ar[prefix + gen + 1] = 1; // actions
  const c: number[] = [];
  ar.reduce((acc, v, i) => (c[i] = acc + v), 0);
  const out = new Uint32Array(s * s);
  for (let i = 0; i < s; i++) for (let j = 0; j < s; j++) out[i * s + j] = c[j] <= c[i] ? 1 : 0;
  return out;
}

/** Attention of one sample: heads × seq × headDim, dense FLOPs 4·H·S²·D. */
export function attentionCase(s: number, heads = 16, d = 128): BenchCase {
  const allowed = segmentMask(s);
  return {
    group: 'attention',
    shape: `B1 H${heads} S${s} D${d} segment mask`,
    flops: 4 * heads * s * s * d,
    ours: (e) => {
      const sdpa = (vla as Record<string, unknown>).scaledDotProductAttention as
        ((q: Tensor, k: Tensor, v: Tensor, o: { mask?: Tensor }) => Tensor) | undefined;
      if (!sdpa) return null;
      const q = rand([1, heads, s, d], 3);
      const k = rand([1, heads, s, d], 4);
      const v = rand([1, heads, s, d], 5);
      const mask = vla.keep(Tensor.fromData(allowed, [s, s], 'bool'));
      return oursRunner(e, [q, k, v, mask], () => sdpa(q, k, v, { mask }));
    },
    tfjs: (t) => {
      const tf = t.tf;
      const q = tf.randomUniform([heads, s, d], -1, 1);
      const k = tf.randomUniform([heads, s, d], -1, 1);
      const v = tf.randomUniform([heads, s, d], -1, 1);
      const bias = tf.tensor2d(
        Float32Array.from(allowed, (a) => (a ? 0 : -1e30)),
        [s, s],
      );
      const scale = 1 / Math.sqrt(d);
      return tfRunner(t, [q, k, v, bias], () =>
        tf.matMul(tf.softmax(tf.add(tf.mul(tf.matMul(q, k, false, true), scale), bias)), v),
      );
    },
  };
}

/** 3×3 convolution with padding 1 (ours NCHW, tfjs in its native NHWC). */
export function conv3x3Case(n: number, cin: number, h: number, w: number, cout: number): BenchCase {
  return {
    group: 'conv2d',
    shape: `${n}x${cin}x${h}x${w} 3x3 -> ${cout}`,
    flops: 2 * n * cout * h * w * cin * 9,
    ours: (e) => {
      const x = rand([n, cin, h, w], 6);
      const wt = rand([cout, cin, 3, 3], 7);
      const b = rand([cout], 8);
      return oursRunner(e, [x, wt, b], () => conv2d(x, wt, b, { padding: 1 }));
    },
    tfjs: (t) => {
      const tf = t.tf;
      const x = tf.randomUniform([n, h, w, cin], -1, 1) as import('@tensorflow/tfjs-core').Tensor4D;
      const wt = tf.randomUniform([3, 3, cin, cout], -1, 1) as import('@tensorflow/tfjs-core').Tensor4D;
      const b = tf.randomUniform([cout], -1, 1);
      return tfRunner(t, [x, wt, b], () => tf.add(tf.conv2d(x, wt, 1, 'same'), b));
    },
  };
}

/** RMS or layer norm over the last dim of [rows, dim]: bytes = read x + write y (+ params). */
export function normCase(kind: 'rmsNorm' | 'layerNorm', rows: number, dim: number): BenchCase {
  return {
    group: kind,
    shape: `[${rows}x${dim}]`,
    bytes: (2 * rows * dim + (kind === 'layerNorm' ? 2 : 1) * dim) * 4,
    ours: (e) => {
      const x = rand([rows, dim], 9);
      const w = rand([dim], 10);
      const b = rand([dim], 11);
      return oursRunner(e, [x, w, b], () =>
        kind === 'rmsNorm' ? rmsNorm(x, w, 1e-6) : layerNorm(x, w, b, 1e-5),
      );
    },
    tfjs: (t) => {
      const tf = t.tf;
      const x = tf.randomUniform([rows, dim], -1, 1);
      const w = tf.randomUniform([dim], -1, 1);
      const b = tf.randomUniform([dim], -1, 1);
      return tfRunner(t, [x, w, b], () => {
        if (kind === 'rmsNorm')
          return tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), 1e-6))), w);
        const { mean, variance } = tf.moments(x, -1, true);
        return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), w), b);
      });
    },
  };
}

/** Rows for a real GPU (`--full`). */
export function fullCases(): BenchCase[] {
  return [
    ...[256, 512, 1024, 2048, 4096].map((n) => matmulCase(n, n, n, `${n}³`)),
    matmulCase(393, 2048, 6144),
    matmulCase(393, 6144, 2048),
    linearHalfWeightCase(393, 2048, 6144),
    linearHalfWeightCase(51, 1024, 3072),
    ...[128, 256, 512, 1024, 2048, 4096].map((s) => attentionCase(s)),
    conv3x3Case(1, 128, 64, 64, 256),
    conv3x3Case(1, 256, 128, 128, 256),
    normCase('rmsNorm', 393, 2048),
    normCase('rmsNorm', 4096, 2048),
    normCase('layerNorm', 4096, 2048),
  ];
}

/** Rows cut down so a CPU (SwiftShader) run takes a few minutes. */
export function swiftShaderCases(): BenchCase[] {
  return [
    ...[128, 256, 512].map((n) => matmulCase(n, n, n, `${n}³`)),
    matmulCase(393, 256, 768),
    linearHalfWeightCase(393, 256, 768),
    ...[64, 128].map((s) => attentionCase(s)),
    conv3x3Case(1, 32, 32, 32, 64),
    normCase('rmsNorm', 393, 2048),
    normCase('layerNorm', 1024, 1024),
  ];
}
