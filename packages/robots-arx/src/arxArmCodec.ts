import { applyMap, type LinearMap } from '@vla/robot-core';

/** The arm fields common to arm_control/JointInformation, JointControl and arx5_arm_msg/RobotStatus. */
export interface ArxArmFields {
  /** Joints 1–6 (rad) then the gripper (index 6). */
  readonly joint_pos?: ArrayLike<number>;
}

/**
 * Copy one arm's feedback into the state vector: `joint_pos[0..5]` → dims `offset..offset+5`,
 * `gripperToRobot(joint_pos[6])` → dim `offset+6`. Returns false (writes nothing useful) when the array
 * is shorter than 7 or holds a non-number or non-finite value.
 */
export function readArxArm(
  msg: ArxArmFields,
  state: Float64Array,
  offset: number,
  gripperToRobot: LinearMap,
): boolean {
  const p = msg.joint_pos;
  if (!p || typeof p.length !== 'number' || p.length < 7) return false;
  for (let i = 0; i < 7; i++) if (typeof p[i] !== 'number' || !Number.isFinite(p[i])) return false;
  for (let i = 0; i < 6; i++) state[offset + i] = p[i];
  state[offset + 6] = applyMap(gripperToRobot, p[6]);
  return true;
}

/** The 7 `joint_pos` values of one arm's command: joints in rad, then `gripperToMessage(gripper)`. */
export function arxArmJointPos(
  positions: readonly number[],
  offset: number,
  gripperToMessage: LinearMap,
): number[] {
  const out = positions.slice(offset, offset + 7);
  out[6] = applyMap(gripperToMessage, out[6]);
  return out;
}

/** Seven zeros, for the velocity and current fields of position commands. */
export const ZERO7: readonly number[] = Object.freeze([0, 0, 0, 0, 0, 0, 0]);
