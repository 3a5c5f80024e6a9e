// The trainer's decoded-frame cache: when every frame of the datasets fits the budget, each camera's
// episode is decoded once (one decoder call) and never again; when it does not, only each sample's
// frames are decoded. Either way the batches hold the same pixels. The decoder is the real ffmpeg
// one, wrapped only to count what it is asked for.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyConfig, type PolicyProcessor } from '@vla/internvla-a1';
import { FfmpegDecoder, type VideoDecodeRequest, type VideoFrameDecoder } from '@vla/lerobot';
import { openTrainingData, type TrainingBatch } from '../src/data/trainingData.js';
import { tempDir, writeNoiseVideoDataset } from './dataFixtures.js';
import { MICRO_MODEL } from './fixtures.js';
import './setup.js';

/** Forwards to ffmpeg and counts requests and frames per `path` of the mp4. */
class CountingDecoder implements VideoFrameDecoder {
  readonly requests: VideoDecodeRequest[] = [];
  constructor(private readonly inner: VideoFrameDecoder) {}
  decode(request: VideoDecodeRequest): Promise<Uint8Array[]> {
    this.requests.push(request);
    return this.inner.decode(request);
  }
}

const EPISODES = [23, 31, 17, 26];
const FRAMES = EPISODES.reduce((a, b) => a + b, 0);
const [H, W] = [32, 48];
const FRAME_BYTES = H * W * 3;
const tmp = tempDir();
const ffmpeg = new FfmpegDecoder();
afterAll(async () => {
  await ffmpeg.close();
  tmp.cleanup();
});

beforeAll(() => writeNoiseVideoDataset(tmp.dir, EPISODES, [H, W]), 60_000);

const config = tinyConfig(MICRO_MODEL);

/** Draws `n` batches and fingerprints their images, in order. */
async function draw(
  frameCacheBytes: number,
  n: number,
  processor?: PolicyProcessor,
): Promise<{ decoder: CountingDecoder; prints: string[]; processor: PolicyProcessor }> {
  const decoder = new CountingDecoder(ffmpeg);
  const data = await openTrainingData({
    datasets: [{ path: tmp.dir }],
    seed: 7,
    batchSize: 4,
    config,
    decoder,
    frameCacheBytes,
    concurrency: 3,
    processor,
  });
  const prints: string[] = [];
  let i = 0;
  for await (const batch of data.batches() as AsyncGenerator<TrainingBatch>) {
    for (const s of batch.samples) {
      const h = createHash('sha256');
      for (const frames of Object.values(s.sample.images)) for (const f of frames) h.update(f);
      prints.push(`${s.sample.meta.episodeIndex}:${s.sample.meta.index}:${h.digest('hex')}`);
    }
    if (++i === n) break;
  }
  await data.close();
  return { decoder, prints, processor: data.processor };
}

describe('decoded-frame cache', () => {
  it('decodes each episode of a camera once when every frame fits, and serves the same pixels as per-sample decoding', async () => {
    const whole = await draw(FRAMES * FRAME_BYTES, 4);
    const window = await draw(FRAMES * FRAME_BYTES - 1, 4, whole.processor);
    expect(whole.prints).toEqual(window.prints);
    // Fits: one request per (episode, camera) touched, each for the whole episode.
    const touched = [...new Set(whole.prints.map((p) => Number(p.split(':')[0])))];
    expect(whole.decoder.requests.length).toBe(touched.length);
    expect(whole.decoder.requests.map((r) => r.frames.length).sort()).toEqual(
      touched.map((e) => EPISODES[e]).sort(),
    );
    // One byte short: every sample asks for its own (at most three) frames.
    expect(window.decoder.requests.length).toBeGreaterThan(EPISODES.length);
    for (const r of window.decoder.requests) expect(r.frames.length).toBeLessThanOrEqual(3);
  }, 300_000);
});
