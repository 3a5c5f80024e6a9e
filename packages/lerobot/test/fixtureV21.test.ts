import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  aggregateStats,
  computeFeatureStats,
  computeImageStats,
  deltaWindow,
  FfmpegDecoder,
  imageStatsSampleIndices,
  LeRobotDataset,
  NodeFileStorage,
  SampleBuilder,
  type DatasetStats,
} from '../src/index';
import { close, CR5, ffmpegFrame, ffprobeFrameCount, maxAbsDiff, rawRows } from './helpers';

const KEY = 'observation.images.top';
const LENGTHS = [107, 167, 76, 83, 97];

describe('cr5_grasp_cube_v21 (LeRobot v2.1, AV1 video)', () => {
  let ds: LeRobotDataset;
  beforeAll(async () => {
    ds = await LeRobotDataset.open(new NodeFileStorage(CR5), { decoder: new FfmpegDecoder() });
  });

  test('metadata: info, episodes, tasks, video paths', () => {
    expect(ds.info.codebaseVersion).toBe('v2.1');
    expect(ds.info.fps).toBe(10);
    expect(ds.info.robotType).toBe('cr5');
    expect(ds.videoKeys).toEqual([KEY]);
    expect(ds.episodes.map((e) => e.length)).toEqual(LENGTHS);
    expect(ds.episodes.map((e) => [e.datasetFromIndex, e.datasetToIndex])).toEqual([
      [0, 107],
      [107, 274],
      [274, 350],
      [350, 433],
      [433, 530],
    ]);
    expect([...ds.meta.tasks]).toEqual([[0, 'grasp_cube']]);
    expect(ds.episodes[3].dataPath).toBe('data/chunk-000/episode_000003.parquet');
    expect(ds.episodes[3].videos[KEY].path).toBe(`videos/chunk-000/${KEY}/episode_000003.mp4`);
    expect(ds.meta.stats).toBeNull();
  });

  test('every row is read; counts, index continuity and episode boundaries agree with meta and the raw parquet', async () => {
    let next = 0;
    for (const e of ds.episodes) {
      const f = await ds.readEpisode(e.episodeIndex);
      const raw = await rawRows(join(CR5, e.dataPath));
      expect(f.length).toBe(e.length);
      expect(raw.length).toBe(e.length);
      const c = f.columns;
      expect(c['observation.state'].width).toBe(6);
      expect(c.action.width).toBe(7);
      for (let i = 0; i < e.length; i++) {
        expect(c.index.values[i]).toBe(next++);
        expect(c.frame_index.values[i]).toBe(i);
        expect(c.episode_index.values[i]).toBe(e.episodeIndex);
        expect(c.task_index.values[i]).toBe(0);
        expect(c.timestamp.values[i]).toBe(Math.fround(i / 10));
        expect(Array.from(c['observation.state'].values.subarray(i * 6, i * 6 + 6))).toEqual(
          raw[i]['observation.state'],
        );
        expect(Array.from(c.action.values.subarray(i * 7, i * 7 + 7))).toEqual(raw[i].action);
      }
      // Video frame count equals the episode length (ffprobe counts independently).
      expect(ffprobeFrameCount(join(CR5, e.videos[KEY].path))).toBe(e.length);
    }
    expect(next).toBe(530);
    expect(ds.locate(273)).toMatchObject({ row: 166, episode: { episodeIndex: 1 } });
    expect(ds.locate(274)).toMatchObject({ row: 0, episode: { episodeIndex: 2 } });
  });

  test('per-episode stats equal episodes_stats.jsonl bit for bit (LeRobot 0.3 numerics), except the documented stale timestamp stats', async () => {
    const ours: DatasetStats[] = [];
    for (const e of ds.episodes) {
      const f = await ds.readEpisode(e.episodeIndex);
      const s: DatasetStats = {};
      for (const [k, col] of Object.entries(f.columns)) {
        s[k] = computeFeatureStats(col.values, col.width, {
          flavor: 'lerobot-v2.1',
          float32: col.dtype === 'float32',
        });
      }
      ours.push(s);
      const stored = e.stats!;
      for (const k of [
        'observation.state',
        'action',
        'frame_index',
        'episode_index',
        'index',
        'task_index',
      ]) {
        for (const stat of ['min', 'max', 'mean', 'std', 'count'] as const) {
          expect(s[k][stat], `${k}.${stat} ep ${e.episodeIndex}`).toEqual(stored[k][stat]);
        }
      }
      // The timestamp column was rewritten upstream after the stats were computed (SOURCE.md).
      const ts = s.timestamp;
      expect(ts.min[0]).toBe(0);
      expect(ts.max[0]).toBeCloseTo((e.length - 1) / 10, 5);
      expect(stored.timestamp.min[0]).toBeGreaterThan(0.05);
      expect(stored.timestamp.max[0]).toBeGreaterThan(ts.max[0] + 0.05);
      expect(Math.abs(stored.timestamp.mean[0] - ts.mean[0])).toBeGreaterThan(1e-3);
      expect(stored.timestamp.count).toEqual(ts.count);
    }
    expect(ds.episodes[0].stats!.timestamp.min[0]).toBeCloseTo(0.0556795597076416, 12);
    expect(ds.episodes[0].stats!.timestamp.max[0]).toBeCloseTo(10.800050020217896, 12);

    // Aggregation like LeRobot: of our stats, of the stored stats, and direct over all rows.
    const aggOurs = aggregateStats(ours);
    const aggStored = ds.stats!;
    for (const k of ['observation.state', 'action', 'index', 'frame_index']) {
      const all = await Promise.all(ds.episodes.map((e) => ds.readEpisode(e.episodeIndex)));
      const width = all[0].columns[k].width;
      const values = all.flatMap((f) => Array.from(f.columns[k].values));
      const direct = computeFeatureStats(values, width);
      for (let j = 0; j < width; j++) {
        for (const stat of ['min', 'max', 'mean', 'std'] as const) {
          expect(
            close(aggOurs[k][stat][j], aggStored[k][stat][j], 1e-12, 1e-15),
            `${k}.${stat}[${j}] ours vs stored`,
          ).toBe(true);
          // float32 per-episode numerics vs float64 direct: agree up to float32 rounding of the values.
          const tol = 1e-4 * direct.std[j] + 1e-6 * Math.abs(direct.mean[j]);
          expect(
            Math.abs(aggOurs[k][stat][j] - direct[stat][j]),
            `${k}.${stat}[${j}] aggregated vs direct`,
          ).toBeLessThanOrEqual(tol);
        }
      }
      expect(aggOurs[k].count).toEqual([530]);
    }
  });

  test('image stats of the decoded video match the stored ones within codec tolerance', async () => {
    for (const e of ds.episodes) {
      const idx = imageStatsSampleIndices(e.length);
      expect(idx.length).toBe(e.stats![KEY].count[0]);
      const f = await ds.readEpisode(e.episodeIndex);
      const frames = await ds.decodeFrames(
        e.episodeIndex,
        KEY,
        idx.map((i) => f.columns.timestamp.values[i]),
      );
      const s = computeImageStats(frames, 480, 640, 3);
      const stored = e.stats![KEY];
      expect(stored.mean.length).toBe(3);
      for (let c = 0; c < 3; c++) {
        // LeRobot computed these on the raw camera frames before AV1 encoding.
        expect(Math.abs(s.mean[c] - stored.mean[c])).toBeLessThan(0.01);
        expect(Math.abs(s.std[c] - stored.std[c])).toBeLessThan(0.01);
      }
      expect(s.count).toEqual(stored.count);
    }
  });

  test("decoded frames equal ffmpeg's own decode of the same frame, byte for byte", async () => {
    const picks: [number, number[]][] = [
      [0, [0, 1, 2, 53, 106]],
      [1, [0, 77, 166]],
      [4, [31, 96]],
    ];
    for (const [ep, rows] of picks) {
      const f = await ds.readEpisode(ep);
      const frames = await ds.decodeFrames(
        ep,
        KEY,
        rows.map((r) => f.columns.timestamp.values[r]),
      );
      rows.forEach((r, i) => {
        const ref = ffmpegFrame(join(CR5, ds.episode(ep).videos[KEY].path), r);
        expect(frames[i].length).toBe(640 * 480 * 3);
        expect(maxAbsDiff(frames[i], ref), `episode ${ep} frame ${r}`).toBe(0);
      });
    }
    // With ffmpeg's default conversion flags the bytes equal a plain `ffmpeg -i ... -pix_fmt rgb24` too.
    const plain = await LeRobotDataset.open(new NodeFileStorage(CR5), {
      decoder: new FfmpegDecoder({ swsFlags: null }),
    });
    const [a, b] = await plain.decodeFrames(3, KEY, [0.5, 8.2]);
    expect(maxAbsDiff(a, ffmpegFrame(join(CR5, ds.episode(3).videos[KEY].path), 5, null))).toBe(0);
    expect(maxAbsDiff(b, ffmpegFrame(join(CR5, ds.episode(3).videos[KEY].path), 82, null))).toBe(0);
    // Both conversions of the same frame differ only by chroma interpolation.
    const [c] = await ds.decodeFrames(3, KEY, [0.5]);
    expect(maxAbsDiff(a, c)).toBeGreaterThan(0);
  });

  test('delta-timestamp windows clamp at episode edges and flag padding', async () => {
    expect(deltaWindow(0, 107, [-15, 0, 15])).toEqual({
      rows: Int32Array.from([0, 0, 15]),
      isPad: Uint8Array.from([1, 0, 0]),
    });
    expect(deltaWindow(106, 107, [-15, 0, 15])).toEqual({
      rows: Int32Array.from([91, 106, 106]),
      isPad: Uint8Array.from([0, 0, 1]),
    });
    const builder = new SampleBuilder(ds, {
      imageSize: [48, 64],
      mapping: { cameras: { head: KEY, hand_left: KEY, hand_right: KEY } },
    });
    const ep = await ds.readEpisode(2);
    const L = ep.length;
    for (const row of [0, 14, 15, L - 50, L - 49, L - 16, L - 1]) {
      const s = await builder.get(ds.episode(2).datasetFromIndex + row);
      expect(s.meta.episodeIndex).toBe(2);
      expect(s.meta.frameIndex).toBe(row);
      expect(Array.from(s.imageIsPad)).toEqual([row - 15 < 0 ? 1 : 0, 0, row + 15 >= L ? 1 : 0]);
      for (let k = 0; k < 50; k++) {
        const want = Math.min(row + k, L - 1);
        expect(s.actionIsPad[k]).toBe(row + k >= L ? 1 : 0);
        // Generic cr5 mapping: absolute actions, no normalisation, zero padded to 32.
        for (let j = 0; j < 32; j++) {
          expect(s.actions[k * 32 + j]).toBe(j < 7 ? ep.columns.action.values[want * 7 + j] : 0);
        }
      }
      for (let j = 0; j < 32; j++)
        expect(s.state[j]).toBe(j < 6 ? ep.columns['observation.state'].values[row * 6 + j] : 0);
    }
  });
});

test('SOURCE.md facts hold for the raw files (guards the fixture itself)', () => {
  const info = JSON.parse(readFileSync(join(CR5, 'meta/info.json'), 'utf8'));
  expect(info.features['observation.images.top'].names).toEqual(['height', 'width', 'channel']);
});
