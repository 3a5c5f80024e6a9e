// Layer normalisation over the last dimension (weight ones, bias zeros).
import type { DType } from '../dtype.js';
import { layerNorm } from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import { initConstant } from './init.js';
import { Module } from './module.js';
import { checkNumber } from '../ops/validate.js';

/** Options of {@link LayerNorm}. */
export interface LayerNormOptions {
  /** Default 1e-5. */
  eps?: number;
  /** Learn weight (and bias) (default true). */
  elementwiseAffine?: boolean;
  /** Learn a bias when affine (default true). */
  bias?: boolean;
  dtype?: DType;
}

/** `(x − mean) / √(var + eps) · weight + bias` over the last dim of size `dim`. */
export class LayerNorm extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly eps: number;

  constructor(
    readonly dim: number,
    options: LayerNormOptions = {},
  ) {
    super();
    checkNumber('LayerNorm', 'dim', dim, { integer: true, min: 1 });
    this.eps = checkNumber('LayerNorm', 'eps', options.eps ?? 1e-5, { min: 0 });
    const affine = options.elementwiseAffine ?? true;
    const dtype = options.dtype ?? 'f32';
    this.weight = affine ? this.param('weight', [dim], (s) => initConstant(s, 1, dtype), { dtype }) : null;
    this.bias =
      affine && (options.bias ?? true)
        ? this.param('bias', [dim], (s) => initConstant(s, 0, dtype), { dtype })
        : null;
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight ?? undefined, this.bias ?? undefined, this.eps);
  }
}
