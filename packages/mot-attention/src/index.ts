/**
 * Mixture-of-Transformers attention for InternVLA-A1: per-expert layers joined by one grouped-query
 * attention, the cumulative segment mask, Qwen3-VL M-RoPE positions and a KV cache for inference.
 * @packageDocumentation
 */
export { MASK_VALUE, segmentMask, segmentMaskTensor } from './segmentMask.js';
export type { Flags, HostMask, MaskTensorOptions, SegmentMaskInput } from './segmentMask.js';
export { blockAr, internvlaLayout, internvlaValid } from './internvlaLayout.js';
export type {
  InternVLALayout,
  InternVLALayoutOptions,
  InternVLAValidInput,
  SegmentRange,
} from './internvlaLayout.js';
export { mropeMaxPosition, mropePositions, mropeSegmentLength, sliceMropeIds } from './mropePositions.js';
export type { MropeIds, MropeOptions, MropeSegment } from './mropePositions.js';
export { mropeRope } from './mropeRope.js';
export type { MropeRopeOptions } from './mropeRope.js';
export { ExpertAttention, ExpertLayer, checkExperts } from './expertLayer.js';
export type { ExpertConfig, Qkv } from './expertLayer.js';
export { MoTLayer } from './motLayer.js';
export type { LayerKV, MoTLayerContext, MoTLayerOutput, RopeTables } from './motLayer.js';
export { ExpertStack, MoTStack } from './motStack.js';
export type { MoTForwardOptions } from './motStack.js';
export { KVCache } from './kvCache.js';
export type { KVCacheOptions } from './kvCache.js';
