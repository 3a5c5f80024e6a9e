import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { noGrad, saveSafetensors, tensor, tidy, type Tensor } from '@vla/tensor-webgpu';
import { COSMOS_TINY, CosmosImageTokenizer, loadCosmosWeights, type CosmosTokenizerConfig } from '../src/index.js';
import { eng } from './setup.js';
import { maxAbsDiff, randomArray } from './reference.js';

// Same layout and compression as CI8x8, widths 4 and one ResBlock per level: cheap enough for big
// images on SwiftShader (the full 77M-parameter model is counted in parameters.test.ts).
const MICRO: CosmosTokenizerConfig = { ...COSMOS_TINY, channels: 4, channelMult: [1, 1, 1], groups: 2 };

describe('CosmosImageTokenizer (tiny widths)', () => {
  const tok = new CosmosImageTokenizer(COSMOS_TINY);
  const micro = new CosmosImageTokenizer(MICRO);

  it.each([
    [64, 64, 'tiny'],
    [224, 224, 'micro'],
    [256, 256, 'micro'],
    [480, 640, 'micro'],
  ])('encodes %ix%i (%s widths) to a 16 x H/8 x W/8 latent and decodes back to the image size', async (h, w, which) => {
    const model = which === 'tiny' ? tok : micro;
    const start = eng.poolStats().inUseBytes;
    const x = tensor(randomArray(3 * h * w, h + w, -1, 1), [1, 3, h, w]);
    const [z, y] = noGrad(() =>
      tidy(() => {
        const latent = model.encode(x);
        return [latent, model.decode(latent)];
      }),
    );
    expect(z.shape).toEqual([1, 16, h / 8, w / 8]);
    expect(model.latentShape([1, 3, h, w])).toEqual([1, 16, h / 8, w / 8]);
    expect(y.shape).toEqual([1, 3, h, w]);
    const v = await y.toArray();
    expect(v.every(Number.isFinite)).toBe(true);
    for (const t of [x, z, y]) t.dispose();
    expect(eng.poolStats().inUseBytes).toBe(start);
  });

  it('rejects images whose sides are not multiples of 8', () => {
    const x = tensor(new Float32Array(3 * 20 * 16), [1, 3, 20, 16]);
    expect(() => tok.encode(x)).toThrow(/multiples of 8, got 20x16/);
    x.dispose();
  });

  it('loads converted weights from safetensors (encoder and decoder files, patcher buffers ignored)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vae-'));
    try {
      const sd = tok.stateDict();
      const enc: Record<string, Tensor> = {};
      const dec: Record<string, Tensor> = {};
      for (const [k, t] of Object.entries(sd)) (k.startsWith('encoder.') || k.startsWith('quant_conv.') ? enc : dec)[k] = t;
      const wavelets = tensor([Math.SQRT1_2, Math.SQRT1_2], [2]);
      enc['encoder.patcher.wavelets'] = wavelets;
      dec['decoder.unpatcher.wavelets'] = wavelets;
      await saveSafetensors(join(dir, 'encoder.safetensors'), enc);
      await saveSafetensors(join(dir, 'decoder.safetensors'), dec);
      wavelets.dispose();

      const other = new CosmosImageTokenizer(COSMOS_TINY);
      await loadCosmosWeights(other, [join(dir, 'encoder.safetensors'), join(dir, 'decoder.safetensors')]);
      const x = tensor(randomArray(2 * 3 * 32 * 24, 5), [2, 3, 32, 24]);
      const [a, b] = noGrad(() => [tok.forward(x), other.forward(x)]);
      expect(maxAbsDiff(await a.toArray(), await b.toArray())).toBe(0);
      // A missing file leaves keys unset: strict loading names them.
      await expect(loadCosmosWeights(other, join(dir, 'encoder.safetensors'))).rejects.toThrow(/missing keys: post_quant_conv|missing keys: decoder/);
      for (const t of [x, a, b]) t.dispose();
      other.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
