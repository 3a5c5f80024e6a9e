// Ownership: sampling, the loss and a training step return the pool to exactly the bytes it held
// before, whether the results are dropped by a tidy scope or disposed by hand, and whether a step
// succeeds or throws half-way (the KV cache built so far must not outlive a failed prefill).
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { AdamW, manualSeed, noGrad, tidy } from '@vla/tensor-webgpu';
import { InternVLAA1Policy, tinyConfig, type PolicyBatch, type SampleResult } from '../src/index.js';
import { eng } from './setup.js';
import { disposeBatch, syntheticBatch } from './synthetic.js';

const config = tinyConfig({
  width: 32,
  layers: 1,
  visionLayers: 1,
  textTokens: 4,
  vocabSize: 64,
  imageSize: 32,
  views: 2,
  chunkSize: 4,
});
manualSeed(5);
const policy = new InternVLAA1Policy(config);
const batch: PolicyBatch = syntheticBatch(config, 1, 3, { missing: [[0, 1]], padActions: 1 });
afterAll(() => {
  policy.dispose();
  disposeBatch(batch);
});
afterEach(() => vi.restoreAllMocks());

/** In-use pool bytes (what a leak grows). */
const inUse = (): number => eng.poolStats().inUseBytes;

function disposeResult(r: SampleResult): void {
  for (const t of [r.actions, r.latent, r.images]) t?.dispose();
}

describe('sampleActions ownership', () => {
  it('tidy(() => sampleActions(obs, { foresight: true })) leaves the pool at its baseline', () => {
    const base = inUse();
    for (let i = 0; i < 2; i++) {
      tidy(() => {
        const r = policy.sampleActions(batch, { steps: 1, foresight: true });
        expect(r.latent).toBeDefined();
        expect(r.images).toBeDefined();
      });
      expect(inUse() - base).toBe(0);
    }
  });

  it('results disposed by hand free everything, with and without foresight', () => {
    const base = inUse();
    for (const foresight of [true, false]) {
      const r = policy.sampleActions(batch, { steps: 1, foresight });
      expect(inUse()).toBeGreaterThan(base);
      disposeResult(r);
      expect(inUse() - base).toBe(0);
    }
  });

  it('returned tensors survive the sampling context and belong to the caller', async () => {
    const r = tidy(() => policy.sampleActions(batch, { steps: 1, foresight: true }));
    // Readable after the context (its cache and its own handle on the latent) is gone.
    const latent = await r.latent!.toArray();
    expect(latent.length).toBe(r.latent!.size);
    expect(latent.every(Number.isFinite)).toBe(true);
    disposeResult(r);
  });

  it('a prefill that throws after filling the cache frees the cache', () => {
    const base = inUse();
    vi.spyOn(policy, 'predictLatent').mockImplementation(() => {
      throw new Error('injected');
    });
    expect(() => policy.prefill(batch)).toThrow('injected');
    expect(() => tidy(() => policy.sampleActions(batch, { steps: 1 }))).toThrow('injected');
    expect(inUse() - base).toBe(0);
  });

  it('a denoising step or a decode that throws frees the context and the chunk', () => {
    const base = inUse();
    const step = vi.spyOn(policy, 'denoiseStep').mockImplementationOnce(() => {
      throw new Error('step');
    });
    expect(() => policy.sampleActions(batch, { steps: 1 })).toThrow('step');
    expect(inUse() - base).toBe(0);
    step.mockRestore();
    vi.spyOn(policy.cosmos, 'decodeClamped').mockImplementation(() => {
      throw new Error('decode');
    });
    expect(() => policy.sampleActions(batch, { steps: 1, foresight: true })).toThrow('decode');
    expect(inUse() - base).toBe(0);
  });
});

describe('training ownership', () => {
  it('computeLoss (evaluation, no gradients) under tidy leaves the pool at its baseline', () => {
    const base = inUse();
    for (let seed = 0; seed < 2; seed++) {
      noGrad(() =>
        tidy(() => {
          policy.computeLoss(batch, { seed });
        }),
      );
      expect(inUse() - base).toBe(0);
    }
  });

  // The loss's graph spans nested scopes; dropping it without backward() must free every node's
  // saved tensors, not only those of the tensors the outer scope created.
  it('computeLoss with gradients recorded and no backward() frees its graph', () => {
    const base = inUse();
    tidy(() => {
      policy.computeLoss(batch, { seed: 0 });
    });
    expect(inUse() - base).toBe(0);
  });

  it('a training step (loss, backward, AdamW, zeroGrad) allocates only the optimizer state', () => {
    const opt = new AdamW(policy.parameters(), { lr: 1e-4, maxGradNorm: 1 });
    const trainStep = (seed: number) =>
      tidy(() => {
        policy.computeLoss(batch, { seed }).loss.backward();
        opt.step();
        opt.zeroGrad();
      });
    trainStep(0); // allocates the AdamW moments once
    const base = inUse();
    trainStep(1);
    expect(inUse() - base).toBe(0);
    opt.dispose();
  });
});
