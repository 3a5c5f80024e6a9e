/**
 * AgiBot Genie-1: its embodiment for the InternVLA-A1 policy, a MuJoCo description for the simulator
 * and a ROS 2 driver (over rosbridge) for the Genie Sim interface.
 * @packageDocumentation
 */
export {
  GENIE1,
  GENIE1_ARM_EFFORT,
  GENIE1_ARM_LIMITS,
  GENIE1_ARM_VELOCITY,
  GENIE1_BODY,
  GENIE1_GRIPPER_WIDTH,
} from './genie1Embodiment.js';
export { GENIE1_MJCF, GENIE1_MJCF_SPEC } from './genie1Mjcf.js';
export {
  GENIE1_JOINT_NAMES,
  GENIE1_TOPICS,
  createGenie1Driver,
  type Genie1DriverOptions,
  type Genie1Topics,
} from './genie1Driver.js';
