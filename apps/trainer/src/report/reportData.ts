import { downsampleIndices } from './downsample';
import type {
  EvalRecord,
  EventRecord,
  ForesightRecord,
  MetricRecord,
  StepTiming,
  TrainRecord,
} from './metricRecord';

/** Most points a plot draws per x axis (long runs are downsampled, keeping spikes). */
export const MAX_PLOT_POINTS = 2000;

/** How many foresight images (the latest) the report shows. */
export const FORESIGHT_SHOWN = 4;

/** One line of a plot. */
export interface PlotSeries {
  /** Legend label. */
  label: string;
  /** CSS colour. */
  color: string;
  /** Draw a line across missing points (sparse eval series) instead of leaving a gap. */
  spanGaps: boolean;
}

/** One chart of the report: series sharing an ascending x axis (the step). */
export interface PlotSpec {
  /** Element id suffix and test hook. */
  id: string;
  /** Heading. */
  title: string;
  /** Y axis label. */
  yLabel: string;
  /** The lines. */
  series: PlotSeries[];
  /** Steps, ascending. */
  x: number[];
  /** One array per series, aligned with `x`; `null` is a gap (missing or non-finite). */
  ys: (number | null)[][];
  /** Offer a log-y checkbox. */
  logToggle: boolean;
  /** Start in log-y. */
  logDefault: boolean;
  /** Values are fractions shown as percentages on a fixed [0, 1] axis. */
  percent: boolean;
}

/** The numbers in the report's header. */
export interface ReportSummary {
  /** Step of the last train record, or null without any. */
  lastStep: number | null;
  /** Epoch of the last train record. */
  epoch: number | null;
  /** Samples seen at the last train record. */
  samples: number | null;
  /** Total loss of the last train record. */
  lastLoss: number | null;
  /** Throughput at the last train record. */
  samplesPerSec: number | null;
  /** Run time at the last train record, ms. */
  wallMs: number | null;
  /** Train records (distinct steps) logged. */
  trainRecords: number;
}

/** One part of the mean step-time breakdown. */
export interface TimingPart {
  /** Field of {@link StepTiming}. */
  key: keyof StepTiming;
  /** Label for people. */
  label: string;
  /** Mean over the train records with a finite value, ms. */
  meanMs: number;
  /** CSS colour. */
  color: string;
}

/** The latest evaluation of one task on one robot. */
export interface EvalSummary {
  /** Series label (task, with the robot when several robots were evaluated). */
  label: string;
  /** The last eval record of that task and robot. */
  last: EvalRecord;
}

/** Everything the report shows, derived from the records. */
export interface ReportData {
  /** Header numbers. */
  summary: ReportSummary;
  /** Charts, in page order. */
  plots: PlotSpec[];
  /** Mean time per step part, or empty without train records. */
  timing: TimingPart[];
  /** Latest result per evaluated task. */
  evals: EvalSummary[];
  /** Events in step order. */
  events: EventRecord[];
  /** The latest {@link FORESIGHT_SHOWN} foresight records, newest first. */
  foresight: ForesightRecord[];
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];

const TIMING: [keyof StepTiming, string, string][] = [
  ['dataMs', 'data', '#8c564b'],
  ['uploadMs', 'upload', '#17becf'],
  ['forwardMs', 'forward', '#1f77b4'],
  ['backwardMs', 'backward', '#d62728'],
  ['optimizerMs', 'optimizer', '#2ca02c'],
];

const finiteOrNull = (v: number | null): number | null => (v !== null && Number.isFinite(v) ? v : null);

