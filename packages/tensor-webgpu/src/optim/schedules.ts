// Learning-rate schedules are plain functions of the step index (0 for the first optimizer step), so
// they are trivially resumable: the optimizer's step count is the only state.
import { checkNumber } from '../ops/validate.js';

/** Learning rate as a function of the 0-based optimizer step. */
export type LrSchedule = (step: number) => number;

/** The same learning rate at every step (pretraining recipe). */
export function constantSchedule(lr: number): LrSchedule {
  checkNumber('constantSchedule', 'lr', lr, { min: 0 });
  return () => lr;
}

/** Parameters of {@link warmupCosineSchedule}. */
export interface WarmupCosineOptions {
  /** Learning rate at the end of warmup. */
  peakLr: number;
  /** The floor reached at `decaySteps` and kept afterwards. */
  decayLr: number;
  warmupSteps: number;
  /** Step at which the cosine reaches the floor (counted from step 0, warmup included). */
  decaySteps: number;
}

/**
 * Linear warmup then cosine decay to a floor, exactly as LeRobot's `CosineDecayWithWarmupSchedulerConfig`
 * (the upstream fine-tuning recipe), with s the 0-based step, W = warmupSteps, D = decaySteps:
 *
 * - s < W: `peak · (1 + (1/(W+1) − 1)·(1 − s/W))` (rises from peak/(W+1) at s = 0 toward peak)
 * - s ≥ W: `floor + (peak − floor) · ½(1 + cos(π·min(s, D)/D))`
 */
export function warmupCosineSchedule(o: WarmupCosineOptions): LrSchedule {
  const { peakLr, decayLr, warmupSteps: W, decaySteps: D } = o;
  const op = 'warmupCosineSchedule';
  checkNumber(op, 'peakLr', peakLr, { min: 0 });
  checkNumber(op, 'decayLr', decayLr, { min: 0 });
  checkNumber(op, 'warmupSteps', W, { integer: true, min: 0 });
  checkNumber(op, 'decaySteps', D, { integer: true, min: 1 });
  return (s) => {
    if (s < W) {
      if (s <= 0) return peakLr / (W + 1);
      return peakLr * ((1 / (W + 1) - 1) * (1 - s / W) + 1);
    }
    const cos = 0.5 * (1 + Math.cos((Math.PI * Math.min(s, D)) / D));
    return decayLr + (peakLr - decayLr) * cos;
  };
}
