import { armDims, defineEmbodiment, withDeltaMask, type DimSpec, type Embodiment } from '@vla/robot-core';
import { robotLayoutOf } from '@vla/robot-layouts';

/** R5a arm joint limits (rad) and velocity limits (rad/s), joints 1–6 (SPEC §3). */
export const LIFT2_ARM_JOINTS: readonly {
  readonly lower: number;
  readonly upper: number;
  readonly maxVelocity: number;
}[] = [
  { lower: -2.094, upper: 3.1416, maxVelocity: 5.5 },
  { lower: 0, upper: 3.665, maxVelocity: 5.5 },
  { lower: 0, upper: 3.24, maxVelocity: 5.5 },
  { lower: -1.671, upper: 1.671, maxVelocity: 20 },
  { lower: -1.671, upper: 1.671, maxVelocity: 20 },
  { lower: -2.094, upper: 2.094, maxVelocity: 20 },
];

/** Travel of each of the two gripper fingers (m) (SPEC §3). */
export const LIFT2_FINGER_TRAVEL = 0.044;

/** Lift travel of the Lift-2 body (m) (SPEC §3); not in the policy's layout. */
export const LIFT2_LIFT_RANGE = [0, 0.46] as const;

const gripper = (side: 'left' | 'right'): DimSpec => ({
  name: `${side}_gripper`,
  kind: 'gripper',
  unit: 'm',
  lower: 0,
  upper: LIFT2_FINGER_TRAVEL,
  maxVelocity: 0.05,
  delta: false,
  assumed:
    'maxVelocity 0.05 m/s per finger is assumed (half the ARX SDK gripper_vel_max of 0.1 m/s for the full width)',
});

const side = (s: 'left' | 'right') => [...armDims(s, LIFT2_ARM_JOINTS), gripper(s)];

/**
 * ARX Lift-2 (two R5a arms) as the InternVLA-A1 policy sees it: `ARX Lift-2`, 14 dims = left arm 6,
 * left gripper, right arm 6, right gripper; joints as deltas, grippers absolute in metres per finger
 * (0–0.044), which is also the dataset's unit. Cameras head (camera_h), hand_left (camera_l),
 * hand_right (camera_r) at 640×480; 30 Hz control and 30 fps are assumed.
 *
 * The home pose is a neutral pose inside the limits for this package's model, not a vendor pose.
 */
export const LIFT2: Embodiment = defineEmbodiment(
  // Delta flags come from the layout table, the one place upstream's masks are written down.
  withDeltaMask(
    {
      robotType: 'ARX Lift-2',
      dims: [...side('left'), ...side('right')],
      cameras: [
        { name: 'head', width: 640, height: 480, fps: 30, assumed: 'fps assumed 30' },
        { name: 'hand_left', width: 640, height: 480, fps: 30, assumed: 'fps assumed 30' },
        { name: 'hand_right', width: 640, height: 480, fps: 30, assumed: 'fps assumed 30' },
      ],
      controlHz: 30,
      home: [0, 0.8, 0.8, 0, 0, 0, LIFT2_FINGER_TRAVEL, 0, 0.8, 0.8, 0, 0, 0, LIFT2_FINGER_TRAVEL],
    },
    robotLayoutOf('ARX Lift-2')!.deltaMask,
  ),
);
