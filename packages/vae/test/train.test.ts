import { describe, expect, it } from 'vitest';
import { tensor } from '@vla/tensor-webgpu';
import { COSMOS_TINY, CosmosImageTokenizer, trainTokenizer } from '../src/index.js';
import { eng } from './setup.js';
import { smoothImages } from './util.js';

describe('trainTokenizer', () => {
  it('lowers the reconstruction error of a tiny tokenizer on smooth images', async () => {
    const start = eng.poolStats().inUseBytes;
    const tok = new CosmosImageTokenizer(COSMOS_TINY);
    const size = 32;
    const batch = 2;
    const losses = await trainTokenizer(tok, (step) => tensor(smoothImages(batch, size, 1000 + step), [batch, 3, size, size]), {
      steps: 24,
      lr: 3e-3,
      l1Weight: 0.1,
    });
    const first = (losses[0] + losses[1] + losses[2]) / 3;
    const last = (losses.at(-1)! + losses.at(-2)! + losses.at(-3)!) / 3;
    console.log(`tiny tokenizer: loss ${first.toFixed(4)} → ${last.toFixed(4)} over ${losses.length} steps`);
    expect(last).toBeLessThan(first / 3);
    tok.dispose();
    expect(eng.poolStats().inUseBytes).toBe(start);
  });

  it('follows an lr schedule: steps at lr 0 leave the weights as they were', async () => {
    const tok = new CosmosImageTokenizer(COSMOS_TINY);
    const size = 32;
    const snapshot = async () => Promise.all(tok.parameters().map((p) => p.toArray()));
    const batchOf = (step: number) => tensor(smoothImages(2, size, 2000 + step), [2, 3, size, size]);
    const seen: number[] = [];
    const before = await snapshot();
    await trainTokenizer(tok, batchOf, { steps: 3, lr: (step) => (seen.push(step), 0) });
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(await snapshot()).toEqual(before);
    await trainTokenizer(tok, batchOf, { steps: 1, lr: () => 3e-3 });
    expect(await snapshot()).not.toEqual(before);
    tok.dispose();
  });
});
