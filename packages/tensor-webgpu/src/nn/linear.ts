// y = x Wᵀ + b with PyTorch's weight layout [out, in] and default initialisation.
import type { DType } from '../dtype.js';
import { linear, type SeedLike } from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import { initConstant, initGenerator, initNormal, kaimingUniform } from './init.js';
import { Module } from './module.js';
import { checkNumber } from '../ops/validate.js';

/** Options of {@link Linear}. */
export interface LinearOptions {
  /** Add a bias (default true). */
  bias?: boolean;
  /** Seed or generator for the initial weights (default: the {@link manualSeed} generator). */
  seed?: SeedLike;
  dtype?: DType;
  /**
   * Initialise the weight from N(0, initStd²) and the bias with zeros (Hugging Face's `_init_weights`
   * with `initializer_range`) instead of PyTorch's default kaiming-uniform.
   */
  initStd?: number;
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
    const std = options.initStd;
    if (std !== undefined) checkNumber('Linear', 'initStd', std, { min: 0 });
    const weightInit = (s: readonly number[]) =>
      std === undefined ? kaimingUniform(s, inFeatures, o) : initNormal(s, std, 0, o);
    const biasInit = (s: readonly number[]) =>
      std === undefined ? kaimingUniform(s, inFeatures, o) : initConstant(s, 0, options.dtype);
    this.weight = this.param('weight', [outFeatures, inFeatures], weightInit, {
      dtype: options.dtype,
      matrix: true,
    });
    this.bias =
      options.bias === false ? null : this.param('bias', [outFeatures], biasInit, { dtype: options.dtype });
  }

  /** x [..., in] → [..., out]. */
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}
