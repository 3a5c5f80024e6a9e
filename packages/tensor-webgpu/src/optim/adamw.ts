// AdamW (Loshchilov & Hutter) with PyTorch's update order, one fused kernel launch per parameter.
import { launchAdamW } from '../kernels/optimizer.js';
import type { Tensor } from '../tensor.js';
import {
  Optimizer,
  type OptimizerOptions,
  type ParamGroup,
  type ParamState,
  type StepContext,
} from './optimizer.js';
import { checkNumber } from '../ops/validate.js';

/** Options of {@link AdamW}; defaults follow the project's recipe. */
export interface AdamWOptions extends Partial<OptimizerOptions> {
  /** Learning rate or schedule (default 1e-3). */
  lr?: OptimizerOptions['lr'];
  /** (β1, β2), default (0.9, 0.95). */
  betas?: [number, number];
  /** Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay, default 0.01. */
  weightDecay?: number;
}

/**
 * AdamW: `m = β1·m + (1−β1)·g`, `v = β2·v + (1−β2)·g²`, `p = p·(1 − lr·wd) − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + eps)`,
 * with t counted per parameter. Each parameter is updated in place by one kernel launch that also
 * rewrites its m and v; with `maxGradNorm` the gradient is first scaled by the clipping coefficient.
 *
 * @example
 * const opt = new AdamW(model.parameters(), { lr: warmupCosineSchedule({...}), maxGradNorm: 1 });
 * tidy(() => { loss(model).backward(); opt.step(); opt.zeroGrad(); });
 */
export class AdamW extends Optimizer {
  protected readonly kind = 'AdamW';
  protected readonly bufferNames = ['exp_avg', 'exp_avg_sq'] as const;
  readonly betas: [number, number];
  readonly eps: number;

  constructor(params: Iterable<Tensor> | readonly ParamGroup[], options: AdamWOptions = {}) {
    super(params, {
      lr: options.lr ?? 1e-3,
      weightDecay: options.weightDecay ?? 0.01,
      maxGradNorm: options.maxGradNorm,
    });
    this.betas = options.betas ?? [0.9, 0.95];
    this.eps = options.eps ?? 1e-8;
    const [b1, b2] = this.betas;
    if (!(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1))
      throw new Error(`AdamW: betas must be in [0, 1), got [${b1}, ${b2}]`);
    checkNumber('AdamW', 'eps', this.eps, { above: 0 });
  }

  protected update(param: Tensor, grad: Tensor, state: ParamState, ctx: StepContext): void {
    launchAdamW(
      param,
      grad,
      state.buffers.exp_avg,
      state.buffers.exp_avg_sq,
      {
        lr: ctx.lr,
        beta1: this.betas[0],
        beta2: this.betas[1],
        eps: this.eps,
        weightDecay: ctx.weightDecay,
        step: state.step,
      },
      ctx.clip,
    );
  }
}
