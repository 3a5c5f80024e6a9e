// WebAssembly kernels of the optimizer family (declarations; the C is csrc/optimizer.c).
import { cpuProgram } from '../program.js';

/** Fused AdamW step in place; `clip` scales the gradient by min(1, max_norm / (gnorm[0] + 1e-6)). */
export const optAdamW = cpuProgram('opt_adamw', {
  param: 'f32*',
  grad: 'f32*',
  m: 'f32*',
  v: 'f32*',
  gnorm: 'f32*',
  n: 'u32',
  first: 'u32',
  clip: 'u32',
  lr: 'f32',
  beta1: 'f32',
  beta2: 'f32',
  eps: 'f32',
  wd: 'f32',
  step_size: 'f32',
  bc2_sqrt: 'f32',
  max_norm: 'f32',
});

/** Fused SGD step in place (`has_buf`: momentum buffer `buf`; coupled weight decay). */
export const optSgd = cpuProgram('opt_sgd', {
  param: 'f32*',
  grad: 'f32*',
  buf: 'f32*',
  gnorm: 'f32*',
  n: 'u32',
  first: 'u32',
  nesterov: 'u32',
  has_buf: 'u32',
  clip: 'u32',
  lr: 'f32',
  momentum: 'f32',
  dampening: 'f32',
  wd: 'f32',
  max_norm: 'f32',
});

/** Sums of squares of fixed blocks of `block` elements of x into partials[0..⌈n/block⌉). */
export const optSumSquares = cpuProgram('opt_sumsq', {
  x: 'f32*',
  partials: 'f32*',
  n: 'u32',
  block: 'u32',
});

/** out[0] = sqrt of the sum of `count` partials, added in order (one thread). */
export const optSqrtSum = cpuProgram('opt_sqrtsum', {
  partials: 'f32*',
  out: 'f32*',
  count: 'u32',
});

/** out = grad · min(1, max_norm / (gnorm[0] + 1e-6)). */
export const optClipScale = cpuProgram('opt_clip_scale', {
  grad: 'f32*',
  gnorm: 'f32*',
  out: 'f32*',
  n: 'u32',
  max_norm: 'f32',
});
