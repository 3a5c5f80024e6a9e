import { LeRobotError } from './errors';
import { featureWidth, type DatasetInfo } from './info';

/** The three camera inputs of the model. */
export type CameraSlot = 'head' | 'hand_left' | 'hand_right';

/** Camera slots in model order. */
export const CAMERA_SLOTS: readonly CameraSlot[] = ['head', 'hand_left', 'hand_right'];

/** Robots with a known layout; anything else maps generically. */
export type RobotKind = 'Genie-1' | 'ARX Lift-2' | 'ARX AC One' | 'generic';

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

/** Delta masks of the known robots (joint deltas, grippers absolute), by action dimension. */
export const ROBOT_DELTA_MASKS: Record<Exclude<RobotKind, 'generic'>, boolean[]> = {
  // L arm 7, R arm 7, L gripper, R gripper
  'Genie-1': [...Array<boolean>(14).fill(true), false, false],
  // L arm 6, L gripper, R arm 6, R gripper
  'ARX Lift-2': [...Array<boolean>(6).fill(true), false, ...Array<boolean>(6).fill(true), false],
  'ARX AC One': [...Array<boolean>(6).fill(true), false, ...Array<boolean>(6).fill(true), false],
};

/** Recognises a robot from `info.json`'s `robot_type` (case, spaces and dashes ignored). */
export function robotKindOf(robotType: string | null | undefined): RobotKind {
  const t = (robotType ?? '').toLowerCase().replace(/[^a-z0-9]/g, '');
  if (t === 'genie1' || t === 'a2d' || t === 'agibotgenie1') return 'Genie-1';
  if (t === 'arxlift2' || t === 'lift2') return 'ARX Lift-2';
  if (t === 'arxacone' || t === 'acone') return 'ARX AC One';
  return 'generic';
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

/**
 * Picks the feature mapping for a dataset from its keys and `robot_type` (SPEC §2):
 * InternData-A1 keys (`states.*.position`, `actions.*.position`, `images.rgb.*`), AgiBot-World
 * `a2d` keys (`observation.states.joint.position` + `effector.position`), or generic LeRobot
 * keys (`observation.state`, `action`, `observation.images.*`). `overrides` replace resolved fields.
 */
export function resolveRobotMapping(info: DatasetInfo, overrides: Partial<RobotMapping> = {}): RobotMapping {
  const f = info.features;
  let robot = robotKindOf(info.robotType);
  let mapping: RobotMapping;
  const imageKeys = Object.keys(f).filter((k) => f[k].dtype === 'video' || f[k].dtype === 'image');
  if (f['states.left_joint.position']) {
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
      deltaMask: ROBOT_DELTA_MASKS[robot],
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
      deltaMask: ROBOT_DELTA_MASKS[robot],
    };
  } else {
    const actionDim = f.action ? featureWidth(f.action) : 0;
    const known = robot !== 'generic' && ROBOT_DELTA_MASKS[robot].length === actionDim;
    mapping = {
      robot,
      keyFamily: 'LeRobot',
      stateKeys: ['observation.state'],
      actionKeys: ['action'],
      cameras: guessCameras(
        imageKeys.filter((k) => k.startsWith('observation.images.') || k.startsWith('observation.image')),
      ),
      // Without a known layout every action is taken as absolute.
      deltaMask: known
        ? ROBOT_DELTA_MASKS[robot as Exclude<RobotKind, 'generic'>]
        : Array<boolean>(actionDim).fill(false),
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
