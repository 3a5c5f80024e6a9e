// A small training loop for tokenizers without released weights: reconstruct batches of images with
// AdamW. Enough to train a tiny tokenizer in a browser tab or a test; bigger runs want a scheduler,
// gradient clipping and perceptual losses on top.
import { AdamW, type LrSchedule, type Tensor, tidy } from '@vla/tensor-webgpu';
import { reconstructionLoss } from './loss.js';
import type { CosmosImageTokenizer } from './tokenizer.js';

/** Options of {@link trainTokenizer}. */
export interface TrainTokenizerOptions {
  /** Optimisation steps. */
  steps: number;
  /** AdamW learning rate, or a schedule of it over the steps (default 1e-3). */
  lr?: number | LrSchedule;
  /** AdamW weight decay (default 0). */
  weightDecay?: number;
  /** Weight of the L1 term added to the MSE (default 0). */
  l1Weight?: number;
  /** Called after each step with the step index and that step's loss. */
  onStep?: (step: number, loss: number) => void;
}

/**
 * Trains `tokenizer` to reconstruct images. `nextBatch(step)` returns an image batch `[N, 3, H, W]` in
 * [-1, 1] (it is disposed after the step). Returns the loss of every step.
 */
export async function trainTokenizer(
  tokenizer: CosmosImageTokenizer,
  nextBatch: (step: number) => Tensor | Promise<Tensor>,
  options: TrainTokenizerOptions,
): Promise<number[]> {
  if (!Number.isInteger(options.steps) || options.steps < 1) throw new Error(`trainTokenizer: steps must be a positive integer, got ${options.steps}`);
  const optimizer = new AdamW(tokenizer.parameters(), { lr: options.lr ?? 1e-3, weightDecay: options.weightDecay ?? 0 });
  const losses: number[] = [];
  tokenizer.train();
  try {
    for (let step = 0; step < options.steps; step++) {
      const images = await nextBatch(step);
      let value: number;
      try {
        const loss = tidy(() => reconstructionLoss(tokenizer.forward(images), images, { l1Weight: options.l1Weight }));
        loss.backward();
        optimizer.step();
        optimizer.zeroGrad();
        value = await loss.item();
        loss.dispose();
      } finally {
        images.dispose();
      }
      if (!Number.isFinite(value)) throw new Error(`trainTokenizer: loss became ${value} at step ${step}`);
      losses.push(value);
      options.onStep?.(step, value);
    }
  } finally {
    tokenizer.zeroGrad();
    optimizer.dispose();
  }
  return losses;
}
