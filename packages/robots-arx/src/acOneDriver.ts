import {
  RosbridgeRobot,
  invertMap,
  rosHeader,
  type LinearMap,
  type RosConnectionOptions,
} from '@vla/robot-core';
import { ACONE } from './acOneEmbodiment.js';
import { ZERO7, arxArmJointPos, readArxArm, type ArxArmFields } from './arxArmCodec.js';

/** Topics of the AC One ROS 2 stack; every one can be overridden. */
export interface AcOneTopics {
  /** arx5_arm_msg/RobotStatus feedback, left arm. Default `/arm_slave_l_status`. */
  readonly leftFeedback: string;
  /** Right arm feedback. Default `/arm_slave_r_status`. */
  readonly rightFeedback: string;
  /** arx5_arm_msg/RobotStatus commands (the teleoperation master's topic), left. Default `/arm_master_l_status`. */
  readonly leftCommand: string;
  /** Right arm commands. Default `/arm_master_r_status`. */
  readonly rightCommand: string;
  /** CompressedImage cameras. Defaults `/camera/camera_{h,l,r}/color/image_rect_raw/compressed`. */
  readonly head: string;
  readonly hand_left: string;
  readonly hand_right: string;
}

/** Default topic map, as seen in public AC One deployments. */
export const ACONE_TOPICS: AcOneTopics = Object.freeze({
  leftFeedback: '/arm_slave_l_status',
  rightFeedback: '/arm_slave_r_status',
  leftCommand: '/arm_master_l_status',
  rightCommand: '/arm_master_r_status',
  head: '/camera/camera_h/color/image_rect_raw/compressed',
  hand_left: '/camera/camera_l/color/image_rect_raw/compressed',
  hand_right: '/camera/camera_r/color/image_rect_raw/compressed',
});

/** Options of {@link createAcOneDriver}. */
export interface AcOneDriverOptions extends RosConnectionOptions {
  /** Topic overrides. */
  readonly topics?: Partial<AcOneTopics>;
  /** `compressed` (default) or `raw` cameras (give raw topic names in `topics`). */
  readonly cameraKind?: 'compressed' | 'raw';
  /** Gripper robot units → `joint_pos[6]`. Default identity (the embodiment already uses the vendor's units). */
  readonly gripperToMessage?: LinearMap;
}

/**
 * An ARX AC One driver for its ROS 2 stack over rosbridge: reads arx5_arm_msg/RobotStatus
 * (`joint_pos[7]`, index 6 the gripper) from `/arm_slave_{l,r}_status` and commands the arms the way
 * the vendor's teleoperation does, by publishing the same message type on `/arm_master_{l,r}_status`
 * (followers in `remote_slave` mode track `joint_pos`; `end_pos`, `joint_vel`, `joint_cur` are zero).
 * Call `connect()` to start.
 */
export function createAcOneDriver(options: AcOneDriverOptions): RosbridgeRobot {
  const topics: AcOneTopics = { ...ACONE_TOPICS, ...options.topics };
  const toMsg = options.gripperToMessage ?? { scale: 1, offset: 0 };
  const toRobot = invertMap(toMsg);
  const kind = options.cameraKind ?? 'compressed';
  const arms = [
    { feedback: topics.leftFeedback, command: topics.leftCommand, offset: 0 },
    { feedback: topics.rightFeedback, command: topics.rightCommand, offset: 7 },
  ];
  return new RosbridgeRobot({
    ...options, // connection, freshness and camera-cap settings pass through unchanged
    embodiment: ACONE,
    state: arms.map((a) => ({
      topic: a.feedback,
      messageType: 'arx5_arm_msg/RobotStatus',
      read: (msg: ArxArmFields, state: Float64Array) => readArxArm(msg, state, a.offset, toRobot),
    })),
    commands: arms.map((a) => ({
      topic: a.command,
      messageType: 'arx5_arm_msg/RobotStatus',
      build: (positions: readonly number[]) => ({
        header: rosHeader(2),
        end_pos: [0, 0, 0, 0, 0, 0],
        joint_pos: arxArmJointPos(positions, a.offset, toMsg),
        joint_vel: [...ZERO7],
        joint_cur: [...ZERO7],
      }),
    })),
    cameras: [
      { name: 'head', topic: topics.head, kind },
      { name: 'hand_left', topic: topics.hand_left, kind },
      { name: 'hand_right', topic: topics.hand_right, kind },
    ],
  });
}
