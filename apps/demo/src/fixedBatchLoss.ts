// The honest measure of "training lowered the loss": the same samples, the same flow-matching noise
// and times, before and after. The per-step loss of a run draws new samples, noise and times every
// step, so over a short run its noise hides the trend.
import type { InternVLAA1Policy, PolicyProcessor } from '@vla/internvla-a1';
import { tidy } from '@vla/tensor-webgpu';
import { openTrainingData, toPolicyBatch, type DatasetSpec, type TrainingBatch } from '@vla/trainer';

/** Options of {@link fixedBatch}. */
export interface FixedBatchOptions {
  /** The datasets the run trained on. */
  datasets: readonly DatasetSpec[];
  /** The processor the losses are measured with (the trained policy's: its normalisation). */
  processor: PolicyProcessor;
  /** The model configuration (sizes, views, chunk). */
  policy: InternVLAA1Policy;
  /** Samples in the batch. */
  batchSize: number;
  /** Seed of the draw (a different one from the run's keeps the batch from being its first). */
  seed: number;
}

/** Draws one batch of raw samples from the datasets (the trainer's data pipeline). */
export async function fixedBatch(options: FixedBatchOptions): Promise<TrainingBatch> {
  const data = await openTrainingData({
    datasets: options.datasets,
    seed: options.seed,
    batchSize: options.batchSize,
    config: options.policy.config,
    processor: options.processor,
    concurrency: 2,
  });
  try {
    const next = await data.batches().next();
    if (next.done) throw new Error('fixedBatch: the data pipeline served no batch');
    return next.value;
  } finally {
    await data.close();
  }
}

/**
 * Mean training loss (`L_action + λ·L_gen`) of `policy` on `batch` over `draws` fixed noise/time
 * draws (seeds 0 … draws − 1): a deterministic function of the weights, comparable across policies
 * that share a processor.
 */
export async function fixedBatchLoss(
  policy: InternVLAA1Policy,
  processor: PolicyProcessor,
  batch: TrainingBatch,
  draws = 4,
): Promise<number> {
  let total = 0;
  for (let d = 0; d < draws; d++) {
    const loss = tidy(() => {
      const pb = toPolicyBatch(batch.samples, processor, policy.config);
      return policy.computeLoss(pb, { seed: 7919 * (d + 1), actionDim: processor.actionDim }).loss;
    });
    total += await loss.item();
    loss.dispose();
  }
  return total / draws;
}
