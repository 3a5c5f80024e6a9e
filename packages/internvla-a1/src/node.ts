/**
 * `@vla/internvla-a1/node`: everything of the main entry plus what reads and writes files with Node's
 * file system — importing upstream checkpoints (`importUpstreamCheckpoint`, the shards behind them),
 * Hugging Face Qwen3-VL weights (`loadQwen3VLWeights`) and the streaming checkpoint writer.
 * @packageDocumentation
 */
export * from './index.js';
export { openShards, INDEX_FILE, SINGLE_FILE } from './upstream/upstreamFiles.js';
export type { OpenedShards } from './upstream/upstreamFiles.js';
export { writeCheckpointStream } from './upstream/checkpointStream.js';
export type {
  CheckpointFloatDtype,
  RawTensor,
  StreamedTensor,
  StreamProgress,
  WriteCheckpointStreamOptions,
} from './upstream/checkpointStream.js';
export { importUpstreamCheckpoint } from './upstream/importUpstreamCheckpoint.js';
export type {
  ImportUpstreamOptions,
  MappedTensor,
  UpstreamImportReport,
} from './upstream/importUpstreamCheckpoint.js';
export { loadQwen3VLWeights, UND_EXPERT_PREFIX } from './upstream/qwen3VLWeights.js';
export type { Qwen3VLLoadReport } from './upstream/qwen3VLWeights.js';
