// Seeded synthetic metric records and foresight frames for the report tests.
import type { EvalRecord, MetricRecord, TrainRecord } from '../src/report/metricRecord';

/** mulberry32: a small seeded generator, uniform in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A plausible train record at `step` (decaying losses, warmup + cosine lr, noisy throughput). */
export function trainRecord(step: number, rand: () => number, batch = 8): TrainRecord {
  const actionLoss = 0.05 + 1.2 * Math.exp(-step / 80) * (0.8 + 0.4 * rand());
  const genLoss = 0.2 + 0.9 * Math.exp(-step / 150) * (0.8 + 0.4 * rand());
  const dataMs = 20 + 10 * rand();
  const uploadMs = 5 + 3 * rand();
  const forwardMs = 120 + 30 * rand();
  const backwardMs = 250 + 50 * rand();
  const optimizerMs = 30 + 10 * rand();
  const stepMs = dataMs + uploadMs + forwardMs + backwardMs + optimizerMs;
  return {
    kind: 'train',
    step,
    epoch: Math.floor((step * batch) / 530),
    samples: step * batch,
    loss: actionLoss + 0.1 * genLoss,
    actionLoss,
    genLoss,
    lr: step < 20 ? (1e-4 * step) / 20 : 1e-4 * 0.5 * (1 + Math.cos((Math.PI * step) / 1000)),
    gradNorm: 0.5 + 3 * rand() * Math.exp(-step / 200),
    samplesPerSec: (1000 * batch) / stepMs,
    timing: { dataMs, uploadMs, forwardMs, backwardMs, optimizerMs },
    wallMs: step * stepMs,
  };
}

/** An eval record with `successes` drawn for `episodes` episodes. */
export function evalRecord(
  step: number,
  task: string,
  robot: string,
  rand: () => number,
  episodes = 10,
): EvalRecord {
  const successes = Math.floor(rand() * (episodes + 1));
  return { kind: 'eval', step, task, robot, episodes, successes, successRate: successes / episodes };
}

/** `n` values uniform in [lo, hi). */
export function uniform(n: number, rand: () => number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rand();
  return a;
}

/** Steps 1..steps of train records, eval of two tasks every `evalEvery` steps and a few events. */
export function syntheticRun(steps: number, seed: number, evalEvery = 50): MetricRecord[] {
  const rand = rng(seed);
  const out: MetricRecord[] = [];
  for (let s = 1; s <= steps; s++) {
    out.push(trainRecord(s, rand));
    if (s % evalEvery === 0) {
      out.push(
        evalRecord(s, 'pick up the cube', 'cr5', rand),
        evalRecord(s, 'stack the blocks', 'cr5', rand),
      );
      out.push({ kind: 'event', step: s, message: `checkpoint step-${s}` });
    }
  }
  return out;
}
