import {
  CAMERA_SLOTS,
  ROBOT_LAYOUTS,
  robotLayoutOf,
  type CameraSlot,
  type RobotLayout,
  type RobotName,
} from '@vla/robot-layouts';
import { LeRobotError } from './errors';
import { featureWidth, type DatasetInfo } from './info';

export { CAMERA_SLOTS, type CameraSlot };

/** Robots with a known layout (see `@vla/robot-layouts`); anything else maps generically. */
export type RobotKind = RobotName | 'generic';

/**
 * How a dataset's features become the model's state vector, action vector and camera slots.
 * Configuration is data: override any field when resolving.
 */
export interface RobotMapping {
  robot: RobotKind;
  /** Which key naming the dataset uses. */
  keyFamily: 'InternData-A1' | 'AgiBot-World' | 'LeRobot';
  /** Features concatenated, in order, into the state vector. */
  stateKeys: string[];
  /** Features concatenated, in order, into the action vector. */
  actionKeys: string[];
  /** Video/image feature feeding each slot; a missing slot becomes an all-ones image with mask false. */
  cameras: Partial<Record<CameraSlot, string>>;
  /** Per action dimension: true = relative to the current state (joints), false = absolute (grippers). */
  deltaMask: boolean[];
}

/** The delta mask of a robot: that of its first spelling in the layout table. */
function maskOf(robot: RobotName): boolean[] {
  return [...ROBOT_LAYOUTS.find((l) => l.robot === robot)!.deltaMask];
}

/**
 * Delta masks of the known robots (joint deltas, grippers absolute), by action dimension.
 * @deprecated Read `robotLayoutOf(robotType).deltaMask` from `@vla/robot-layouts`, which has every
 * upstream spelling; this view keeps one mask per robot.
 */
export const ROBOT_DELTA_MASKS: Record<RobotName, boolean[]> = Object.fromEntries(
  [...new Set(ROBOT_LAYOUTS.map((l) => l.robot))].map((r) => [r, maskOf(r)]),
) as Record<RobotName, boolean[]>;

// Spellings seen in the wild that upstream's table lacks, squashed (lower case, letters and digits).
const EXTRA_SPELLINGS: Record<string, RobotName> = {
  lift2: 'ARX Lift-2',
  acone: 'ARX AC One',
  agibotgenie1: 'Genie-1',
};

/**
 * Recognises a robot from `info.json`'s `robot_type`: any spelling in `@vla/robot-layouts` (exact,
 * or with case and punctuation ignored), plus a few common variants; anything else is `generic`.
 */
export function robotKindOf(robotType: string | null | undefined): RobotKind {
  const layout = robotLayoutOf(robotType);
  if (layout) return layout.robot;
  return EXTRA_SPELLINGS[(robotType ?? '').toLowerCase().replace(/[^a-z0-9]/g, '')] ?? 'generic';
}

const CAMERA_PATTERNS: [CameraSlot, RegExp][] = [
  ['hand_left', /left/i],
  ['hand_right', /right/i],
  ['head', /head|top|high|front|overhead|scene|main|base|exterior/i],
];

/** Guesses slots for generic `observation.images.*` keys by name; leftovers fill free slots in order. */
function guessCameras(keys: string[]): Partial<Record<CameraSlot, string>> {
  const out: Partial<Record<CameraSlot, string>> = {};
  const rest: string[] = [];
  for (const key of keys) {
    const name = key.slice(key.lastIndexOf('.') + 1);
    const slot = CAMERA_PATTERNS.find(([s, re]) => re.test(name) && !out[s])?.[0];
    if (slot) out[slot] = key;
    else rest.push(key);
  }
  for (const key of rest) {
    const free = CAMERA_SLOTS.find((s) => !out[s]);
    if (free) out[free] = key;
  }
  return out;
}

/** Key family of a list of state keys. */
function keyFamilyOf(stateKeys: readonly string[]): RobotMapping['keyFamily'] {
  if (stateKeys.some((k) => k.startsWith('states.'))) return 'InternData-A1';
  if (stateKeys.some((k) => k.startsWith('observation.states.'))) return 'AgiBot-World';
  return 'LeRobot';
}

/** The mapping a layout gives, when the dataset has every key it names; else undefined. */
function fromLayout(info: DatasetInfo, layout: RobotLayout, imageKeys: string[]): RobotMapping | undefined {
  const f = info.features;
  if (![...layout.stateKeys, ...layout.actionKeys].every((k) => f[k])) return undefined;
  const cameras: Partial<Record<CameraSlot, string>> = {};
  for (const s of CAMERA_SLOTS) {
    const k = layout.cameras[s];
    if (k && f[k]) cameras[s] = k;
  }
  return {
    robot: layout.robot,
    keyFamily: keyFamilyOf(layout.stateKeys),
    stateKeys: [...layout.stateKeys],
    actionKeys: [...layout.actionKeys],
    // A layout whose cameras the dataset lacks (upstream's single-image fallback) guesses by name.
    cameras: Object.keys(cameras).length > 0 ? cameras : guessCameras(imageKeys),
    deltaMask: [...layout.deltaMask],
  };
}

