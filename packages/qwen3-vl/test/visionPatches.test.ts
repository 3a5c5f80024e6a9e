// The vision tower's processor-patch path (HF `visual(pixel_values, grid_thw)`): full Conv3d patches
// against a float64 Conv3d, processor output against the pixel path, and mixed grids/videos against
// frame-by-frame runs (HF attends within each frame only).
import { describe, expect, it } from 'vitest';
import { concat, noGrad, slice, tensor, tidy, type Tensor } from '@vla/tensor-webgpu';
import {
  preprocessQwen3VLImage,
  QWEN3_VL_2B_IMAGE_PROCESSOR,
  Qwen3VLVisionModel,
  tinyQwen3VLConfig,
} from '../src/index.js';
import { eng } from './setup.js';
import { maxAbsDiff, randomArray } from './reference.js';
import { randomizeParams } from './util.js';

const cfg = tinyQwen3VLConfig().vision;
const D = cfg.hiddenSize;
const P = cfg.patchSize;
const T = cfg.temporalPatchSize;
const K = 3 * T * P * P;

const visual = new Qwen3VLVisionModel(cfg);
const params = await randomizeParams(visual, 91);

describe('Qwen3VLVisionModel.forwardPatches', () => {
  it('patch embedding of full patches (frames differ in time) = float64 Conv3d', async () => {
    const rows = 7;
    const host = randomArray(rows * K, 41);
    const x = tensor(host, [rows, K]);
    const y = noGrad(() => visual.patchEmbed.forward(x));
    const w = params.get('patch_embed.proj.weight')!;
    const b = params.get('patch_embed.proj.bias')!;
    const ref = new Float64Array(rows * D);
    for (let r = 0; r < rows; r++)
      for (let d = 0; d < D; d++) {
        let acc = b[d];
        // Conv3d kernel [D, C, T, P, P] against the patch's (C, T, P, P) values.
        for (let k = 0; k < K; k++) acc += w[d * K + k] * host[r * K + k];
        ref[r * D + d] = acc;
      }
    expect(maxAbsDiff(await y.toArray(), ref)).toBeLessThan(1e-4);
    for (const t of [x, y]) t.dispose();
  });

  it('processor patches of a still image give the same tokens as the pixel path', async () => {
    const [h, w] = [64, 96];
    const img = randomArray(3 * h * w, 5, 0, 1);
    // 64x96 is already a multiple of 32 and above these bounds, so the processor only normalises and reorders.
    const { pixelValues, gridThw } = preprocessQwen3VLImage(img, 3, h, w, {
      ...QWEN3_VL_2B_IMAGE_PROCESSOR,
      minPixels: 1024,
    });
    expect(gridThw).toEqual([1, 4, 6]);
    const pv = tensor(pixelValues, [pixelValues.length / K, K]);
    const pixels = tensor(
      Float32Array.from(img, (v) => (v - 0.5) / 0.5),
      [1, 3, h, w],
    );
    const a = noGrad(() => visual.forwardPatches(pv, [gridThw]).tokens);
    const b = noGrad(() => visual.forward(pixels).tokens);
    expect(a.shape).toEqual([6, cfg.outHiddenSize]);
    expect(b.shape).toEqual([1, 6, cfg.outHiddenSize]);
    expect(maxAbsDiff(await a.toArray(), await b.toArray())).toBeLessThan(1e-4);
    for (const t of [pv, pixels, a, b]) t.dispose();
  });

  it('mixed grids and a two-frame video = each frame run alone, in input order', async () => {
    const start = eng.poolStats().inUseBytes;
    const grids: [number, number, number][] = [
      [1, 4, 6],
      [2, 4, 4],
      [1, 2, 2],
      [1, 4, 6],
    ];
    const frames = grids.flatMap(([t, gh, gw]) => Array.from({ length: t }, () => gh * gw));
    const total = frames.reduce((s, n) => s + n, 0);
    const pv = tensor(randomArray(total * K, 13), [total, K]);
    const out = noGrad(() => visual.forwardPatches(pv, grids).tokens);
    expect(out.shape).toEqual([total / 4, cfg.outHiddenSize]);
    const ref = noGrad(() =>
      tidy(() => {
        const parts: Tensor[] = [];
        let row = 0;
        for (const [t, gh, gw] of grids)
          for (let f = 0; f < t; f++, row += gh * gw)
            parts.push(visual.forwardPatches(slice(pv, 0, row, row + gh * gw), [[1, gh, gw]]).tokens);
        return concat(parts, 0);
      }),
    );
    expect(maxAbsDiff(await out.toArray(), await ref.toArray())).toBeLessThan(1e-4);
    // Frames attend only to themselves: the video's two frames differ, so their tokens differ.
    const videoTokens = noGrad(() => slice(out, 0, 6, 14));
    const video = await videoTokens.toArray();
    videoTokens.dispose();
    expect(
      maxAbsDiff(video.subarray(0, 4 * cfg.outHiddenSize), video.subarray(4 * cfg.outHiddenSize)),
    ).toBeGreaterThan(1e-3);
    for (const t of [pv, out, ref]) t.dispose();
    expect(eng.poolStats().inUseBytes).toBe(start);
  });

  it('names what is wrong with bad input', () => {
    const pv = tensor(new Float32Array(24 * K), [24, K]);
    expect(() => visual.forwardPatches(pv, [[1, 4, 4]])).toThrow(
      /\[24, 1536\] do not match the grids \(16 patch rows\)/,
    );
    expect(() => visual.forwardPatches(pv, [[1, 3, 8]])).toThrow(
      /grid \[1, 3, 8\] must be positive with h and w multiples of 2/,
    );
    const odd = tensor(new Float32Array(24 * 10), [24, 10]);
    expect(() => visual.forwardPatches(odd, [[1, 4, 6]])).toThrow(/must end in 1536 \(C·T·P·P\) or 768/);
    pv.dispose();
    odd.dispose();
  });
});
