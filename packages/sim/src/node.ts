/**
 * Node-only parts of the simulator: the LeRobot v3.0 recorder (files, ffmpeg) and the episode
 * renderer (ffmpeg). Everything in the main entry is re-exported, so Node code can import from here alone.
 * @packageDocumentation
 */
export * from './index.js';
export { recordDataset, type RecordOptions, type RecordSummary } from './recorder.js';
export { renderEpisode, type RenderOptions } from './renderEpisode.js';
