// A tiny policy memorises a couple of generated samples. Noise and flow times are fixed, so the
// flow-matching loss is a plain regression: AdamW must cut the action loss 10x, and the foresight
// loss (the tokenizer latent of frame t+15) must fall too. Run with and without the generation
// expert (the paper's ablation). The frozen tokenizer's latents are encoded once (`latents`).
import { describe, expect, it } from 'vitest';
import { AdamW, keep, manualSeed, tidy } from '@vla/tensor-webgpu';
import { InternVLAA1Policy, tinyConfig } from '../src/index.js';
import './setup.js';
import { disposeBatch, syntheticBatch } from './synthetic.js';

const STEPS = 45;

describe.each([true, false])('overfitting a few samples (generation expert: %s)', (generation) => {
  it(`cuts the action loss 10x in ${STEPS} AdamW steps`, async () => {
    const config = tinyConfig({
      width: 64,
      layers: 1,
      visionLayers: 1,
      textTokens: 4,
      vocabSize: 64,
      imageSize: 32,
      views: 2,
      generation,
    });
    manualSeed(3);
    const policy = new InternVLAA1Policy(config);
    const batch = syntheticBatch(config, 2, 41, { missing: [[1, 0]] });
    const latents = policy.encodeFrames(batch, true);
    batch.latents = { inputs: keep(latents.inputs), targets: keep(latents.targets!) };
    const opt = new AdamW(policy.parameters(), { lr: 1e-2, weightDecay: 0, maxGradNorm: 1 });
    const history: { action: number; gen: number | null }[] = [];
    for (let step = 0; step < STEPS; step++) {
      const losses = tidy(() => {
        const l = policy.computeLoss(batch, { seed: 9, time: [0.9, 0.6] });
        l.loss.backward();
        opt.step();
        opt.zeroGrad();
        return { action: l.actionLoss, gen: l.genLoss };
      });
      history.push({ action: await losses.action.item(), gen: losses.gen ? await losses.gen.item() : null });
      losses.action.dispose();
      losses.gen?.dispose();
    }
    const [first, last] = [history[0], history[STEPS - 1]];
    console.log(
      `generation=${generation}: action ${first.action.toFixed(4)} → ${last.action.toFixed(4)}` +
        (first.gen !== null ? `, gen ${first.gen.toFixed(4)} → ${last.gen!.toFixed(4)}` : ''),
    );
    expect(history.every((h) => Number.isFinite(h.action))).toBe(true);
    expect(last.action).toBeLessThan(first.action / 10);
    if (generation) expect(last.gen!).toBeLessThan(first.gen! / 3);
    else expect(last.gen).toBeNull();
    opt.dispose();
    batch.latents.inputs.dispose();
    batch.latents.targets!.dispose();
    disposeBatch(batch);
    policy.dispose();
  });
});
