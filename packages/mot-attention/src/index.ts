/**
 * Mixture-of-Transformers attention: per-expert layers joined by one grouped-query attention, the
 * cumulative segment mask and a KV cache for inference. Positions come in as rotary tables (the
 * model that owns the experts decides them: Qwen3-VL's M-RoPE for InternVLA-A1).
 * @packageDocumentation
 */
export { MASK_VALUE, segmentMask, segmentMaskTensor } from './segmentMask.js';
export type { Flags, HostMask, MaskTensorOptions, SegmentMaskInput } from './segmentMask.js';
export { ExpertAttention, ExpertLayer, checkExperts } from './expertLayer.js';
export type { ExpertConfig, Qkv } from './expertLayer.js';
export { MoTLayer } from './motLayer.js';
export type { LayerKV, MoTLayerContext, MoTLayerOutput, RopeTables } from './motLayer.js';
export { ExpertStack, MoTStack } from './motStack.js';
export type { ExpertWeights, MoTForwardOptions } from './motStack.js';
export { KVCache } from './kvCache.js';
export type { KVCacheOptions } from './kvCache.js';
