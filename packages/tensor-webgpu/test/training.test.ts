// End-to-end training: 1,000 AdamW steps under tidy leave GPU memory exactly flat, and a small MLP
// fits a 1-D function to a small fraction of its initial loss.
import { describe, expect, it } from 'vitest';
import {
  AdamW,
  Linear,
  manualSeed,
  mean,
  Module,
  sub,
  tanh,
  Tensor,
  tidy,
  warmupCosineSchedule,
  mul,
} from '../src/index.js';
import { eng } from './setup.js';

/** 1 → width → 1 with tanh: as small as a real MLP gets, so 1,000 steps stay fast on SwiftShader. */
class Mlp extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  constructor(width: number) {
    super();
    this.fc1 = this.module('fc1', new Linear(1, width));
    this.fc2 = this.module('fc2', new Linear(width, 1));
  }
  forward(x: Tensor): Tensor {
    return this.fc2.forward(tanh(this.fc1.forward(x)));
  }
}

/** y = sin(2x) + 0.3·x on a grid of [-2, 2]. */
function dataset(n: number): { x: Tensor; y: Tensor } {
  const xs = Float32Array.from({ length: n }, (_, i) => -2 + (4 * i) / (n - 1));
  const ys = xs.map((v) => Math.sin(2 * v) + 0.3 * v);
  return { x: Tensor.fromData(xs, [n, 1]), y: Tensor.fromData(ys, [n, 1]) };
}

function mse(pred: Tensor, target: Tensor): Tensor {
  const d = sub(pred, target);
  return mean(mul(d, d));
}

describe('training', () => {
  it('1,000 AdamW steps under tidy: pool bytes and live buffers are identical at step 100 and step 1000', async () => {
    manualSeed(3);
    const model = new Mlp(8);
    const opt = new AdamW(model.parameters(), { lr: 3e-3 });
    const { x, y } = dataset(16);
    let at100: unknown = null;
    for (let step = 1; step <= 1000; step++) {
      tidy(() => {
        mse(model.forward(x), y).backward();
        opt.step();
        opt.zeroGrad();
      });
      // Waiting now and then keeps the queue short; the allocation pattern between waits repeats.
      if (step % 50 === 0) await eng.sync();
      if (step === 100) {
        const s = eng.poolStats();
        at100 = { inUseBytes: s.inUseBytes, live: s.live };
      }
    }
    const s = eng.poolStats();
    expect({ inUseBytes: s.inUseBytes, live: s.live }).toEqual(at100);
    for (const t of [x, y]) t.dispose();
    opt.dispose();
    model.dispose();
  });

  it('fits y = sin(2x) + 0.3x: final loss < 1% of the initial loss', async () => {
    manualSeed(7);
    const model = new Mlp(24);
    const steps = 300;
    const opt = new AdamW(model.parameters(), {
      lr: warmupCosineSchedule({ peakLr: 3e-2, decayLr: 1e-3, warmupSteps: 20, decaySteps: steps }),
      weightDecay: 0,
    });
    const { x, y } = dataset(64);
    const first = tidy(() => mse(model.forward(x), y));
    const initial = await first.item();
    first.dispose();
    for (let step = 0; step < steps; step++) {
      tidy(() => {
        mse(model.forward(x), y).backward();
        opt.step();
        opt.zeroGrad();
      });
      if (step % 100 === 99) await eng.sync();
    }
    const last = tidy(() => mse(model.forward(x), y));
    const final = await last.item();
    last.dispose();
    expect(initial).toBeGreaterThan(0.1);
    expect(final).toBeLessThan(0.01 * initial);
    for (const t of [x, y]) t.dispose();
    opt.dispose();
    model.dispose();
  });
});
