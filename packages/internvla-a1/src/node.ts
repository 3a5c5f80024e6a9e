/**
 * `@vla/internvla-a1/node`: everything of the main entry plus what reads and writes files with Node's
 * file system — importing upstream checkpoints (`importUpstreamCheckpoint`, the shards behind them),
 * Hugging Face Qwen3-VL weights (`loadQwen3VLWeights`) and the streaming checkpoint writer.
 * @packageDocumentation
 */
export * from './index.js';
export * from './upstream/index.js';
