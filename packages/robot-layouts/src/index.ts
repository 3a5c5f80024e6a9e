/** Every robot type InternVLA-A1 knows: its upstream spellings, delta mask, state/action feature keys and cameras, as data */
export { makeBoolMask } from './boolMask';
export {
  CAMERA_SLOTS,
  type CameraSlot,
  type RobotName,
  type LayoutGeneration,
  type RobotLayout,
} from './robotLayout';
export { ROBOT_LAYOUTS, robotLayoutOf, robotTypesOf, assertDeltaMask } from './robotLayouts';
