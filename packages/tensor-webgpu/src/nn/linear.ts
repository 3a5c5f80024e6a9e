// y = x Wᵀ + b with PyTorch's weight layout [out, in] and default initialisation.
import type { DType } from '../dtype.js';
import { linear, type SeedLike } from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import { initGenerator, kaimingUniform } from './init.js';
import { Module } from './module.js';
import { checkNumber } from '../ops/validate.js';

/** Options of {@link Linear}. */
export interface LinearOptions {
  /** Add a bias (default true). */
  bias?: boolean;
  /** Seed or generator for the initial weights (default: the {@link manualSeed} generator). */
  seed?: SeedLike;
  dtype?: DType;
}

/** A fully connected layer: `weight` [out, in] ~ U(±1/√in) (kaiming-uniform a=√5), `bias` [out] ~ U(±1/√in). */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    checkNumber('Linear', 'inFeatures', inFeatures, { integer: true, min: 0 });
    checkNumber('Linear', 'outFeatures', outFeatures, { integer: true, min: 0 });
    const o = { seed: initGenerator(options.seed), dtype: options.dtype };
    this.weight = this.param('weight', [outFeatures, inFeatures], (s) => kaimingUniform(s, inFeatures, o), {
      dtype: options.dtype,
      matrix: true,
    });
    this.bias =
      options.bias === false
        ? null
        : this.param('bias', [outFeatures], (s) => kaimingUniform(s, inFeatures, o), {
            dtype: options.dtype,
          });
  }

  /** x [..., in] → [..., out]. */
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}
