import { makeBoolMask } from './boolMask';
import type { CameraSlot, LayoutGeneration, RobotLayout, RobotName } from './robotLayout';

// Key families of upstream's feature table.
const GENERIC = { state: ['observation.state'], action: ['action'] };
/** InternData-A1 bimanual, left side first: left arm, left gripper, right arm, right gripper. */
const INTERNDATA_SIDES = {
  state: ['left_joint', 'left_gripper', 'right_joint', 'right_gripper'].map((p) => `states.${p}.position`),
  action: ['left_joint', 'left_gripper', 'right_joint', 'right_gripper'].map((p) => `actions.${p}.position`),
};
/** InternData-A1 Genie-1: both arms, then both grippers. */
const INTERNDATA_ARMS_FIRST = {
  state: ['left_joint', 'right_joint', 'left_gripper', 'right_gripper'].map((p) => `states.${p}.position`),
  action: ['left_joint', 'right_joint', 'left_gripper', 'right_gripper'].map((p) => `actions.${p}.position`),
};
/** AgiBot World (`a2d`): all joints, then the two effectors. */
const AGIBOT_WORLD = {
  state: ['observation.states.joint.position', 'observation.states.effector.position'],
  action: ['actions.joint.position', 'actions.effector.position'],
};
/** InternData-A1 single arm. */
const INTERNDATA_SINGLE = {
  state: ['states.joint.position', 'states.gripper.position'],
  action: ['actions.joint.position', 'actions.gripper.position'],
};

// Camera families of upstream's image table.
const RGB_THREE = {
  head: 'images.rgb.head',
  hand_left: 'images.rgb.hand_left',
  hand_right: 'images.rgb.hand_right',
};
const RGB_HEAD_HAND = { head: 'images.rgb.head', hand_left: 'images.rgb.hand' };
/** Upstream's fallback for a spelling without an image entry. */
const SINGLE_IMAGE = { head: 'observation.image' };

const BIMANUAL_6 = [6, -1, 6, -1];
const BIMANUAL_7_ARMS_FIRST = [14, -2];
const SINGLE_7 = [7, -1];

function layout(
  robotType: string,
  robot: RobotName,
  generation: LayoutGeneration,
  maskRuns: number[],
  keys: { state: string[]; action: string[] },
  cameras: Partial<Record<CameraSlot, string>>,
): RobotLayout {
  return Object.freeze({
    robotType,
    robot,
    generation,
    maskRuns: Object.freeze([...maskRuns]),
    deltaMask: Object.freeze(makeBoolMask(...maskRuns)),
    stateKeys: Object.freeze([...keys.state]),
    actionKeys: Object.freeze([...keys.action]),
    cameras: Object.freeze({ ...cameras }),
  });
}

/**
 * Every `robot_type` upstream InternVLA-A1 has a delta mask for, spelled as upstream spells it,
 * with its delta mask, state/action feature keys and camera keys. A spelling upstream gives no
 * key (or image) entry gets upstream's fallback: `observation.state` / `action` (and
 * `observation.image` as the head camera). The single source of truth for robot layouts: the data
 * package resolves datasets with it and the robot packages check their embodiments against it.
 */
