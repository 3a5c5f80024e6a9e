import { z } from 'zod';

/** Where one training step's wall time went, in milliseconds. */
export interface StepTiming {
  /** Waiting for the data pipeline to hand over the batch (decode, resize, collate). */
  dataMs: number;
  /** Uploading the batch to the device. */
  uploadMs: number;
  /** The forward pass and the losses. */
  forwardMs: number;
  /** The backward pass. */
  backwardMs: number;
  /** Gradient clipping and the optimizer update. */
  optimizerMs: number;
}

/** One optimizer step: losses, schedule, throughput and timing. Written once per logged step. */
export interface TrainRecord {
  /** Discriminant. */
  kind: 'train';
  /** Optimizer steps completed, this one included. */
  step: number;
  /** Epoch of the sampler when the step's batch was drawn (0-based). */
  epoch: number;
  /** Training samples seen so far, this step's batch included. */
  samples: number;
  /** Total loss: action loss + λ · generation loss. Non-finite values (a diverged step) are kept. */
  loss: number;
  /** Flow-matching action loss. */
  actionLoss: number;
  /** Generation (visual foresight) loss on the Cosmos latent of frame t+15; `null` when not computed. */
  genLoss: number | null;
  /** The image tokens' reconstruction loss (`imageReconWeight`); absent when the run has none. */
  reconLoss?: number;
  /** Learning rate used by this step. */
  lr: number;
  /** Global gradient L2 norm before clipping. */
  gradNorm: number;
  /** Training throughput over the recent steps, in samples per second. */
  samplesPerSec: number;
  /** Where the step's wall time went. */
  timing: StepTiming;
  /** Milliseconds since the run (or the resumed run's first process) started. */
  wallMs: number;
}

/** Closed-loop evaluation of one task on one robot at a training step. */
export interface EvalRecord {
  /** Discriminant. */
  kind: 'eval';
  /** Training step of the evaluated weights. */
  step: number;
  /** Task name (the language instruction or the benchmark's task id). */
  task: string;
  /** Robot (embodiment) the task ran on. */
  robot: string;
  /** Episodes run. */
  episodes: number;
  /** Episodes that succeeded. */
  successes: number;
  /** `successes / episodes`, in [0, 1]. */
  successRate: number;
}

/** A visual-foresight image written at a training step (see `foresightPng`). */
export interface ForesightRecord {
  /** Discriminant. */
  kind: 'foresight';
  /** Training step of the weights that predicted it. */
  step: number;
  /** PNG path relative to the run directory. */
  file: string;
  /** Camera views in the image (one row each). */
  views: number;
}

/** Something that happened to the run: a resume, a NaN stop, a checkpoint. */
export interface EventRecord {
  /** Discriminant. */
  kind: 'event';
  /** Training step at which it happened. */
  step: number;
  /** What happened, for people. */
  message: string;
}

/** One line of `metrics.jsonl`. */
export type MetricRecord = TrainRecord | EvalRecord | ForesightRecord | EventRecord;

// JSON has no NaN or ±Infinity, and a diverged step's loss is exactly what the log must keep: such
// values are written as the strings "NaN", "Infinity", "-Infinity" and read back as numbers.
const NON_FINITE = ['NaN', 'Infinity', '-Infinity'] as const;
const anyNumber = z.union([
  z.custom<number>((v) => typeof v === 'number', { message: 'expected a number' }),
  z.enum(NON_FINITE).transform(Number),
]);
const step = z.number().int().nonnegative();
const count = z.number().int().nonnegative();

const timingSchema = z.object({
  dataMs: anyNumber,
  uploadMs: anyNumber,
  forwardMs: anyNumber,
  backwardMs: anyNumber,
  optimizerMs: anyNumber,
});

/** Validates one record (parsed JSON or in memory); unknown keys are dropped. */
export const metricRecordSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('train'),
    step,
    epoch: count,
    samples: count,
    loss: anyNumber,
    actionLoss: anyNumber,
    genLoss: anyNumber.nullable(),
    reconLoss: anyNumber.optional(),
    lr: anyNumber,
    gradNorm: anyNumber,
    samplesPerSec: anyNumber,
    timing: timingSchema,
    wallMs: anyNumber,
  }),
  z.object({
    kind: z.literal('eval'),
    step,
    task: z.string(),
    robot: z.string(),
    episodes: count,
    successes: count,
    successRate: anyNumber,
  }),
  z.object({
    kind: z.literal('foresight'),
    step,
    file: z.string().min(1),
    views: z.number().int().positive(),
  }),
  z.object({ kind: z.literal('event'), step, message: z.string() }),
]);

/** The JSON text of a record, one line, non-finite numbers as strings. */
export function recordToJson(record: MetricRecord): string {
  return JSON.stringify(record, (_key, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
  );
}

/** `value` as a record, or why it is not one: every issue as `field: message`. */
export function parseMetricRecord(value: unknown): { record: MetricRecord } | { error: string } {
  const r = metricRecordSchema.safeParse(value);
  if (r.success) return { record: r.data as MetricRecord };
  return {
    error: r.error.issues
      .map((i) => `${i.path.length ? i.path.join('.') : '(record)'}: ${i.message}`)
      .join('; '),
  };
}
