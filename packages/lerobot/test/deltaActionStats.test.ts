import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import {
  DeltaActionStats,
  LeRobotDataset,
  NodeFileStorage,
  QUANTILES,
  computeDeltaActionStats,
  resolveRobotMapping,
  type EpisodeColumn,
  type FeatureStats,
} from '../src/index';
import { rng, tempDir } from './helpers';
import { referenceMoments } from './reference';
import { writeSynthetic } from './synthetic';

interface UpstreamCase {
  name: string;
  robotType: string;
  chunkSize: number;
  actionMode: 'abs' | 'delta';
  lengths: number[];
  widths: Record<string, number>;
  stateKeys: string[];
  actionKeys: string[];
  deltaMask: boolean[];
  data: Record<string, number[][]>;
  expected: Record<string, FeatureStats>;
}

// Numbers from upstream's own stats script on generated data (see upstream-stats/README.md).
const UPSTREAM = (
  JSON.parse(readFileSync(new URL('./upstream-stats/delta-action-stats.json', import.meta.url), 'utf8')) as {
    cases: UpstreamCase[];
  }
).cases;

/** Splits per-key rows of a whole dataset into per-episode flat columns. */
function episodes(lengths: number[], data: Record<string, number[][]>): Record<string, EpisodeColumn>[] {
  let start = 0;
  return lengths.map((n) => {
    const cols: Record<string, EpisodeColumn> = {};
    for (const [k, rows] of Object.entries(data))
      cols[k] = { values: rows.slice(start, start + n).flat(), width: rows[0].length };
    start += n;
    return cols;
  });
}

function run(
  mapping: { stateKeys: string[]; actionKeys: string[]; deltaMask: boolean[] },
  widths: Record<string, number>,
  eps: Record<string, EpisodeColumn>[],
  lengths: number[],
  options: ConstructorParameters<typeof DeltaActionStats>[2],
) {
  const s = new DeltaActionStats(mapping, widths, options);
  eps.forEach((cols, i) => s.addEpisode(cols, lengths[i]));
  if (options?.quantiles !== false) {
    s.startSecondPass();
    // Any order will do in the second pass.
    [...eps.keys()].reverse().forEach((i) => s.addEpisode(eps[i], lengths[i]));
  }
  return s.result();
}

describe('DeltaActionStats against upstream compute_norm_stats', () => {
  test.each(UPSTREAM.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const r = run(c, c.widths, episodes(c.lengths, c.data), c.lengths, {
      actionMode: c.actionMode,
      chunkSize: c.chunkSize,
    });
    expect(r.skippedEpisodes).toBe(c.lengths.filter((n) => n < c.chunkSize).length);
    expect(r.totalFrames).toBe(c.lengths.reduce((a, b) => a + b, 0));
    for (const [k, want] of Object.entries(c.expected)) {
      const got = r.features[k];
      expect(got.count).toEqual(want.count);
      // Upstream keeps float32 running sums; these are float64.
      for (const stat of ['mean', 'std', 'min', 'max'] as const)
        got[stat].forEach((v, j) =>
          expect(Math.abs(v - want[stat][j])).toBeLessThan(2e-5 + 2e-5 * Math.abs(v)),
        );
      // Histogram quantiles: equal up to a bin width (float32 vs float64 bin edges).
      for (const [q] of QUANTILES)
        got[q]!.forEach((v, j) => {
          const bin = (want.max[j] - want.min[j]) / 5000;
          expect(Math.abs(v - want[q]![j])).toBeLessThanOrEqual(bin + 1e-6);
        });
    }
  });

  test('the vectors concatenate the per-key stats in key order', () => {
    const c = UPSTREAM[0];
    const r = run(c, c.widths, episodes(c.lengths, c.data), c.lengths, {
      actionMode: c.actionMode,
      chunkSize: c.chunkSize,
      quantiles: false,
    });
    expect(r.normStats.actions.mean).toEqual(c.actionKeys.flatMap((k) => r.features[k].mean));
    expect(r.normStats.state.std).toEqual(c.stateKeys.flatMap((k) => r.features[k].std));
    expect(r.normStats.actions.q01).toBeUndefined();
  });
});

