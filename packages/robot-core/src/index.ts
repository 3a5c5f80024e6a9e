/**
 * Shared robot core: embodiment descriptions, conversions to and from the policy's padded vectors,
 * the safety layer and its SafeCommand, the chunk executor, the Robot and ActionSource interfaces,
 * a generic rosbridge driver with camera decoding, and an MJCF builder for two-arm robots.
 * @packageDocumentation
 */
export {
  armDims,
  defineEmbodiment,
  deltaMask,
  dimIndex,
  tickPeriodMs,
  withDeltaMask,
  type CameraSpec,
  type DatasetConvention,
  type DimKind,
  type DimSpec,
  type DimUnit,
  type Embodiment,
} from './embodiment.js';
export {
  datasetToRobot,
  dimToDataset,
  dimToRobot,
  robotToDataset,
  thresholdGripper,
} from './gripperConvention.js';
export { absoluteToDelta, deltaToAbsolute } from './deltaActions.js';
export {
  fromPolicyActions,
  fromPolicyState,
  padVector,
  toAbsoluteChunk,
  toPolicyActions,
  toPolicyState,
  type FromPolicyActionsOptions,
} from './policyVector.js';
export {
  POLICY_DIM,
  type ActionChunk,
  type ActionSource,
  type ChunkRequest,
  type CommittedActions,
} from './actionSource.js';
export type { CameraFrame, Observation, Robot, RobotStatus } from './robot.js';
export { FakeClock, systemClock, type Clock } from './clock.js';
export { SafeCommand, acceptSafeCommand, type HoldReason, type SafeCommandFields } from './safeCommand.js';
export { Watchdog, type WatchdogConfig } from './watchdog.js';
export { SafetyLayer, type SafetyConfig, type SafetyStats } from './safetyLayer.js';
export { actEnsembleWeights, ensemblePredictions } from './temporalEnsemble.js';
export {
  ChunkExecutor,
  type ChunkExecutorConfig,
  type ExecutionStrategy,
  type ExecutorStats,
} from './chunkExecutor.js';
export { backoffDelayMs, type BackoffOptions } from './ros/backoff.js';
export { IDENTITY_MAP, applyMap, invertMap, type LinearMap } from './ros/linearMap.js';
export { headerStampMs, rosHeader, type Ros1Time, type Ros2Time, type RosHeader } from './ros/rosHeader.js';
export {
  DEFAULT_IMAGE_LIMITS,
  checkCompressedImage,
  checkRawImage,
  decodeBase64,
  decodeCompressedImage,
  decodeRawImage,
  messageBytes,
  type CheckedCompressedImage,
  type ImageLimits,
  type RgbImage,
  type RosCompressedImage,
  type RosRawImage,
} from './ros/imageDecoding.js';
export { readEncodedImageInfo, type EncodedImageInfo } from './ros/imageHeader.js';
export type { FragmentLimits } from './ros/fragmentAssembler.js';
export {
  defaultWebSocketFactory,
  type SocketHandler,
  type WebSocketFactory,
  type WebSocketLike,
} from './ros/webSocket.js';
export {
  RosbridgeConnection,
  type ConnectionState,
  type ConnectionStats,
  type RosPublisher,
  type RosbridgeConnectionOptions,
  type SubscribeOptions,
} from './ros/rosbridgeConnection.js';
export {
  RosbridgeRobot,
  type RosCameraFeed,
  type RosCommandOutput,
  type RosStateFeed,
  type RosbridgeRobotConfig,
  type RosConnectionOptions,
  type RosbridgeRobotStats,
} from './ros/rosbridgeRobot.js';
export {
  buildBimanualMjcf,
  insertIntoWorldbody,
  type MjcfArmSpec,
  type MjcfBodyJointSpec,
  type MjcfCameraSpec,
  type MjcfDescription,
  type MjcfDim,
  type MjcfGripperSpec,
  type MjcfLinkSpec,
  type MjcfRobotSpec,
  type Vec3,
} from './bimanualMjcf.js';
