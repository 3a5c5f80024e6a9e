import { describe, expect, it } from 'vitest';
import { noGrad, tensor } from '@vla/tensor-webgpu';
import { AttnBlock, Downsample, ResBlock, Upsample } from '../src/index.js';
import { eng } from './setup.js';
import { arr, attnBlockRef, conv2dRef, maxAbsDiff, randomArray, resBlockRef, upsampleNearestRef } from './reference.js';
import { randomizeParams } from './util.js';

const norm = { groups: 4, eps: 1e-6 };

describe('tokenizer blocks vs float64 references', () => {
  it('ResBlock with nin_shortcut (8 → 12) and without (12 → 12)', async () => {
    const start = eng.poolStats().inUseBytes;
    for (const [cin, cout, seed] of [
      [8, 12, 1],
      [12, 12, 2],
    ]) {
      const block = new ResBlock(cin, cout, norm);
      const params = await randomizeParams(block, 100 * seed);
      expect(params.has('nin_shortcut.weight')).toBe(cin !== cout);
      const host = randomArray(2 * cin * 6 * 5, 31 * seed);
      const x = tensor(host, [2, cin, 6, 5]);
      const y = noGrad(() => block.forward(x));
      const ref = resBlockRef(arr(host, [2, cin, 6, 5]), params, '', 4, 1e-6);
      expect(y.shape).toEqual(ref.shape);
      expect(maxAbsDiff(await y.toArray(), ref.data)).toBeLessThan(1e-4);
      x.dispose();
      y.dispose();
      block.dispose();
    }
    expect(eng.poolStats().inUseBytes).toBe(start);
  });

  it('AttnBlock (single head over H·W)', async () => {
    const block = new AttnBlock(8, norm);
    const params = await randomizeParams(block, 900);
    const host = randomArray(2 * 8 * 5 * 7, 4242);
    const x = tensor(host, [2, 8, 5, 7]);
    const y = noGrad(() => block.forward(x));
    const ref = attnBlockRef(arr(host, [2, 8, 5, 7]), params, '', 4, 1e-6);
    expect(maxAbsDiff(await y.toArray(), ref.data)).toBeLessThan(1e-4);
    x.dispose();
    y.dispose();
    block.dispose();
  });

  it('Downsample pads right/bottom then strides; Upsample is nearest x2 + conv', async () => {
    const down = new Downsample(4);
    const pd = await randomizeParams(down, 5);
    const host = randomArray(1 * 4 * 8 * 6, 99);
    const x = tensor(host, [1, 4, 8, 6]);
    const y = noGrad(() => down.forward(x));
    expect(y.shape).toEqual([1, 4, 4, 3]);
    const ref = conv2dRef(arr(host, [1, 4, 8, 6]), pd.get('conv.weight')!, pd.get('conv.bias')!, 2, [0, 1, 0, 1]);
    expect(maxAbsDiff(await y.toArray(), ref.data)).toBeLessThan(1e-5);

    const up = new Upsample(4);
    const pu = await randomizeParams(up, 6);
    const z = noGrad(() => up.forward(x));
    expect(z.shape).toEqual([1, 4, 16, 12]);
    const refUp = conv2dRef(upsampleNearestRef(arr(host, [1, 4, 8, 6])), pu.get('conv.weight')!, pu.get('conv.bias')!, 1, [1, 1, 1, 1]);
    expect(maxAbsDiff(await z.toArray(), refUp.data)).toBeLessThan(1e-5);
    for (const t of [x, y, z]) t.dispose();
    down.dispose();
    up.dispose();
  });
});
