/**
 * MuJoCo simulation of the vla robots: scenes of ARX Lift-2, ARX AC One and Genie-1 at a table,
 * manipulation tasks (pick-place, a moving conveyor), a gym-like environment whose robot implements
 * robot-core's Robot interface behind the safety layer, scripted experts, a WebGPU camera (frames and
 * policy tensors) with a CPU ray-cast reference, and the dataset layout the recorder writes.
 * Browser-safe; the recorder and the episode renderer are in `@vla/sim/node`.
 * @packageDocumentation
 */
export { loadMujoco, type Mujoco, type MjData, type MjModel } from './mujoco.js';
export type { CameraSource } from './cameraSource.js';
export { rayCastCamera, rayCastCameraSource, type RayCastImage } from './rayCastCamera.js';
export { GpuCamera, type GpuCameraOptions } from './gpuCamera.js';
export {
  SIM_ROBOT_NAMES,
  gripSitePos,
  simRobot,
  type SimArm,
  type SimRobotName,
  type SimHandoverWorkspace,
  type SimRobotSpec,
  type SimWorkspace,
} from './simRobots.js';
export {
  buildSceneXml,
  type SceneBelt,
  type SceneBin,
  type SceneLayout,
  type SceneObject,
  type SceneOptions,
} from './sceneBuilder.js';
export { SimWorld, compileMjcf, type BeltDrive, type BodyPose } from './simWorld.js';
export { SimRobot, type SimCameraOptions } from './simRobot.js';
export {
  SimEnv,
  type SimCameraKind,
  type SimEnvOptions,
  type SimObservation,
  type StepResult,
} from './simEnv.js';
export { COLOURS, inBin, type SimTask, type TaskGoal, type TaskInstance } from './simTask.js';
export { SIM_TASKS, simTask } from './tasks.js';
export { PICK_PLACE } from './pickPlaceTask.js';
export { CONVEYOR_SORT } from './conveyorSortTask.js';
export { HANDOVER } from './handoverTask.js';
export { INSTRUCTION_TEMPLATES, expandTemplate, makeInstruction } from './instructions.js';
export { ArmIk, topDownRotation, type GripPose, type IkResult, type V3 } from './armIk.js';
export { ScriptedExpert, type ExpertOptions } from './scriptedExpert.js';
export { Rng } from './rng.js';
export { datasetFeatures, datasetParts, type DatasetPart } from './datasetFeatures.js';
export {
  SceneRenderer,
  copyRenderState,
  type CameraRef,
  type RenderSize,
  type RenderState,
  type RenderTensorOptions,
  type SceneLighting,
  type SceneRendererOptions,
  type SceneShadows,
} from './render/sceneRenderer.js';
export type { CameraPose } from './render/viewMatrices.js';
export type { GeomFilter } from './render/sceneGeometry.js';
