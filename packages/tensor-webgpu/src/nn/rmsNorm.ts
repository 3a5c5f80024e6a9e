// RMS normalisation over the last dimension (Qwen/LLaMA style: x / rms(x) · weight, weight ones).
import type { DType } from '../dtype.js';
import { rmsNorm } from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import { initConstant } from './init.js';
import { Module } from './module.js';
import { checkNumber } from '../ops/validate.js';

/** Options of {@link RMSNorm}. */
export interface RMSNormOptions {
  /** Default 1e-6 (Qwen2RMSNorm). */
  eps?: number;
  dtype?: DType;
}

/** `x / √(mean(x²) + eps) · weight` over the last dim; `weight` [dim] starts at ones. */
export class RMSNorm extends Module {
  readonly weight: Tensor;
  readonly eps: number;

  constructor(
    readonly dim: number,
    options: RMSNormOptions = {},
  ) {
    super();
    checkNumber('RMSNorm', 'dim', dim, { integer: true, min: 1 });
    this.eps = checkNumber('RMSNorm', 'eps', options.eps ?? 1e-6, { min: 0 });
    const dtype = options.dtype ?? 'f32';
    this.weight = this.param('weight', [dim], (s) => initConstant(s, 1, dtype), { dtype });
  }

  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.weight, this.eps);
  }
}
