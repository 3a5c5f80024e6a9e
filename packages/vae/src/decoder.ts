// Cosmos decoder: conv_in → mid → levels from the lowest resolution up (`up.{i}` is processed from the
// last index down; the deepest `numDownsamples` levels end with an Upsample) → GroupNorm → SiLU →
// conv_out to the Haar channels → inverse Haar.
import { Conv2d, GroupNorm, Module, ModuleList, silu, tidy, type Tensor } from '@vla/tensor-webgpu';
import { validateTokenizerConfig, type CosmosTokenizerConfig } from './config.js';
import { haarUnpatch } from './haar.js';
import { MidBlock } from './midBlock.js';
import { ResBlock, type NormOptions } from './resBlock.js';
import { Upsample } from './sampling.js';

/** One decoder resolution level: `block.{j}` and, for the deepest levels, `upsample`. */
export class DecoderLevel extends Module {
  /** Residual blocks of this level. */
  readonly block: ModuleList<ResBlock>;
  /** Nearest x2 + conv at the end of the level, or null. */
  readonly upsample: Upsample | null;
  constructor(inChannels: number, outChannels: number, numBlocks: number, withUpsample: boolean, norm: NormOptions) {
    super();
    const blocks: ResBlock[] = [];
    for (let j = 0; j < numBlocks; j++) blocks.push(new ResBlock(j === 0 ? inChannels : outChannels, outChannels, norm));
    this.block = this.module('block', new ModuleList(blocks));
    this.upsample = withUpsample ? this.module('upsample', new Upsample(outChannels)) : null;
  }
  /** Runs the blocks, then the optional upsampling. */
  forward(x: Tensor): Tensor {
    return tidy(() => {
      let h = x;
      for (const b of this.block) h = b.forward(h);
      return this.upsample ? this.upsample.forward(h) : h;
    });
  }
}

/** Latent (after `post_quant_conv`) → image (parameter names `conv_in mid up.{i} norm_out conv_out`). */
export class Decoder extends Module {
  /** 3x3 convolution from the latent width to the deepest width. */
  readonly convIn: Conv2d;
  /** Res/Attn/Res at the lowest resolution. */
  readonly mid: MidBlock;
  /** Resolution levels, indexed like the encoder's (index 0 = highest resolution). */
  readonly up: ModuleList<DecoderLevel>;
  /** Final GroupNorm. */
  readonly normOut: GroupNorm;
  /** 3x3 convolution to the Haar channels. */
  readonly convOut: Conv2d;

  constructor(readonly config: CosmosTokenizerConfig) {
    super();
    validateTokenizerConfig(config);
    const norm = { groups: config.groups, eps: config.eps };
    const nLevels = config.channelMult.length;
    let width = config.channels * config.channelMult[nLevels - 1];
    this.convIn = this.module('conv_in', new Conv2d(config.latentChannels, width, 3, { padding: 1 }));
    this.mid = this.module('mid', new MidBlock(width, norm));
    // Built deepest first (the order they run), registered by level index like upstream's `up.insert(0, ...)`.
    const levels: DecoderLevel[] = new Array(nLevels);
    for (let i = nLevels - 1; i >= 0; i--) {
      const out = config.channels * config.channelMult[i];
      const withUpsample = i !== 0 && nLevels - 1 - i < config.numDownsamples;
      levels[i] = new DecoderLevel(width, out, config.numResBlocks + 1, withUpsample, norm);
      width = out;
    }
    this.up = this.module('up', new ModuleList(levels));
    this.normOut = this.module('norm_out', new GroupNorm(config.groups, width, { eps: config.eps }));
    const haarChannels = config.inChannels * 4 ** config.haarLevels;
    this.convOut = this.module('conv_out', new Conv2d(width, haarChannels, 3, { padding: 1 }));
  }

  /** `[N, latentChannels, h, w]` → image `[N, C, 8h, 8w]`. */
  forward(z: Tensor): Tensor {
    return tidy(() => {
      let h = this.mid.forward(this.convIn.forward(z));
      for (let i = this.up.length - 1; i >= 0; i--) h = this.up.at(i).forward(h);
      h = this.convOut.forward(silu(this.normOut.forward(h)));
      return haarUnpatch(h, this.config.haarLevels);
    });
  }
}
