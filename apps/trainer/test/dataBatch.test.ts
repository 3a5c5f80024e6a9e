// Raw samples → PolicyBatch on the GPU, against references computed here: state and actions by hand
// from the raw parquet rows (delta dims minus the state, (x − mean)/(std + 1e-6), zero padding, the
// episode-end padding flags), images against ffmpeg's own decode of the same frames resized with
// padding by a plain-TS reference, the missing-view mask, and so101 (no cameras at all).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkBatch,
  derivedSizes,
  PolicyProcessor,
  tinyConfig,
  type InternVLAA1Config,
  type PolicyBatch,
} from '@vla/internvla-a1';
import type { Sample } from '@vla/lerobot';
import { zeros } from '@vla/tensor-webgpu';
import { toPolicyBatch } from '../src/data/policyBatch.js';
import { openTrainingData, type TrainingData } from '../src/data/trainingData.js';
import { CR5, ffmpegFrame, rawEpisodes, SO101, type RawEpisode } from './dataFixtures.js';
import './setup.js';

const tiny = (o: { imageSize?: number; views?: number } = {}): InternVLAA1Config =>
  tinyConfig({
    width: 32,
    layers: 1,
    visionLayers: 1,
    imageSize: o.imageSize ?? 32,
    views: o.views ?? 1,
    textTokens: 8,
    vocabSize: 256,
    chunkSize: 10,
  });
const CR5_DELTA = [true, true, true, true, true, true, false];
const KEY = 'observation.images.top';

/** PyTorch's bilinear resize (align_corners = false, no antialiasing) of one plane, in float64. */
function bilinear(src: Float64Array, h: number, w: number, oh: number, ow: number): Float64Array {
  const out = new Float64Array(oh * ow);
  const coord = (d: number, inSize: number, outSize: number) => {
    const s = Math.max(0, ((d + 0.5) * inSize) / outSize - 0.5);
    const i0 = Math.min(Math.floor(s), inSize - 1);
    return { i0, i1: Math.min(i0 + 1, inSize - 1), f: s - i0 };
  };
  for (let y = 0; y < oh; y++) {
    const cy = coord(y, h, oh);
    for (let x = 0; x < ow; x++) {
      const cx = coord(x, w, ow);
      const at = (yy: number, xx: number) => src[yy * w + xx];
      const top = at(cy.i0, cx.i0) * (1 - cx.f) + at(cy.i0, cx.i1) * cx.f;
      const bottom = at(cy.i1, cx.i0) * (1 - cx.f) + at(cy.i1, cx.i1) * cx.f;
      out[y * ow + x] = top * (1 - cy.f) + bottom * cy.f;
    }
  }
  return out;
}

/**
 * Resize-with-pad of an RGB8 frame into `[3, S, S]` in [-1, 1], written out directly: the openpi
 * layout (inner size from the larger ratio, truncated, centred, black = -1 border), a k×k box mean
 * for integer downscales k ≥ 2 (the processor's prefilter against aliasing), then bilinear.
 */
function referenceImage(rgb: Uint8Array, H: number, W: number, S: number): Float64Array {
  const ratio = Math.max(W / S, H / S);
  const ih = Math.trunc(H / ratio);
  const iw = Math.trunc(W / ratio);
  const top = Math.floor((S - ih) / 2);
  const left = Math.floor((S - iw) / 2);
  const k = Math.floor(Math.min(H / ih, W / iw));
  const out = new Float64Array(3 * S * S).fill(-1);
  for (let c = 0; c < 3; c++) {
    let [h, w] = [H, W];
    let plane = Float64Array.from({ length: H * W }, (_, i) => rgb[i * 3 + c]);
    if (k >= 2) {
      [h, w] = [Math.floor(H / k), Math.floor(W / k)];
      const pooled = new Float64Array(h * w);
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          let sum = 0;
          for (let dy = 0; dy < k; dy++)
            for (let dx = 0; dx < k; dx++) sum += plane[(y * k + dy) * W + x * k + dx];
          pooled[y * w + x] = sum / (k * k);
        }
      plane = pooled;
    }
    const inner = h === ih && w === iw ? plane : bilinear(plane, h, w, ih, iw);
    for (let y = 0; y < ih; y++)
      for (let x = 0; x < iw; x++)
        out[c * S * S + (top + y) * S + left + x] = (inner[y * iw + x] / 255) * 2 - 1;
  }
  return out;
}

