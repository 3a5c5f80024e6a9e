import {
  RosbridgeRobot,
  applyMap,
  invertMap,
  rosHeader,
  type LinearMap,
  type RosConnectionOptions,
} from '@vla/robot-core';
import { GENIE1 } from './genie1Embodiment.js';

/** Topics of the Genie-1 simulator's ROS 2 interface; every one can be overridden. */
export interface Genie1Topics {
  /** sensor_msgs/JointState feedback. Default `/joint_states`. */
  readonly jointStates: string;
  /** sensor_msgs/JointState targets. Default `/sim/target_joint_state`. */
  readonly command: string;
  /** sensor_msgs/CompressedImage per camera. Defaults `/sim/head_img`, `/sim/left_wrist_img`, `/sim/right_wrist_img`. */
  readonly head: string;
  readonly hand_left: string;
  readonly hand_right: string;
}

/** Default topic map, as seen in public Genie Sim client code. */
export const GENIE1_TOPICS: Genie1Topics = Object.freeze({
  jointStates: '/joint_states',
  command: '/sim/target_joint_state',
  head: '/sim/head_img',
  hand_left: '/sim/left_wrist_img',
  hand_right: '/sim/right_wrist_img',
});

/**
 * Vendor joint names per dim of {@link GENIE1} (`idx21_arm_l_joint1` … `idx67_arm_r_joint7`, grippers
 * `idx41_gripper_l_outer_joint1` and `idx81_gripper_r_outer_joint1`).
 */
export const GENIE1_JOINT_NAMES: Readonly<Record<string, string>> = Object.freeze({
  ...Object.fromEntries(
    Array.from({ length: 7 }, (_, k) => [`left_joint${k + 1}`, `idx2${k + 1}_arm_l_joint${k + 1}`]),
  ),
  ...Object.fromEntries(
    Array.from({ length: 7 }, (_, k) => [`right_joint${k + 1}`, `idx6${k + 1}_arm_r_joint${k + 1}`]),
  ),
  left_gripper: 'idx41_gripper_l_outer_joint1',
  right_gripper: 'idx81_gripper_r_outer_joint1',
});

/** Options of {@link createGenie1Driver}. */
export interface Genie1DriverOptions extends RosConnectionOptions {
  /** Topic overrides. */
  readonly topics?: Partial<Genie1Topics>;
  /** Joint-name overrides, keyed by dim name. */
  readonly jointNames?: Partial<Record<string, string>>;
  /**
   * Gripper joint position in /joint_states → opening width (m). Default `width = 0.125 · q`: the
   * simulator's outer gripper joint reads 0 closed … 0.8 rad open (assumed from public client code).
   */
  readonly gripperState?: LinearMap;
  /**
   * Opening width (m) → gripper value in /sim/target_joint_state. Default `10 · width`: the simulator
   * takes 0 = closed … 1 = open (assumed from public client code).
   */
  readonly gripperCommand?: LinearMap;
}

interface JointStateMsg {
  readonly name?: readonly string[];
  readonly position?: readonly number[];
}

const show = (v: unknown) => (typeof v === 'number' ? String(v) : String(JSON.stringify(v)).slice(0, 40));

// /joint_states may carry more joints (head, waist) in any order; all 16 of ours must be there, once,
// with a finite position. Throws naming the field and value; writes nothing unless all are good.
function readGenie1JointState(
  msg: JointStateMsg,
  state: Float64Array,
  names: readonly string[],
  isGripper: readonly boolean[],
  gripperState: LinearMap,
): boolean {
  const { name, position } = msg ?? {};
  if (!Array.isArray(name)) throw new Error(`name is ${show(name)}, not an array`);
  if (!Array.isArray(position)) throw new Error(`position is ${show(position)}, not an array`);
  if (position.length !== name.length)
    throw new Error(`position has ${position.length} values for ${name.length} names`);
  const at = new Map<unknown, number>();
  name.forEach((n, i) => at.set(n, at.has(n) ? -1 : i));
  const values = names.map((joint) => {
    const k = at.get(joint);
    if (k === undefined) throw new Error(`joint "${joint}" is missing`);
    if (k < 0) throw new Error(`joint "${joint}" appears more than once`);
    const q: unknown = position[k];
    if (typeof q !== 'number' || !Number.isFinite(q))
      throw new Error(`position of "${joint}" = ${show(q)} is not a finite number`);
    return q;
  });
  values.forEach((q, i) => (state[i] = isGripper[i] ? applyMap(gripperState, q) : q));
  return true;
}

/**
 * A Genie-1 driver for its simulator's ROS 2 interface over rosbridge: reads sensor_msgs/JointState
 * from `/joint_states` (matched by joint name), publishes targets as sensor_msgs/JointState on
 * `/sim/target_joint_state` (16 named joints, arm positions in rad, grippers in the simulator's
 * 0 closed … 1 open), and decodes CompressedImage cameras. Call `connect()` to start.
 */
export function createGenie1Driver(options: Genie1DriverOptions): RosbridgeRobot {
  const topics = { ...GENIE1_TOPICS, ...options.topics };
  const names = GENIE1.dims.map((d) => options.jointNames?.[d.name] ?? GENIE1_JOINT_NAMES[d.name]);
  const gripperState = options.gripperState ?? { scale: 0.125, offset: 0 };
  const gripperCommand = options.gripperCommand ?? { scale: 10, offset: 0 };
  invertMap(gripperState); // throws on a degenerate map
  invertMap(gripperCommand);
  const isGripper = GENIE1.dims.map((d) => d.kind === 'gripper');

  return new RosbridgeRobot({
    ...options, // connection, freshness and camera-cap settings pass through unchanged
    embodiment: GENIE1,
    state: [
      {
        topic: topics.jointStates,
        messageType: 'sensor_msgs/JointState',
        read: (msg: JointStateMsg, state) => readGenie1JointState(msg, state, names, isGripper, gripperState),
      },
    ],
    commands: [
      {
        topic: topics.command,
        messageType: 'sensor_msgs/JointState',
        build: (positions) => ({
          header: rosHeader(2),
          name: names,
          position: positions.map((p, i) => (isGripper[i] ? applyMap(gripperCommand, p) : p)),
          velocity: [],
          effort: [],
        }),
      },
    ],
    cameras: [
      { name: 'head', topic: topics.head, kind: 'compressed' },
      { name: 'hand_left', topic: topics.hand_left, kind: 'compressed' },
      { name: 'hand_right', topic: topics.hand_right, kind: 'compressed' },
    ],
  });
}
