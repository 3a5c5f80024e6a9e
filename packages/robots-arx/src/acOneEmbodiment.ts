import { armDims, defineEmbodiment, withDeltaMask, type DimSpec, type Embodiment } from '@vla/robot-core';
import { robotLayoutOf } from '@vla/robot-layouts';

const ASSUMED_LIMITS =
  'assumed: SPEC has no AC One limits; these are the public ARX5 SDK limits of the X5 arm, with the SDK velocity limits halved';

/**
 * X5 (2025) arm joint limits (rad) and velocity limits (rad/s), joints 1–6. ASSUMED: the spec gives no
 * numbers for AC One; positions are the public ARX5 SDK's X5 limits, velocities half of its X5
 * `joint_vel_max` (4, 4, 4.5, 4.5, 5, 5 rad/s) to stay conservative.
 */
export const ACONE_ARM_JOINTS: readonly {
  readonly lower: number;
  readonly upper: number;
  readonly maxVelocity: number;
  readonly assumed: string;
}[] = [
  { lower: -3.14, upper: 2.618, maxVelocity: 2.0, assumed: ASSUMED_LIMITS },
  { lower: -0.05, upper: 3.14, maxVelocity: 2.0, assumed: ASSUMED_LIMITS },
  { lower: -0.1, upper: 3.24, maxVelocity: 2.25, assumed: ASSUMED_LIMITS },
  { lower: -1.6, upper: 1.55, maxVelocity: 2.25, assumed: ASSUMED_LIMITS },
  { lower: -1.57, upper: 1.57, maxVelocity: 2.5, assumed: ASSUMED_LIMITS },
  { lower: -2, upper: 2, maxVelocity: 2.5, assumed: ASSUMED_LIMITS },
];

/**
 * Gripper range in vendor units. ASSUMED: the 2025 X5 controller publishes the gripper in
 * `RobotStatus.joint_pos[6]` as motor position / -3.4, i.e. 0 … 1, taken here as 0 = closed,
 * 1 = open (0.088 m between the fingers).
 */
export const ACONE_GRIPPER_RANGE = [0, 1] as const;

/** Finger travel (m) at gripper value 1 (assumed: half of the X5's 0.088 m opening). */
export const ACONE_FINGER_TRAVEL = 0.044;

/** Lift travel (m) and head joint ranges (rad) of the AC One body. ASSUMED: SPEC names them without numbers. */
export const ACONE_BODY = {
  lift: [0, 0.5],
  headYaw: [-1.5708, 1.5708],
  headPitch: [-0.5, 0.5],
} as const;

const gripper = (side: 'left' | 'right'): DimSpec => ({
  name: `${side}_gripper`,
  kind: 'gripper',
  unit: 'vendor',
  lower: ACONE_GRIPPER_RANGE[0],
  upper: ACONE_GRIPPER_RANGE[1],
  maxVelocity: 2,
  delta: false,
  assumed:
    'vendor units 0 (closed) … 1 (open) and 2 units/s are assumed; the dataset is assumed to store the same units',
});

const side = (s: 'left' | 'right') => [...armDims(s, ACONE_ARM_JOINTS), gripper(s)];

/**
 * ARX AC One (two X5 2025 arms) as the InternVLA-A1 policy sees it: `ARX AC One`, the Lift-2 layout
 * (left arm 6, left gripper, right arm 6, right gripper; joints as deltas, grippers absolute). Joint
 * limits, velocities, gripper units, camera size and rates are ASSUMED (see each dim's `assumed`).
 */
export const ACONE: Embodiment = defineEmbodiment(
  // Delta flags come from the layout table, the one place upstream's masks are written down.
  withDeltaMask(
    {
      robotType: 'ARX AC One',
      dims: [...side('left'), ...side('right')],
      cameras: [
        { name: 'head', width: 640, height: 480, fps: 30, assumed: 'size and fps assumed' },
        { name: 'hand_left', width: 640, height: 480, fps: 30, assumed: 'size and fps assumed' },
        { name: 'hand_right', width: 640, height: 480, fps: 30, assumed: 'size and fps assumed' },
      ],
      controlHz: 30,
      home: [0, 0.8, 0.8, 0, 0, 0, 1, 0, 0.8, 0.8, 0, 0, 0, 1],
    },
    robotLayoutOf('ARX AC One')!.deltaMask,
  ),
);
