// Cosmos encoder: Haar patcher → conv_in → levels of ResBlocks (the first `numDownsamples` levels end
// with a stride-2 Downsample) → mid → GroupNorm → SiLU → conv_out to the latent width.
import { Conv2d, GroupNorm, Module, ModuleList, silu, tidy, type Tensor } from '@vla/tensor-webgpu';
import { validateTokenizerConfig, type CosmosTokenizerConfig } from './config.js';
import { haarPatch } from './haar.js';
import { MidBlock } from './midBlock.js';
import { ResBlock, type NormOptions } from './resBlock.js';
import { Downsample } from './sampling.js';

/** One encoder resolution level: `block.{j}` and, for the first levels, `downsample`. */
export class EncoderLevel extends Module {
  /** Residual blocks of this level. */
  readonly block: ModuleList<ResBlock>;
  /** Stride-2 downsampling at the end of the level, or null. */
  readonly downsample: Downsample | null;
  constructor(inChannels: number, outChannels: number, numBlocks: number, withDownsample: boolean, norm: NormOptions) {
    super();
    const blocks: ResBlock[] = [];
    for (let j = 0; j < numBlocks; j++) blocks.push(new ResBlock(j === 0 ? inChannels : outChannels, outChannels, norm));
    this.block = this.module('block', new ModuleList(blocks));
    this.downsample = withDownsample ? this.module('downsample', new Downsample(outChannels)) : null;
  }
  /** Runs the blocks, then the optional downsampling. */
  forward(x: Tensor): Tensor {
    return tidy(() => {
      let h = x;
      for (const b of this.block) h = b.forward(h);
      return this.downsample ? this.downsample.forward(h) : h;
    });
  }
}

/** Image → pre-quantisation latent `[N, latentChannels, H/8, W/8]` (parameter names `conv_in down.{i} mid norm_out conv_out`). */
export class Encoder extends Module {
  /** 3x3 convolution from the Haar channels to the base width. */
  readonly convIn: Conv2d;
  /** Resolution levels. */
  readonly down: ModuleList<EncoderLevel>;
  /** Res/Attn/Res at the lowest resolution. */
  readonly mid: MidBlock;
  /** Final GroupNorm. */
  readonly normOut: GroupNorm;
  /** 3x3 convolution to the latent width. */
  readonly convOut: Conv2d;

  constructor(readonly config: CosmosTokenizerConfig) {
    super();
    validateTokenizerConfig(config);
    const norm = { groups: config.groups, eps: config.eps };
    const haarChannels = config.inChannels * 4 ** config.haarLevels;
    this.convIn = this.module('conv_in', new Conv2d(haarChannels, config.channels, 3, { padding: 1 }));
    const levels: EncoderLevel[] = [];
    let width = config.channels;
    config.channelMult.forEach((m, i) => {
      const out = config.channels * m;
      levels.push(new EncoderLevel(width, out, config.numResBlocks, i < config.numDownsamples, norm));
      width = out;
    });
    this.down = this.module('down', new ModuleList(levels));
    this.mid = this.module('mid', new MidBlock(width, norm));
    this.normOut = this.module('norm_out', new GroupNorm(config.groups, width, { eps: config.eps }));
    this.convOut = this.module('conv_out', new Conv2d(width, config.latentChannels, 3, { padding: 1 }));
  }

  /** RGB `[N, C, H, W]` (values in [-1, 1]) → `[N, latentChannels, H/8, W/8]` before `quant_conv`. */
  forward(x: Tensor): Tensor {
    return tidy(() => {
      let h = this.convIn.forward(haarPatch(x, this.config.haarLevels));
      for (const level of this.down) h = level.forward(h);
      h = this.mid.forward(h);
      return this.convOut.forward(silu(this.normOut.forward(h)));
    });
  }
}
