// Shape of a Cosmos-style continuous image tokenizer. The released CI8x8 model is one point of this
// space; small widths make tokenizers that train in a browser tab.

/** Architecture of a {@link CosmosImageTokenizer}. */
export interface CosmosTokenizerConfig {
  /** Haar wavelet levels of the patcher (each halves H and W and multiplies channels by 4). */
  haarLevels: number;
  /** Image channels (3 for RGB). */
  inChannels: number;
  /** Base width; level `i` of the encoder outputs `channels * channelMult[i]`. */
  channels: number;
  /** Width multiplier per resolution level. */
  channelMult: readonly number[];
  /** ResBlocks per encoder level (the decoder uses one more per level, as upstream). */
  numResBlocks: number;
  /** How many of the first encoder levels end with a stride-2 Downsample (and decoder levels with an Upsample). */
  numDownsamples: number;
  /** Latent channels (16 for CI8x8). */
  latentChannels: number;
  /** GroupNorm groups (every width must be divisible by it). */
  groups: number;
  /** GroupNorm epsilon. */
  eps: number;
}

/** NVIDIA Cosmos-Tokenizer CI8x8: 3x256² → 16x32², encoder ≈ 31.2M and decoder ≈ 45.6M parameters. */
export const COSMOS_CI8X8: Readonly<CosmosTokenizerConfig> = Object.freeze({
  haarLevels: 2,
  inChannels: 3,
  channels: 128,
  channelMult: Object.freeze([2, 4, 4]),
  numResBlocks: 2,
  numDownsamples: 1,
  latentChannels: 16,
  groups: 32,
  eps: 1e-6,
});

/**
 * A small tokenizer with the same layout and compression as CI8x8 (8x8, 16 latent channels) but
 * widths 8/16/16 and one ResBlock per level: trainable from scratch in seconds.
 */
export const COSMOS_TINY: Readonly<CosmosTokenizerConfig> = Object.freeze({
  ...COSMOS_CI8X8,
  channels: 8,
  channelMult: Object.freeze([1, 2, 2]),
  numResBlocks: 1,
  groups: 4,
});

/** Total spatial compression factor: `2^haarLevels * 2^numDownsamples` (8 for CI8x8). */
export function spatialCompression(config: CosmosTokenizerConfig): number {
  return 2 ** config.haarLevels * 2 ** config.numDownsamples;
}

/** Throws an Error naming the bad field when a configuration cannot be built. */
export function validateTokenizerConfig(config: CosmosTokenizerConfig): void {
  const intFields: (keyof CosmosTokenizerConfig)[] = ['haarLevels', 'inChannels', 'channels', 'numResBlocks', 'numDownsamples', 'latentChannels', 'groups'];
  for (const f of intFields) {
    const v = config[f] as number;
    if (!Number.isInteger(v) || v < 0) throw new Error(`CosmosTokenizerConfig.${f} must be a non-negative integer, got ${v}`);
  }
  if (config.channels < 1 || config.inChannels < 1 || config.latentChannels < 1 || config.groups < 1 || config.numResBlocks < 1) {
    throw new Error('CosmosTokenizerConfig: channels, inChannels, latentChannels, groups and numResBlocks must be >= 1');
  }
  if (config.channelMult.length === 0) throw new Error('CosmosTokenizerConfig.channelMult must not be empty');
  if (config.numDownsamples >= config.channelMult.length) {
    throw new Error(`CosmosTokenizerConfig.numDownsamples (${config.numDownsamples}) must be < the number of levels (${config.channelMult.length})`);
  }
  for (const m of config.channelMult) {
    const w = config.channels * m;
    if (!Number.isInteger(m) || m < 1) throw new Error(`CosmosTokenizerConfig.channelMult entries must be positive integers, got ${m}`);
    if (w % config.groups !== 0) throw new Error(`CosmosTokenizerConfig: width ${w} (channels ${config.channels} x ${m}) is not divisible by groups ${config.groups}`);
  }
  if (config.channels % config.groups !== 0) throw new Error(`CosmosTokenizerConfig: channels ${config.channels} not divisible by groups ${config.groups}`);
  if (!(config.eps > 0)) throw new Error(`CosmosTokenizerConfig.eps must be > 0, got ${config.eps}`);
}
