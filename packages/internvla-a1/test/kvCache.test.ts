// KV-cached inference equals the uncached training computation: for the same x_t and t the action
// expert's velocity from `prefill` + `denoiseStep` matches `forward` over the whole joint sequence,
// the cache is not grown by the denoising steps, and `sampleActions` equals Euler integration with
// the uncached velocity. The batch has a missing camera and padded text, so padding is exercised.
// The steps read the cache in place: a step hands out the same bytes whatever the cached length.
import { afterAll, describe, expect, it } from 'vitest';
import {
  add,
  engine,
  manualSeed,
  mul,
  noGrad,
  randNormal,
  reshape,
  tensor,
  tidy,
  type Tensor,
} from '@vla/tensor-webgpu';
import { InternVLAA1Policy, derivedSizes, tinyConfig, type PolicyBatch } from '../src/index.js';
import './setup.js';
import { disposeBatch, maxDiff, normals, syntheticBatch } from './synthetic.js';

const B = 2;
const disposables: { dispose(): void }[] = [];
/** Bytes the pool handed out during one denoising step, by cached length. */
const stepBytes = new Map<number, number>();
afterAll(() => disposables.forEach((d) => d.dispose()));

describe.each([true, false])('KV-cached sampling (generation expert: %s)', (generation) => {
  const config = tinyConfig({
    width: 32,
    layers: 2,
    visionLayers: 1,
    textTokens: 6,
    vocabSize: 64,
    imageSize: 32,
    generation,
  });
  const { chunkSize: H, stateDim: D } = config;
  let policy: InternVLAA1Policy;
  let batch: PolicyBatch;

  it('denoiseStep against the cache equals the uncached forward for the same x_t, t', async () => {
    manualSeed(11);
    policy = new InternVLAA1Policy(config);
    batch = syntheticBatch(config, B, 31, { missing: [[0, 1]], textLengths: [6, 2] });
    disposables.push(policy, { dispose: () => disposeBatch(batch) });
    const ctx = policy.prefill(batch);
    const d = derivedSizes(config);
    expect(ctx.cache.length).toBe(d.prefixTokens + d.generationTokens);

    const cases: [Float32Array, number][] = [
      [normals(B * H * D, 1), 0.37],
      [normals(B * H * D, 2), 1],
      [normals(B * H * D, 3), 0.001],
    ];
    const cached: Tensor[] = [];
    for (const [x, t] of cases) {
      const xt = tensor(x, [B, H, D]);
      const full = policy.forward(batch, xt, t);
      const step = noGrad(() => policy.denoiseStep(ctx, xt, t));
      expect(ctx.cache.length).toBe(d.prefixTokens + d.generationTokens);
      expect(await maxDiff(step, full.velocity)).toBeLessThanOrEqual(1e-4);
      if (generation) expect(await maxDiff(ctx.latent!, full.latent!)).toBeLessThanOrEqual(1e-4);
      else expect(full.latent).toBeNull();
      cached.push(step);
      for (const u of [xt, full.velocity, full.latent]) u?.dispose();
    }
    const before = engine().poolStats().acquiredBytes;
    const once = noGrad(() => policy.denoiseStep(ctx, cached[0], 0.5));
    stepBytes.set(ctx.cache.length, engine().poolStats().acquiredBytes - before);
    once.dispose();
    // Different inputs give different velocities, so the comparisons above can fail.
    expect(await maxDiff(cached[0], cached[1])).toBeGreaterThan(1e-2);
    cached.forEach((c) => c.dispose());
    ctx.dispose();
    expect(ctx.cache.length).toBe(0);
  });

  it('sampleActions equals Euler integration with the uncached velocity', async () => {
    const noise = randNormal([B, H, D], { seed: 77 });
    const steps = 3;
    const { actions } = policy.sampleActions(batch, { steps, noise });
    let x: Tensor = noise;
    for (let k = 0; k < steps; k++) {
      const t = 1 - k / steps;
      const next: Tensor = tidy(() => add(x, mul(policy.forward(batch, x, t).velocity, -1 / steps)));
      if (x !== noise) x.dispose();
      x = next;
    }
    expect(await maxDiff(actions, x)).toBeLessThanOrEqual(1e-4);
    // Same seed, same chunk; another seed, another chunk.
    const a1 = policy.sampleActions(batch, { seed: 5, steps: 2 }).actions;
    const a2 = policy.sampleActions(batch, { seed: 5, steps: 2 }).actions;
    const a3 = policy.sampleActions(batch, { seed: 6, steps: 2 }).actions;
    expect(await maxDiff(a1, a2)).toBe(0);
    expect(await maxDiff(a1, a3)).toBeGreaterThan(1e-2);
    for (const t of [noise, actions, x, a1, a2, a3]) t.dispose();
  });

  it('returns the visual foresight (predicted latent, decoded images) only with the generation expert', async () => {
    if (!generation) {
      const r = policy.sampleActions(batch, { steps: 1, foresight: true });
      expect(r.latent).toBeUndefined();
      expect(r.images).toBeUndefined();
      r.actions.dispose();
      return;
    }
    const ctx = policy.prefill(batch);
    const { actions, latent, images } = policy.sampleActions(batch, { steps: 2, foresight: true });
    const d = derivedSizes(config);
    expect(latent!.shape).toEqual([B * config.views, 16, d.latentSize, d.latentSize]);
    expect(await maxDiff(latent!, ctx.latent!)).toBeLessThanOrEqual(1e-6);
    expect(images!.shape).toEqual([B, config.views, 3, config.imageSize, config.imageSize]);
    const px = await images!.toArray();
    expect(px.every((v) => v >= -1 && v <= 1)).toBe(true);
    // The images are the tokenizer's decoding of the latent.
    const direct = policy.cosmos.decodeClamped(latent!);
    expect(await maxDiff(direct, reshape(images!, direct.shape))).toBeLessThanOrEqual(1e-6);
    for (const t of [actions, latent!, images!, direct]) t.dispose();
    ctx.dispose();
  });
});

describe('KV-cached denoising step', () => {
  it('hands out the same bytes against the cache with and without the generation tokens', () => {
    // Both policies above have the same action expert; their caches differ by the generation tokens.
    expect([...stepBytes.keys()].sort((a, b) => a - b)).toEqual([
      derivedSizes(tinyConfig({ imageSize: 32, textTokens: 6 })).prefixTokens,
      derivedSizes(tinyConfig({ imageSize: 32, textTokens: 6 })).prefixTokens +
        derivedSizes(tinyConfig({ imageSize: 32, textTokens: 6 })).generationTokens,
    ]);
    const [a, b] = [...stepBytes.values()];
    expect(a).toBeGreaterThan(0);
    expect(b).toBe(a);
  });
});
