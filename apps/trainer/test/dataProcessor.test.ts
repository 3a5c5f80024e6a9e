// The run's processor from LeRobot datasets: layout from info.json, statistics equal to a float64
// reference computed here from the raw parquet columns (state over every frame, the action chunk over
// every in-episode position, deltas by hand for a delta-mask override), a mixture of the two halves of
// cr5 equal to cr5 itself, layouts that cannot be mixed rejected by name, and the compact vocabulary.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyConfig, type InternVLAA1Config } from '@vla/internvla-a1';
import { computeFeatureStats, LeRobotDataset, NodeFileStorage, type FeatureStats } from '@vla/lerobot';
import { QWEN3_SPECIAL_IDS, Qwen3Tokenizer } from '@vla/qwen3-vl';
import { combineFeatureStats } from '../src/data/mixtureStats.js';
import {
  compactVocabulary,
  processorFromDatasets,
  taskStrings,
  type ProcessorDataset,
} from '../src/data/processorFromDatasets.js';
import { TrainingDataError } from '../src/data/trainingDataError.js';
import {
  CR5,
  moments,
  rawEpisodes,
  rng,
  SO101,
  syntheticEpisode,
  tempDir,
  writeVectorDataset,
  type RawEpisode,
} from './dataFixtures.js';
import { MICRO_MODEL } from './fixtures.js';

const config: InternVLAA1Config = tinyConfig(MICRO_MODEL);

const CR5_STATE = ['joint_0', 'joint_1', 'joint_2', 'joint_3', 'joint_4', 'joint_5'];
const CR5_ACTION = [
  'joint_0_vel',
  'joint_1_vel',
  'joint_2_vel',
  'joint_3_vel',
  'joint_4_vel',
  'joint_5_vel',
  'gripper',
];
// Joints relative to the state, gripper absolute; an override (cr5 is a generic robot: no mask of its own).
const CR5_DELTA = [true, true, true, true, true, true, false];

/** The rows the model trains on: states of every frame, and every in-episode chunk position's action. */
function trainingRows(episodes: readonly RawEpisode[], chunk: number, mask: readonly boolean[] | null) {
  const states: number[][] = [];
  const actions: number[][] = [];
  for (const ep of episodes) {
    const L = ep.state.length;
    for (let row = 0; row < L; row++) {
      const s = ep.state[row];
      states.push(s);
      for (let k = 0; k < chunk && row + k < L; k++)
        actions.push(ep.action[row + k].map((a, j) => (mask?.[j] ? a - s[j] : a)));
    }
  }
  return { states, actions };
}

/** Relative closeness with a floor, per component. */
function expectClose(got: readonly number[], want: readonly number[], rtol: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  got.forEach((g, j) =>
    expect(Math.abs(g - want[j]), `${what}[${j}]: ${g} vs ${want[j]}`).toBeLessThanOrEqual(
      rtol * Math.max(1, Math.abs(want[j])),
    ),
  );
}

const open = async (path: string, id: string): Promise<ProcessorDataset> => ({
  id,
  dataset: await LeRobotDataset.open(new NodeFileStorage(path)),
});

