import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  aggregateStats,
  computeFeatureStats,
  LeRobotDataset,
  NodeFileStorage,
  STAT_KEYS,
  type DatasetStats,
} from '../src/index';
import { close, rawRows, SO101 } from './helpers';

const NUMERIC = ['action', 'observation.state', 'frame_index', 'episode_index', 'index', 'task_index'];

describe('so101_test_v30 (LeRobot v3.0, no cameras)', () => {
  let ds: LeRobotDataset;
  beforeAll(async () => {
    ds = await LeRobotDataset.open(new NodeFileStorage(SO101));
  });

  test('metadata: info, episodes table, tasks stored as pandas index', () => {
    expect(ds.info.codebaseVersion).toBe('v3.0');
    expect(ds.info.fps).toBe(30);
    expect(ds.videoKeys).toEqual([]);
    expect(
      ds.episodes.map((e) => [e.episodeIndex, e.length, e.datasetFromIndex, e.datasetToIndex, e.dataPath]),
    ).toEqual([
      [0, 1549, 0, 1549, 'data/chunk-000/file-000.parquet'],
      [1, 270, 1549, 1819, 'data/chunk-000/file-000.parquet'],
      [2, 275, 1819, 2094, 'data/chunk-000/file-000.parquet'],
    ]);
    expect(ds.episodes.every((e) => e.tasks.length === 1 && e.tasks[0] === 'Pick up the cube')).toBe(true);
    expect(ds.task(0)).toBe('Pick up the cube');
    expect(ds.episodes[1].stats!.action.count).toEqual([270]);
    expect(ds.episodes[1].stats!.timestamp.max[0]).toBeCloseTo(8.9667, 4);
  });

  test('every row of the shared data file is read; index continuity and episode boundaries', async () => {
    const raw = await rawRows(join(SO101, 'data/chunk-000/file-000.parquet'));
    expect(raw.length).toBe(2094);
    let next = 0;
    for (const e of ds.episodes) {
      const f = await ds.readEpisode(e.episodeIndex);
      expect(f.length).toBe(e.length);
      for (let i = 0; i < e.length; i++) {
        const r = raw[next];
        expect(f.columns.index.values[i]).toBe(next);
        expect(Number(r.index)).toBe(next);
        expect(f.columns.frame_index.values[i]).toBe(i);
        expect(f.columns.episode_index.values[i]).toBe(e.episodeIndex);
        expect(f.columns.timestamp.values[i]).toBe(Math.fround(i / 30));
        expect(Array.from(f.columns.action.values.subarray(i * 6, i * 6 + 6))).toEqual(r.action);
        expect(Array.from(f.columns['observation.state'].values.subarray(i * 6, i * 6 + 6))).toEqual(
          r['observation.state'],
        );
        next++;
      }
      // The first and last rows of an episode are its boundaries in the shared file.
      expect(Number(raw[e.datasetFromIndex].frame_index)).toBe(0);
      expect(Number(raw[e.datasetToIndex - 1].frame_index)).toBe(e.length - 1);
    }
    expect(next).toBe(2094);
  });

  test('per-episode stats (all ten) equal the stats/* columns bit for bit with LeRobot v3.0 numerics', async () => {
    const ours: DatasetStats[] = [];
    for (const e of ds.episodes) {
      const f = await ds.readEpisode(e.episodeIndex);
      const s: DatasetStats = {};
      for (const k of NUMERIC) {
        const col = f.columns[k];
        s[k] = computeFeatureStats(col.values, col.width, {
          flavor: 'lerobot-v3.0',
          float32: col.dtype === 'float32',
        });
        for (const stat of STAT_KEYS)
          expect(s[k][stat], `ep ${e.episodeIndex} ${k}.${stat}`).toEqual(e.stats![k][stat]);
      }
      // LeRobot computed timestamp stats on the float64 times frame_index/fps, before they were stored as float32.
      const t64 = Array.from(f.columns.frame_index.values, (i) => i / 30);
      s.timestamp = computeFeatureStats(t64, 1, { flavor: 'lerobot-v3.0' });
      for (const stat of STAT_KEYS)
        expect(s.timestamp[stat], `ep ${e.episodeIndex} timestamp.${stat}`).toEqual(e.stats!.timestamp[stat]);
      // From the stored float32 column instead: equal within float32 rounding, quantiles within one histogram bin.
      const t32 = computeFeatureStats(f.columns.timestamp.values, 1, {
        flavor: 'lerobot-v3.0',
        float32: true,
      });
      const bin = (t32.max[0] - t32.min[0]) / 5000;
      for (const stat of STAT_KEYS) {
        const tol = stat.startsWith('q') ? bin * 1.01 : 4e-6;
        expect(
          Math.abs(t32[stat]![0] - e.stats!.timestamp[stat]![0]),
          `float32 timestamp.${stat}`,
        ).toBeLessThanOrEqual(tol);
      }
      ours.push(s);
    }
    // stats.json is the LeRobot aggregation of the per-episode stats.
    const stored = ds.meta.stats!;
    expect(Object.keys(stored).sort()).toEqual([...NUMERIC, 'timestamp'].sort());
    for (const agg of [aggregateStats(ours), aggregateStats(ds.episodes.map((e) => e.stats!))]) {
      for (const [k, st] of Object.entries(stored)) {
        for (const stat of STAT_KEYS) {
          st[stat]!.forEach((v, j) => {
            // LeRobot squares float32 stds before aggregating: ~1e-7 relative on std, exact elsewhere up to float64 order.
            expect(
              close(agg[k][stat]![j], v, stat === 'std' ? 2e-7 : 1e-12, 1e-12),
              `${k}.${stat}[${j}]: ${agg[k][stat]![j]} vs ${v}`,
            ).toBe(true);
          });
        }
      }
    }
  });

  test('delta windows inside the shared file stay within each episode', async () => {
    const { SampleBuilder } = await import('../src/index');
    const b = new SampleBuilder(ds);
    expect(b.mapping.robot).toBe('generic');
    expect(b.mapping.cameras).toEqual({});
    // Last frame of episode 0 (index 1548): actions beyond it are padded with its own action, not episode 1's.
    const s = await b.get(1548);
    const ep0 = await ds.readEpisode(0);
    expect(Array.from(s.actionIsPad)).toEqual([0, ...Array(49).fill(1)]);
    for (let k = 0; k < 50; k++)
      for (let j = 0; j < 6; j++) expect(s.actions[k * 32 + j]).toBe(ep0.columns.action.values[1548 * 6 + j]);
    // Missing cameras: all-ones (255 in uint8) images, mask false.
    expect(s.imageMasks).toEqual({ head: false, hand_left: false, hand_right: false });
    expect(s.images.head).toHaveLength(3);
    expect(s.images.head[0].every((x) => x === 255)).toBe(true);
    const first = await b.get(1549);
    expect(first.meta.episodeIndex).toBe(1);
    expect(first.meta.frameIndex).toBe(0);
    expect(Array.from(first.imageIsPad)).toEqual([1, 0, 0]);
    expect(first.task).toBe('Pick up the cube');
  });
});
