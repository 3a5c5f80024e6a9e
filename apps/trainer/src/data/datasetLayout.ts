// What a dataset looks like to the policy's I/O layer: the robot, the names of the state and action
// dims, and which action dims are deltas. Every dataset of a run must agree on it (one processor
// normalises them all), and a processor brought from a checkpoint must fit it.
import { PolicyProcessorError, type InternVLAA1Config, type PolicyProcessor } from '@vla/internvla-a1';
import {
  CAMERA_SLOTS,
  featureWidth,
  type DatasetInfo,
  type FeatureSpec,
  type RobotMapping,
} from '@vla/lerobot';
import { TrainingDataError } from './trainingDataError.js';

/** A dataset's state/action layout as the processor records it. */
export interface DatasetLayout {
  /** The known robot's name (`Genie-1`, `ARX Lift-2`, …), else info.json's `robot_type`, else `generic`. */
  robotType: string;
  /** One name per state dim, from info.json `names` (else `state_0…`). */
  stateNames: string[];
  /** One name per action dim, from info.json `names` (else `action_0…`). */
  actionNames: string[];
  /** The resolved mapping's delta mask (per action dim). */
  deltaMask: boolean[];
}

/** The component names of a feature: a list, or a dict holding one list (`{ motors: [...] }`); else null. */
function featureNames(spec: FeatureSpec | undefined, width: number): string[] | null {
  const n = spec?.names;
  const list = Array.isArray(n)
    ? n
    : n !== null && typeof n === 'object' && Object.values(n).length === 1
      ? Object.values(n)[0]
      : null;
  if (!Array.isArray(list) || list.length !== width) return null;
  return list.every((x) => typeof x === 'string' && x.length > 0) ? (list as string[]) : null;
}

/**
 * Names of the dims a list of features concatenates into: info.json's names when every feature has
 * them (each prefixed with its feature key when names would repeat across features), else
 * `${fallback}_0…`.
 */
function vectorNames(info: DatasetInfo, keys: readonly string[], fallback: string): string[] {
  const parts = keys.map((k) => {
    const spec = info.features[k];
    const width = featureWidth(spec);
    return { key: k, width, names: featureNames(spec, width) };
  });
  const total = parts.reduce((a, p) => a + p.width, 0);
  const generic = Array.from({ length: total }, (_, i) => `${fallback}_${i}`);
  if (parts.some((p) => p.names === null)) return generic;
  const plain = parts.flatMap((p) => p.names!);
  if (new Set(plain).size === plain.length) return plain;
  const prefixed = parts.flatMap((p) => p.names!.map((n) => `${p.key}.${n}`));
  return new Set(prefixed).size === prefixed.length ? prefixed : generic;
}

/** The layout of a dataset under a resolved robot mapping. */
export function datasetLayout(info: DatasetInfo, mapping: RobotMapping): DatasetLayout {
  return {
    robotType: mapping.robot !== 'generic' ? mapping.robot : (info.robotType ?? 'generic'),
    stateNames: vectorNames(info, mapping.stateKeys, 'state'),
    actionNames: vectorNames(info, mapping.actionKeys, 'action'),
    deltaMask: [...mapping.deltaMask],
  };
}

const list = (v: readonly unknown[]) => `[${v.map((x) => JSON.stringify(x)).join(', ')}]`;

/**
 * Throws a {@link TrainingDataError} naming both datasets and the field when two layouts differ
 * (robot type, state names, action names or delta mask, in that order).
 */
export function checkSameLayout(layouts: readonly { id: string; layout: DatasetLayout }[]): void {
  const [first, ...rest] = layouts;
  for (const other of rest) {
    const a = first.layout;
    const b = other.layout;
    const diff = (field: string, x: unknown, y: unknown) =>
      new TrainingDataError(
        `datasets '${first.id}' and '${other.id}' cannot be mixed: ${field} ${String(x)} vs ${String(y)} ` +
          `(every dataset of a run shares one state/action layout and robot type)`,
        other.id,
      );
    if (a.robotType !== b.robotType)
      throw diff('robot type', JSON.stringify(a.robotType), JSON.stringify(b.robotType));
    for (const field of ['stateNames', 'actionNames', 'deltaMask'] as const) {
      const x = a[field];
      const y = b[field];
      if (x.length !== y.length || x.some((v, i) => v !== y[i]))
        throw diff(field, `${list(x)} (${x.length} dims)`, `${list(y)} (${y.length} dims)`);
    }
  }
}

/** View-slot names of the first `config.views` slots: the processor's cameras for LeRobot data. */
export function viewCameras(config: InternVLAA1Config): string[] {
  if (config.views > CAMERA_SLOTS.length)
    throw new TrainingDataError(
      `config.views is ${config.views}, but LeRobot datasets feed at most ${CAMERA_SLOTS.length} view slots (${CAMERA_SLOTS.join(', ')})`,
    );
  return CAMERA_SLOTS.slice(0, config.views);
}

/**
 * Checks a processor (from a checkpoint) against a dataset's layout and the model configuration:
 * robot type, state and action names, the cameras and the sizes; the delta mask only when
 * `checkDeltaMask` (the dataset's mapping states one: a known robot or an explicit override —
 * otherwise the processor's mask is the one the data is trained with).
 */
export function checkProcessorFits(
  processor: PolicyProcessor,
  config: InternVLAA1Config,
  id: string,
  layout: DatasetLayout,
  checkDeltaMask: boolean,
): void {
  const p = processor.json;
  const fail = (field: string, got: string, want: string) =>
    new TrainingDataError(
      `the processor does not fit dataset '${id}': processor.${field} is ${got}, the dataset has ${want}`,
      id,
    );
  if (p.robotType !== layout.robotType)
    throw fail('robotType', JSON.stringify(p.robotType), JSON.stringify(layout.robotType));
  const fields: ('stateNames' | 'actionNames' | 'deltaMask')[] = ['stateNames', 'actionNames'];
  if (checkDeltaMask) fields.push('deltaMask');
  for (const field of fields) {
    const x: readonly unknown[] = p[field];
    const y: readonly unknown[] = layout[field];
    if (x.length !== y.length || x.some((v, i) => v !== y[i]))
      throw fail(field, `${list(x)} (${x.length} dims)`, `${list(y)} (${y.length} dims)`);
  }
  checkProcessorConfig(processor, config);
}

/**
 * Throws a {@link TrainingDataError} naming the field when the processor was built for other sizes
 * (`PolicyProcessor.checkFits`) or other view slots than the model's.
 */
export function checkProcessorConfig(processor: PolicyProcessor, config: InternVLAA1Config): void {
  try {
    processor.checkFits(config);
  } catch (e) {
    if (!(e instanceof PolicyProcessorError)) throw e;
    throw new TrainingDataError(`the processor does not fit the model: processor.${e.field} ${e.problem}`);
  }
  const cams = viewCameras(config);
  if (list(processor.json.cameras) !== list(cams))
    throw new TrainingDataError(
      `the processor does not fit the model: processor.cameras is ${list(processor.json.cameras)}, config.views gives ${list(cams)}`,
    );
}
