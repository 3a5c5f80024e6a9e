// Group normalisation of NCHW activations (the VAE's norm), weight ones and bias zeros.
import type { DType } from '../dtype.js';
import { groupNorm } from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import { initConstant } from './init.js';
import { Module } from './module.js';
import { checkNumber } from '../ops/validate.js';

/** Options of {@link GroupNorm}. */
export interface GroupNormOptions {
  /** Default 1e-5. */
  eps?: number;
  /** Learn per-channel weight and bias (default true). */
  affine?: boolean;
  dtype?: DType;
}

/** Normalises each of `numGroups` channel groups over (C/G, H, W); `weight`/`bias` are [C]. */
export class GroupNorm extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly eps: number;

  constructor(
    readonly numGroups: number,
    readonly numChannels: number,
    options: GroupNormOptions = {},
  ) {
    super();
    checkNumber('GroupNorm', 'numGroups', numGroups, { integer: true, min: 1 });
    checkNumber('GroupNorm', 'numChannels', numChannels, { integer: true, min: 1 });
    if (numChannels % numGroups !== 0) {
      throw new Error(`GroupNorm: ${numChannels} channels cannot be split into ${numGroups} groups`);
    }
    this.eps = checkNumber('GroupNorm', 'eps', options.eps ?? 1e-5, { min: 0 });
    const dtype = options.dtype ?? 'f32';
    const affine = options.affine ?? true;
    this.weight = affine
      ? this.param('weight', [numChannels], (s) => initConstant(s, 1, dtype), { dtype })
      : null;
    this.bias = affine
      ? this.param('bias', [numChannels], (s) => initConstant(s, 0, dtype), { dtype })
      : null;
  }

  /** x [N, C, H, W] (or [N, C, ...]). */
  forward(x: Tensor): Tensor {
    return groupNorm(x, this.numGroups, this.weight ?? undefined, this.bias ?? undefined, this.eps);
  }
}
