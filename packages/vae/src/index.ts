/**
 * @vla/vae — a Cosmos-Tokenizer CI8x8-compatible continuous image tokenizer on WebGPU: Haar patcher,
 * encoder, decoder with upstream parameter names, and a small training loop.
 * @packageDocumentation
 */
export { COSMOS_CI8X8, COSMOS_TINY, spatialCompression, validateTokenizerConfig } from './config.js';
export type { CosmosTokenizerConfig } from './config.js';
export { haarLevel, inverseHaarLevel, haarPatch, haarUnpatch } from './haar.js';
export { ResBlock } from './resBlock.js';
export type { NormOptions } from './resBlock.js';
export { AttnBlock } from './attnBlock.js';
export { Downsample, Upsample } from './sampling.js';
export { MidBlock } from './midBlock.js';
export { Encoder, EncoderLevel } from './encoder.js';
export { Decoder, DecoderLevel } from './decoder.js';
export { CosmosImageTokenizer } from './tokenizer.js';
export { cosmosTokenizerInput } from './cosmosInput.js';
export type { CosmosTokenizerInputOptions } from './cosmosInput.js';
export { loadCosmosWeights, isIgnoredCosmosKey } from './weights.js';
export { reconstructionLoss } from './loss.js';
export type { ReconstructionLossOptions } from './loss.js';
export { trainTokenizer } from './train.js';
export type { TrainTokenizerOptions } from './train.js';
