// The policy's own layers against float64 references: the generation tokens (1x1 conv, stride-k
// conv, order view → time → row-major), the foresight head (mean over time, transposed conv,
// LayerNorm, Linear), and the prefix layout (<vision_start>, image tokens, <vision_end> per view,
// then text).
import { describe, expect, it } from 'vitest';
import { manualSeed, tensor, type Tensor } from '@vla/tensor-webgpu';
import { InternVLAA1Policy, derivedSizes, tinyConfig } from '../src/index.js';
import { arr, refGenerationTokens, refPredictLatent, type Arr } from './reference.js';
import './setup.js';
import { disposeBatch, normals, syntheticBatch } from './synthetic.js';

async function host(t: Tensor): Promise<Arr> {
  return arr(await t.toArray(), [...t.shape]);
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const config = tinyConfig({ width: 24, layers: 1, visionLayers: 1, textTokens: 5, vocabSize: 40, views: 2 });
manualSeed(4);
const policy = new InternVLAA1Policy(config);
const gen = policy.foresight!;
const p = async (m: { weight: Tensor | null; bias: Tensor | null }) => ({
  w: await host(m.weight!),
  b: await host(m.bias!),
});

describe('generation expert projections', () => {
  it('tokens: 1x1 conv then stride-k conv, ordered view, time, row-major', async () => {
    const { latentSize: h } = derivedSizes(config);
    const frames = 2 * config.views;
    const B = 2;
    const lat = tensor(normals(B * frames * 16 * h * h, 1), [B * frames, 16, h, h]);
    const got = policy.embedGeneration(lat);
    const ref = refGenerationTokens(
      await host(lat),
      await p(gen.cosmos_in_proj),
      await p(gen.downsample_conv),
      frames,
    );
    expect(got.shape).toEqual(ref.shape);
    expect(maxDiff(await got.toArray(), ref.data)).toBeLessThan(1e-4);
    lat.dispose();
    got.dispose();
  });

  it('foresight: mean over time, ConvTranspose, LayerNorm(width), Linear → 16 channels', async () => {
    // Non-trivial LayerNorm affine.
    const W = config.generation!.width;
    await policy.loadStateDict(
      {
        'cosmos_out_layer_norm.weight': tensor(
          normals(W, 2, 0.3).map((x) => 1 + x),
          [W],
        ),
        'cosmos_out_layer_norm.bias': tensor(normals(W, 3, 0.3), [W]),
      },
      { strict: false },
    );
    const g = config.genGrid;
    const B = 2;
    const out = tensor(normals(B * config.views * 2 * g * g * W, 4), [B, config.views * 2 * g * g, W]);
    const got = policy.predictLatent(out);
    const ref = refPredictLatent(
      await host(out),
      await p(gen.upsample_conv),
      await p(gen.cosmos_out_layer_norm),
      await p(gen.cosmos_out_proj),
      config.views,
      g,
    );
    expect(got.shape).toEqual(ref.shape);
    expect(maxDiff(await got.toArray(), ref.data)).toBeLessThan(1e-4);
    out.dispose();
    got.dispose();
  });
});

describe('understanding prefix', () => {
  it('places <vision_start>, the current frame’s vision tokens, <vision_end> per view, then text', async () => {
    const B = 2;
    const batch = syntheticBatch(config, B, 8);
    const prefix = policy.embedPrefix(batch);
    const d = derivedSizes(config);
    const D = config.vlm.text.hiddenSize;
    const n = d.imageTokens;
    expect(prefix.shape).toEqual([B, d.prefixTokens, D]);
    const got = await prefix.toArray();
    const emb = await policy.und_expert.languageModel.embedTokens.weight.toArray();
    const row = (b: number, i: number) =>
      got.subarray((b * d.prefixTokens + i) * D, (b * d.prefixTokens + i + 1) * D);
    const embRow = (id: number) => emb.subarray(id * D, (id + 1) * D);
    for (let v = 0; v < config.views; v++) {
      const pixels = batch.images[v].current;
      const vis = policy.und_expert.visual.forward(pixels).tokens; // [B, n, D]
      const visHost = await vis.toArray();
      const start = v * (n + 2);
      for (let b = 0; b < B; b++) {
        expect(maxDiff(row(b, start), embRow(config.tokenIds.visionStart))).toBe(0);
        for (let j = 0; j < n; j++)
          expect(
            maxDiff(row(b, start + 1 + j), visHost.subarray((b * n + j) * D, (b * n + j + 1) * D)),
          ).toBeLessThan(1e-5);
        expect(maxDiff(row(b, start + n + 1), embRow(config.tokenIds.visionEnd))).toBe(0);
      }
      vis.dispose();
    }
    const textStart = config.views * (n + 2);
    for (let b = 0; b < B; b++)
      for (let j = 0; j < config.textTokens; j++)
        expect(maxDiff(row(b, textStart + j), embRow(batch.tokens[b * config.textTokens + j]))).toBe(0);
    prefix.dispose();
    disposeBatch(batch);
  });

  it('rejects observations that do not fit the configuration, naming the field', () => {
    const batch = syntheticBatch(config, 2, 9);
    expect(() => policy.prefill({ ...batch, tokens: batch.tokens.subarray(1) })).toThrow(
      /tokens has 9 ids, expected B·textTokens = 10/,
    );
    expect(() => policy.prefill({ ...batch, imageMasks: [1, 1, 1] })).toThrow(/imageMasks has 3 entries/);
    expect(() => policy.prefill({ ...batch, images: batch.images.slice(1) })).toThrow(
      /images has 1 views, the configuration 2/,
    );
    const bad = tensor(new Float32Array(2 * 3 * 32 * 32), [2, 3, 32, 32]);
    expect(() =>
      policy.prefill({ ...batch, images: [{ ...batch.images[0], past: bad }, batch.images[1]] }),
    ).toThrow(/images\[0\]\.past must be \[2, 3, 64, 64\], got \[2, 3, 32, 32\]/);
    expect(() =>
      policy.computeLoss({
        ...batch,
        images: batch.images.map((v) => ({ past: v.past, current: v.current })),
      }),
    ).toThrow(/images\[0\]\.future/);
    const tooBig = Int32Array.from(batch.tokens, () => 40);
    expect(() => policy.prefill({ ...batch, tokens: tooBig })).toThrow(/outside the vocabulary \[0, 40\)/);
    bad.dispose();
    disposeBatch(batch);
  });
});
