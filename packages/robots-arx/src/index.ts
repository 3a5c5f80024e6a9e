/**
 * ARX Lift-2 and ARX AC One: embodiments for the InternVLA-A1 policy, MuJoCo descriptions for the
 * simulator, and ROS drivers over rosbridge (Lift-2 on ROS 1, AC One on ROS 2).
 * @packageDocumentation
 */
export { LIFT2, LIFT2_ARM_JOINTS, LIFT2_FINGER_TRAVEL, LIFT2_LIFT_RANGE } from './lift2Embodiment.js';
export {
  ACONE,
  ACONE_ARM_JOINTS,
  ACONE_BODY,
  ACONE_FINGER_TRAVEL,
  ACONE_GRIPPER_RANGE,
} from './acOneEmbodiment.js';
export { ARX_ARM_TORQUE, arxArmSpec } from './arxArmGeometry.js';
export { LIFT2_MJCF, LIFT2_MJCF_SPEC } from './lift2Mjcf.js';
export { ACONE_MJCF, ACONE_MJCF_SPEC } from './acOneMjcf.js';
export { ZERO7, arxArmJointPos, readArxArm, type ArxArmFields } from './arxArmCodec.js';
export { LIFT2_TOPICS, createLift2Driver, type Lift2DriverOptions, type Lift2Topics } from './lift2Driver.js';
export { ACONE_TOPICS, createAcOneDriver, type AcOneDriverOptions, type AcOneTopics } from './acOneDriver.js';
