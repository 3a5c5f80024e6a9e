// Environment-neutral API shared by the Node and browser entries.
export { LeRobotError, type LeRobotErrorCode } from './errors';
export { type DatasetStorage, type ByteRange } from './storage';
export {
  parseInfo,
  readInfo,
  formatPathTemplate,
  featureWidth,
  videoKeys,
  INFO_PATH,
  INDEX_KEYS,
  MAX_FEATURE_VALUES,
  type DatasetInfo,
  type FeatureSpec,
  type CodebaseVersion,
} from './info';
export { readMeta, type DatasetMeta, type EpisodeMeta, type VideoSegment } from './metadata';
export { openParquet, type ParquetFile } from './parquetFile';
export {
  LeRobotDataset,
  DEFAULT_TOLERANCE_S,
  type OpenDatasetOptions,
  type EpisodeFrames,
  type NumericColumn,
} from './dataset';
export { readMp4Index, closestFrame, type Mp4Index, type Mp4Sample } from './mp4Index';
export { type VideoFrameDecoder, type VideoDecodeRequest } from './videoDecoder';
export {
  computeFeatureStats,
  StreamingFeatureStats,
  computeImageStats,
  aggregateFeatureStats,
  aggregateStats,
  parseStats,
  statsToJson,
  imageStatsSampleIndices,
  imageStatsSampleCount,
  imageStatsStride,
  QUANTILES,
  STAT_KEYS,
  type FeatureStats,
  type DatasetStats,
  type StatsFlavor,
  type ComputeStatsOptions,
  type QuantileKey,
} from './stats';
export {
  DeltaActionStats,
  computeDeltaActionStats,
  type ActionStatsMode,
  type DeltaActionStatsOptions,
  type DeltaActionStatsResult,
  type EpisodeColumn,
} from './deltaActionStats';
export {
  deltaWindow,
  secondsToFrameOffsets,
  DEFAULT_IMAGE_OFFSETS,
  DEFAULT_ACTION_OFFSETS,
  type DeltaWindow,
} from './deltaTimestamps';
export {
  resolveRobotMapping,
  validateMapping,
  robotKindOf,
  vectorDim,
  CAMERA_SLOTS,
  ROBOT_DELTA_MASKS,
  type RobotMapping,
  type RobotKind,
  type CameraSlot,
} from './robotMapping';
export { resizeWithPad, padLayout, toSignedUnitFloat, type PadLayout } from './resizeWithPad';
export {
  resizeWithPadPlanar,
  upstreamPadLayout,
  type ResizeWithPadMethod,
  type ResizeWithPadPlanarOptions,
} from './resizeWithPad';
export { normalizeInPlace, unnormalizeInPlace, concatStats, NORM_EPS } from './normalize';
export {
  SampleBuilder,
  type SampleBuilderOptions,
  type Sample,
  type SampleMeta,
  type NormStats,
} from './sampleBuilder';
export { BatchLoader, type BatchLoaderOptions, type Batch, type SampleSource } from './batchLoader';
export { collateSamples, type CollatedBatch } from './collate';
export { SeededRandom, seededPermutation } from './rng';
export { LruCache } from './lru';
