// The latent cache against the policy's own encoder: gathered latents equal `policy.encodeFrames` on
// the images the training path builds (through `processor.imageBatchToPolicy`) within f16 rounding,
// with the episode clamping of the samples; a second open and a second epoch encode nothing; every
// input of the fingerprint (data and video files, a tokenizer weight, the image size) forces a rebuild;
// a truncated or corrupt file is rebuilt with a warning, never read.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync, utimesSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InternVLAA1Policy,
  PolicyProcessor,
  tinyConfig,
  type InternVLAA1Config,
  type PolicyObservation,
} from '@vla/internvla-a1';
import {
  featureWidth,
  LeRobotWriter,
  openLocalDataset,
  SampleBuilder,
  type LeRobotDataset,
  type Sample,
} from '@vla/lerobot';
import { init, manualSeed, mul, tensor, tidy, zeros, type Tensor } from '@vla/tensor-webgpu';
import { gatherLatents, LatentCache, type LatentCacheOptions } from '../src/data/latentCache.js';
import { MICRO_MODEL, cutCr5 } from './fixtures.js';

await init();

const CAM = 'observation.images.top';
const tmp = mkdtempSync(join(tmpdir(), 'vla-latent-cache-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A tokenizer whose `encode` calls are counted. */
function countEncodes(policy: InternVLAA1Policy): { calls: number } {
  const counter = { calls: 0 };
  const vae = policy.cosmos;
  const encode = vae.encode.bind(vae);
  vae.encode = (x: Tensor) => {
    counter.calls++;
    return encode(x);
  };
  return counter;
}

function policyFor(config: InternVLAA1Config): InternVLAA1Policy {
  manualSeed(17);
  return new InternVLAA1Policy(config);
}

function processorFor(ds: LeRobotDataset, cameras: string[], imageSize: number): PolicyProcessor {
  const st = ds.stats!;
  const names = (key: string) =>
    Array.from({ length: featureWidth(ds.info.features[key]) }, (_, i) => `${key}.${i}`);
  return PolicyProcessor.fromStats({
    robotType: 'test',
    stateNames: names('observation.state'),
    actionNames: names('action'),
    cameras,
    stats: { state: st['observation.state'], action: st.action },
    imageSize,
    textLength: 8,
    chunkSize: 10,
  });
}

/** mulberry32. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A LeRobot v3.0 dataset (both episodes in one video file, so the second starts mid-file) with one
 * camera of an awkward size showing a seeded moving pattern plus noise.
 */
async function writeDataset(
  dir: string,
  seed: number,
  lengths: number[],
  height = 66,
  width = 98,
): Promise<void> {
  const w = await LeRobotWriter.create(dir, {
    fps: 10,
    robotType: 'test',
    features: {
      'observation.state': { dtype: 'float32', shape: [3] },
      action: { dtype: 'float32', shape: [3] },
      [CAM]: { dtype: 'video', shape: [height, width, 3], names: ['height', 'width', 'channels'] },
    },
    videoCodec: 'libx264',
    gop: 4,
  });
  const r = rng(seed);
  const phase = r() * 50;
  for (const [e, len] of lengths.entries()) {
    for (let k = 0; k < len; k++) {
      const img = new Uint8Array(height * width * 3);
      for (let y = 0; y < height; y++)
        for (let x = 0; x < width; x++) {
          const o = (y * width + x) * 3;
          const t = phase + 3 * k + 11 * e;
          img[o] = 128 + 100 * Math.sin((x + t) / 7);
          img[o + 1] = 128 + 100 * Math.cos((y - t) / 5);
          img[o + 2] = Math.min(255, 40 * ((x * y + k) % 7) + 20 * r());
        }
      const q = [r(), r(), r()];
      w.addFrame({ 'observation.state': q, action: q.map((v) => v + 0.1), [CAM]: img });
    }
    await w.saveEpisode({ task: `task ${e}` });
  }
  await w.finalize();
}

/** Samples as the trainer's pipeline builds them: native frames, 10 actions. */
function sampleBuilder(ds: LeRobotDataset): SampleBuilder {
  return new SampleBuilder(ds, {
    imageSize: 'native',
    actionOffsets: Array.from({ length: 10 }, (_, i) => i),
    mapping: { cameras: { head: CAM } },
  });
}

/**
 * The reference: the samples' own images (t−15, t, t+15 per view, as the sample builder clamped
 * them) through `processor.imageBatchToPolicy`, then `policy.encodeFrames` — the path computeLoss
 * takes without a cache. Returns [inputs, targets] of the reference and of `gatherLatents`.
 */
async function compare(
  policy: InternVLAA1Policy,
  processor: PolicyProcessor,
  cache: LatentCache,
  samples: Sample[],
): Promise<{ got: Float32Array[]; want: Float32Array[] }> {
  const config = policy.config;
  const B = samples.length;
  const cams = processor.json.cameras;
  const outs = tidy(() => {
    const got = gatherLatents(
      samples.map((sample) => ({ cache, sample })),
      config,
    );
    const frames = [0, 1, 2].map((t) =>
      processor.imageBatchToPolicy(
        samples.map((s) => {
          const rec: Record<string, { width: number; height: number; data: Uint8Array }> = {};
          for (const cam of cams) {
            const slot = cam as keyof Sample['images'];
            const shape = s.meta.imageShapes[slot];
            if (s.imageMasks[slot] && shape)
              rec[cam] = { height: shape[0], width: shape[1], data: s.images[slot][t] as Uint8Array };
          }
          return rec;
        }),
      ),
    );
    const obs: PolicyObservation = {
      images: cams.map((_, v) => ({
        past: frames[0].images[v],
        current: frames[1].images[v],
        future: frames[2].images[v],
      })),
      imageMasks: frames[1].masks,
      tokens: new Int32Array(B * config.textTokens),
      textMask: new Uint8Array(B * config.textTokens),
      state: zeros([B, config.stateDim]),
    };
    const want = policy.encodeFrames(obs, true);
    return [got.inputs, got.targets!, want.inputs, want.targets!];
  });
  const arrays = (await Promise.all(outs.map((t) => t.toArray()))) as Float32Array[];
  outs.forEach((t) => t.dispose());
  expect(outs[0].shape).toEqual(outs[2].shape);
  expect(outs[1].shape).toEqual(outs[3].shape);
  return { got: arrays.slice(0, 2), want: arrays.slice(2) };
}

/**
 * f16 storage rounds to nearest: |f16(x) − x| ≤ 2⁻¹¹·|x| for normal values and ≤ 2⁻²⁵ below 2⁻¹⁴
 * (subnormals). The encoder's f32 result does not depend on the batch it ran in (checked exactly
 * with f32 storage below), so nothing else separates the two.
 */
function expectWithinF16(got: Float32Array, want: Float32Array): number {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    const bound = 2 ** -11 * Math.abs(want[i]) + 2 ** -25;
    if (!(err <= bound))
      expect.fail(`value ${i}: cached ${got[i]}, on the fly ${want[i]} (error ${err} > ${bound})`);
    if (Math.abs(want[i]) > 2 ** -14) worst = Math.max(worst, err / Math.abs(want[i]));
  }
  return worst;
}

describe('LatentCache on the cr5 fixture (v2.1, AV1 480x640; a copy cut to episode 0, 107 frames)', () => {
  const config = tinyConfig(MICRO_MODEL);
  let policy: InternVLAA1Policy;
  let counter: { calls: number };
  let ds: LeRobotDataset;
  let processor: PolicyProcessor;
  let cache: LatentCache;
  const dir = join(tmp, 'cache');
  const progress: [number, number][] = [];
  const options = (): LatentCacheOptions => ({
    dataset: ds,
    cameras: { head: CAM },
    processor,
    tokenizer: policy.cosmos,
    dir,
  });

  beforeAll(async () => {
    policy = policyFor(config);
    counter = countEncodes(policy);
    const copy = join(tmp, 'cr5');
    cutCr5(copy, 1);
    ds = await openLocalDataset(copy);
    expect(ds.numFrames).toBe(107);
    processor = processorFor(ds, ['head'], config.imageSize);
    cache = await LatentCache.open({ ...options(), onProgress: (d, t) => progress.push([d, t]) });
  }, 600_000);

  it('builds once: every frame encoded in batches of 16, progress reported to the end', () => {
    expect(cache.built).toBe(true);
    expect(cache.encoderCalls).toBe(7); // ⌈107/16⌉
    expect(counter.calls).toBe(cache.encoderCalls);
    expect(cache.numFrames).toBe(107);
    expect(cache.latentShape).toEqual([16, 4, 4]);
    expect(progress[0]).toEqual([0, 107]);
    expect(progress[progress.length - 1]).toEqual([107, 107]);
    for (let i = 1; i < progress.length; i++) expect(progress[i][0]).toBeGreaterThan(progress[i - 1][0]);
    expect(existsSync(join(dir, `${cache.fingerprint}.safetensors`))).toBe(true);
  });

  it('gathers the latents policy.encodeFrames computes from the training images, clamped at episode edges', async () => {
    const builder = sampleBuilder(ds);
    // The episode's first and last frames and frames near them, where t−15 or t+15 clamp.
    const indices = [0, 106, 14, 53, 92, 3];
    const samples = await Promise.all(indices.map((i) => builder.get(i)));
    const before = counter.calls;
    const { got, want } = await compare(policy, processor, cache, samples);
    expect(counter.calls).toBe(before + 1); // the reference's call; gathering made none
    const worst = Math.max(expectWithinF16(got[0], want[0]), expectWithinF16(got[1], want[1]));
    expect(worst).toBeGreaterThan(0); // f16 did round something
    // Rows by hand (107 frames): index 0 → past = current = 0, future = 15; index 106 → past = 91,
    // current = future = 106; index 14 → past = 0, future = 29.
    const n = 16 * 4 * 4;
    const row = (a: Float32Array, r: number) => Array.from(a.subarray(r * n, (r + 1) * n));
    const cached = (i: number) => Array.from(cache.latent('head', i));
    expect(row(got[0], 0)).toEqual(cached(0));
    expect(row(got[0], 1)).toEqual(cached(0));
    expect(row(got[1], 0)).toEqual(cached(15));
    expect(row(got[0], 2)).toEqual(cached(91));
    expect(row(got[0], 3)).toEqual(cached(106));
    expect(row(got[1], 1)).toEqual(cached(106));
    expect(row(got[0], 4)).toEqual(cached(0));
    expect(row(got[0], 5)).toEqual(cached(14));
    expect(row(got[1], 2)).toEqual(cached(29));
    // Frames do differ, so the equalities above say something.
    expect(cached(91)).not.toEqual(cached(106));
    expect(cached(0)).not.toEqual(cached(15));
  });

  it('a second open loads the file with no encoder call, and a second epoch of gathers encodes nothing', async () => {
    const before = counter.calls;
    const again = await LatentCache.open(options());
    expect(again.built).toBe(false);
    expect(again.encoderCalls).toBe(0);
    expect(again.fingerprint).toBe(cache.fingerprint);
    for (const i of [0, 15, 91, 106]) expect(again.latent('head', i)).toEqual(cache.latent('head', i));
    const builder = sampleBuilder(ds);
    const samples = await Promise.all([5, 60, 100].map((i) => builder.get(i)));
    const epochs: Float32Array[][] = [];
    for (let epoch = 0; epoch < 2; epoch++) {
      const out = tidy(() => {
        const l = gatherLatents(
          samples.map((sample) => ({ cache: again, sample })),
          config,
        );
        return [l.inputs, l.targets!];
      });
      epochs.push((await Promise.all(out.map((t) => t.toArray()))) as Float32Array[]);
      out.forEach((t) => t.dispose());
    }
    expect(epochs[1]).toEqual(epochs[0]);
    expect(counter.calls).toBe(before);
  });
});

describe('LatentCache invalidation (a written v3.0 dataset, 2 episodes of 66x98 frames)', () => {
  const config = tinyConfig(MICRO_MODEL);
  const root = join(tmp, 'synthetic');
  const dir = join(tmp, 'cache-synthetic');
  let policy: InternVLAA1Policy;
  let counter: { calls: number };
  let processor: PolicyProcessor;
  const warnings: string[] = [];
  const open = async (extra: Partial<LatentCacheOptions> = {}) => {
    const ds = await openLocalDataset(root);
    return LatentCache.open({
      dataset: ds,
      cameras: { head: CAM },
      processor,
      tokenizer: policy.cosmos,
      dir,
      batchSize: 8,
      onWarning: (m) => warnings.push(m),
      ...extra,
    });
  };
  const files = () => readdirSync(dir).filter((f) => f.endsWith('.safetensors'));

  beforeAll(async () => {
    policy = policyFor(config);
    counter = countEncodes(policy);
    await writeDataset(root, 1, [13, 9]);
    processor = processorFor(await openLocalDataset(root), ['head'], config.imageSize);
  }, 600_000);

  it('f16 storage is f32 rounded to nearest half (relative error ≤ 2⁻¹¹), and the encoder is batch-invariant', async () => {
    const f32 = await open({ dtype: 'f32', dir: join(tmp, 'cache-f32') });
    const f16 = await open();
    expect(f16.fingerprint).not.toBe(f32.fingerprint);
    let worst = 0;
    for (let i = 0; i < 22; i++)
      worst = Math.max(worst, expectWithinF16(f16.latent('head', i), f32.latent('head', i)));
    expect(worst).toBeGreaterThan(0);
    console.log(
      `f16 cache: largest relative error against f32 ${worst.toExponential(2)} (bound ${2 ** -11})`,
    );
    // f32 storage against encodeFrames on the training images: equal to the last bit.
    const ds = await openLocalDataset(root);
    const samples = await Promise.all([0, 12, 13, 21, 4].map((i) => sampleBuilder(ds).get(i)));
    const { got, want } = await compare(policy, processor, f32, samples);
    expect(got[0]).toEqual(want[0]);
    expect(got[1]).toEqual(want[1]);
  });

  it('a second open loads; touching a data file, touching or replacing a video file each rebuild', async () => {
    const first = await open();
    expect(first.built).toBe(false); // written by the previous test
    const ds = await openLocalDataset(root);
    const data = join(root, ds.episodes[0].dataPath);
    const video = join(root, ds.episodes[0].videos[CAM].path);

    const later = (p: string, s: number) => {
      const t = statSync(p).mtimeMs / 1000 + s;
      utimesSync(p, t, t);
    };
    later(data, 10);
    const afterData = await open();
    expect(afterData.built).toBe(true);
    expect(afterData.encoderCalls).toBe(2 + 2);
    expect(afterData.fingerprint).not.toBe(first.fingerprint);
    expect(files()).toEqual([`${afterData.fingerprint}.safetensors`]); // the stale file is gone

    later(video, 10);
    const afterTouch = await open();
    expect(afterTouch.built).toBe(true);
    expect(afterTouch.fingerprint).not.toBe(afterData.fingerprint);
    expect(afterTouch.latent('head', 5)).toEqual(first.latent('head', 5)); // same pixels, same latents

    // New pixels, same frame count and size: the rebuilt latents are those of the new frames.
    const other = join(tmp, 'synthetic-2');
    await writeDataset(other, 2, [13, 9]);
    await writeFile(video, await readFile(join(other, ds.episodes[0].videos[CAM].path)));
    const replaced = await open();
    expect(replaced.built).toBe(true);
    expect(replaced.fingerprint).not.toBe(afterTouch.fingerprint);
    const fresh = await open({ dataset: await openLocalDataset(other), dir: join(tmp, 'cache-other') });
    for (const i of [0, 13, 21]) {
      expect(replaced.latent('head', i)).toEqual(fresh.latent('head', i));
      expect(replaced.latent('head', i)).not.toEqual(first.latent('head', i));
    }
    expect(warnings).toEqual([]);
  });

  it('one encoder weight, the image transform or the image size is a new fingerprint; a decoder weight is not', async () => {
    const base = await open();
    expect(base.built).toBe(false);
    const vae = policy.cosmos;
    const bump = async (name: string) => {
      const w = vae.stateDict()[name];
      const values = (await w.toArray()) as Float32Array;
      values[3] += 0.01;
      const t = tensor(values, w.shape);
      await vae.loadStateDict({ [name]: t }, { strict: false });
      t.dispose();
    };
    const decoderWeight = Object.keys(vae.stateDict()).find((n) => n.startsWith('decoder.'))!;
    await bump(decoderWeight);
    const afterDecoder = await open();
    expect(afterDecoder.built).toBe(false);
    expect(afterDecoder.fingerprint).toBe(base.fingerprint);

    await bump('quant_conv.weight');
    const before = counter.calls;
    const afterEncoder = await open();
    expect(afterEncoder.built).toBe(true);
    expect(counter.calls - before).toBe(afterEncoder.encoderCalls);
    expect(afterEncoder.fingerprint).not.toBe(base.fingerprint);
    expect(afterEncoder.latent('head', 7)).not.toEqual(base.latent('head', 7));

    // Same size, another transform (as a change of the resize code would be): the probe notices.
    const changed = processorFor(await openLocalDataset(root), ['head'], config.imageSize);
    const transform = changed.imageBatchToPolicy.bind(changed);
    changed.imageBatchToPolicy = (frames) => {
      const out = transform(frames);
      return { ...out, images: out.images.map((t) => mul(t, 0.999)) };
    };
    const afterTransform = await open({ processor: changed });
    expect(afterTransform.built).toBe(true);
    expect(afterTransform.fingerprint).not.toBe(afterEncoder.fingerprint);

    const bigger = processorFor(await openLocalDataset(root), ['head'], 40);
    const resized = await open({ processor: bigger });
    expect(resized.built).toBe(true);
    expect(resized.fingerprint).not.toBe(afterEncoder.fingerprint);
    expect(resized.latentShape).toEqual([16, 5, 5]);
  });

  it('a truncated or corrupt cache file is rebuilt with a warning, never read', async () => {
    // The image-size test left this dataset with another file (stale ones were removed): build again.
    const good = await open();
    expect((await open()).built).toBe(false);
    const path = good.path;
    const size = statSync(path).size;
    truncateSync(path, size - 100);
    const afterTruncate = await open();
    expect(afterTruncate.built).toBe(true);
    expect(warnings.pop()).toMatch(/not using .*safetensors .*rebuilding/);
    expect(afterTruncate.latent('head', 20)).toEqual(good.latent('head', 20));
    expect(statSync(path).size).toBe(size);

    // One byte of latent data flipped: the header is fine, the checksum is not.
    const bytes = await readFile(path);
    bytes[size - 7] ^= 0x40;
    await writeFile(path, bytes);
    const afterFlip = await open();
    expect(afterFlip.built).toBe(true);
    expect(warnings.pop()).toMatch(/checksum/);
    expect(afterFlip.latent('head', 21)).toEqual(good.latent('head', 21));
    expect(warnings).toEqual([]);
  });
});

describe('gatherLatents with a missing camera (views 2, the dataset has one camera)', () => {
  it('the missing view gets the all-ones image latent, as encodeFrames computes it', async () => {
    const config = tinyConfig({
      width: 32,
      layers: 1,
      visionLayers: 1,
      imageSize: 32,
      views: 2,
      textTokens: 8,
      vocabSize: 256,
      chunkSize: 10,
    });
    const policy = policyFor(config);
    const root = join(tmp, 'synthetic-missing');
    await writeDataset(root, 3, [17], 64, 70);
    const ds = await openLocalDataset(root);
    const processor = processorFor(ds, ['hand_left', 'head'], config.imageSize);
    const cache = await LatentCache.open({
      dataset: ds,
      cameras: { head: CAM },
      processor,
      tokenizer: policy.cosmos,
      dir: join(tmp, 'cache-missing'),
      batchSize: 5,
    });
    expect(cache.encoderCalls).toBe(4 + 1); // ⌈17/5⌉ batches and the all-ones image once
    const samples = await Promise.all([16, 0, 9].map((i) => sampleBuilder(ds).get(i)));
    const { got, want } = await compare(policy, processor, cache, samples);
    expectWithinF16(got[0], want[0]);
    expectWithinF16(got[1], want[1]);
  });
});
