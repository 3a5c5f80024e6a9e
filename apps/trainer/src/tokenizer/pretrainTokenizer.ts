// Pretraining the image tokenizer of a policy size that has no released tokenizer weights (the tiny
// preset): the policy keeps its tokenizer frozen, so a random one would make the generation
// expert predict random projections of the future frame and its foresight decode to noise. This
// trains the autoencoder to reconstruct frames of the training datasets; `model.tokenizer` of a
// training config then loads the result into the policy before training starts.
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { InternVLAA1Config } from '@vla/internvla-a1';
import { SeededRandom } from '@vla/lerobot';
import { manualSeed, saveSafetensors, tensor } from '@vla/tensor-webgpu';
import { CosmosImageTokenizer, trainTokenizer } from '@vla/vae';
import { tokenizerFrames } from './tokenizerFrames.js';

/** Options of {@link pretrainTokenizer}. */
export interface PretrainTokenizerOptions {
  /** LeRobot dataset folders whose camera frames are reconstructed. */
  datasets: readonly string[];
  /** Policy configuration whose tokenizer (`vae`) and input size (`imageSize`) are trained. */
  config: InternVLAA1Config;
  /** Where the weights go (safetensors, names as the tokenizer's state dict: `encoder.*`, …). */
  out: string;
  /** Optimisation steps (default 3000). */
  steps?: number;
  /** Frames per step (default 16). */
  batchSize?: number;
  /** AdamW learning rate (default 2e-3, a tenth of it for the last fifth of the steps). */
  lr?: number;
  /** Seed of the initial weights and of the frame draws (default 0). */
  seed?: number;
  /** Every `stride`-th frame of each episode is used (default 5). */
  stride?: number;
  /** Progress: the frames once gathered, then each step's loss. */
  onFrames?: (frames: number) => void;
  onStep?: (step: number, loss: number) => void;
}

/** What {@link pretrainTokenizer} did. */
export interface PretrainTokenizerResult {
  /** Frames drawn from. */
  frames: number;
  /** Loss of every step (MSE in [-1, 1] pixel units). */
  losses: number[];
}

/** Trains `config.vae` to reconstruct the datasets' frames and saves its weights to `out`. */
export async function pretrainTokenizer(options: PretrainTokenizerOptions): Promise<PretrainTokenizerResult> {
  const { config } = options;
  const steps = options.steps ?? 3000;
  const batch = options.batchSize ?? 16;
  const lr = options.lr ?? 2e-3;
  const seed = options.seed ?? 0;
  for (const [k, v] of Object.entries({ steps, batchSize: batch }))
    if (!Number.isInteger(v) || v < 1)
      throw new Error(`pretrainTokenizer: ${k} must be a positive integer, got ${v}`);
  if (!(lr > 0)) throw new Error(`pretrainTokenizer: lr must be > 0, got ${lr}`);
  const S = config.imageSize;
  const frames = await tokenizerFrames({ datasets: options.datasets, imageSize: S, stride: options.stride });
  if (frames.length === 0) throw new Error('pretrainTokenizer: the datasets hold no frames');
  options.onFrames?.(frames.length);

  manualSeed(seed);
  const tokenizer = new CosmosImageTokenizer(config.vae);
  const draws = new SeededRandom(seed);
  const plane = S * S;
  const batchOf = () => {
    const x = new Float32Array(batch * 3 * plane);
    for (let b = 0; b < batch; b++) {
      const rgb = frames[draws.int(frames.length)];
      for (let c = 0; c < 3; c++)
        for (let i = 0; i < plane; i++) x[(b * 3 + c) * plane + i] = rgb[i * 3 + c] / 127.5 - 1;
    }
    return tensor(x, [batch, 3, S, S]);
  };
  try {
    // The bulk of the steps at `lr`, the last fifth at a tenth of it.
    const bulk = Math.max(1, Math.round(steps * 0.8));
    const losses = await trainTokenizer(tokenizer, batchOf, {
      steps,
      lr: (step) => (step < bulk ? lr : lr / 10),
      onStep: options.onStep,
    });
    await mkdir(dirname(options.out), { recursive: true });
    await saveSafetensors(options.out, tokenizer.stateDict(), {
      format: 'pt',
      'vla.tokenizer': JSON.stringify(config.vae),
      'vla.imageSize': String(S),
      'vla.steps': String(steps),
      'vla.finalLoss': String(losses.slice(-50).reduce((a, b) => a + b, 0) / Math.min(50, losses.length)),
    });
    return { frames: frames.length, losses };
  } finally {
    tokenizer.dispose();
  }
}