describe('processorFromDatasets', () => {
  const tmp = tempDir();
  let cr5Raw: RawEpisode[];
  let halves: [string, string];

  beforeAll(async () => {
    cr5Raw = await rawEpisodes(CR5);
    // cr5 cut at an episode boundary into two datasets with different tasks.
    halves = [join(tmp.dir, 'cr5_a'), join(tmp.dir, 'cr5_b')];
    const parts = [cr5Raw.slice(0, 3), cr5Raw.slice(3)];
    const tasks = ['grasp_cube', 'put the red cube back in its box'];
    for (const [h, eps] of parts.entries())
      await writeVectorDataset(halves[h], {
        robotType: 'cr5',
        stateNames: CR5_STATE,
        actionNames: CR5_ACTION,
        episodes: eps.map((e) => ({ task: tasks[h], state: e.state, action: e.action })),
      });
  });
  afterAll(() => tmp.cleanup());

  it('cr5 (v2.1): layout from info.json, cameras and sizes from the config, stats of the raw columns', async () => {
    const p = await processorFromDatasets([await open(CR5, 'cr5')], config);
    const j = p.json;
    expect(j.robotType).toBe('cr5');
    expect(j.stateNames).toEqual(CR5_STATE);
    expect(j.actionNames).toEqual(CR5_ACTION);
    // A generic robot has no delta mask: every action absolute.
    expect(j.deltaMask).toEqual(new Array(7).fill(false));
    expect(j.cameras).toEqual(['head']);
    expect([j.imageSize, j.textLength, j.chunkSize, j.policyDim]).toEqual([32, 8, 10, 32]);
    expect(j.normalization).toBe('mean_std');
    const ref = trainingRows(cr5Raw, 10, null);
    expect(ref.states).toHaveLength(530);
    const rs = moments(ref.states);
    const ra = moments(ref.actions);
    expectClose(j.stats.state.mean, rs.mean, 1e-12, 'state.mean');
    expectClose(j.stats.state.std, rs.std, 1e-12, 'state.std');
    expectClose(j.stats.action.mean, ra.mean, 1e-12, 'action.mean');
    expectClose(j.stats.action.std, ra.std, 1e-12, 'action.std');
    // Every action moves (no std of 0 hiding a wrong column).
    expect(ra.std.every((s) => s > 1e-6)).toBe(true);
  });

  it('cr5 with a delta-mask override: action stats over deltas computed by hand; quantiles for quantile normalization', async () => {
    const p = await processorFromDatasets([await open(CR5, 'cr5')], config, {
      deltaMask: CR5_DELTA,
      normalization: 'quantile',
    });
    const j = p.json;
    expect(j.deltaMask).toEqual(CR5_DELTA);
    expect(j.normalization).toBe('quantile');
    const ref = trainingRows(cr5Raw, 10, CR5_DELTA);
    const ra = moments(ref.actions);
    const absolute = moments(trainingRows(cr5Raw, 10, null).actions);
    expectClose(j.stats.action.mean, ra.mean, 1e-12, 'action.mean');
    expectClose(j.stats.action.std, ra.std, 1e-12, 'action.std');
    // The deltas really differ from the absolute actions on the joints, not on the gripper.
    expect(Math.abs(ra.mean[0] - absolute.mean[0])).toBeGreaterThan(1e-3);
    expect(ra.mean[6]).toBeCloseTo(absolute.mean[6], 12);
    // Quantiles: LeRobot's histogram quantiles of the same rows (computed in one batch here, streamed there).
    const flat = ref.actions.flat();
    const q = computeFeatureStats(flat, 7);
    expectClose(j.stats.action.q01!, q.q01!, 1e-9, 'action.q01');
    expectClose(j.stats.action.q99!, q.q99!, 1e-9, 'action.q99');
  });

  it("statsRows 'upstream': full in-episode chunks only, short episodes skipped (upstream's compute_norm_stats)", async () => {
    const chunk = 10;
    const p = await processorFromDatasets([await open(CR5, 'cr5')], config, {
      deltaMask: CR5_DELTA,
      statsRows: 'upstream',
    });
    const states: number[][] = [];
    const actions: number[][] = [];
    for (const ep of cr5Raw) {
      const L = ep.state.length;
      if (L < chunk) continue;
      states.push(...ep.state);
      for (let t = 0; t + chunk <= L; t++)
        for (let k = 0; k < chunk; k++)
          actions.push(ep.action[t + k].map((a, j) => (CR5_DELTA[j] ? a - ep.state[t][j] : a)));
    }
    const rs = moments(states);
    const ra = moments(actions);
    const j = p.json;
    expectClose(j.stats.state.mean, rs.mean, 1e-9, 'state.mean');
    expectClose(j.stats.action.mean, ra.mean, 1e-9, 'action.mean');
    expectClose(j.stats.action.std, ra.std, 1e-9, 'action.std');
    // Not the every-position rows: the chunks that run past an episode's end are left out.
    const every = moments(trainingRows(cr5Raw, chunk, CR5_DELTA).actions);
    expect(Math.max(...ra.mean.map((m, i) => Math.abs(m - every.mean[i])))).toBeGreaterThan(1e-6);
  });

  it('so101 (v3.0, no cameras): names, robot type and stats; the state agrees with the stored stats.json', async () => {
    const raw = await rawEpisodes(SO101);
    const p = await processorFromDatasets([await open(SO101, 'so101')], config);
    const j = p.json;
    expect(j.robotType).toBe('so101_follower');
    expect(j.stateNames[0]).toBe('shoulder_pan.pos');
    expect(j.actionNames).toEqual([
      'shoulder_pan.pos',
      'shoulder_lift.pos',
      'elbow_flex.pos',
      'wrist_flex.pos',
      'wrist_roll.pos',
      'gripper.pos',
    ]);
    const ref = trainingRows(raw, 10, null);
    expect(ref.states).toHaveLength(2094);
    expectClose(j.stats.state.mean, moments(ref.states).mean, 1e-12, 'state.mean');
    expectClose(j.stats.state.std, moments(ref.states).std, 1e-12, 'state.std');
    expectClose(j.stats.action.mean, moments(ref.actions).mean, 1e-12, 'action.mean');
    expectClose(j.stats.action.std, moments(ref.actions).std, 1e-12, 'action.std');
    // LeRobot's own statistics of the state, as stored with the dataset. LeRobot works in float32 and
    // takes std = sqrt(E[x²] − E[x]²), which cancels digits when |mean| ≫ std: the mean agrees to float32
    // rounding, the std to a few 1e-3.
    const stored = (await LeRobotDataset.open(new NodeFileStorage(SO101))).stats!['observation.state'];
    expectClose(j.stats.state.mean, stored.mean, 1e-5, 'stored state.mean');
    stored.std.forEach((s, i) =>
      expect(Math.abs(j.stats.state.std[i] / s - 1), `std[${i}]`).toBeLessThan(5e-3),
    );
  });

  it('a mixture of the two halves of cr5 has the statistics of cr5 itself; the vocabulary covers both tasks', async () => {
    const whole = await processorFromDatasets([await open(CR5, 'cr5')], config, { deltaMask: CR5_DELTA });
    const mix = await processorFromDatasets(
      [await open(halves[0], 'cr5_a'), await open(halves[1], 'cr5_b')],
      config,
      { deltaMask: CR5_DELTA },
    );
    for (const part of ['state', 'action'] as const) {
      expectClose(mix.json.stats[part].mean, whole.json.stats[part].mean, 1e-12, `${part}.mean`);
      expectClose(mix.json.stats[part].std, whole.json.stats[part].std, 1e-12, `${part}.std`);
    }
    expect(mix.json.actionNames).toEqual(whole.json.actionNames);
    expect(mix.json.deltaMask).toEqual(CR5_DELTA);
    const tok = await Qwen3Tokenizer.load();
    const kept = new Set(mix.json.vocab);
    for (const t of ['grasp_cube', 'put the red cube back in its box'])
      for (const id of tok.encode(t)) expect(kept.has(id), `token ${id} of '${t}'`).toBe(true);
    expect(mix.json.vocab!.length).toBeGreaterThan(whole.json.vocab!.length);
    // The prompt of each task encodes without an unknown (0) token.
    const enc = mix.encodePrompts(config, ['put the red cube back in its box', 'grasp_cube']);
    for (let i = 0; i < enc.tokens.length; i++) if (enc.textMask[i]) expect(enc.tokens[i]).toBeGreaterThan(0);
    expect(enc.textMask.reduce((a, b) => a + b, 0)).toBeGreaterThan(2);
  });

  it('mixture quantiles follow the bounding rule: smallest q01, largest q99', async () => {
    const a = await processorFromDatasets([await open(halves[0], 'a')], config, {
      normalization: 'quantile',
    });
    const b = await processorFromDatasets([await open(halves[1], 'b')], config, {
      normalization: 'quantile',
    });
    const mix = await processorFromDatasets(
      [await open(halves[0], 'a'), await open(halves[1], 'b')],
      config,
      {
        normalization: 'quantile',
      },
    );
    for (const part of ['state', 'action'] as const) {
      const [qa, qb, qm] = [a, b, mix].map((p) => p.json.stats[part]);
      expect(qm.q01).toEqual(qa.q01!.map((x, j) => Math.min(x, qb.q01![j])));
      expect(qm.q99).toEqual(qa.q99!.map((x, j) => Math.max(x, qb.q99![j])));
      // The halves differ, so the rule is not trivially one of them.
      expect(qa.q01).not.toEqual(qb.q01);
    }
  });

  it('combineFeatureStats pools seeded random parts exactly (mean, std, min, max, count)', () => {
    const r = rng(7);
    const sizes = [1, 13, 250, 4];
    const parts = sizes.map((n) => Array.from({ length: n }, () => [r() * 10 - 3, r() ** 3, -r()]));
    const stats: FeatureStats[] = parts.map((rows) => computeFeatureStats(rows.flat(), 3));
    const pooled = combineFeatureStats(stats);
    const all = parts.flat();
    const ref = moments(all);
    expectClose(pooled.mean, ref.mean, 1e-12, 'mean');
    expectClose(pooled.std, ref.std, 1e-12, 'std');
    expect(pooled.count).toEqual([all.length]);
    expect(pooled.min).toEqual([0, 1, 2].map((j) => Math.min(...all.map((x) => x[j]))));
    expect(pooled.max).toEqual([0, 1, 2].map((j) => Math.max(...all.map((x) => x[j]))));
    expect(() => combineFeatureStats([stats[0], computeFeatureStats([1, 2], 2)])).toThrow(
      /statistics 1 have 2 dims, statistics 0 have 3/,
    );
  });

  it('datasets with another layout or robot type cannot be mixed: the error names both and the field', async () => {
    await expect(
      processorFromDatasets([await open(CR5, 'cr5'), await open(SO101, 'so101')], config),
    ).rejects.toThrow(/datasets 'cr5' and 'so101' cannot be mixed: robot type "cr5" vs "so101_follower"/);
    // Same robot type, another action layout.
    const other = join(tmp.dir, 'cr5_six_actions');
    const r = rng(3);
    const ep = syntheticEpisode(r, 12, 6, 'grasp_cube');
    await writeVectorDataset(other, {
      robotType: 'cr5',
      stateNames: CR5_STATE,
      actionNames: CR5_ACTION.slice(0, 6),
      episodes: [ep],
    });
    const err = await processorFromDatasets(
      [await open(halves[0], 'cr5_a'), await open(other, 'six')],
      config,
    )
      .then(() => null)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainingDataError);
    expect((err as TrainingDataError).dataset).toBe('six');
    expect((err as Error).message).toMatch(
      /'cr5_a' and 'six' cannot be mixed: actionNames .*\(7 dims\) vs .*\(6 dims\)/,
    );
  });

  it('the compact vocabulary: Qwen specials plus the task tokens; an error names both sizes when it does not fit', async () => {
    const tasks = taskStrings([
      await open(halves[1], 'b'),
      await open(CR5, 'cr5'),
      await open(halves[0], 'a'),
    ]);
    expect(tasks).toEqual(['put the red cube back in its box', 'grasp_cube']);
    const remap = (await compactVocabulary(config, tasks))!;
    const tok = await Qwen3Tokenizer.load();
    const want = new Set([...Object.values(QWEN3_SPECIAL_IDS), ...tasks.flatMap((t) => tok.encode(t))]);
    expect(new Set(remap.fullIds.subarray(1))).toEqual(want);
    expect(remap.size).toBe(want.size + 1);
    const tight = {
      ...config,
      vlm: { ...config.vlm, text: { ...config.vlm.text, vocabSize: remap.size - 1 } },
    };
    await expect(compactVocabulary(tight, tasks)).rejects.toThrow(
      new RegExp(
        `compact vocabulary of ${remap.size} ids .*more than the model's vocabSize ${remap.size - 1}`,
      ),
    );
    const fits = { ...tight, vlm: { ...tight.vlm, text: { ...tight.vlm.text, vocabSize: remap.size } } };
    expect((await compactVocabulary(fits, tasks))!.size).toBe(remap.size);
    // A full-vocabulary model keeps Qwen's ids.
    const full = { ...config, vlm: { ...config.vlm, text: { ...config.vlm.text, vocabSize: 151_936 } } };
    expect(await compactVocabulary(full, tasks)).toBeNull();
  });
});
