import type { RobotMapping, WriterFeatureSpec } from '@vla/lerobot';
import { makeBoolMask } from '@vla/robot-layouts';

/** Upstream-style `robot_type` of the new robot: the key in its dataset's `info.json` and in its embodiment. */
export const ARM4_ROBOT_TYPE = 'Example Arm-4';

/** Names of the state/action dims, in vector order (also the `names` of the dataset's features). */
export const ARM4_DIM_NAMES: readonly string[] = ['joint1', 'joint2', 'joint3', 'joint4', 'gripper'];

/**
 * Delta-mask run lengths in `makeBoolMask`'s notation (as upstream writes its masks): the 4 joints are
 * predicted relative to the current state, the gripper as an absolute value.
 */
export const ARM4_MASK_RUNS: readonly number[] = [4, -1];

/** Per action dim: true = delta on the current state, false = absolute. */
export const ARM4_DELTA_MASK: readonly boolean[] = Object.freeze(makeBoolMask(...ARM4_MASK_RUNS));

/**
 * The robot's LeRobot dataset as the recorder writes it: generic LeRobot keys, state and action in
 * dataset units (joints in rad, gripper 0 = open … 1 = closed), a head and a wrist camera.
 */
export const ARM4_DATASET_FEATURES: Readonly<Record<string, WriterFeatureSpec>> = Object.freeze({
  'observation.state': { dtype: 'float32', shape: [5], names: [...ARM4_DIM_NAMES] },
  action: { dtype: 'float32', shape: [5], names: [...ARM4_DIM_NAMES] },
  'observation.images.head': { dtype: 'video', shape: [480, 640, 3] },
  'observation.images.wrist': { dtype: 'video', shape: [240, 320, 3] },
});

/**
 * How that dataset feeds the model: which features form the state and action vectors, which camera
 * feeds which of the model's slots (`head`, `hand_left`, `hand_right`; the wrist camera takes
 * `hand_left`, as in upstream's single-arm layouts, and `hand_right` is a missing camera), and the
 * delta mask. An unknown `robot_type` otherwise maps generically with every action absolute, so the
 * mask must be given here. Pass it as a dataset's `mapping` to `vla-train` or to `SampleBuilder`.
 */
export const ARM4_DATASET_MAPPING = Object.freeze({
  stateKeys: ['observation.state'],
  actionKeys: ['action'],
  cameras: { head: 'observation.images.head', hand_left: 'observation.images.wrist' },
  deltaMask: [...ARM4_DELTA_MASK],
}) satisfies Partial<RobotMapping>;
