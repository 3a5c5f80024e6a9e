/**
 * @vla/internvla-a1 — the assembled InternVLA-A1 policy: understanding (Qwen3-VL), generation
 * (visual foresight on Cosmos latents) and action (flow matching) experts in one
 * Mixture-of-Transformers, its training loss, KV-cached sampling and whole-policy checkpoints.
 * @packageDocumentation
 */
export {
  derivedSizes,
  expertConfigs,
  IMAGE_RECON_CELLS,
  PolicyConfigError,
  validatePolicyConfig,
} from './config.js';
export { firstSchemaIssue } from './schemaIssue.js';
export type { SchemaIssue } from './schemaIssue.js';
export type { DerivedSizes, ExpertSize, InternVLAA1Config, PolicyTokenIds } from './config.js';
export {
  a13bConfig,
  policyConfig,
  policyConfigNames,
  registerPolicyConfig,
  tinyConfig,
  tinyTokenIds,
} from './configs.js';
export type { TinyConfigOptions } from './configs.js';
export { checkBatch, checkObservation, encodePrompts } from './batch.js';
export type { EncodedPrompts, FrameLatents, PolicyBatch, PolicyObservation, ViewFrames } from './batch.js';
export { JointSequence } from './jointSequence.js';
export type { PositionScheme } from './jointSequence.js';
export { blockAr, internvlaLayout, internvlaValid } from './layout.js';
export type { InternVLALayout, InternVLALayoutOptions, InternVLAValidInput, SegmentRange } from './layout.js';
export { InternVLAA1Policy, SamplingContext } from './internvlaA1Policy.js';
export type {
  CreatePolicyOptions,
  ForesightProjections,
  LossOptions,
  ParameterCounts,
  PolicyLoss,
  PolicyOutput,
  SampleOptions,
  SampleResult,
} from './internvlaA1Policy.js';
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  CheckpointError,
  loadPolicy,
  loadPolicyBundle,
  loadPolicyWeights,
  readPolicyManifest,
  readPolicyProcessor,
  savePolicy,
} from './checkpoint.js';
export type {
  LoadPolicyOptions,
  ManifestTensor,
  PolicyBundle,
  PolicyManifest,
  SavePolicyOptions,
} from './checkpoint.js';
export { NORMALIZATION_EPS, PolicyProcessor, PolicyProcessorError } from './policyProcessor.js';
export type {
  FeatureStatsLike,
  FromStatsOptions,
  GripperRule,
  ImageBatchOptions,
  Normalization,
  PolicyImages,
  PolicyProcessorJson,
  PromptTokenizer,
  RgbFrame,
  VectorStats,
} from './policyProcessor.js';
// Upstream checkpoints without the file system (name map, configuration, stats); reading files is
// the Node-only entry `@vla/internvla-a1/node`.
export * from './upstream/index.js';
