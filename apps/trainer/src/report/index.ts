// The report's public API; the package's src/index.ts re-exports it.
export type {
  EvalRecord,
  EventRecord,
  ForesightRecord,
  MetricRecord,
  StepTiming,
  TrainRecord,
} from './metricRecord';
export { MetricsLog, type MetricsLogOpenOptions } from './metricsLog';
export { foresightPng, FORESIGHT_MIN_TILE, FORESIGHT_SEPARATOR } from './foresightPng';
export { chartAssets, writeReport, REPORT_FILE, type ReportOptions } from './writeReport';
export { ReportError } from './reportError';
