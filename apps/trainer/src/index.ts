/**
 * @vla/trainer — `vla-train`: trains InternVLA-A1 on LeRobot datasets (one, or a mixture balanced
 * across ranks with LPT), with the policy's I/O layer built from the data and saved in every
 * checkpoint, cached tokenizer latents, exact resume, JSONL metrics and a self-contained HTML report.
 * @packageDocumentation
 */
export { train, stepSeed, TrainingDivergedError } from './train.js';
export type { TrainOptions, TrainProgress, TrainResult } from './train.js';
export {
  deepMerge,
  parseTrainConfig,
  policyConfigOf,
  TRAIN_PRESETS,
  TrainConfigError,
  trainConfigSchema,
  withPreset,
} from './trainConfig.js';
export type { TrainConfig, TrainConfigInput } from './trainConfig.js';
export {
  CHECKPOINT_FILES,
  checkpointName,
  latestCheckpoint,
  loadOptimizerState,
  loadTrainCheckpoint,
  readTrainState,
  saveTrainCheckpoint,
  TRAIN_STATE_FORMAT,
  TRAIN_STATE_VERSION,
  TrainCheckpointError,
} from './trainerCheckpoint.js';
export type {
  FileDigest,
  LoadedTrainCheckpoint,
  SaveTrainCheckpointOptions,
  TrainState,
} from './trainerCheckpoint.js';
export { singleProcess } from './collective.js';
export type { RankInfo, TrainCollective } from './collective.js';
export { DEFAULT_BUCKET_BYTES, mpiCollective, planBuckets } from './mpiCollective.js';
export type { MpiCollectiveOptions, MpiCommunicator } from './mpiCollective.js';
export { evaluateInSim, runEpisodes } from './evaluate.js';
export type { EpisodeHooks, EpisodeOutcome, EpisodeSettings, EvalResult, EvalSettings } from './evaluate.js';
export { openTrainingData, TrainingData } from './data/trainingData.js';
export type {
  DataPosition,
  DatasetSpec,
  OpenTrainingDataOptions,
  RankDataset,
  TrainingBatch,
  TrainingSample,
} from './data/trainingData.js';
export { toPolicyBatch } from './data/policyBatch.js';
export { shiftCurrentFrames, shiftFrame } from './data/randomShift.js';
export { processorFromDatasets } from './data/processorFromDatasets.js';
export type { ProcessorDataset, ProcessorFromDatasetsOptions } from './data/processorFromDatasets.js';
export { TrainingDataError } from './data/trainingDataError.js';
export { gatherLatents, LatentCache } from './data/latentCache.js';
export type { LatentBatchEntry, LatentCacheOptions, LatentDtype } from './data/latentCache.js';
export type { LatentFileStamp, LatentFingerprintInputs } from './data/latentFingerprint.js';
export * from './report/index.js';
