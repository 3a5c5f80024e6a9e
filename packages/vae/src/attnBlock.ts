// Cosmos AttnBlock: one attention head over the H*W positions, GroupNorm then 1x1 q/k/v convolutions,
// softmax(q·k / sqrt(C)), 1x1 proj_out, residual. Runs through the fused attention op.
import { add, contiguous, Conv2d, GroupNorm, Module, reshape, scaledDotProductAttention, tidy, transpose, unsqueeze, type Tensor } from '@vla/tensor-webgpu';
import type { NormOptions } from './resBlock.js';

/** Single-head spatial self-attention block (parameters `norm q k v proj_out`). */
export class AttnBlock extends Module {
  /** GroupNorm before the projections. */
  readonly norm: GroupNorm;
  /** 1x1 query projection. */
  readonly q: Conv2d;
  /** 1x1 key projection. */
  readonly k: Conv2d;
  /** 1x1 value projection. */
  readonly v: Conv2d;
  /** 1x1 output projection. */
  readonly projOut: Conv2d;

  constructor(
    readonly channels: number,
    norm: NormOptions,
  ) {
    super();
    this.norm = this.module('norm', new GroupNorm(norm.groups, channels, { eps: norm.eps }));
    this.q = this.module('q', new Conv2d(channels, channels, 1));
    this.k = this.module('k', new Conv2d(channels, channels, 1));
    this.v = this.module('v', new Conv2d(channels, channels, 1));
    this.projOut = this.module('proj_out', new Conv2d(channels, channels, 1));
  }

  /** [N, C, H, W] → [N, C, H, W]. */
  forward(x: Tensor): Tensor {
    const [n, c, h, w] = x.shape;
    return tidy(() => {
      const hn = this.norm.forward(x);
      // [N, C, H, W] → [N, 1, HW, C]: one head whose features are the channels.
      const seq = (t: Tensor) => unsqueeze(contiguous(transpose(reshape(t, [n, c, h * w]), 1, 2)), 1);
      const o = scaledDotProductAttention(seq(this.q.forward(hn)), seq(this.k.forward(hn)), seq(this.v.forward(hn)), { scale: 1 / Math.sqrt(c) });
      const img = reshape(contiguous(transpose(reshape(o, [n, h * w, c]), 1, 2)), [n, c, h, w]);
      return add(x, this.projOut.forward(img));
    });
  }
}
