/**
 * @vla/qwen3-vl — the understanding expert of InternVLA-A1: a Qwen3-VL vision tower and Qwen3 text
 * decoder with HF parameter names, its multimodal rotary positions (M-RoPE), the Qwen3 tokenizer and
 * the prompt layout.
 * @packageDocumentation
 */
export { QWEN3_VL_2B, tinyQwen3VLConfig, validateQwen3VLConfig } from './config.js';
export type { Qwen3VLConfig, Qwen3VLVisionConfig, Qwen3TextConfig } from './config.js';
export { Qwen3Tokenizer, QWEN3_SPECIAL_IDS, QWEN3_SPECIAL_TOKENS, QWEN3_PAD_ID } from './tokenizer.js';
export type { TextTokenizer } from './tokenizer.js';
export { VocabRemap } from './vocabRemap.js';
export { buildPrefixLayout, buildPrefix, prefixSegments, prefixPositions } from './promptLayout.js';
export type { PrefixLayout, PrefixLayoutOptions } from './promptLayout.js';
export { mropeMaxPosition, mropePositions, mropeSegmentLength, sliceMropeIds } from './mropePositions.js';
export type { MropeIds, MropeOptions, MropeSegment } from './mropePositions.js';
export { mropeRope } from './mropeRope.js';
export type { MropeRopeOptions } from './mropeRope.js';
export {
  mergeBlockOrder,
  posEmbedInterpolation,
  visionRotaryAngles,
  smartResize,
} from './visionPositions.js';
export type { PosEmbedInterpolation, SmartResizeOptions } from './visionPositions.js';
export { prepareImages } from './imagePreprocess.js';
export type { PrepareImagesOptions } from './imagePreprocess.js';
export {
  preprocessQwen3VLImage,
  processedImageSize,
  resampleAntialiased,
  QWEN3_VL_2B_IMAGE_PROCESSOR,
} from './imageProcessor.js';
export type { Qwen3VLImageProcessorConfig, Qwen3VLImagePatches, AntialiasFilter } from './imageProcessor.js';
export {
  Qwen3VLVisionModel,
  PatchEmbed,
  PatchEmbedProj,
  VisionAttention,
  VisionMLP,
  VisionBlock,
  PatchMerger,
} from './visionTower.js';
export type { VisionOutput } from './visionTower.js';
export { Qwen3TextModel, textExpertConfig } from './textModel.js';
export { Qwen3VLModel } from './qwen3VLModel.js';
export type { PrefixInputs } from './qwen3VLModel.js';
export { hfKeyToLocal, localKeyToHf, convertHfStateDict } from './hfNames.js';
export type { HfKeyOptions } from './hfNames.js';
