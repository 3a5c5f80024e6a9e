// The gated MLP of Qwen/LLaMA-style transformers with Hugging Face parameter names:
// down_proj(act(gate_proj(x)) * up_proj(x)).
import type { DType } from '../dtype.js';
import { gelu, mul, silu, type SeedLike } from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import { initGenerator } from './init.js';
import { Linear } from './linear.js';
import { Module } from './module.js';
import { checkNumber, checkOneOf } from '../ops/validate.js';

/** Options of {@link SwiGLU}. */
export interface SwiGLUOptions {
  /** Biases on the three projections (default false, as in Qwen). */
  bias?: boolean;
  /** Gate activation: 'silu' (SwiGLU, default), 'gelu' or 'gelu_tanh' (GeGLU, as in Gemma/PaliGemma). */
  activation?: 'silu' | 'gelu' | 'gelu_tanh';
  seed?: SeedLike;
  dtype?: DType;
  /** Initialise the projections from N(0, initStd²) (see `LinearOptions.initStd`). */
  initStd?: number;
}

/** `down_proj(act(gate_proj(x)) ⊙ up_proj(x))` with gate/up [intermediate, hidden] and down [hidden, intermediate]. */
export class SwiGLU extends Module {
  readonly gateProj: Linear;
  readonly upProj: Linear;
  readonly downProj: Linear;
  readonly activation: NonNullable<SwiGLUOptions['activation']>;

  constructor(
    readonly hiddenSize: number,
    readonly intermediateSize: number,
    options: SwiGLUOptions = {},
  ) {
    super();
    checkNumber('SwiGLU', 'hiddenSize', hiddenSize, { integer: true, min: 1 });
    checkNumber('SwiGLU', 'intermediateSize', intermediateSize, { integer: true, min: 1 });
    const activation = checkOneOf('SwiGLU', 'activation', options.activation ?? 'silu', [
      'silu',
      'gelu',
      'gelu_tanh',
    ] as const);
    const o = {
      bias: options.bias ?? false,
      seed: initGenerator(options.seed),
      dtype: options.dtype,
      initStd: options.initStd,
    };
    this.gateProj = this.module('gate_proj', new Linear(hiddenSize, intermediateSize, o));
    this.upProj = this.module('up_proj', new Linear(hiddenSize, intermediateSize, o));
    this.downProj = this.module('down_proj', new Linear(intermediateSize, hiddenSize, o));
    this.activation = activation;
  }

  /** x [..., hidden] → [..., hidden]. */
  forward(x: Tensor): Tensor {
    const g = this.gateProj.forward(x);
    const a =
      this.activation === 'silu'
        ? silu(g)
        : gelu(g, { approximate: this.activation === 'gelu_tanh' ? 'tanh' : 'none' });
    return this.downProj.forward(mul(a, this.upProj.forward(x)));
  }
}
