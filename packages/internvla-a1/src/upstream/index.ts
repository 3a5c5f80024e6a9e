// Importing upstream InternVLA-A1 checkpoints and Hugging Face Qwen3-VL weights.
export { UpstreamImportError } from './upstreamImportError.js';
export {
  classifyUpstreamKey,
  upstreamToVlaName,
  vlaToUpstreamName,
  UPSTREAM_LM_HEAD,
  EMBED_TOKENS,
} from './upstreamNames.js';
export type { UpstreamKeyClass } from './upstreamNames.js';
export { inferUpstreamConfig } from './upstreamConfig.js';
export type { InferUpstreamConfigOptions, UpstreamShapes } from './upstreamConfig.js';
export { openShards, INDEX_FILE, SINGLE_FILE } from './upstreamFiles.js';
export type { OpenedShards } from './upstreamFiles.js';
export { processorFromUpstreamStats } from './upstreamStats.js';
export type { UpstreamProcessorLayout } from './upstreamStats.js';
export { writeCheckpointStream } from './checkpointStream.js';
export type {
  CheckpointFloatDtype,
  RawTensor,
  StreamedTensor,
  StreamProgress,
  WriteCheckpointStreamOptions,
} from './checkpointStream.js';
export { importUpstreamCheckpoint } from './importUpstreamCheckpoint.js';
export type {
  ImportUpstreamOptions,
  MappedTensor,
  UpstreamImportReport,
} from './importUpstreamCheckpoint.js';
export { loadQwen3VLWeights, UND_EXPERT_PREFIX } from './qwen3VLWeights.js';
export type { Qwen3VLLoadReport } from './qwen3VLWeights.js';