export const ROBOT_LAYOUTS: readonly RobotLayout[] = Object.freeze([
  // Spellings of the released InternData-A1 datasets.
  layout('Genie-1', 'Genie-1', 'a1-new', BIMANUAL_7_ARMS_FIRST, INTERNDATA_ARMS_FIRST, RGB_THREE),
  layout('ARX Lift-2', 'ARX Lift-2', 'a1-new', BIMANUAL_6, INTERNDATA_SIDES, RGB_THREE),
  layout('ARX AC One', 'ARX AC One', 'a1-new', BIMANUAL_6, INTERNDATA_SIDES, RGB_THREE),
  layout('AgileX Split Aloha', 'AgileX Split Aloha', 'a1-new', BIMANUAL_6, INTERNDATA_SIDES, RGB_THREE),
  layout('Franka', 'Franka', 'a1-new', SINGLE_7, INTERNDATA_SINGLE, RGB_HEAD_HAND),
  // Earlier snake_case spellings.
  layout('genie1', 'Genie-1', 'a1-old', BIMANUAL_7_ARMS_FIRST, INTERNDATA_ARMS_FIRST, RGB_THREE),
  // AgiBot World, recorded on Genie-1 robots.
  layout('a2d', 'Genie-1', 'a1-old', BIMANUAL_7_ARMS_FIRST, AGIBOT_WORLD, {
    head: 'observation.images.head',
    hand_left: 'observation.images.hand_left',
    hand_right: 'observation.images.hand_right',
  }),
  layout('arx_lift2', 'ARX Lift-2', 'a1-old', BIMANUAL_6, INTERNDATA_SIDES, RGB_THREE),
  // Upstream notes piper as split aloha (AgileX's Piper arms).
  layout('piper', 'AgileX Split Aloha', 'a1-old', BIMANUAL_6, INTERNDATA_SIDES, RGB_THREE),
  layout('split_aloha', 'AgileX Split Aloha', 'a1-old', BIMANUAL_6, GENERIC, SINGLE_IMAGE),
  layout('franka', 'Franka', 'a1-old', SINGLE_7, INTERNDATA_SINGLE, RGB_HEAD_HAND),
  layout('frankarobotiq', 'Franka', 'a1-old', SINGLE_7, GENERIC, SINGLE_IMAGE),
  // Public datasets: RoboTwin 2.0 (AgileX Aloha) and LIBERO (Panda, every dim a delta).
  layout('aloha', 'AgileX Aloha', 'other', BIMANUAL_6, GENERIC, {
    head: 'observation.images.cam_high',
    hand_left: 'observation.images.cam_left_wrist',
    hand_right: 'observation.images.cam_right_wrist',
  }),
  layout('panda', 'Panda', 'other', [7], GENERIC, {
    head: 'observation.images.image',
    hand_left: 'observation.images.image2',
  }),
]);

// Case, spaces, dashes and underscores ignored: `arx_lift2` and `ARX Lift-2` meet.
const squash = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]/g, '');

/**
 * The layout of a dataset's `robot_type`: the entry spelled exactly so, else the entry whose
 * spelling matches with case and punctuation ignored (all such entries agree on mask and keys),
 * else undefined.
 */
export function robotLayoutOf(robotType: string | null | undefined): RobotLayout | undefined {
  if (!robotType) return undefined;
  const exact = ROBOT_LAYOUTS.find((l) => l.robotType === robotType);
  if (exact) return exact;
  const s = squash(robotType);
  return ROBOT_LAYOUTS.find((l) => squash(l.robotType) === s);
}

/** Every upstream spelling of `robot`, in table order. */
export function robotTypesOf(robot: RobotName): string[] {
  return ROBOT_LAYOUTS.filter((l) => l.robot === robot).map((l) => l.robotType);
}

/**
 * Throws unless `mask` equals the delta mask upstream gives `robotType`; the message names the
 * robot type and the first differing dimension. Robot packages call it when they define an
 * embodiment, so a layout cannot drift from the table.
 */
export function assertDeltaMask(robotType: string, mask: readonly boolean[]): void {
  const l = robotLayoutOf(robotType);
  if (!l) throw new Error(`robot layouts: no layout for robot_type "${robotType}"`);
  if (mask.length !== l.deltaMask.length) {
    throw new Error(
      `robot layouts: "${robotType}" delta mask has ${mask.length} dims, upstream's has ${l.deltaMask.length}`,
    );
  }
  const i = mask.findIndex((m, k) => m !== l.deltaMask[k]);
  if (i >= 0) {
    throw new Error(
      `robot layouts: "${robotType}" dim ${i} is ${mask[i] ? 'delta' : 'absolute'}, upstream's mask says ${l.deltaMask[i] ? 'delta' : 'absolute'}`,
    );
  }
}
