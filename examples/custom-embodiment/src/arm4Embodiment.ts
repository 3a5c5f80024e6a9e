import { defineEmbodiment, withDeltaMask, type DimSpec, type Embodiment } from '@vla/robot-core';
import { ARM4_DELTA_MASK, ARM4_DIM_NAMES, ARM4_ROBOT_TYPE } from './arm4Layout.js';

/** The arm's joint limits (rad) and velocity limits (rad/s) from its data sheet, joints 1–4. */
export const ARM4_JOINTS: readonly {
  readonly lower: number;
  readonly upper: number;
  readonly maxVelocity: number;
}[] = [
  { lower: -2.6, upper: 2.6, maxVelocity: 3 }, // base yaw
  { lower: -1.5, upper: 1.5, maxVelocity: 2.5 }, // shoulder
  { lower: 0, upper: 2.6, maxVelocity: 2.5 }, // elbow
  { lower: -1.8, upper: 1.8, maxVelocity: 4 }, // wrist
];

/** Opening width of the parallel gripper (m). */
export const ARM4_GRIPPER_OPENING = 0.08;

const joints: DimSpec[] = ARM4_JOINTS.map((j, i) => ({
  name: ARM4_DIM_NAMES[i],
  kind: 'joint',
  unit: 'rad',
  ...j,
  delta: true,
}));

const gripper: DimSpec = {
  name: ARM4_DIM_NAMES[4],
  kind: 'gripper',
  unit: 'm',
  lower: 0,
  upper: ARM4_GRIPPER_OPENING,
  maxVelocity: 0.2,
  delta: false,
  // The driver measures an opening width; the dataset stores 0 = open, 1 = closed (as Genie-1 data does).
  dataset: { atLower: 1, atUpper: 0, description: '0 = open (0.08 m), 1 = closed (0 m)' },
};

/**
 * A single 4-DoF arm with a parallel gripper, as the policy sees it: 5 dims (4 joints as deltas, the
 * gripper absolute), a head camera and a wrist camera (feeding the model's `hand_left` slot), 20 Hz
 * control. `defineEmbodiment` checks the limits, the home pose and the names, and freezes the result.
 */
export const ARM4: Embodiment = defineEmbodiment(
  // Delta flags come from the layout, the one place the mask is written down.
  withDeltaMask(
    {
      robotType: ARM4_ROBOT_TYPE,
      dims: [...joints, gripper],
      cameras: [
        { name: 'head', width: 640, height: 480, fps: 30 },
        { name: 'hand_left', width: 320, height: 240, fps: 30 },
      ],
      controlHz: 20,
      home: [0, 0.3, 1.2, 0, ARM4_GRIPPER_OPENING],
    },
    ARM4_DELTA_MASK,
  ),
);
