// Tokenizer pretraining for sizes without released weights: frames come from every camera of every
// episode at the stride (checked against ffmpeg's own decode), the loss falls, the saved weights are
// the tokenizer's state dict, and `model.tokenizer` puts exactly them into a new policy — or names
// the file when they cannot fit.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InternVLAA1Policy, tinyConfig } from '@vla/internvla-a1';
import { loadSafetensors } from '@vla/tensor-webgpu';
import { loadTokenizerWeights } from '../src/tokenizer/loadTokenizerWeights.js';
import { pretrainTokenizer } from '../src/tokenizer/pretrainTokenizer.js';
import { tokenizerFrames } from '../src/tokenizer/tokenizerFrames.js';
import { ffmpegFrame, tempDir, writeNoiseVideoDataset } from './dataFixtures.js';
import { MICRO_MODEL } from './fixtures.js';
import './setup.js';

const EPISODES = [7, 12];
const tmp = tempDir();
const data = join(tmp.dir, 'data');
const config = tinyConfig(MICRO_MODEL);

beforeAll(() => writeNoiseVideoDataset(data, EPISODES, [32, 32], 5), 60_000);
afterAll(() => tmp.cleanup());

describe('tokenizer pretraining', () => {
  it('takes every stride-th frame of each episode, as ffmpeg decodes it', async () => {
    const frames = await tokenizerFrames({ datasets: [data], imageSize: 32, stride: 3 });
    // Episode lengths 7 and 12 → frames 0, 3, 6 and 0, 3, 6, 9 of each episode.
    expect(frames.length).toBe(3 + 4);
    const mp4 = join(data, 'videos/observation.images.top/chunk-000/file-000.mp4');
    const global = [0, 3, 6, 7 + 0, 7 + 3, 7 + 6, 7 + 9];
    global.forEach((n, i) => expect(frames[i]).toEqual(ffmpegFrame(mp4, n)));
  }, 60_000);

  it('lowers the reconstruction loss and saves the state dict that model.tokenizer loads', async () => {
    const out = join(tmp.dir, 'tok.safetensors');
    const r = await pretrainTokenizer({
      datasets: [data],
      config,
      out,
      steps: 30,
      batchSize: 4,
      stride: 1,
      lr: 3e-3,
    });
    expect(r.frames).toBe(7 + 12);
    expect(r.losses).toHaveLength(30);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(r.losses.slice(-5))).toBeLessThan(0.8 * mean(r.losses.slice(0, 5)));

    const file = await loadSafetensors(out);
    const policy = InternVLAA1Policy.create(config);
    try {
      const names = Object.keys(policy.cosmos.stateDict()).sort();
      expect([...file.keys()].sort()).toEqual(names);
      await loadTokenizerWeights(policy, out);
      const own = policy.cosmos.stateDict();
      for (const name of names) expect(await own[name].toArray()).toEqual(await file.get(name)!.toArray());
    } finally {
      policy.dispose();
      for (const t of file.values()) t.dispose();
    }
  }, 120_000);

  it('names the file when the weights do not fit or there is no tokenizer', async () => {
    const out = join(tmp.dir, 'tok.safetensors');
    const wider = InternVLAA1Policy.create({
      ...config,
      vae: { ...config.vae, channels: 2 * config.vae.channels },
    });
    const nogen = InternVLAA1Policy.create(tinyConfig({ ...MICRO_MODEL, generation: false }));
    try {
      await expect(loadTokenizerWeights(wider, out)).rejects.toThrow(
        /tok\.safetensors does not fit the .* tokenizer: loadStateDict: .*shape/,
      );
      await expect(loadTokenizerWeights(nogen, out)).rejects.toThrow(
        /tok\.safetensors\): the policy has no generation expert/,
      );
      await expect(loadTokenizerWeights(wider, join(tmp.dir, 'missing.safetensors'))).rejects.toThrow(
        /cannot read .*missing\.safetensors/,
      );
    } finally {
      wider.dispose();
      nogen.dispose();
    }
  }, 60_000);
});
