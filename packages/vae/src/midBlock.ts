// The middle of both encoder and decoder: ResBlock, AttnBlock, ResBlock at the lowest resolution.
import { Module, tidy, type Tensor } from '@vla/tensor-webgpu';
import { AttnBlock } from './attnBlock.js';
import { ResBlock, type NormOptions } from './resBlock.js';

/** `block_1`, `attn_1`, `block_2` at constant width. */
export class MidBlock extends Module {
  /** First residual block. */
  readonly block1: ResBlock;
  /** Spatial self-attention. */
  readonly attn1: AttnBlock;
  /** Second residual block. */
  readonly block2: ResBlock;
  constructor(channels: number, norm: NormOptions) {
    super();
    this.block1 = this.module('block_1', new ResBlock(channels, channels, norm));
    this.attn1 = this.module('attn_1', new AttnBlock(channels, norm));
    this.block2 = this.module('block_2', new ResBlock(channels, channels, norm));
  }
  /** [N, C, H, W] → [N, C, H, W]. */
  forward(x: Tensor): Tensor {
    return tidy(() => this.block2.forward(this.attn1.forward(this.block1.forward(x))));
  }
}
