// The continuous image tokenizer: encoder + quant_conv produce the latent, post_quant_conv + decoder
// map it back. No latent scaling (InternVLA-A1 uses the raw latent). Parameter names match the
// released TorchScript files (`encoder.*`, `quant_conv.*` in encoder.jit; `post_quant_conv.*`,
// `decoder.*` in decoder.jit), so a converted checkpoint loads with `loadStateDict`.
import { clamp, Conv2d, Module, shapeSize, tidy, type Tensor } from '@vla/tensor-webgpu';
import { COSMOS_CI8X8, spatialCompression, validateTokenizerConfig, type CosmosTokenizerConfig } from './config.js';
import { Decoder } from './decoder.js';
import { Encoder } from './encoder.js';

/** Cosmos-Tokenizer CI8x8-compatible image autoencoder. */
export class CosmosImageTokenizer extends Module {
  /** Image → pre-quantisation latent. */
  readonly encoder: Encoder;
  /** 1x1 convolution after the encoder. */
  readonly quantConv: Conv2d;
  /** 1x1 convolution before the decoder. */
  readonly postQuantConv: Conv2d;
  /** Latent → image. */
  readonly decoder: Decoder;
  /** The architecture. */
  readonly config: CosmosTokenizerConfig;

  constructor(config: CosmosTokenizerConfig = COSMOS_CI8X8) {
    super();
    validateTokenizerConfig(config);
    this.config = { ...config, channelMult: [...config.channelMult] };
    this.encoder = this.module('encoder', new Encoder(this.config));
    this.quantConv = this.module('quant_conv', new Conv2d(config.latentChannels, config.latentChannels, 1));
    this.postQuantConv = this.module('post_quant_conv', new Conv2d(config.latentChannels, config.latentChannels, 1));
    this.decoder = this.module('decoder', new Decoder(this.config));
  }

  /** Spatial compression factor (8 for CI8x8). */
  get compression(): number {
    return spatialCompression(this.config);
  }

  /** Latent shape for an image batch `[N, C, H, W]`: `[N, latentChannels, H/8, W/8]`. */
  latentShape(imageShape: readonly number[]): number[] {
    this.checkImage(imageShape);
    const f = this.compression;
    return [imageShape[0], this.config.latentChannels, imageShape[2] / f, imageShape[3] / f];
  }

  private checkImage(shape: readonly number[]): void {
    const f = this.compression;
    if (shape.length !== 4) throw new Error(`CosmosImageTokenizer: expected an NCHW image batch, got shape [${shape.join(', ')}]`);
    if (shape[1] !== this.config.inChannels) throw new Error(`CosmosImageTokenizer: expected ${this.config.inChannels} channels, got shape [${shape.join(', ')}]`);
    if (shape[2] % f !== 0 || shape[3] % f !== 0 || shape[2] === 0 || shape[3] === 0) {
      throw new Error(`CosmosImageTokenizer: H and W must be positive multiples of ${f}, got ${shape[2]}x${shape[3]}`);
    }
  }

  /** RGB in [-1, 1], `[N, 3, H, W]` with H, W multiples of 8 → latent `[N, 16, H/8, W/8]`. */
  encode(images: Tensor): Tensor {
    this.checkImage(images.shape);
    return tidy(() => this.quantConv.forward(this.encoder.forward(images)));
  }

  /** Latent `[N, 16, h, w]` → image `[N, 3, 8h, 8w]` (not clamped; see {@link CosmosImageTokenizer.decodeClamped}). */
  decode(latent: Tensor): Tensor {
    if (latent.rank !== 4 || latent.shape[1] !== this.config.latentChannels) {
      throw new Error(`CosmosImageTokenizer.decode: expected a latent [N, ${this.config.latentChannels}, h, w], got [${latent.shape.join(', ')}]`);
    }
    return tidy(() => this.decoder.forward(this.postQuantConv.forward(latent)));
  }

  /** {@link CosmosImageTokenizer.decode} clamped to [-1, 1], for display. */
  decodeClamped(latent: Tensor): Tensor {
    return tidy(() => clamp(this.decode(latent), -1, 1));
  }

  /** Reconstruction: `decode(encode(images))`. */
  forward(images: Tensor): Tensor {
    return tidy(() => this.decode(this.encode(images)));
  }

  /** Parameters of the encoder side (`encoder.*` and `quant_conv.*`, what encoder.jit holds). */
  numEncoderParameters(): number {
    return countWithPrefix(this, ['encoder.', 'quant_conv.']);
  }

  /** Parameters of the decoder side (`post_quant_conv.*` and `decoder.*`, what decoder.jit holds). */
  numDecoderParameters(): number {
    return countWithPrefix(this, ['post_quant_conv.', 'decoder.']);
  }
}

function countWithPrefix(m: Module, prefixes: string[]): number {
  let n = 0;
  for (const [name, spec] of m.namedSpecs()) {
    if (spec.kind === 'parameter' && prefixes.some((p) => name.startsWith(p))) n += shapeSize(spec.shape);
  }
  return n;
}
