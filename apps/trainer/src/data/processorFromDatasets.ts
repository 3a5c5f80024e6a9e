// The policy's I/O layer for a run, made from its datasets: their shared layout, statistics of exactly
// what the model trains on (the state, and the action chunk after the delta conversion), the view
// slots and sizes of the model, and — for a model with a small vocabulary — a compact vocabulary that
// holds every task string of every dataset.
import {
  PolicyProcessor,
  type GripperRule,
  type InternVLAA1Config,
  type Normalization,
} from '@vla/internvla-a1';
import {
  SampleBuilder,
  computeDeltaActionStats,
  type LeRobotDataset,
  type NormStats,
  type RobotMapping,
} from '@vla/lerobot';
import { QWEN3_VL_2B, Qwen3Tokenizer, VocabRemap } from '@vla/qwen3-vl';
import { checkSameLayout, datasetLayout, viewCameras } from './datasetLayout.js';
import { combineNormStats } from './mixtureStats.js';
import { TrainingDataError } from './trainingDataError.js';

/** One dataset of a run, opened, with its mapping overrides. */
export interface ProcessorDataset {
  /** Name used in errors (the dataset id of the run). */
  id: string;
  /** The opened dataset (no video decoder needed: only parquet rows are read). */
  dataset: LeRobotDataset;
  /** Overrides of the resolved robot mapping (keys, cameras, delta mask). */
  mapping?: Partial<RobotMapping>;
}

/** Options of {@link processorFromDatasets}. */
export interface ProcessorFromDatasetsOptions {
  /** Default `mean_std` (SPEC §2). `quantile` on a mixture uses the bounding rule of `combineFeatureStats`. */
  normalization?: Normalization;
  /**
   * Delta mask for every dataset, replacing the resolved mappings' (a generic robot has none: all
   * actions absolute). A dataset's own `mapping.deltaMask` is overridden by this one.
   */
  deltaMask?: readonly boolean[];
  /** Binary gripper dims of the robot (snapped at execution); default none. */
  gripper?: GripperRule | null;
  /**
   * Which rows the statistics describe. `every-position` (default): the state over every frame,
   * the actions over every in-episode position of every chunk. `upstream`: as upstream's
   * `compute_norm_stats` — only full in-episode chunks, episodes shorter than the chunk skipped.
   */
  statsRows?: 'every-position' | 'upstream';
}

/** Size of Qwen3's full vocabulary: a config with fewer token ids gets a compact vocabulary. */
export const QWEN3_VOCAB_SIZE = QWEN3_VL_2B.text.vocabSize;

/** Frame offsets of a config's action chunk (0 … chunkSize − 1). */
export function actionOffsets(config: InternVLAA1Config): number[] {
  return Array.from({ length: config.chunkSize }, (_, i) => i);
}

/** Every task string of the datasets, each once, in dataset order then task-index order. */
export function taskStrings(datasets: readonly { dataset: LeRobotDataset }[]): string[] {
  const seen = new Set<string>();
  for (const { dataset } of datasets) {
    const tasks = [...dataset.meta.tasks.entries()].sort((a, b) => a[0] - b[0]);
    for (const [, t] of tasks) seen.add(t);
  }
  return [...seen];
}

/**
 * The compact vocabulary of a model whose vocabulary is smaller than Qwen3's: Qwen's special tokens
 * and every token of `tasks`; null for a full-vocabulary model. Throws naming both sizes when the
 * tasks need more ids than the model has.
 */
export async function compactVocabulary(
  config: InternVLAA1Config,
  tasks: readonly string[],
): Promise<VocabRemap | null> {
  const vocab = config.vlm.text.vocabSize;
  if (vocab >= QWEN3_VOCAB_SIZE) return null;
  const remap = VocabRemap.fromTexts(await Qwen3Tokenizer.load(), tasks);
  if (remap.size > vocab)
    throw new TrainingDataError(
      `the task strings of the datasets need a compact vocabulary of ${remap.size} ids ` +
        `(${tasks.length} tasks, unknown id included), more than the model's vocabSize ${vocab}; ` +
        `use a model with a larger vocabulary`,
    );
  return remap;
}

/**
 * Builds the run's `PolicyProcessor` from one dataset or a mixture (async: reads every parquet
 * of every dataset once, and the tokenizer):
 * - layout: state/action names from info.json `names` (else `state_i` / `action_i`), the robot type
 *   and the delta mask of the resolved mapping (`options.deltaMask` replaces it). Every dataset must
 *   share it: a {@link TrainingDataError} names the two datasets and the field otherwise.
 * - statistics: `SampleBuilder.computeNormStats` with the config's action chunk — the state over
 *   every frame, the actions over every in-episode chunk position after the delta conversion — and
 *   for a mixture the statistics of all frames together (`combineNormStats`: exact mean and
 *   std; q01/q99 by the bounding rule).
 * - cameras: the first `config.views` view slots (`head`, `hand_left`, `hand_right`); sizes from the
 *   config; a compact vocabulary of every task string when the config's vocabulary is smaller than
 *   Qwen3's (`compactVocabulary`).
 * The processor comes back with its tokenizer loaded.
 */
export async function processorFromDatasets(
  datasets: readonly ProcessorDataset[],
  config: InternVLAA1Config,
  options: ProcessorFromDatasetsOptions = {},
): Promise<PolicyProcessor> {
  if (datasets.length === 0) throw new TrainingDataError('processorFromDatasets: no datasets given');
  const cameras = viewCameras(config);
  const resolved = datasets.map(({ id, dataset, mapping }) => {
    const overrides = options.deltaMask ? { ...mapping, deltaMask: [...options.deltaMask] } : mapping;
    let builder: SampleBuilder;
    try {
      builder = new SampleBuilder(dataset, {
        mapping: overrides,
        imageSize: 'native',
        actionOffsets: actionOffsets(config),
        deltaActions: true,
        normStats: null,
        padDim: config.stateDim,
      });
    } catch (e) {
      throw new TrainingDataError(`dataset '${id}': ${(e as Error).message}`, id);
    }
    return { id, builder, layout: datasetLayout(dataset.info, builder.mapping) };
  });
  checkSameLayout(resolved);
  const stats: NormStats[] = [];
  // One dataset at a time: each pass holds one episode, and this is a one-off cost.
  for (const r of resolved)
    stats.push(
      options.statsRows === 'upstream'
        ? (
            await computeDeltaActionStats(r.builder.dataset, r.builder.mapping, {
              chunkSize: config.chunkSize,
            })
          ).normStats
        : await r.builder.computeNormStats(),
    );
  const combined = combineNormStats(stats);
  const normalization = options.normalization ?? 'mean_std';
  if (normalization === 'quantile' && !(combined.state.q01 && combined.actions.q01))
    throw new TrainingDataError('quantile normalization needs q01/q99 statistics, which were not computed');
  const vocab = await compactVocabulary(config, taskStrings(datasets));
  const { layout } = resolved[0];
  const processor = PolicyProcessor.fromStats({
    robotType: layout.robotType,
    stateNames: layout.stateNames,
    actionNames: layout.actionNames,
    deltaMask: layout.deltaMask,
    cameras,
    stats: { state: combined.state, action: combined.actions },
    normalization,
    imageSize: config.imageSize,
    textLength: config.textTokens,
    chunkSize: config.chunkSize,
    policyDim: config.stateDim,
    gripper: options.gripper ?? null,
    vocab,
  });
  return processor.loadTokenizer();
}
