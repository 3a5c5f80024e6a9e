// Learning-rate schedules are plain functions of the step index (0 for the first optimizer step), so
// they are trivially resumable: the optimizer's step count is the only state.

/** Learning rate as a function of the 0-based optimizer step. */
export type LrSchedule = (step: number) => number;

/** The same learning rate at every step (pretraining recipe). */
export function constantSchedule(lr: number): LrSchedule {
  if (!(lr >= 0)) throw new Error(`constantSchedule: lr must be >= 0, got ${lr}`);
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
  if (!(peakLr >= 0) || !(decayLr >= 0))
    throw new Error(`warmupCosineSchedule: learning rates must be >= 0 (peak ${peakLr}, floor ${decayLr})`);
  if (!Number.isInteger(W) || W < 0 || !Number.isInteger(D) || D <= 0) {
    throw new Error(
      `warmupCosineSchedule: warmupSteps must be an integer >= 0 and decaySteps > 0 (got ${W}, ${D})`,
    );
  }
  return (s) => {
    if (s < W) {
      if (s <= 0) return peakLr / (W + 1);
      return peakLr * ((1 / (W + 1) - 1) * (1 - s / W) + 1);
    }
    const cos = 0.5 * (1 + Math.cos((Math.PI * Math.min(s, D)) / D));
    return decayLr + (peakLr - decayLr) * cos;
  };
}