/** Hand computation of one sample's targets from raw rows: normalised state and action chunk, pad flags. */
function reference(
  ep: RawEpisode,
  row: number,
  processor: PolicyProcessor,
  chunk: number,
): { state: number[]; actions: number[][]; isPad: number[] } {
  const { stats, deltaMask } = processor.json;
  const s = ep.state[row];
  const norm = (x: number, m: number, sd: number) => (x - m) / (sd + 1e-6);
  const state = s.map((x, j) => norm(x, stats.state.mean[j], stats.state.std[j]));
  const actions: number[][] = [];
  const isPad: number[] = [];
  for (let k = 0; k < chunk; k++) {
    const r = Math.min(row + k, ep.state.length - 1);
    isPad.push(row + k >= ep.state.length ? 1 : 0);
    actions.push(
      ep.action[r].map((a, j) =>
        norm(deltaMask[j] ? a - s[j] : a, stats.action.mean[j], stats.action.std[j]),
      ),
    );
  }
  return { state, actions, isPad };
}

function disposeBatch(b: PolicyBatch): void {
  for (const v of b.images) for (const t of [v.past, v.current, v.future]) t?.dispose();
  b.state.dispose();
  b.actions.dispose();
}

/** Checks state [B, 32] and actions [B, H, 32] of a batch against the hand computation. */
async function expectVectors(
  batch: PolicyBatch,
  picks: readonly { ep: RawEpisode; row: number }[],
  processor: PolicyProcessor,
  H: number,
): Promise<void> {
  const state = (await batch.state.toArray()) as Float32Array;
  const actions = (await batch.actions.toArray()) as Float32Array;
  const S = processor.stateDim;
  const A = processor.actionDim;
  picks.forEach(({ ep, row }, b) => {
    const ref = reference(ep, row, processor, H);
    for (let j = 0; j < 32; j++)
      expect(state[b * 32 + j], `state[${b}, ${j}]`).toBeCloseTo(j < S ? ref.state[j] : 0, 5);
    for (let k = 0; k < H; k++)
      for (let j = 0; j < 32; j++)
        expect(actions[(b * H + k) * 32 + j], `actions[${b}, ${k}, ${j}]`).toBeCloseTo(
          j < A ? ref.actions[k][j] : 0,
          5,
        );
    expect(Array.from(batch.actionIsPad!).slice(b * H, (b + 1) * H), `actionIsPad[${b}]`).toEqual(ref.isPad);
  });
}

