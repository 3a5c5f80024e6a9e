// The same policy, the same weights and the same batch give the same training loss and gradients on
// every engine: the CPU engine with 1 and 3 threads bit for bit, and WebGPU (SwiftShader here, a GPU
// elsewhere) within f32 tolerance. Noise and flow times are given, so no random stream is involved.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuEngine, Engine, manualSeed, setEngine, tensor, tidy, type Backend } from '@vla/tensor-webgpu';
import { InternVLAA1Policy, tinyConfig } from '../src/index.js';
import { eng } from './setup.js';
import { disposeBatch, normals, syntheticBatch } from './synthetic.js';

const config = tinyConfig({
  width: 32,
  layers: 2,
  visionLayers: 1,
  textTokens: 6,
  vocabSize: 64,
  imageSize: 32,
});
const B = 2;

interface Step {
  loss: number;
  grads: Map<string, Float32Array>;
}

/** One loss + backward of the policy with `weights` on `engine`. */
async function step(
  engine: Backend,
  weights: Map<string, { data: Float32Array; shape: number[] }>,
): Promise<Step> {
  setEngine(engine);
  try {
    const policy = new InternVLAA1Policy(config);
    const sd = new Map([...weights].map(([k, w]) => [k, tensor(w.data, w.shape)]));
    await policy.loadStateDict(sd);
    for (const t of sd.values()) t.dispose();
    const batch = syntheticBatch(config, B, 21, { missing: [[1, 2]], padActions: 7 });
    const noise = tensor(normals(B * config.chunkSize * config.stateDim, 5), [
      B,
      config.chunkSize,
      config.stateDim,
    ]);
    const loss = tidy(() => {
      const l = policy.computeLoss(batch, { noise, time: [0.31, 0.87] }).loss;
      l.backward();
      return l;
    });
    const grads = new Map<string, Float32Array>();
    for (const [name, p] of policy.namedParameters())
      if (p.grad) grads.set(name, (await p.grad.toArray()) as Float32Array);
    const out = { loss: await loss.item(), grads };
    loss.dispose();
    noise.dispose();
    disposeBatch(batch);
    policy.dispose();
    return out;
  } finally {
    setEngine(eng);
  }
}

let cpu1: CpuEngine;
let cpu3: CpuEngine;
let gpu: Engine;
let weights: Map<string, { data: Float32Array; shape: number[] }>;

beforeAll(async () => {
  cpu1 = await CpuEngine.create({ threads: 1 });
  // Every kernel split over the 3 threads, however small (the tiny policy's calls mostly are).
  cpu3 = await CpuEngine.create({ threads: 3, minWorkPerThread: 1 });
  gpu = await Engine.create();
  manualSeed(11);
  const policy = new InternVLAA1Policy(config);
  weights = new Map();
  for (const [k, t] of Object.entries(policy.stateDict()))
    weights.set(k, { data: Float32Array.from(await t.toArray()), shape: [...t.shape] });
  policy.dispose();
});

afterAll(() => {
  cpu1?.destroy();
  cpu3?.destroy();
  gpu?.destroy();
});

describe('the policy on every engine', () => {
  it('gives bit-identical loss and gradients on the CPU engine with 1 and 3 threads, and matches WebGPU', async () => {
    const one = await step(cpu1, weights);
    const three = await step(cpu3, weights);
    expect(Number.isFinite(one.loss)).toBe(true);
    expect(three.loss).toBe(one.loss);
    expect([...three.grads.keys()]).toEqual([...one.grads.keys()]);
    for (const [name, g] of one.grads)
      expect(Array.from(three.grads.get(name)!), name).toEqual(Array.from(g));

    const web = await step(gpu, weights);
    expect(Math.abs(web.loss - one.loss) / Math.abs(one.loss)).toBeLessThan(1e-4);
    expect([...web.grads.keys()]).toEqual([...one.grads.keys()]);
    for (const [name, g] of one.grads) {
      const w = web.grads.get(name)!;
      let scale = 0;
      let diff = 0;
      for (let i = 0; i < g.length; i++) {
        scale = Math.max(scale, Math.abs(g[i]));
        diff = Math.max(diff, Math.abs(g[i] - w[i]));
      }
      // Relative to the tensor's largest gradient: f32 sums in another order, nothing more.
      expect(diff, `${name}: max |Δ| ${diff} of max |g| ${scale}`).toBeLessThanOrEqual(2e-3 * scale + 1e-7);
    }
  });
});
