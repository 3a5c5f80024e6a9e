/**
 * @vla/demo — `vla-demo`: the main job in one command. The shipped policy (`@vla/pretrained`) runs in
 * closed loop on the simulator, a short fine-tune on fresh demonstrations lowers its loss, and one
 * self-contained HTML report shows success per task, learning curves, rollouts and visual foresight.
 * @packageDocumentation
 */
export { runDemo } from './runDemo.js';
export type { DemoPhase, DemoProgress, DemoSummary, TaskSuccessSummary } from './runDemo.js';
export {
  DEMO_FIRST_SEED,
  DEMO_ROBOT,
  DEMO_TASKS,
  EVAL_FIRST_SEED,
  resolveDemoOptions,
} from './demoOptions.js';
export type { DemoOptions, DemoOptionsInput } from './demoOptions.js';
export { episodeTickLimit, runTaskEpisodes } from './closedLoop.js';
export type { ClosedLoopSettings, ForesightPair, TaskRollouts } from './closedLoop.js';
export type { EpisodeOutcome } from '@vla/trainer';
export { fixedBatch, fixedBatchLoss } from './fixedBatchLoss.js';
export type { FixedBatchOptions } from './fixedBatchLoss.js';
export { rolloutGif } from './rolloutGif.js';
export type { RgbFrame } from './rolloutGif.js';
export { demoReportHtml } from './demoReport.js';
export type { DemoReportInput, ReportTask } from './demoReport.js';
