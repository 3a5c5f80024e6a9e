import { applyMap, type LinearMap } from '@vla/robot-core';

/** The arm fields common to arm_control/JointInformation, JointControl and arx5_arm_msg/RobotStatus. */
export interface ArxArmFields {
  /** Joints 1–6 (rad) then the gripper (index 6). */
  readonly joint_pos?: ArrayLike<number>;
}

/**
 * Copy one arm's feedback into the state vector: `joint_pos[0..5]` → dims `offset..offset+5`,
 * `gripperToRobot(joint_pos[6])` → dim `offset+6`. Throws an Error naming the field and value, writing
 * nothing, unless `joint_pos` is an array (or typed array) of exactly 7 finite numbers. How far the
 * values may lie outside the limits is the driver's check, not the codec's.
 */
export function readArxArm(
  msg: ArxArmFields,
  state: Float64Array,
  offset: number,
  gripperToRobot: LinearMap,
): boolean {
  const p: unknown = msg?.joint_pos;
  const isArray = Array.isArray(p) || (ArrayBuffer.isView(p) && !(p instanceof DataView));
  if (!isArray) {
    const what = p === null ? 'null' : Array.isArray(p) ? 'array' : typeof p;
    throw new Error(`joint_pos is ${what === 'object' ? 'an object' : what}, not an array of 7 numbers`);
  }
  const a = p as ArrayLike<unknown>;
  if (a.length !== 7) throw new Error(`joint_pos has ${a.length} values, expected 7`);
  for (let i = 0; i < 7; i++) {
    const v = a[i];
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new Error(
        `joint_pos[${i}] = ${typeof v === 'number' ? v : String(JSON.stringify(v)).slice(0, 40)} is not a finite number`,
      );
  }
  const q = a as ArrayLike<number>;
  for (let i = 0; i < 6; i++) state[offset + i] = q[i];
  state[offset + 6] = applyMap(gripperToRobot, q[6]);
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
