/**
 * Loader throughput: samples/s with three camera slots at three timestamps (t-15, t, t+15),
 * resized with pad to 224x224, batches of 8, for several concurrency settings.
 * Run: npm run bench (from packages/lerobot). Prints a table; asserts nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchLoader,
  FfmpegDecoder,
  LeRobotDataset,
  LeRobotWriter,
  NodeFileStorage,
  SampleBuilder,
  type SampleBuilderOptions,
  type VideoDecodeRequest,
} from '../src/index';
import { lerobotFixtures } from '../test/fixtures';

const CR5 = join(lerobotFixtures(), 'cr5_grasp_cube_v21');
const BATCH = 8;
const BATCHES = 6;

class CountingDecoder extends FfmpegDecoder {
  calls = 0;
  frames = 0;
  override async decode(req: VideoDecodeRequest): Promise<Uint8Array[]> {
    this.calls++;
    this.frames += req.frames.length;
    return super.decode(req);
  }
}

/** A 3-camera 320x240 dataset recorded with the writer (smooth moving patterns). */
async function writeThreeCameraDataset(dir: string): Promise<void> {
  const cams = ['images.rgb.head', 'images.rgb.hand_left', 'images.rgb.hand_right'];
  const features: Record<string, { dtype: 'float32' | 'video'; shape: number[] }> = {};
  for (const p of ['left_joint', 'right_joint']) {
    features[`states.${p}.position`] = { dtype: 'float32', shape: [7] };
    features[`actions.${p}.position`] = { dtype: 'float32', shape: [7] };
  }
  for (const p of ['left_gripper', 'right_gripper']) {
    features[`states.${p}.position`] = { dtype: 'float32', shape: [1] };
    features[`actions.${p}.position`] = { dtype: 'float32', shape: [1] };
  }
  for (const c of cams) features[c] = { dtype: 'video', shape: [240, 320, 3] };
  const w = await LeRobotWriter.create(dir, { fps: 30, robotType: 'Genie-1', features });
  for (let e = 0; e < 2; e++) {
    for (let k = 0; k < 90; k++) {
      const frame: Record<string, ArrayLike<number>> = {};
      for (const key of Object.keys(features)) {
        if (features[key].dtype === 'float32')
          frame[key] = Array.from({ length: features[key].shape[0] }, (_, j) => Math.sin(k / 10 + j + e));
      }
      cams.forEach((c, ci) => {
        const img = new Uint8Array(240 * 320 * 3);
        for (let y = 0; y < 240; y++) {
          for (let x = 0; x < 320; x++) {
            const o = (y * 320 + x) * 3;
            img[o] = 128 + 100 * Math.sin((x + 3 * k + 40 * ci) / 25);
            img[o + 1] = 128 + 100 * Math.cos((y + 2 * k) / 20);
            img[o + 2] = (x + y + k * 4 + e * 50) & 255;
          }
        }
        frame[c] = img;
      });
      w.addFrame(frame);
    }
    await w.saveEpisode({ task: `task ${e}` });
  }
  await w.finalize();
}

interface Row {
  dataset: string;
  decode: string;
  source: string;
  concurrency: number;
  samples: number;
  seconds: number;
  samplesPerS: number;
  ffmpegCalls: number;
  framesDecoded: number;
}

async function measure(
  dataset: string,
  dir: string,
  source: string,
  mapping: SampleBuilderOptions['mapping'],
  concurrency: number,
  frameDecode: 'window' | 'episode' = 'window',
): Promise<Row> {
  const decoder = new CountingDecoder({ maxProcesses: concurrency });
  const ds = await LeRobotDataset.open(new NodeFileStorage(dir), { decoder });
  const builder = new SampleBuilder(ds, {
    mapping,
    imageSize: [224, 224],
    frameDecode,
    frameCacheBytes: 512 * 2 ** 20,
  });
  const loader = new BatchLoader(builder, { batchSize: BATCH, seed: 1, concurrency, prefetchBatches: 2 });
  const t0 = performance.now();
  let samples = 0;
  let batches = 0;
  for await (const b of loader.epoch(0)) {
    samples += b.samples.length;
    if (++batches === BATCHES) break;
  }
  const seconds = (performance.now() - t0) / 1000;
  await decoder.close();
  return {
    dataset,
    decode: frameDecode,
    source,
    concurrency,
    samples,
    seconds,
    samplesPerS: samples / seconds,
    ffmpegCalls: decoder.calls,
    framesDecoded: decoder.frames,
  };
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'vla-lerobot-bench-'));
  try {
    const rows: Row[] = [];
    const top = 'observation.images.top';
    const cr5Cams = { cameras: { head: top, hand_left: top, hand_right: top } };
    for (const c of [1, 2, 4])
      rows.push(await measure('cr5 v2.1 (1 AV1 cam 640x480 → 3 slots)', CR5, 'fixture', cr5Cams, c));
    rows.push(await measure('cr5 v2.1 (1 AV1 cam 640x480 → 3 slots)', CR5, 'fixture', cr5Cams, 2, 'episode'));
    const dir = join(tmp, 'three');
    const t0 = performance.now();
    await writeThreeCameraDataset(dir);
    const writeS = (performance.now() - t0) / 1000;
    for (const c of [1, 2, 4])
      rows.push(await measure('writer v3.0 (3 AV1 cams 320x240)', dir, 'LeRobotWriter', undefined, c));
    rows.push(
      await measure('writer v3.0 (3 AV1 cams 320x240)', dir, 'LeRobotWriter', undefined, 2, 'episode'),
    );
    // Other work on the machine skews every figure; report the load it ran under.
    console.log(
      `\nLoad average at the end: ${loadavg()
        .map((x) => x.toFixed(1))
        .join(' / ')}`,
    );
    console.log(
      `Loader throughput — ${BATCHES} batches x ${BATCH} samples, 3 slots x 3 timestamps, 224x224 uint8, cold cache, ${cpus().length} CPUs`,
    );
    console.table(
      rows.map((r) => ({
        dataset: r.dataset,
        decode: r.decode,
        concurrency: r.concurrency,
        samples: r.samples,
        seconds: r.seconds.toFixed(2),
        'samples/s': r.samplesPerS.toFixed(1),
        'ffmpeg calls': r.ffmpegCalls,
        'frames decoded': r.framesDecoded,
      })),
    );
    console.log(`(writing the 3-camera dataset: 180 frames x 3 cameras in ${writeS.toFixed(1)} s)`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