describe('DeltaActionStats against a float64 reference on random layouts', () => {
  test('random widths, masks, chunk sizes and episode lengths', () => {
    const rand = rng(4242);
    for (let trial = 0; trial < 25; trial++) {
      const nState = 1 + Math.floor(rand() * 3);
      const stateKeys = Array.from({ length: nState }, (_, i) => `s${i}`);
      const actionKeys = Array.from({ length: 1 + Math.floor(rand() * 3) }, (_, i) => `a${i}`);
      const widths: Record<string, number> = {};
      for (const k of [...stateKeys, ...actionKeys]) widths[k] = 1 + Math.floor(rand() * 4);
      const stateDim = stateKeys.reduce((a, k) => a + widths[k], 0);
      const actionDim = actionKeys.reduce((a, k) => a + widths[k], 0);
      const deltaMask = Array.from({ length: actionDim }, (_, j) => j < stateDim && rand() < 0.6);
      const chunkSize = 1 + Math.floor(rand() * 7);
      const lengths = Array.from({ length: 1 + Math.floor(rand() * 5) }, () => 1 + Math.floor(rand() * 14));
      lengths.push(chunkSize); // at least one episode that fits exactly one chunk
      const total = lengths.reduce((a, b) => a + b, 0);
      const data: Record<string, number[][]> = {};
      for (const [k, w] of Object.entries(widths))
        data[k] = Array.from({ length: total }, () => Array.from({ length: w }, () => rand() * 4 - 2));
      const actionMode = rand() < 0.7 ? 'delta' : 'abs';

      // Reference: materialise every row upstream would use.
      const states: number[][] = [];
      const actions: number[][] = [];
      let start = 0;
      for (const n of lengths) {
        const row = (keys: string[], r: number) => keys.flatMap((k) => data[k][start + r]);
        if (n >= chunkSize) {
          for (let r = 0; r < n; r++) states.push(row(stateKeys, r));
          if (actionMode === 'abs') for (let r = 0; r < n; r++) actions.push(row(actionKeys, r));
          else
            for (let t = 0; t + chunkSize <= n; t++) {
              const s = row(stateKeys, t);
              for (let k = 0; k < chunkSize; k++)
                actions.push(row(actionKeys, t + k).map((a, j) => (deltaMask[j] ? a - s[j] : a)));
            }
        }
        start += n;
      }
      const r = run({ stateKeys, actionKeys, deltaMask }, widths, episodes(lengths, data), lengths, {
        actionMode,
        chunkSize,
      });
      const rs = referenceMoments(states);
      const ra = referenceMoments(actions);
      expect(r.normStats.state.count[0]).toBe(states.length);
      expect(r.normStats.actions.count[0]).toBe(actions.length);
      for (let j = 0; j < stateDim; j++) {
        expect(r.normStats.state.mean[j]).toBeCloseTo(rs.mean[j], 10);
        expect(r.normStats.state.std[j]).toBeCloseTo(rs.std[j], 10);
      }
      for (let j = 0; j < actionDim; j++) {
        expect(r.normStats.actions.mean[j]).toBeCloseTo(ra.mean[j], 10);
        expect(r.normStats.actions.std[j]).toBeCloseTo(ra.std[j], 10);
        expect(r.normStats.actions.min[j]).toBe(Math.min(...actions.map((a) => a[j])));
        expect(r.normStats.actions.max[j]).toBe(Math.max(...actions.map((a) => a[j])));
        // Histogram quantiles bracket the exact order statistics within a bin.
        const sorted = actions.map((a) => a[j]).sort((x, y) => x - y);
        const bin = (sorted[sorted.length - 1] - sorted[0]) / 5000;
        const q99 = r.normStats.actions.q99![j];
        const below = sorted.filter((v) => v < q99 - bin).length;
        if (sorted.length >= 2) expect(below).toBeLessThanOrEqual(Math.ceil(0.99 * sorted.length));
      }
    }
  });
});

