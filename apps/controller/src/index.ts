/**
 * vla-control: run an InternVLA-A1 checkpoint on the simulator or a ROS robot through robot-core's
 * chunk executor and safety layer, serve it to openpi clients, watch it in a live dashboard.
 * @packageDocumentation
 */
export { runSim, type SimRunOptions } from './simRun.js';
export { runRobot, createRosRobot, ROS_ROBOTS, type RobotRunOptions, type RosRobotName } from './rosRun.js';
export { RunControl } from './runControl.js';
export type { RunListener } from './runRecorder.js';
export type { EpisodeSummary, RunSummary } from './runSummary.js';
export { boundaryJerk, latencyStats, type BoundaryJerk } from './boundaryJerk.js';
export { controlStrategy, type StrategyName } from './controlStrategy.js';
export { serviceEpisodes, sharedEpisodes, type EpisodeSource, type OpenEpisode } from './episodeSource.js';
export { simRobotView } from './simRobotView.js';
export { EMBODIMENTS, embodimentOf } from './embodiments.js';
export { remoteEpisodes, serveCheckpoint, type ServeOptions, type ServedCheckpoint } from './serve.js';
export {
  DashboardServer,
  type DashboardControls,
  type DashboardForesight,
  type DashboardOptions,
  type DashboardStats,
} from './dashboard/dashboardServer.js';
