import { RosbridgeRobot, invertMap, type LinearMap, type RosConnectionOptions } from '@vla/robot-core';
import { ZERO7, arxArmJointPos, readArxArm, type ArxArmFields } from './arxArmCodec.js';
import { LIFT2 } from './lift2Embodiment.js';

/** Topics of the Lift-2 ROS 1 stack; every one can be overridden. */
export interface Lift2Topics {
  /** arm_control/JointControl for the left arm. Default `/joint_control`. */
  readonly leftCommand: string;
  /** arm_control/JointControl for the right arm. Default `/joint_control2`. */
  readonly rightCommand: string;
  /** arm_control/JointInformation from the left arm. Default `/joint_information`. */
  readonly leftFeedback: string;
  /** arm_control/JointInformation from the right arm. Default `/joint_information2`. */
  readonly rightFeedback: string;
  /** Cameras; defaults `/camera_{h,l,r}/color/image_raw/compressed` (without `/compressed` for raw). */
  readonly head: string;
  readonly hand_left: string;
  readonly hand_right: string;
}

/** Default topic map for compressed cameras, as seen in public Lift-2 deployments. */
export const LIFT2_TOPICS: Lift2Topics = Object.freeze({
  leftCommand: '/joint_control',
  rightCommand: '/joint_control2',
  leftFeedback: '/joint_information',
  rightFeedback: '/joint_information2',
  head: '/camera_h/color/image_raw/compressed',
  hand_left: '/camera_l/color/image_raw/compressed',
  hand_right: '/camera_r/color/image_raw/compressed',
});

/** Options of {@link createLift2Driver}. */
export interface Lift2DriverOptions extends RosConnectionOptions {
  /** Topic overrides. */
  readonly topics?: Partial<Lift2Topics>;
  /** `compressed` (sensor_msgs/CompressedImage, default) or `raw` (sensor_msgs/Image) cameras. */
  readonly cameraKind?: 'compressed' | 'raw';
  /**
   * Gripper in robot units (m per finger) → `joint_pos[6]`. Default identity: ASSUMED that the arm
   * node reports and takes the gripper in the dataset's metres; set e.g. `{ scale: 5 / 0.044, offset: 0 }`
   * for firmware that uses 0–5 "catch" units.
   */
  readonly gripperToMessage?: LinearMap;
  /** `mode` field of JointControl. Default 0. */
  readonly mode?: number;
}

/**
 * An ARX Lift-2 driver for its ROS 1 stack over rosbridge: reads arm_control/JointInformation from
 * `/joint_information` (left) and `/joint_information2` (right), publishes arm_control/JointControl
 * (`joint_pos[7]` = 6 joints + gripper, zero `joint_vel`/`joint_cur`, `mode`) on `/joint_control` and
 * `/joint_control2`, and decodes camera_h/l/r. Which arm is `…2` is ASSUMED (right); override the
 * topics if your launch files differ. Call `connect()` to start.
 */
export function createLift2Driver(options: Lift2DriverOptions): RosbridgeRobot {
  const kind = options.cameraKind ?? 'compressed';
  const camDefaults =
    kind === 'raw'
      ? {
          head: '/camera_h/color/image_raw',
          hand_left: '/camera_l/color/image_raw',
          hand_right: '/camera_r/color/image_raw',
        }
      : {};
  const topics: Lift2Topics = { ...LIFT2_TOPICS, ...camDefaults, ...options.topics };
  const toMsg = options.gripperToMessage ?? { scale: 1, offset: 0 };
  const toRobot = invertMap(toMsg);
  const mode = options.mode ?? 0;
  const arms = [
    { feedback: topics.leftFeedback, command: topics.leftCommand, offset: 0 },
    { feedback: topics.rightFeedback, command: topics.rightCommand, offset: 7 },
  ];
  return new RosbridgeRobot({
    ...options, // connection, freshness and camera-cap settings pass through unchanged
    embodiment: LIFT2,
    state: arms.map((a) => ({
      topic: a.feedback,
      messageType: 'arm_control/JointInformation',
      read: (msg: ArxArmFields, state: Float64Array) => readArxArm(msg, state, a.offset, toRobot),
    })),
    commands: arms.map((a) => ({
      topic: a.command,
      messageType: 'arm_control/JointControl',
      build: (positions: readonly number[]) => ({
        joint_pos: arxArmJointPos(positions, a.offset, toMsg),
        joint_vel: [...ZERO7],
        joint_cur: [...ZERO7],
        mode,
      }),
    })),
    cameras: [
      { name: 'head', topic: topics.head, kind },
      { name: 'hand_left', topic: topics.hand_left, kind },
      { name: 'hand_right', topic: topics.hand_right, kind },
    ],
  });
}
