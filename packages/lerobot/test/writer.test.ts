import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parquetMetadata } from 'hyparquet';
import {
  aggregateStats,
  computeFeatureStats,
  computeImageStats,
  FfmpegDecoder,
  imageStatsSampleIndices,
  LeRobotDataset,
  LeRobotError,
  LeRobotWriter,
  NodeFileStorage,
  parseStats,
  STAT_KEYS,
  type DatasetStats,
} from '../src/index';
import { ffmpegFrame, ffprobeFrameCount, maxAbsDiff, meanAbsDiff, SO101, tempDir } from './helpers';
import { writeSynthetic, type SyntheticEpisode } from './synthetic';

const CAMS = ['observation.images.head', 'observation.images.hand_left'];
const EPISODES = [
  { length: 23, task: 'pick the red cube' },
  { length: 31, task: 'place it in the bowl' },
  { length: 17, task: 'pick the red cube' },
];

function parquetColumns(path: string): { names: string[]; meta: ReturnType<typeof parquetMetadata> } {
  const b = readFileSync(path);
  const meta = parquetMetadata(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
  const names: string[] = [];
  let i = 1;
  while (i < meta.schema.length) {
    names.push(meta.schema[i].name);
    let pending = meta.schema[i].num_children ?? 0;
    i++;
    while (pending > 0) {
      pending += (meta.schema[i].num_children ?? 0) - 1;
      i++;
    }
  }
  return { names, meta };
}

describe('LeRobotWriter round trip (2 cameras 64x48, 3 episodes)', () => {
  const tmp = tempDir();
  const dir = join(tmp.dir, 'ds');
  let written: SyntheticEpisode[];
  let ds: LeRobotDataset;

  beforeAll(async () => {
    written = await writeSynthetic(dir, {
      fps: 10,
      robotType: 'test_arm',
      numeric: { 'observation.state': 6, action: 6 },
      cameras: CAMS,
      height: 48,
      width: 64,
      episodes: EPISODES,
      seed: 7,
    });
    ds = await LeRobotDataset.open(new NodeFileStorage(dir), { decoder: new FfmpegDecoder() });
  });
  afterAll(() => tmp.cleanup());

  test('writes the v3.0 layout', () => {
    for (const p of [
      'meta/info.json',
      'meta/tasks.parquet',
      'meta/stats.json',
      'meta/episodes/chunk-000/file-000.parquet',
      'data/chunk-000/file-000.parquet',
    ]) {
      expect(existsSync(join(dir, p)), p).toBe(true);
    }
    for (const c of CAMS) {
      const mp4 = join(dir, `videos/${c}/chunk-000/file-000.mp4`);
      expect(ffprobeFrameCount(mp4)).toBe(71);
      const probe = execFileSync('ffprobe', [
        '-v',
        'error',
        '-select_streams',
        'v:0',
        '-show_entries',
        'stream=codec_name,pix_fmt,width,height',
        '-of',
        'csv=p=0',
        mp4,
      ])
        .toString()
        .trim();
      // 48 px is below SVT-AV1's minimum height, so the writer falls back to libaom-av1 (still AV1).
      expect(probe).toBe('av1,64,48,yuv420p');
    }
    const info = JSON.parse(readFileSync(join(dir, 'meta/info.json'), 'utf8'));
    expect(info).toMatchObject({
      codebase_version: 'v3.0',
      robot_type: 'test_arm',
      total_episodes: 3,
      total_frames: 71,
      total_tasks: 2,
      fps: 10,
      splits: { train: '0:3' },
      data_path: 'data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet',
      video_path: 'videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4',
    });
    expect(info.features['observation.images.head'].info).toMatchObject({
      'video.codec': 'av1',
      'video.pix_fmt': 'yuv420p',
      'video.fps': 10,
    });
    // Same top-level keys as LeRobot's own v3.0 info.json.
    const fixtureInfo = JSON.parse(readFileSync(join(SO101, 'meta/info.json'), 'utf8'));
    expect(Object.keys(info).sort()).toEqual(Object.keys(fixtureInfo).sort());
  });

  test('column names and types follow LeRobot v3.0 (compared with so101_test_v30)', () => {
    const fx = parquetColumns(join(SO101, 'meta/episodes/chunk-000/file-000.parquet')).names;
    const ours = parquetColumns(join(dir, 'meta/episodes/chunk-000/file-000.parquet'));
    const statCols = (features: string[]) => features.flatMap((f) => STAT_KEYS.map((s) => `stats/${f}/${s}`));
    const fxFeatures = [
      'action',
      'observation.state',
      'timestamp',
      'frame_index',
      'episode_index',
      'index',
      'task_index',
    ];
    const head = fx.slice(0, 7);
    expect(fx).toEqual([
      ...head,
      ...statCols(fxFeatures),
      'meta/episodes/chunk_index',
      'meta/episodes/file_index',
    ]);
    const videoCols = CAMS.flatMap((c) =>
      ['chunk_index', 'file_index', 'from_timestamp', 'to_timestamp'].map((s) => `videos/${c}/${s}`),
    );
    const ourFeatures = [
      'observation.state',
      'action',
      'timestamp',
      'frame_index',
      'episode_index',
      'index',
      'task_index',
      ...CAMS,
    ];
    expect(ours.names).toEqual([
      ...head,
      ...videoCols,
      ...statCols(ourFeatures),
      'meta/episodes/chunk_index',
      'meta/episodes/file_index',
    ]);
    const leaf = (col: string) => {
      const i = ours.meta.schema.findIndex((s) => s.name === col);
      let j = i;
      while (ours.meta.schema[j].num_children) j++;
      return { type: ours.meta.schema[j].type, depth: j - i };
    };
    expect(leaf('stats/action/mean')).toEqual({ type: 'DOUBLE', depth: 2 });
    expect(leaf('stats/action/count')).toEqual({ type: 'INT64', depth: 2 });
    expect(leaf('stats/observation.images.head/mean')).toEqual({ type: 'DOUBLE', depth: 6 }); // [3][1][1]
    expect(leaf(`videos/${CAMS[0]}/from_timestamp`)).toEqual({ type: 'DOUBLE', depth: 0 });

    const data = parquetColumns(join(dir, 'data/chunk-000/file-000.parquet'));
    expect(data.names).toEqual([
      'observation.state',
      'action',
      'timestamp',
      'frame_index',
      'episode_index',
      'index',
      'task_index',
    ]);
    expect(data.meta.row_groups.map((g) => Number(g.num_rows))).toEqual([23, 31, 17]); // one row group per episode, like LeRobot
    const hf = JSON.parse(data.meta.key_value_metadata!.find((k) => k.key === 'huggingface')!.value!);
    expect(hf.info.features.action).toEqual({
      feature: { dtype: 'float32', _type: 'Value' },
      length: 6,
      _type: 'List',
    });
    expect(hf.info.features.index).toEqual({ dtype: 'int64', _type: 'Value' });

    const tasks = parquetColumns(join(dir, 'meta/tasks.parquet'));
    expect(tasks.names).toEqual(['task_index', '__index_level_0__']);
    const pandas = JSON.parse(tasks.meta.key_value_metadata!.find((k) => k.key === 'pandas')!.value!);
    expect(pandas.index_columns).toEqual(['__index_level_0__']);
  });

  test('numeric columns read back exactly', async () => {
    expect([...ds.meta.tasks]).toEqual([
      [0, 'pick the red cube'],
      [1, 'place it in the bowl'],
    ]);
    let index = 0;
    for (const [e, w] of written.entries()) {
      const meta = ds.episode(e);
      expect(meta.tasks).toEqual([w.task]);
      const f = await ds.readEpisode(e);
      expect(f.length).toBe(w.length);
      for (let k = 0; k < w.length; k++) {
        for (const key of ['observation.state', 'action']) {
          expect(Array.from(f.columns[key].values.subarray(k * 6, k * 6 + 6))).toEqual(w.values[key][k]);
        }
        expect(f.columns.timestamp.values[k]).toBe(Math.fround(k / 10));
        expect(f.columns.frame_index.values[k]).toBe(k);
        expect(f.columns.index.values[k]).toBe(index++);
        expect(f.columns.task_index.values[k]).toBe(w.task === 'pick the red cube' ? 0 : 1);
        expect(f.columns.episode_index.values[k]).toBe(e);
      }
    }
  });

  test("video frames read back within codec tolerance, and equal ffmpeg's decode of the shared file", async () => {
    let offset = 0;
    for (const [e, w] of written.entries()) {
      const f = await ds.readEpisode(e);
      for (const c of CAMS) {
        const seg = ds.episode(e).videos[c];
        expect(seg.fromTimestamp).toBeCloseTo(offset / 10, 9);
        expect(seg.toTimestamp).toBeCloseTo((offset + w.length) / 10, 9);
        const frames = await ds.decodeFrames(e, c, Array.from(f.columns.timestamp.values));
        frames.forEach((fr, k) => {
          expect(meanAbsDiff(fr, w.frames[c][k]), `ep ${e} ${c} frame ${k}`).toBeLessThan(3);
        });
        for (const k of [0, w.length - 1]) {
          expect(maxAbsDiff(frames[k], ffmpegFrame(join(dir, seg.path), offset + k))).toBe(0);
        }
      }
      offset += w.length;
    }
  });

  test('stats.json and per-episode stats equal stats recomputed from the data', async () => {
    const stored = parseStats(JSON.parse(readFileSync(join(dir, 'meta/stats.json'), 'utf8')), 'stats.json');
    const per: DatasetStats[] = [];
    for (const [e, w] of written.entries()) {
      const f = await ds.readEpisode(e);
      const s: DatasetStats = {};
      for (const [k, col] of Object.entries(f.columns)) s[k] = computeFeatureStats(col.values, col.width);
      for (const c of CAMS)
        s[c] = computeImageStats(
          imageStatsSampleIndices(w.length).map((i) => w.frames[c][i]),
          48,
          64,
        );
      for (const [k, st] of Object.entries(s)) {
        for (const stat of STAT_KEYS)
          expect(ds.episode(e).stats![k][stat], `ep ${e} ${k}.${stat}`).toEqual(st[stat]);
      }
      // Plain float64 reference for the moments.
      const vals = w.values.action;
      for (let j = 0; j < 6; j++) {
        const xs = vals.map((v) => v[j]);
        const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
        const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
        expect(s.action.mean[j]).toBeCloseTo(mean, 12);
        expect(s.action.std[j]).toBeCloseTo(std, 12);
        expect(s.action.min[j]).toBe(Math.min(...xs));
        expect(s.action.max[j]).toBe(Math.max(...xs));
        const sorted = [...xs].sort((a, b) => a - b);
        // Histogram quantiles are within a bin of the exact order statistic's neighbourhood.
        const bin = (s.action.max[j] - s.action.min[j]) / 5000;
        const exact = sorted[Math.floor(0.5 * (xs.length - 1))];
        const hi = sorted[Math.ceil(0.5 * xs.length)];
        expect(s.action.q50![j]).toBeGreaterThanOrEqual(Math.min(exact, hi) - 2 * bin);
        expect(s.action.q50![j]).toBeLessThanOrEqual(Math.max(exact, hi) + 2 * bin);
      }
      per.push(s);
    }
    const agg = aggregateStats(per);
    expect(Object.keys(stored).sort()).toEqual(Object.keys(agg).sort());
    for (const [k, st] of Object.entries(agg))
      for (const stat of STAT_KEYS) expect(stored[k][stat], `${k}.${stat}`).toEqual(st[stat]);
    expect(stored['observation.images.head'].mean).toHaveLength(3);
    expect(
      JSON.parse(readFileSync(join(dir, 'meta/stats.json'), 'utf8'))['observation.images.head'].mean[0],
    ).toEqual([[stored['observation.images.head'].mean[0]]]);
  });
});

describe('LeRobotWriter', () => {
  test('uses libsvtav1 for frames of at least 64x64', async () => {
    const tmp = tempDir();
    try {
      const dir = join(tmp.dir, 'svt');
      const written = await writeSynthetic(dir, {
        fps: 15,
        robotType: 'x',
        numeric: { 'observation.state': 3, action: 3 },
        cameras: ['observation.images.top'],
        height: 64,
        width: 96,
        episodes: [
          { length: 12, task: 'a' },
          { length: 9, task: 'b' },
        ],
        seed: 3,
      });
      const info = JSON.parse(readFileSync(join(dir, 'meta/info.json'), 'utf8'));
      expect(info.features['observation.images.top'].info['video.codec']).toBe('av1');
      const ds = await LeRobotDataset.open(new NodeFileStorage(dir), { decoder: new FfmpegDecoder() });
      const f = await ds.readEpisode(1);
      const frames = await ds.decodeFrames(
        1,
        'observation.images.top',
        Array.from(f.columns.timestamp.values),
      );
      frames.forEach((fr, k) =>
        expect(meanAbsDiff(fr, written[1].frames['observation.images.top'][k])).toBeLessThan(3),
      );
      const enc = execFileSync('ffprobe', [
        '-v',
        'error',
        '-show_entries',
        'format_tags=encoder:stream_tags=encoder',
        join(dir, 'videos/observation.images.top/chunk-000/file-000.mp4'),
      ]).toString();
      expect(enc).toMatch(/SVT|Lavc|Lavf/);
    } finally {
      tmp.cleanup();
    }
  });

  test('rejects bad frames, unknown features and unsaved frames with clear errors', async () => {
    const tmp = tempDir();
    try {
      const w = await LeRobotWriter.create(join(tmp.dir, 'x'), {
        fps: 10,
        features: { 'observation.state': { dtype: 'float32', shape: [4] } },
      });
      expect(() => w.addFrame({ 'observation.state': [1, 2, 3] })).toThrow(
        /'observation.state' has 3 values, declared shape \[4\]/,
      );
      expect(() => w.addFrame({ 'observation.state': [1, 2, 3, 4], bogus: 1 })).toThrow(
        /unknown feature 'bogus'/,
      );
      expect(() => w.addFrame({})).toThrow(/lacks feature 'observation.state'/);
      w.addFrame({ 'observation.state': [1, 2, 3, 4] });
      expect(() => w.addFrame({ 'observation.state': [1, 2, 3, 4], timestamp: 0.5 })).toThrow(
        /timestamp 0.5 of frame 1/,
      );
      await expect(w.finalize()).rejects.toThrow(/1 frames were added but not saved/);
      await expect(w.saveEpisode({ task: '' })).rejects.toThrow(LeRobotError);
      await w.saveEpisode({ task: 't' });
      await w.finalize();
      await expect(LeRobotWriter.create(join(tmp.dir, 'x'), { fps: 10, features: {} })).rejects.toThrow(
        /already holds a dataset/,
      );
      const ds = await LeRobotDataset.open(new NodeFileStorage(join(tmp.dir, 'x')));
      expect(ds.numFrames).toBe(1);
      expect(ds.info.videoPath).toBeNull();
    } finally {
      tmp.cleanup();
    }
  });
});
