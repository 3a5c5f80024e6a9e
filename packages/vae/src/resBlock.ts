// Cosmos ResnetBlock: conv2(SiLU(GN2(conv1(SiLU(GN1(x)))))) + shortcut, with a 1x1 `nin_shortcut`
// only when the width changes (upstream names, so converted checkpoints load unchanged).
import { add, Conv2d, GroupNorm, Module, silu, tidy, type Tensor } from '@vla/tensor-webgpu';

/** Options shared by the tokenizer's blocks. */
export interface NormOptions {
  /** GroupNorm groups (32 upstream). */
  groups: number;
  /** GroupNorm epsilon (1e-6 upstream). */
  eps: number;
}

/** Residual block of two 3x3 convolutions with GroupNorm and SiLU (parameters `norm1 conv1 norm2 conv2 [nin_shortcut]`). */
export class ResBlock extends Module {
  /** First GroupNorm (over the input width). */
  readonly norm1: GroupNorm;
  /** First 3x3 convolution, in → out. */
  readonly conv1: Conv2d;
  /** Second GroupNorm (over the output width). */
  readonly norm2: GroupNorm;
  /** Second 3x3 convolution, out → out. */
  readonly conv2: Conv2d;
  /** 1x1 projection of the residual, present only when in ≠ out. */
  readonly ninShortcut: Conv2d | null;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    norm: NormOptions,
  ) {
    super();
    this.norm1 = this.module('norm1', new GroupNorm(norm.groups, inChannels, { eps: norm.eps }));
    this.conv1 = this.module('conv1', new Conv2d(inChannels, outChannels, 3, { padding: 1 }));
    this.norm2 = this.module('norm2', new GroupNorm(norm.groups, outChannels, { eps: norm.eps }));
    this.conv2 = this.module('conv2', new Conv2d(outChannels, outChannels, 3, { padding: 1 }));
    this.ninShortcut = inChannels !== outChannels ? this.module('nin_shortcut', new Conv2d(inChannels, outChannels, 1)) : null;
  }

  /** [N, in, H, W] → [N, out, H, W]. */
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const h = this.conv1.forward(silu(this.norm1.forward(x)));
      const o = this.conv2.forward(silu(this.norm2.forward(h)));
      return add(this.ninShortcut ? this.ninShortcut.forward(x) : x, o);
    });
  }
}
