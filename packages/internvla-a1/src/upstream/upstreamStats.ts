// Upstream's normalisation statistics → our PolicyProcessor. Upstream's training saves the data
// statistics it normalised with as `stats.json` beside the weights (LeRobot per-feature stats:
// `{feature: {mean, std, min, max, q01, …}}`, lists per dim; NormalizeTransformFn uses
// `(x - mean) / (std + 1e-6)`). Our processor keeps one state and one action vector, so the features
// a robot layout names are concatenated in its order.
import {
  PolicyProcessor,
  PolicyProcessorError,
  UPSTREAM_PAD_SIZE,
  type GripperRule,
  type Normalization,
} from '../policyProcessor.js';
import type { InternVLAA1Config } from '../config.js';
import { UpstreamImportError } from './upstreamImportError.js';

/** How a robot's features form the policy's vectors (a dataset's robot mapping, as plain data). */
export interface UpstreamProcessorLayout {
  /** Robot type (`Genie-1`, `ARX Lift-2`, …). */
  robotType: string;
  /** Features concatenated, in order, into the state vector (keys of stats.json). */
  stateKeys: readonly string[];
  /** Features concatenated, in order, into the action vector. */
  actionKeys: readonly string[];
  /** Per action dim: true = delta from the current state (joints). */
  deltaMask: readonly boolean[];
  /** Camera names in view-slot order (one per view of the policy). */
  cameras: readonly string[];
  /** Names of the state dims (default `state_0…`). */
  stateNames?: readonly string[];
  /** Names of the action dims (default `action_0…`). */
  actionNames?: readonly string[];
  /** Default `mean_std` (upstream's mode). */
  normalization?: Normalization;
  /** Binary gripper dims, default none. */
  gripper?: GripperRule | null;
  /** Compact vocabulary of a small model (qwen3-vl `VocabRemap` ids), default none. */
  vocab?: readonly number[] | null;
}

type Field = 'mean' | 'std' | 'q01' | 'q99';

function vectorStats(
  stats: Record<string, unknown>,
  keys: readonly string[],
  src: string,
): Partial<Record<Field, number[]>> {
  const out: Partial<Record<Field, number[]>> = {};
  for (const field of ['mean', 'std', 'q01', 'q99'] as const) {
    const parts: number[] = [];
    let complete = true;
    for (const key of keys) {
      const s = stats[key];
      if (s === null || typeof s !== 'object')
        throw new UpstreamImportError(src, `has no statistics for feature ${key}`);
      const v = (s as Record<string, unknown>)[field];
      if (v === undefined) {
        if (field === 'mean' || field === 'std')
          throw new UpstreamImportError(src, `${key}.${field} is missing`);
        complete = false;
        continue;
      }
      // Scalars and [n] lists both occur; LeRobot also nests per-dim lists one level deep.
      const flat = Array.isArray(v) ? (v as unknown[]).flat(2) : [v];
      const bad = flat.findIndex((x) => typeof x !== 'number' || !Number.isFinite(x));
      if (bad >= 0)
        throw new UpstreamImportError(
          src,
          `${key}.${field}[${bad}] is ${JSON.stringify(flat[bad])}, not a finite number`,
        );
      parts.push(...(flat as number[]));
    }
    if (complete) out[field] = parts;
  }
  return out;
}

/**
 * Builds the processor of a converted checkpoint from upstream's parsed `stats.json` and a robot
 * layout. Throws {@link UpstreamImportError} naming the feature or field that is missing, malformed,
 * or does not fit the policy (e.g. more cameras than views).
 */
export function processorFromUpstreamStats(
  stats: unknown,
  layout: UpstreamProcessorLayout,
  config: InternVLAA1Config,
  source = 'stats.json',
): PolicyProcessor {
  if (stats === null || typeof stats !== 'object' || Array.isArray(stats))
    throw new UpstreamImportError(source, 'must hold a JSON object of per-feature statistics');
  const s = stats as Record<string, unknown>;
  const state = vectorStats(s, layout.stateKeys, source);
  const action = vectorStats(s, layout.actionKeys, source);
  const names = (given: readonly string[] | undefined, n: number, prefix: string) =>
    given ? [...given] : Array.from({ length: n }, (_, i) => `${prefix}_${i}`);
  try {
    const processor = PolicyProcessor.fromStats({
      robotType: layout.robotType,
      stateNames: names(layout.stateNames, state.mean!.length, 'state'),
      actionNames: names(layout.actionNames, action.mean!.length, 'action'),
      deltaMask: layout.deltaMask,
      cameras: layout.cameras,
      stats: {
        state: state as { mean: number[]; std: number[] },
        action: action as { mean: number[]; std: number[] },
      },
      normalization: layout.normalization ?? 'mean_std',
      imageSize: config.imageSize,
      // Released models were trained on upstream's pixels: resize-with-pad to 224², then the
      // Qwen3-VL processor (vision tower) and a bilinear copy (tokenizer).
      imagePipeline: 'upstream',
      padSize: UPSTREAM_PAD_SIZE,
      textLength: config.textTokens,
      chunkSize: config.chunkSize,
      policyDim: config.stateDim,
      gripper: layout.gripper ?? null,
      vocab: layout.vocab ?? null,
    });
    processor.checkFits(config);
    return processor;
  } catch (e) {
    if (!(e instanceof PolicyProcessorError)) throw e;
    throw new UpstreamImportError(source, `cannot make the processor: ${e.message}`);
  }
}