describe('DeltaActionStats input checks', () => {
  const mapping = { stateKeys: ['s'], actionKeys: ['a'], deltaMask: [true, false] };
  const widths = { s: 2, a: 2 };
  test('bad options and layouts name what is wrong', () => {
    expect(() => new DeltaActionStats(mapping, widths, { chunkSize: 0 })).toThrow(
      /chunkSize must be a positive integer, got 0/,
    );
    expect(() => new DeltaActionStats({ ...mapping, deltaMask: [true] }, widths)).toThrow(
      /delta mask has 1 entries but the action has 2 dims/,
    );
    expect(() => new DeltaActionStats(mapping, { a: 2 })).toThrow(/no width for feature 's'/);
    expect(() => new DeltaActionStats({ ...mapping, deltaMask: [false, true] }, { s: 1, a: 2 })).toThrow(
      /delta dim 1 has no matching state dim \(state has 1\)/,
    );
    expect(
      () => new DeltaActionStats(mapping, widths, { actionMode: 'relative' as unknown as 'abs' }),
    ).toThrow(/actionMode must be 'abs' or 'delta', got 'relative'/);
  });

  test('bad episodes name the column', () => {
    const s = new DeltaActionStats(mapping, widths, { chunkSize: 2 });
    expect(() => s.addEpisode({ s: { values: [1, 2, 3, 4], width: 2 } }, 2)).toThrow(/no column 'a'/);
    expect(() =>
      s.addEpisode({ s: { values: [1, 2, 3, 4], width: 2 }, a: { values: [1, 2, 3], width: 2 } }, 2),
    ).toThrow(/column 'a' has 3 values of width 2, expected 2 rows of 2/);
  });

  test('only short episodes: an error saying so; a second pass that differs: an error', () => {
    const s = new DeltaActionStats(mapping, widths, { chunkSize: 3 });
    const ep = { s: { values: [1, 2, 3, 4], width: 2 }, a: { values: [1, 2, 3, 4], width: 2 } };
    expect(s.addEpisode(ep, 2)).toBe(false);
    expect(() => s.startSecondPass()).toThrow(/no episode of at least 3 frames/);
    const t = new DeltaActionStats(mapping, widths, { chunkSize: 1 });
    t.addEpisode(ep, 2);
    t.addEpisode(ep, 2);
    t.startSecondPass();
    t.addEpisode(ep, 2);
    expect(() => t.result()).toThrow(/second pass used 1 episodes, first pass 2/);
  });
});

describe('computeDeltaActionStats on a recorded dataset', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  test('ARX Lift-2: reads every episode, skips the short one, equals the in-memory pass', async () => {
    const dir = join(tmp.dir, 'lift2');
    const numeric: Record<string, number> = {};
    for (const p of ['left_joint', 'left_gripper', 'right_joint', 'right_gripper'])
      for (const pre of ['states', 'actions']) numeric[`${pre}.${p}.position`] = p.endsWith('joint') ? 6 : 1;
    const lengths = [12, 3, 20];
    const written = await writeSynthetic(dir, {
      fps: 30,
      robotType: 'ARX Lift-2',
      numeric,
      cameras: [],
      height: 8,
      width: 8,
      episodes: lengths.map((length, i) => ({ length, task: `task ${i}` })),
      seed: 7,
    });
    const ds = await LeRobotDataset.open(new NodeFileStorage(dir));
    const mapping = resolveRobotMapping(ds.info);
    const got = await computeDeltaActionStats(ds, mapping, { chunkSize: 5 });
    expect(got.skippedEpisodes).toBe(1);
    expect(got.usedEpisodes).toBe(2);
    const data: Record<string, number[][]> = {};
    for (const k of Object.keys(numeric)) data[k] = written.flatMap((e) => e.values[k]);
    const want = run(mapping, numeric, episodes(lengths, data), lengths, { chunkSize: 5 });
    expect(got.normStats.actions.mean).toEqual(want.normStats.actions.mean);
    expect(got.normStats.actions.q99).toEqual(want.normStats.actions.q99);
    expect(got.normStats.actions.count).toEqual([(12 - 5 + 1 + 20 - 5 + 1) * 5]);
  });
});