/** Train records ascending by step, the last one kept when a step appears twice. */
function trainBySteps(records: readonly MetricRecord[]): TrainRecord[] {
  const byStep = new Map<number, TrainRecord>();
  for (const r of records) if (r.kind === 'train') byStep.set(r.step, r);
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

function trainPlot(
  train: TrainRecord[],
  spec: Omit<PlotSpec, 'x' | 'ys' | 'series' | 'percent'>,
  lines: { label: string; color: string; value: (r: TrainRecord) => number | null }[],
  maxPoints: number,
): PlotSpec {
  const full = lines.map((l) => train.map(l.value));
  const keep = downsampleIndices(full, maxPoints);
  return {
    ...spec,
    percent: false,
    series: lines.map((l) => ({ label: l.label, color: l.color, spanGaps: false })),
    x: keep.map((i) => train[i].step),
    ys: full.map((ys) => keep.map((i) => finiteOrNull(ys[i]))),
  };
}

/** What the report shows for `records` (any order; later duplicates of a train step win). */
export function reportData(records: readonly MetricRecord[], maxPoints = MAX_PLOT_POINTS): ReportData {
  const train = trainBySteps(records);
  const last = train.at(-1);
  const summary: ReportSummary = {
    lastStep: last?.step ?? null,
    epoch: last?.epoch ?? null,
    samples: last?.samples ?? null,
    lastLoss: last?.loss ?? null,
    samplesPerSec: last?.samplesPerSec ?? null,
    wallMs: last?.wallMs ?? null,
    trainRecords: train.length,
  };

  const plots: PlotSpec[] = [];
  if (train.length > 0) {
    const lossLines: { label: string; color: string; value: (r: TrainRecord) => number | null }[] = [
      { label: 'loss', color: '#333333', value: (r) => r.loss },
      { label: 'action loss', color: PALETTE[0], value: (r) => r.actionLoss },
    ];
    if (train.some((r) => r.genLoss !== null)) {
      lossLines.push({ label: 'generation loss', color: PALETTE[1], value: (r) => r.genLoss });
    }
    if (train.some((r) => r.reconLoss !== undefined)) {
      lossLines.push({ label: 'reconstruction loss', color: PALETTE[2], value: (r) => r.reconLoss ?? null });
    }
    plots.push(
      trainPlot(
        train,
        { id: 'loss', title: 'Loss', yLabel: 'loss', logToggle: true, logDefault: true },
        lossLines,
        maxPoints,
      ),
      trainPlot(
        train,
        { id: 'lr', title: 'Learning rate', yLabel: 'lr', logToggle: false, logDefault: false },
        [{ label: 'learning rate', color: PALETTE[3], value: (r) => r.lr }],
        maxPoints,
      ),
      trainPlot(
        train,
        { id: 'throughput', title: 'Throughput', yLabel: 'samples/s', logToggle: false, logDefault: false },
        [{ label: 'samples/s', color: PALETTE[2], value: (r) => r.samplesPerSec }],
        maxPoints,
      ),
      trainPlot(
        train,
        { id: 'gradnorm', title: 'Gradient norm', yLabel: '‖g‖₂', logToggle: true, logDefault: false },
        [{ label: 'gradient norm', color: PALETTE[4], value: (r) => r.gradNorm }],
        maxPoints,
      ),
    );
  }

  // Eval: one series per task (and robot, when several robots were evaluated) over the union of steps.
  const evalRecords = records.filter((r): r is EvalRecord => r.kind === 'eval');
  const severalRobots = new Set(evalRecords.map((r) => r.robot)).size > 1;
  const evalKey = (r: EvalRecord): string => (severalRobots ? `${r.task} (${r.robot})` : r.task);
  const evalLast = new Map<string, EvalRecord>();
  const evalAt = new Map<string, Map<number, number>>();
  for (const r of evalRecords) {
    const k = evalKey(r);
    if (!evalAt.has(k)) evalAt.set(k, new Map());
    evalAt.get(k)!.set(r.step, r.successRate);
    const prev = evalLast.get(k);
    if (!prev || r.step >= prev.step) evalLast.set(k, r);
  }
  const evalLabels = [...evalAt.keys()].sort();
  if (evalLabels.length > 0) {
    const steps = [...new Set(evalRecords.map((r) => r.step))].sort((a, b) => a - b);
    const full = evalLabels.map((k) => steps.map((s) => evalAt.get(k)!.get(s) ?? null));
    const keep = downsampleIndices(full, maxPoints);
    plots.push({
      id: 'eval',
      title: 'Eval success rate',
      yLabel: 'success',
      series: evalLabels.map((label, i) => ({ label, color: PALETTE[i % PALETTE.length], spanGaps: true })),
      x: keep.map((i) => steps[i]),
      ys: full.map((ys) => keep.map((i) => finiteOrNull(ys[i]))),
      logToggle: false,
      logDefault: false,
      percent: true,
    });
  }

  const timing: TimingPart[] =
    train.length === 0
      ? []
      : TIMING.map(([key, label, color]) => {
          const vals = train.map((r) => r.timing[key]).filter(Number.isFinite);
          return {
            key,
            label,
            color,
            meanMs: vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : 0,
          };
        });

  const byStep = <T extends MetricRecord>(a: T, b: T): number => a.step - b.step;
  return {
    summary,
    plots,
    timing,
    evals: evalLabels.map((label) => ({ label, last: evalLast.get(label)! })),
    events: records.filter((r): r is EventRecord => r.kind === 'event').sort(byStep),
    foresight: records
      .filter((r): r is ForesightRecord => r.kind === 'foresight')
      .sort(byStep)
      .slice(-FORESIGHT_SHOWN)
      .reverse(),
  };
}
