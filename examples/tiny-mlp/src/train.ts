// The training loop of the demo, separate from the terminal UI so it can be tested: a 1 → 32 → 32 → 1
// tanh MLP fits y = sin(2x) + 0.3x on [-2, 2] with AdamW and a warmup-cosine schedule.
import {
  AdamW,
  Linear,
  manualSeed,
  mean,
  mul,
  Sequential,
  sub,
  tanh,
  Tensor,
  tidy,
  warmupCosineSchedule,
  type Backend,
} from '@vla/tensor-webgpu';

/** Options of {@link trainTinyMlp}. */
export interface TrainOptions {
  steps: number;
  /** Hidden width (default 32). */
  width?: number;
  /** Training points on [-2, 2] (default 128). */
  points?: number;
  /** Read the loss back every this many steps (default 10); readbacks wait for the GPU. */
  logEvery?: number;
  /** Called with each loss read back. */
  onLoss?: (step: number, loss: number) => void;
  seed?: number;
}

/** Result of {@link trainTinyMlp}. */
export interface TrainResult {
  /** [step, loss] pairs at every `logEvery` steps, first and last included. */
  losses: [number, number][];
  parameters: number;
}

/** The target function. */
export function target(x: number): number {
  return Math.sin(2 * x) + 0.3 * x;
}

/** Trains the MLP on `engine` (the default engine's device) and reports the loss curve. */
export async function trainTinyMlp(engine: Backend, o: TrainOptions): Promise<TrainResult> {
  const width = o.width ?? 32;
  const n = o.points ?? 128;
  const logEvery = o.logEvery ?? 10;
  manualSeed(o.seed ?? 0);
  const model = new Sequential(
    new Linear(1, width),
    tanh,
    new Linear(width, width),
    tanh,
    new Linear(width, 1),
  );
  const opt = new AdamW(model.parameters(), {
    lr: warmupCosineSchedule({
      peakLr: 1e-2,
      decayLr: 5e-4,
      warmupSteps: Math.ceil(o.steps / 20),
      decaySteps: o.steps,
    }),
    weightDecay: 0,
    maxGradNorm: 1,
  });
  const xs = Float32Array.from({ length: n }, (_, i) => -2 + (4 * i) / (n - 1));
  const x = Tensor.fromData(xs, [n, 1], 'f32', engine);
  const y = Tensor.fromData(xs.map(target), [n, 1], 'f32', engine);
  const losses: [number, number][] = [];
  try {
    for (let step = 0; step < o.steps; step++) {
      const loss = tidy(() => {
        const d = sub(model.forward(x), y);
        const l = mean(mul(d, d));
        l.backward();
        opt.step();
        opt.zeroGrad();
        return l;
      });
      if (step % logEvery === 0 || step === o.steps - 1) {
        const v = await loss.item();
        losses.push([step, v]);
        o.onLoss?.(step, v);
      }
      loss.dispose();
    }
    return { losses, parameters: model.numParameters() };
  } finally {
    x.dispose();
    y.dispose();
    opt.dispose();
    model.dispose();
  }
}