describe('toPolicyBatch', () => {
  let cr5: TrainingData;
  let cr5Raw: RawEpisode[];
  const config = tiny();

  beforeAll(async () => {
    cr5 = await openTrainingData({
      datasets: [{ path: CR5, id: 'cr5' }],
      seed: 5,
      batchSize: 3,
      config,
      deltaMask: CR5_DELTA,
    });
    cr5Raw = await rawEpisodes(CR5);
  });
  afterAll(() => cr5.close());

  /** The cr5 samples at (episode, row), built by the training data's own builder. */
  const cr5Samples = (picks: readonly { ep: RawEpisode; row: number }[]): Promise<Sample[]> => {
    const { builder } = cr5.datasets[0];
    return Promise.all(picks.map(({ ep, row }) => builder.get(ep.index[row])));
  };

  it('cr5: shapes, state and actions by hand, episode-end padding, images against ffmpeg + a resize reference', async () => {
    // Row 0 (past frame clamped), 4 rows before an episode's end (actions and future padded), a middle row.
    const picks = [
      { ep: cr5Raw[0], row: 0 },
      { ep: cr5Raw[2], row: cr5Raw[2].state.length - 4 },
      { ep: cr5Raw[4], row: 50 },
    ];
    const samples = await cr5Samples(picks);
    const batch = toPolicyBatch(
      samples.map((sample) => ({ datasetIndex: 0, sample })),
      cr5.processor,
      config,
    );
    try {
      expect(checkBatch(config, batch)).toBe(3);
      expect(batch.images).toHaveLength(1);
      for (const t of ['past', 'current', 'future'] as const)
        expect(batch.images[0][t]!.shape).toEqual([3, 3, 32, 32]);
      expect(batch.state.shape).toEqual([3, 32]);
      expect(batch.actions.shape).toEqual([3, 10, 32]);
      expect(Array.from(batch.imageMasks)).toEqual([1, 1, 1]);
      expect(batch.tokens).toHaveLength(3 * 8);
      // One task: the same prompt for every item, and it is the processor's encoding of it.
      const want = cr5.processor.encodePrompts(config, ['grasp_cube']);
      for (let b = 0; b < 3; b++) {
        expect(Array.from(batch.tokens.subarray(b * 8, b * 8 + 8))).toEqual(Array.from(want.tokens));
        expect(Array.from(batch.textMask).slice(b * 8, b * 8 + 8)).toEqual(Array.from(want.textMask));
      }
      await expectVectors(batch, picks, cr5.processor, 10);
      expect(Array.from(batch.actionIsPad!).slice(10, 20)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);

      // Images: frame = clamp(row + offset) of the episode's mp4, decoded by ffmpeg itself. The GPU sums
      // 20×20 boxes in f32, which leaves ~2e-7 against the float64 reference; 1e-6 is tight: one source
      // pixel one level off moves its box mean by 2/255/400 ≈ 2e-5, a wrong frame or row far more.
      const ds = cr5.datasets[0].dataset;
      for (const [t, offset] of [
        ['past', -15],
        ['current', 0],
        ['future', 15],
      ] as const) {
        const got = (await batch.images[0][t]!.toArray()) as Float32Array;
        picks.forEach(({ ep, row }, b) => {
          const r = Math.min(Math.max(row + offset, 0), ep.state.length - 1);
          const rgb = ffmpegFrame(join(CR5, ds.episode(ep.episodeIndex).videos[KEY].path), r);
          const ref = referenceImage(rgb, 480, 640, 32);
          let worst = 0;
          for (let i = 0; i < ref.length; i++)
            worst = Math.max(worst, Math.abs(got[b * ref.length + i] - ref[i]));
          expect(worst, `${t} item ${b} (episode ${ep.episodeIndex} frame ${r})`).toBeLessThan(1e-6);
        });
      }
      // 480×640 in 32×32: a 24×32 picture between 4 black rows at the top and the bottom.
      const current = (await batch.images[0].current.toArray()) as Float32Array;
      expect(current.subarray(0, 4 * 32).every((v) => v === -1)).toBe(true);
      expect(current.subarray(28 * 32, 32 * 32).every((v) => v === -1)).toBe(true);
    } finally {
      disposeBatch(batch);
    }
  });

  it("the upstream image pipeline: the current frames' processor patches ride along for the vision tower", async () => {
    const processor = await PolicyProcessor.fromJSON({
      ...cr5.processor.toJSON(),
      imagePipeline: 'upstream',
      padSize: 32,
    }).loadTokenizer();
    const picks = [
      { ep: cr5Raw[0], row: 20 },
      { ep: cr5Raw[3], row: 5 },
    ];
    const samples = await cr5Samples(picks);
    const batch = toPolicyBatch(
      samples.map((sample) => ({ datasetIndex: 0, sample })),
      processor,
      { ...config, visionSize: [256, 256] }, // 32² padded → the processor's 256² minimum
    );
    // The same frames through the processor directly (the pipeline itself is tested in @vla/internvla-a1).
    const direct = processor.imageBatchToPolicy(
      samples.map((s) => ({ head: { width: 640, height: 480, data: s.images.head[1] as Uint8Array } })),
    );
    try {
      expect(batch.visionPatches!.shape).toEqual([2 * 256, 1536]);
      expect(Array.from(await batch.visionPatches!.toArray())).toEqual(
        Array.from(await direct.visionPatches!.toArray()),
      );
      expect(Array.from(await batch.images[0].current.toArray())).toEqual(
        Array.from(await direct.images[0].toArray()),
      );
    } finally {
      disposeBatch(batch);
      batch.visionPatches!.dispose();
      for (const t of [...direct.images, direct.visionPatches!]) t.dispose();
    }
  });

  it('a view with no camera: mask 0 and an all-ones image; a non-integer downscale goes through bilinear', async () => {
    const config96 = tiny({ imageSize: 96, views: 2 });
    const processor = await PolicyProcessor.fromJSON({
      ...cr5.processor.toJSON(),
      imageSize: 96,
      cameras: ['head', 'hand_left'],
    }).loadTokenizer();
    const pick = { ep: cr5Raw[1], row: 30 };
    const [sample] = await cr5Samples([pick]);
    const batch = toPolicyBatch([sample], processor, config96);
    try {
      expect(checkBatch(config96, batch)).toBe(1);
      expect(Array.from(batch.imageMasks)).toEqual([1, 0]);
      const missing = (await batch.images[1].current.toArray()) as Float32Array;
      expect(missing).toHaveLength(3 * 96 * 96);
      expect(missing.every((v) => v === 1)).toBe(true);
      // 640/96 is not an integer: 6×6 boxes (106×80) then bilinear to 96×72. The GPU's f32 sample
      // coordinates leave ~6e-6 here; a one-level error in a box mean would be 2/255/36 ≈ 2e-4.
      const got = (await batch.images[0].current.toArray()) as Float32Array;
      const rgb = ffmpegFrame(join(CR5, cr5.datasets[0].dataset.episode(1).videos[KEY].path), 30);
      const ref = referenceImage(rgb, 480, 640, 96);
      let worst = 0;
      for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]));
      expect(worst).toBeLessThan(2e-5);
      await expectVectors(batch, [pick], processor, 10);
    } finally {
      disposeBatch(batch);
    }
  });

  it('so101 (no cameras): every view missing, vectors by hand; latents are passed through and replace the future frames', async () => {
    const config3 = tiny({ views: 3 });
    const so101 = await openTrainingData({
      datasets: [{ path: SO101 }],
      seed: 1,
      batchSize: 2,
      config: config3,
    });
    try {
      expect(so101.datasets.map((d) => d.id)).toEqual(['so101_test_v30']);
      expect(so101.processor.json.deltaMask).toEqual(new Array(6).fill(false));
      const raw = await rawEpisodes(SO101);
      const picks = [
        { ep: raw[1], row: raw[1].state.length - 1 },
        { ep: raw[0], row: 3 },
      ];
      const samples = await Promise.all(
        picks.map(({ ep, row }) => so101.datasets[0].builder.get(ep.index[row])),
      );
      expect(samples[0].meta.imageShapes).toEqual({});
      const batch = toPolicyBatch(samples, so101.processor, config3);
      try {
        expect(checkBatch(config3, batch)).toBe(2);
        expect(Array.from(batch.imageMasks)).toEqual([0, 0, 0, 0, 0, 0]);
        for (const v of batch.images) {
          expect(v.future).toBeDefined();
          for (const t of [v.past, v.current, v.future!]) {
            expect(t.shape).toEqual([2, 3, 32, 32]);
            expect(((await t.toArray()) as Float32Array).every((x) => x === 1)).toBe(true);
          }
        }
        await expectVectors(batch, picks, so101.processor, 10);
        // The last frame of an episode: only its own action is real.
        expect(Array.from(batch.actionIsPad!).slice(0, 10)).toEqual([0, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
      } finally {
        disposeBatch(batch);
      }
      const h = derivedSizes(config3).latentSize;
      const c = config3.vae.latentChannels;
      const latents = { inputs: zeros([2 * 3 * 2, c, h, h]), targets: zeros([2 * 3, c, h, h]) };
      const withLatents = toPolicyBatch(samples, so101.processor, config3, latents);
      expect(withLatents.latents).toBe(latents);
      expect(withLatents.images.every((v) => v.future === undefined)).toBe(true);
      expect(checkBatch(config3, withLatents)).toBe(2);
      disposeBatch(withLatents);
      latents.inputs.dispose();
      latents.targets.dispose();
    } finally {
      await so101.close();
    }
  });

  it('refuses samples and processors that do not fit, naming the field', async () => {
    const [sample] = await cr5Samples([{ ep: cr5Raw[0], row: 5 }]);
    expect(() => toPolicyBatch([], cr5.processor, config)).toThrow(/no samples/);
    expect(() => toPolicyBatch([sample], cr5.processor, tiny({ imageSize: 64 }))).toThrow(
      /the processor does not fit the model: processor\.imageSize is 32 but the policy's imageSize is 64/,
    );
    const short = { ...sample, meta: { ...sample.meta, actionOffsets: [0, 1, 2] } };
    expect(() => toPolicyBatch([short], cr5.processor, config)).toThrow(
      /sample 0 .*has 3 actions, the config's chunkSize is 10/,
    );
    const floatFrames = {
      ...sample,
      images: { ...sample.images, head: sample.images.head.map((f) => new Float32Array(f.length)) },
    };
    expect(() => toPolicyBatch([floatFrames], cr5.processor, config)).toThrow(/no uint8 frame/);
  });
});
