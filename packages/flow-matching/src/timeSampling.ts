// openpi's time distribution: t = Beta(1.5, 1) * 0.999 + 0.001, so t lies in [0.001, 1] and leans
// towards 1 (noise), where the velocity is hardest to predict.
import { add, mul, randBeta, type Generator, type Tensor } from '@vla/tensor-webgpu';

/** Options of {@link sampleTime}; defaults are the openpi / InternVLA-A1 values. */
export interface TimeSamplingOptions {
  /** Seed of the counter-based generator (same seed, same times), or a Generator to draw one from. */
  seed: number | Generator;
  /** Beta shape α (default 1.5). */
  alpha?: number;
  /** Beta shape β (default 1). */
  beta?: number;
  /** Multiplier of the Beta sample (default 0.999). */
  scale?: number;
  /** Added after scaling (default 0.001), keeping t away from 0. */
  offset?: number;
}

/** Flow-matching times `[n]`: `Beta(alpha, beta) * scale + offset` (t = 1 is noise, t = 0 data). */
export function sampleTime(n: number, options: TimeSamplingOptions): Tensor {
  if (!Number.isInteger(n) || n <= 0) throw new Error(`sampleTime: n must be a positive integer, got ${n}`);
  const { alpha = 1.5, beta = 1, scale = 0.999, offset = 0.001 } = options;
  if (!(alpha > 0 && beta > 0))
    throw new Error(`sampleTime: Beta shapes must be positive, got (${alpha}, ${beta})`);
  const b = randBeta([n], alpha, beta, { seed: options.seed });
  const t = add(mul(b, scale), offset);
  b.dispose();
  return t;
}