/**
 * Picks the feature mapping for a dataset from its `robot_type` and keys (SPEC §2). A `robot_type`
 * of `@vla/robot-layouts` whose keys the dataset has gives upstream's layout as is. Otherwise the
 * keys decide: InternData-A1 keys (`states.*.position`, `actions.*.position`, `images.rgb.*`),
 * AgiBot-World `a2d` keys (`observation.states.joint.position` + `effector.position`), or generic
 * LeRobot keys (`observation.state`, `action`, `observation.images.*`), with the robot's mask from
 * the layout table. `overrides` replace resolved fields.
 */
export function resolveRobotMapping(info: DatasetInfo, overrides: Partial<RobotMapping> = {}): RobotMapping {
  const f = info.features;
  const imageKeys = Object.keys(f).filter((k) => f[k].dtype === 'video' || f[k].dtype === 'image');
  const layout = robotLayoutOf(info.robotType);
  let mapping = layout ? fromLayout(info, layout, imageKeys) : undefined;
  let robot = robotKindOf(info.robotType);
  if (mapping) {
    // upstream's layout, as is
  } else if (f['states.left_joint.position']) {
    if (robot === 'generic')
      robot = featureWidth(f['states.left_joint.position']) === 7 ? 'Genie-1' : 'ARX Lift-2';
    const parts =
      robot === 'Genie-1'
        ? ['left_joint', 'right_joint', 'left_gripper', 'right_gripper']
        : ['left_joint', 'left_gripper', 'right_joint', 'right_gripper'];
    const cams: Partial<Record<CameraSlot, string>> = {};
    for (const s of CAMERA_SLOTS) if (f[`images.rgb.${s}`]) cams[s] = `images.rgb.${s}`;
    mapping = {
      robot,
      keyFamily: 'InternData-A1',
      stateKeys: parts.map((p) => `states.${p}.position`),
      actionKeys: parts.map((p) => `actions.${p}.position`),
      cameras: cams,
      deltaMask: maskOf(robot),
    };
  } else if (f['observation.states.joint.position']) {
    if (robot === 'generic') robot = 'Genie-1';
    const actionKeys = f['actions.joint.position']
      ? ['actions.joint.position', 'actions.effector.position']
      : f['action.joint.position']
        ? ['action.joint.position', 'action.effector.position']
        : ['action'];
    const cams: Partial<Record<CameraSlot, string>> = {};
    for (const s of CAMERA_SLOTS) if (f[`observation.images.${s}`]) cams[s] = `observation.images.${s}`;
    mapping = {
      robot,
      keyFamily: 'AgiBot-World',
      stateKeys: ['observation.states.joint.position', 'observation.states.effector.position'],
      actionKeys,
      cameras: cams,
      deltaMask: maskOf(robot),
    };
  } else {
    const actionDim = f.action ? featureWidth(f.action) : 0;
    const mask = robot === 'generic' ? undefined : maskOf(robot);
    mapping = {
      robot,
      keyFamily: 'LeRobot',
      stateKeys: ['observation.state'],
      actionKeys: ['action'],
      cameras: guessCameras(
        imageKeys.filter((k) => k.startsWith('observation.images.') || k.startsWith('observation.image')),
      ),
      // Without a known layout of this width every action is taken as absolute.
      deltaMask: mask && mask.length === actionDim ? mask : Array<boolean>(actionDim).fill(false),
    };
  }
  mapping = { ...mapping, ...overrides };
  validateMapping(info, mapping);
  return mapping;
}

/** Sum of the widths of features (state or action dimension). */
export function vectorDim(info: DatasetInfo, keys: string[]): number {
  return keys.reduce((a, k) => a + featureWidth(info.features[k]), 0);
}

/** Checks that every mapped key exists with a fitting type, and the delta mask fits. */
export function validateMapping(info: DatasetInfo, m: RobotMapping): void {
  for (const k of [...m.stateKeys, ...m.actionKeys]) {
    const spec = info.features[k];
    if (!spec)
      throw new LeRobotError(
        'invalid_argument',
        `robot mapping (${m.robot}): feature '${k}' is not in meta/info.json`,
      );
    if (spec.dtype === 'video' || spec.dtype === 'image' || spec.dtype === 'string') {
      throw new LeRobotError(
        'invalid_argument',
        `robot mapping (${m.robot}): feature '${k}' is ${spec.dtype}, not numeric`,
      );
    }
  }
  for (const [slot, k] of Object.entries(m.cameras)) {
    if (!k) continue;
    const spec = info.features[k];
    if (!spec || (spec.dtype !== 'video' && spec.dtype !== 'image')) {
      throw new LeRobotError(
        'invalid_argument',
        `robot mapping (${m.robot}): camera slot '${slot}' maps to '${k}', which is not a video feature`,
      );
    }
  }
  const actionDim = vectorDim(info, m.actionKeys);
  const stateDim = vectorDim(info, m.stateKeys);
  if (m.deltaMask.length !== actionDim) {
    throw new LeRobotError(
      'shape_mismatch',
      `robot mapping (${m.robot}): delta mask has ${m.deltaMask.length} entries but the action has ${actionDim} dims`,
    );
  }
  const lastDelta = m.deltaMask.lastIndexOf(true);
  if (lastDelta >= stateDim) {
    throw new LeRobotError(
      'shape_mismatch',
      `robot mapping (${m.robot}): delta dim ${lastDelta} has no matching state dim (state has ${stateDim})`,
    );
  }
}
