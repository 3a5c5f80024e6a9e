import { armDims, defineEmbodiment, withDeltaMask, type DimSpec, type Embodiment } from '@vla/robot-core';
import { robotLayoutOf } from '@vla/robot-layouts';

/** Arm joint limits of Genie-1 (rad), joints 1–7, both arms (SPEC §3). */
export const GENIE1_ARM_LIMITS: readonly (readonly [number, number])[] = [
  [-3.14, 3.14],
  [-2.09, 2.09],
  [-3.14, 3.14],
  [-1.48, 1.48],
  [-3.14, 3.14],
  [-1.74, 1.74],
  [-3.14, 3.14],
];

/** Arm joint effort limits (N·m), joints 1–7 (SPEC §3). */
export const GENIE1_ARM_EFFORT: readonly number[] = [60, 60, 60, 60, 30, 30, 30];

/** Arm joint velocity limit (rad/s), every joint (SPEC §3). */
export const GENIE1_ARM_VELOCITY = 3.14;

/** Largest gripper opening (m) (SPEC §3). */
export const GENIE1_GRIPPER_WIDTH = 0.1;

/**
 * Body joints outside the policy's layout (SPEC §3), for the simulator: waist lift (m), waist pitch,
 * head yaw and head pitch (rad). The mobile base (x velocity, yaw rate) is not modelled.
 */
export const GENIE1_BODY = {
  waistLift: [0, 0.55],
  waistPitch: [0, 1.5708],
  headYaw: [-1.5708, 1.5708],
  headPitch: [-0.3488, 0.5236],
} as const;

const gripper = (side: 'left' | 'right'): DimSpec => ({
  name: `${side}_gripper`,
  kind: 'gripper',
  unit: 'm',
  lower: 0,
  upper: GENIE1_GRIPPER_WIDTH,
  maxVelocity: 0.2,
  delta: false,
  // The robot reports an opening width; the dataset stores 0 = open, 1 = closed.
  dataset: { atLower: 1, atUpper: 0, description: 'Genie-1 datasets: 0 = open (0.1 m), 1 = closed (0 m)' },
  assumed: 'maxVelocity 0.2 m/s (full stroke in 0.5 s) is assumed; the vendor does not publish it',
});

const arm = (side: 'left' | 'right') =>
  armDims(
    side,
    GENIE1_ARM_LIMITS.map(([lower, upper]) => ({ lower, upper, maxVelocity: GENIE1_ARM_VELOCITY })),
  );

/**
 * AgiBot Genie-1 (G1) as the InternVLA-A1 policy sees it: `Genie-1`, 16 dims = left arm 7, right arm 7,
 * left gripper, right gripper; joints predicted as deltas, grippers absolute. Grippers are in metres of
 * opening (0–0.1) on the robot side and 0 = open, 1 = closed in the dataset. Cameras head, hand_left,
 * hand_right at 640×480, 30 fps; control at 30 Hz.
 *
 * The home pose is a neutral pose inside the limits for this package's model (elbows bent, grippers
 * open), not a vendor pose.
 */
export const GENIE1: Embodiment = defineEmbodiment(
  // Delta flags come from the layout table, the one place upstream's masks are written down.
  withDeltaMask(
    {
      robotType: 'Genie-1',
      dims: [...arm('left'), ...arm('right'), gripper('left'), gripper('right')],
      cameras: [
        { name: 'head', width: 640, height: 480, fps: 30 },
        { name: 'hand_left', width: 640, height: 480, fps: 30 },
        { name: 'hand_right', width: 640, height: 480, fps: 30 },
      ],
      controlHz: 30,
      home: [
        0,
        0.3,
        0,
        -1.0,
        0,
        0.4,
        0,
        0,
        -0.3,
        0,
        1.0,
        0,
        -0.4,
        0,
        GENIE1_GRIPPER_WIDTH,
        GENIE1_GRIPPER_WIDTH,
      ],
    },
    robotLayoutOf('Genie-1')!.deltaMask,
  ),
);
