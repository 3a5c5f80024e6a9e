import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FfmpegDecoder, LeRobotDataset, NodeFileStorage, SampleBuilder, type NormStats } from '../src/index';
import { ffmpegFrame, tempDir } from './helpers';
import { referenceMoments, referenceResizeWithPad } from './reference';
import { writeSynthetic, type SyntheticEpisode } from './synthetic';

const PARTS = ['left_joint', 'right_joint', 'left_gripper', 'right_gripper'];
const DIMS = [7, 7, 1, 1];

/** Genie-1 state (or action) vector of a frame, straight from what was written. */
function genie(ep: SyntheticEpisode, prefix: 'states' | 'actions', row: number): number[] {
  return PARTS.flatMap((p) => ep.values[`${prefix}.${p}.position`][row]);
}

describe('SampleBuilder on an InternData-A1 Genie-1 dataset (2 of 3 cameras)', () => {
  const tmp = tempDir();
  const dir = join(tmp.dir, 'genie');
  let written: SyntheticEpisode[];
  let ds: LeRobotDataset;

  beforeAll(async () => {
    const numeric: Record<string, number> = {};
    PARTS.forEach((p, i) => {
      numeric[`states.${p}.position`] = DIMS[i];
      numeric[`actions.${p}.position`] = DIMS[i];
    });
    written = await writeSynthetic(dir, {
      fps: 30,
      robotType: 'Genie-1',
      numeric,
      cameras: ['images.rgb.head', 'images.rgb.hand_left'],
      height: 48,
      width: 64,
      episodes: [
        { length: 60, task: 'stack the blocks' },
        { length: 25, task: 'open the drawer' },
      ],
      seed: 99,
    });
    ds = await LeRobotDataset.open(new NodeFileStorage(dir), { decoder: new FfmpegDecoder() });
  });
  afterAll(() => tmp.cleanup());

  /** Reference pipeline in plain float64: delta on the first 14 dims, then normalise, then pad. */
  function reference(e: number, row: number, stats: NormStats | null) {
    const ep = written[e];
    const state = genie(ep, 'states', row);
    const actions: number[][] = [];
    const pad: number[] = [];
    for (let k = 0; k < 50; k++) {
      const r = Math.min(row + k, ep.length - 1);
      pad.push(row + k >= ep.length ? 1 : 0);
      actions.push(genie(ep, 'actions', r).map((a, j) => (j < 14 ? a - state[j] : a)));
    }
    const norm = (x: number[], s: NormStats['state'] | undefined) =>
      s ? x.map((v, j) => (v - s.mean[j]) / (s.std[j] + 1e-6)) : x;
    return { state: norm(state, stats?.state), actions: actions.map((a) => norm(a, stats?.actions)), pad };
  }

  test('norm stats: state over all frames, delta actions over every in-episode chunk position', async () => {
    const b = new SampleBuilder(ds);
    const ns = await b.computeNormStats();
    const states = written.flatMap((ep) =>
      Array.from({ length: ep.length }, (_, r) => genie(ep, 'states', r)),
    );
    const deltas: number[][] = [];
    for (const ep of written) {
      for (let row = 0; row < ep.length; row++) {
        const s = genie(ep, 'states', row);
        for (let k = 0; row + k < ep.length && k < 50; k++)
          deltas.push(genie(ep, 'actions', row + k).map((a, j) => (j < 14 ? a - s[j] : a)));
      }
    }
    const rs = referenceMoments(states);
    const ra = referenceMoments(deltas);
    for (let j = 0; j < 16; j++) {
      expect(ns.state.mean[j]).toBeCloseTo(rs.mean[j], 10);
      expect(ns.state.std[j]).toBeCloseTo(rs.std[j], 10);
      expect(ns.actions.mean[j]).toBeCloseTo(ra.mean[j], 10);
      expect(ns.actions.std[j]).toBeCloseTo(ra.std[j], 10);
    }
    expect(ns.actions.count).toEqual([deltas.length]);
  });

  test.each([
    [0, 0],
    [0, 20],
    [0, 59],
    [1, 3],
    [1, 24],
  ])(
    'episode %i row %i: state, delta actions, padding, normalisation and images match the reference',
    async (e, row) => {
      const plain = new SampleBuilder(ds, { imageSize: [64, 64] });
      const ns = await plain.computeNormStats();
      const b = new SampleBuilder(ds, { imageSize: [64, 64], normStats: ns });
      const index = ds.episode(e).datasetFromIndex + row;
      const s = await b.get(index);
      const ref = reference(e, row, ns);
      expect(s.meta).toMatchObject({
        episodeIndex: e,
        frameIndex: row,
        robot: 'Genie-1',
        stateDim: 16,
        actionDim: 16,
      });
      expect(s.task).toBe(written[e].task);
      expect(s.state).toHaveLength(32);
      expect(s.actions).toHaveLength(50 * 32);
      for (let j = 0; j < 32; j++) expect(s.state[j]).toBeCloseTo(j < 16 ? ref.state[j] : 0, 4);
      expect(Array.from(s.actionIsPad)).toEqual(ref.pad);
      for (let k = 0; k < 50; k++)
        for (let j = 0; j < 32; j++)
          expect(s.actions[k * 32 + j]).toBeCloseTo(j < 16 ? ref.actions[k][j] : 0, 4);
      // Without normalisation the delta actions are exact float32 differences.
      const raw = await plain.get(index);
      const unnorm = reference(e, row, null);
      for (let k = 0; k < 50; k++)
        for (let j = 0; j < 16; j++) expect(raw.actions[k * 32 + j]).toBe(Math.fround(unnorm.actions[k][j]));

      // Images: offsets -15/0/+15, clamped; head and hand_left present, hand_right missing.
      const L = written[e].length;
      expect(Array.from(s.imageIsPad)).toEqual([row < 15 ? 1 : 0, 0, row + 15 >= L ? 1 : 0]);
      expect(s.imageMasks).toEqual({ head: true, hand_left: true, hand_right: false });
      expect(s.images.hand_right.every((im) => im.every((v) => v === 255))).toBe(true);
      const offset = written.slice(0, e).reduce((a, w) => a + w.length, 0);
      for (const [slot, key] of [
        ['head', 'images.rgb.head'],
        ['hand_left', 'images.rgb.hand_left'],
      ] as const) {
        [-15, 0, 15].forEach((d, t) => {
          const r = Math.min(Math.max(row + d, 0), L - 1);
          const frame = ffmpegFrame(join(dir, ds.episode(e).videos[key].path), offset + r);
          const want = referenceResizeWithPad(frame, 48, 64, 64, 64, 0);
          const got = s.images[slot][t];
          let worst = 0;
          for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
          expect(worst, `${slot} t=${d}`).toBeLessThanOrEqual(0.5 + 1e-3);
          // 48x64 in 64x64: 8 black rows at the top and bottom.
          expect(got.subarray(0, 8 * 64 * 3).every((v) => v === 0)).toBe(true);
          expect(got.subarray(56 * 64 * 3).every((v) => v === 0)).toBe(true);
        });
      }
    },
  );

  test('float32 images are in [-1, 1], padding -1, missing camera all ones', async () => {
    const u = await new SampleBuilder(ds, { imageSize: [64, 64] }).get(30);
    const f = await new SampleBuilder(ds, { imageSize: [64, 64], imageDtype: 'float32' }).get(30);
    const a = u.images.head[1];
    const b = f.images.head[1];
    expect(b).toBeInstanceOf(Float32Array);
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i] / 127.5 - 1, 6);
    expect(b[0]).toBe(-1);
    expect(f.images.hand_right[0].every((v) => v === 1)).toBe(true);
  });

  test.each([
    ['window', 256 * 2 ** 20],
    ['episode', 256 * 2 ** 20],
    // Smaller than one sample's three frames: served past the cache, still the same bytes.
    ['window', 48 * 64 * 3 * 2],
  ] as const)(
    "imageSize 'native' (%s decode, cache %i bytes): ffmpeg's frames as decoded, their sizes per slot, no made-up missing camera",
    async (frameDecode, frameCacheBytes) => {
      const b = new SampleBuilder(ds, { imageSize: 'native', frameDecode, frameCacheBytes });
      const offset = written[0].length;
      for (const row of [0, 7, 24]) {
        const s = await b.get(ds.episode(1).datasetFromIndex + row);
        expect(s.meta.imageShapes).toEqual({ head: [48, 64], hand_left: [48, 64] });
        expect([s.meta.imageHeight, s.meta.imageWidth]).toEqual([0, 0]);
        expect(s.imageMasks).toEqual({ head: true, hand_left: true, hand_right: false });
        expect(s.images.hand_right).toHaveLength(3);
        for (const im of s.images.hand_right) expect(im).toEqual(new Uint8Array(0));
        for (const [slot, key] of [
          ['head', 'images.rgb.head'],
          ['hand_left', 'images.rgb.hand_left'],
        ] as const) {
          [-15, 0, 15].forEach((d, t) => {
            const r = Math.min(Math.max(row + d, 0), written[1].length - 1);
            const got = s.images[slot][t];
            expect(got).toBeInstanceOf(Uint8Array);
            expect(got.length).toBe(48 * 64 * 3);
            const want = ffmpegFrame(join(dir, ds.episode(1).videos[key].path), offset + r);
            expect(Buffer.from(got).equals(Buffer.from(want)), `${slot} row ${row} offset ${d}`).toBe(true);
          });
        }
        // The vectors do not depend on the image size.
        const fixed = await new SampleBuilder(ds, { imageSize: [16, 16] }).get(s.meta.index);
        expect(s.state).toEqual(fixed.state);
        expect(s.actions).toEqual(fixed.actions);
      }
    },
  );

  test('a fixed imageSize reports it for every slot, the missing camera too', async () => {
    const s = await new SampleBuilder(ds, { imageSize: [20, 36] }).get(5);
    expect(s.meta.imageShapes).toEqual({ head: [20, 36], hand_left: [20, 36], hand_right: [20, 36] });
    expect([s.meta.imageHeight, s.meta.imageWidth]).toEqual([20, 36]);
    expect(s.images.hand_right[0]).toHaveLength(20 * 36 * 3);
  });

  test('native frames are uint8 only; a malformed imageSize is named', () => {
    expect(() => new SampleBuilder(ds, { imageSize: 'native', imageDtype: 'float32' })).toThrow(
      /imageSize 'native'.*imageDtype must be 'uint8', got 'float32'/,
    );
    expect(() => new SampleBuilder(ds, { imageSize: [0, 10] })).toThrow(/imageSize must be .*\[0,10\]/);
  });

  test('turning delta actions off gives absolute actions', async () => {
    const s = await new SampleBuilder(ds, { deltaActions: false, imageSize: [16, 16] }).get(10);
    const a = genie(written[0], 'actions', 10);
    for (let j = 0; j < 16; j++) expect(s.actions[j]).toBe(a[j]);
  });
});
