// Stochastic gradient descent with optional (Nesterov) momentum, as torch.optim.SGD.
import { launchSgd } from '../kernels/optimizer.js';
import type { Tensor } from '../tensor.js';
import {
  Optimizer,
  type OptimizerOptions,
  type ParamGroup,
  type ParamState,
  type StepContext,
} from './optimizer.js';
import { checkNumber } from '../ops/validate.js';

/** Options of {@link SGD}. */
export interface SGDOptions extends OptimizerOptions {
  /** Momentum factor (default 0: no momentum buffer). */
  momentum?: number;
  /** Dampening of the momentum (default 0). */
  dampening?: number;
  /** Nesterov momentum (default false). */
  nesterov?: boolean;
}

/**
 * SGD: `d = g + wd·p`; with momentum `b = d` on the first step, else `b = μ·b + (1−dampening)·d`, and
 * `d = b` (or `d + μ·b` with Nesterov); then `p = p − lr·d`. One fused kernel launch per parameter.
 */
export class SGD extends Optimizer {
  protected readonly kind = 'SGD';
  protected readonly bufferNames: readonly string[];
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;

  constructor(params: Iterable<Tensor> | readonly ParamGroup[], options: SGDOptions) {
    super(params, options);
    this.momentum = options.momentum ?? 0;
    this.dampening = options.dampening ?? 0;
    this.nesterov = options.nesterov ?? false;
    checkNumber('SGD', 'momentum', this.momentum, { min: 0 });
    checkNumber('SGD', 'dampening', this.dampening);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0))
      throw new Error('SGD: Nesterov momentum needs momentum > 0 and zero dampening');
    this.bufferNames = this.momentum > 0 ? ['momentum_buffer'] : [];
  }

  protected update(param: Tensor, grad: Tensor, state: ParamState, ctx: StepContext): void {
    launchSgd(
      param,
      grad,
      this.momentum > 0 ? state.buffers.momentum_buffer : null,
      {
        lr: ctx.lr,
        momentum: this.momentum,
        dampening: this.dampening,
        weightDecay: ctx.weightDecay,
        nesterov: this.nesterov,
        first: state.step === 1,
      },
      ctx.clip,
    );
  }
}
