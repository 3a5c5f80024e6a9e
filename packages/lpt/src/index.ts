/** Load-balanced Parallel Training: dataset-to-rank assignment, mixture weights and rank-local sampling */
export {
  assignDatasets,
  datasetsForRank,
  makespan,
  compareBySizeThenId,
  type DatasetSize,
  type RankShare,
  type Assignment,
} from './assignDatasets';
export {
  mixtureWeights,
  rankMixture,
  type MixtureRule,
  type MixtureOptions,
  type DatasetWeight,
  type GroupWeight,
  type Mixture,
} from './mixtureWeights';
export { RankSampler, type WeightedDataset, type RankSamplerOptions, type FrameSample } from './rankSampler';
export { Xoshiro128 } from './xoshiro128';
export { resolveLauncher, type LauncherKind, type LauncherOptions, type LauncherInfo } from './launcherEnv';
export { loadReport, formatLoadReport, type RankLoad, type LoadReport } from './loadReport';
export { openRankDatasets, type OpenRankDatasetsOptions } from './openRankDatasets';
