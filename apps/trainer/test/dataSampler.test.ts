// The rank's sample stream: draws follow the mixture weights (a chi-square bound), a rank opens and
// samples only the datasets LPT gave it (rank 0's dataset is reduced to its info.json and still nothing
// fails), and a stream resumed at any position serves exactly what the uninterrupted stream served
// from there on, across epoch boundaries and whatever the prefetch and concurrency.
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyProcessor, tinyConfig } from '@vla/internvla-a1';
import { LeRobotDataset, NodeFileStorage } from '@vla/lerobot';
import { RankSampler } from '@vla/lpt';
import { EpochDraws } from '../src/data/epochDraws.js';
import { processorFromDatasets } from '../src/data/processorFromDatasets.js';
import {
  openTrainingData,
  type DataPosition,
  type OpenTrainingDataOptions,
  type TrainingData,
} from '../src/data/trainingData.js';
import { rng, syntheticEpisode, tempDir, writeVectorDataset } from './dataFixtures.js';
import { MICRO_MODEL } from './fixtures.js';

const config = tinyConfig(MICRO_MODEL);

/** Three toy datasets of one layout; each has its own task, so a sample tells where it came from. */
const TOY = [
  { id: 'alpha_a', lengths: [35, 25], task: 'stack the alpha blocks' },
  { id: 'beta_b', lengths: [40], task: 'open the beta drawer' },
  { id: 'gamma_c', lengths: [12, 8], task: 'wipe the gamma table' },
];

/** What identifies a served sample: its dataset and global frame index. */
const key = (
  d: TrainingData,
  b: { samples: { datasetIndex: number; sample: { meta: { index: number } } }[] },
) => b.samples.map((s) => `${d.datasets[s.datasetIndex].id}#${s.sample.meta.index}`);

async function take(d: TrainingData, from: DataPosition | undefined, count: number) {
  const out: { position: DataPosition; next: DataPosition; keys: string[] }[] = [];
  if (count === 0) return out;
  for await (const b of d.batches(from)) {
    out.push({ position: b.position, next: b.next, keys: key(d, b) });
    if (out.length === count) break;
  }
  return out;
}

describe('the rank sample stream', () => {
  const tmp = tempDir();
  const path = (id: string) => join(tmp.dir, id);
  let processor: PolicyProcessor;
  const base = (over: Partial<OpenTrainingDataOptions> = {}): OpenTrainingDataOptions => ({
    datasets: TOY.map((t) => ({ path: path(t.id) })),
    seed: 11,
    batchSize: 30,
    config,
    ...over,
  });

  beforeAll(async () => {
    const r = rng(2026);
    for (const t of TOY)
      await writeVectorDataset(path(t.id), {
        robotType: 'toy_arm',
        stateNames: ['a', 'b', 'c', 'd'],
        actionNames: ['a', 'b', 'c', 'd'],
        episodes: t.lengths.map((n) => syntheticEpisode(r, n, 4, t.task)),
      });
    processor = await processorFromDatasets(
      await Promise.all(
        TOY.map(async (t) => ({
          id: t.id,
          dataset: await LeRobotDataset.open(new NodeFileStorage(path(t.id))),
        })),
      ),
      config,
    );
  });
  afterAll(() => tmp.cleanup());

  it('draws follow the mixture weights (chi-square, 2 dof, p = 0.001) and each sample is its dataset frame', async () => {
    const d = await openTrainingData(
      base({
        mixture: [
          { group: 'alpha', pattern: '^alpha', budget: 0.5 },
          { group: 'rest', pattern: '.*', budget: 0.5 },
        ],
        gamma: 1,
        samplesPerEpoch: 900,
      }),
    );
    try {
      // alpha gets its group's half; beta and gamma share the other half by frames (40 : 20).
      const expected = new Map([
        ['alpha_a', 0.5],
        ['beta_b', (0.5 * 40) / 60],
        ['gamma_c', (0.5 * 20) / 60],
      ]);
      for (const ds of d.datasets) expect(ds.weight).toBeCloseTo(expected.get(ds.id)!, 12);
      expect(d.batchesPerEpoch).toBe(30);
      const counts = new Map<string, number>();
      const frames = new Map<string, Set<number>>();
      for await (const b of d.batches()) {
        for (const { datasetIndex, sample } of b.samples) {
          const ds = d.datasets[datasetIndex];
          counts.set(ds.id, (counts.get(ds.id) ?? 0) + 1);
          expect(sample.task).toBe(TOY.find((t) => t.id === ds.id)!.task);
          expect(sample.meta.index).toBeGreaterThanOrEqual(0);
          expect(sample.meta.index).toBeLessThan(ds.frames);
          if (!frames.has(ds.id)) frames.set(ds.id, new Set());
          frames.get(ds.id)!.add(sample.meta.index);
        }
        if (b.next.epoch === 1) break;
      }
      let chi2 = 0;
      for (const [id, p] of expected) chi2 += ((counts.get(id) ?? 0) - 900 * p) ** 2 / (900 * p);
      expect(chi2, JSON.stringify([...counts])).toBeLessThan(13.82);
      // Frames are spread over the whole dataset, not stuck in one episode.
      expect(frames.get('gamma_c')!.size).toBeGreaterThan(15);
      expect(frames.get('alpha_a')!.size).toBeGreaterThan(45);
    } finally {
      await d.close();
    }
  });

  it('per-dataset weights: given for all (a weight of 0 is never drawn), or refused when only some have one', async () => {
    const weights = [3, 0, 1];
    const d = await openTrainingData(
      base({
        datasets: TOY.map((t, i) => ({ path: path(t.id), weight: weights[i] })),
        samplesPerEpoch: 400,
        batchSize: 40,
        processor,
      }),
    );
    try {
      expect(d.datasets.map((x) => [x.id, x.weight])).toEqual([
        ['alpha_a', 0.75],
        ['beta_b', 0],
        ['gamma_c', 0.25],
      ]);
      const ids = (await take(d, undefined, 10)).flatMap((b) => b.keys.map((k) => k.split('#')[0]));
      expect(ids).toHaveLength(400);
      expect(ids.filter((i) => i === 'beta_b')).toHaveLength(0);
      const alpha = ids.filter((i) => i === 'alpha_a').length;
      // 400 draws at p = 0.75: 300 ± 8.7; 4 sigma.
      expect(Math.abs(alpha - 300)).toBeLessThan(35);
    } finally {
      await d.close();
    }
    await expect(
      openTrainingData(base({ datasets: [{ path: path('alpha_a'), weight: 1 }, { path: path('beta_b') }] })),
    ).rejects.toThrow(/give a weight to every dataset or to none; missing for 'beta_b'/);
    await expect(
      openTrainingData(
        base({
          datasets: [{ path: path('alpha_a'), weight: 1 }],
          mixture: [{ group: 'all', pattern: '.*', budget: 1 }],
        }),
      ),
    ).rejects.toThrow(/mixture rules or per-dataset weights, not both/);
  });

  it("rank 1 of 2 opens and samples only its own datasets: rank 0's is reduced to its info.json", async () => {
    // A copy where alpha (LPT gives the largest to rank 0) keeps nothing but meta/info.json.
    const world = join(tmp.dir, 'world');
    for (const t of TOY) cpSync(path(t.id), join(world, t.id), { recursive: true });
    rmSync(join(world, 'alpha_a', 'data'), { recursive: true });
    for (const f of readdirSync(join(world, 'alpha_a', 'meta')))
      if (f !== 'info.json') rmSync(join(world, 'alpha_a', 'meta', f), { recursive: true });
    const options = base({ datasets: TOY.map((t) => ({ path: join(world, t.id) })), worldSize: 2, rank: 1 });
    const d = await openTrainingData({ ...options, processor, samplesPerEpoch: 120 });
    try {
      expect(d.assignment.ranks.map((r) => r.datasets.map((x) => x.id))).toEqual([
        ['alpha_a'],
        ['beta_b', 'gamma_c'],
      ]);
      expect(d.datasets.map((x) => x.id)).toEqual(['beta_b', 'gamma_c']);
      // Renormalised on the rank: by frames, 40 : 20.
      expect(d.datasets.map((x) => x.weight)).toEqual([2 / 3, 1 / 3]);
      const tasks = new Set<string>();
      for await (const b of d.batches()) {
        for (const s of b.samples) tasks.add(s.sample.task);
        if (b.next.epoch === 1) break;
      }
      expect([...tasks].sort()).toEqual(['open the beta drawer', 'wipe the gamma table']);
    } finally {
      await d.close();
    }
    // Rank 0 cannot open its dataset: the error names it and the rank.
    await expect(openTrainingData({ ...options, rank: 0, processor })).rejects.toThrow(
      /rank 0: opening dataset 'alpha_a' failed/,
    );
    // Without a processor every rank builds the same one from every dataset, so rank 1 reads alpha too.
    await expect(openTrainingData(options)).rejects.toThrow(
      /dataset 'alpha_a' .* is needed for the run's statistics .*meta\/tasks\.parquet/,
    );
  });

  it('a resumed stream serves exactly the uninterrupted one from any position, across epoch boundaries', async () => {
    const options = base({ samplesPerEpoch: 10, batchSize: 3, processor });
    const d = await openTrainingData(options);
    try {
      expect(d.batchesPerEpoch).toBe(3);
      const whole = await take(d, undefined, 9);
      expect(whole.map((b) => b.position)).toEqual(
        [0, 1, 2].flatMap((epoch) => [0, 1, 2].map((batch) => ({ epoch, batch }))),
      );
      whole.forEach((b, i) => i > 0 && expect(whole[i - 1].next).toEqual(b.position));
      // Epochs draw differently.
      expect(whole.slice(0, 3).map((b) => b.keys)).not.toEqual(whole.slice(3, 6).map((b) => b.keys));
      for (let i = 1; i < 9; i++) {
        const resumed = await take(d, whole[i - 1].next, 9 - i);
        expect(resumed, `resumed at ${JSON.stringify(whole[i - 1].next)}`).toEqual(whole.slice(i));
      }
    } finally {
      await d.close();
    }
    // The same stream without prefetch and one build at a time, and from a fresh object.
    const slow = await openTrainingData({ ...options, prefetchBatches: 0, concurrency: 1 });
    try {
      const again = await take(slow, { epoch: 1, batch: 2 }, 4);
      const fresh = await openTrainingData(options);
      try {
        const ref = await take(fresh, undefined, 9);
        expect(again).toEqual(ref.slice(5));
        expect(slow.orderKey).toBe(fresh.orderKey);
      } finally {
        await fresh.close();
      }
      await expect(take(slow, { epoch: 0, batch: 3 }, 1)).rejects.toThrow(
        /batch must be an integer in \[0, 3\) \(batches per epoch\), got 3/,
      );
      await expect(take(slow, { epoch: -1, batch: 0 }, 1)).rejects.toThrow(
        /epoch must be a non-negative integer/,
      );
    } finally {
      await slow.close();
    }
    const other = await openTrainingData({ ...options, seed: 12 });
    try {
      expect(other.orderKey).not.toBe(slow.orderKey);
    } finally {
      await other.close();
    }
  });

  it("the next epoch's first batch is being built while the last batch of an epoch is trained on", async () => {
    const d = await openTrainingData(
      base({ samplesPerEpoch: 10, batchSize: 3, processor, prefetchBatches: 1 }),
    );
    try {
      let calls = 0;
      for (const ds of d.datasets) {
        const get = ds.builder.get.bind(ds.builder);
        ds.builder.get = (i: number) => (calls++, get(i));
      }
      const seen: number[] = [];
      for await (const b of d.batches()) {
        seen.push(calls);
        if (b.position.epoch === 1) break;
      }
      // Epoch 0 draws 9 samples; on receiving its last batch, epoch 1's builds have already started.
      expect(seen[2]).toBeGreaterThan(9);
      expect(seen[1]).toBeLessThanOrEqual(9);
    } finally {
      await d.close();
    }
  });

  it('EpochDraws: draw i is the sampler i-th draw, in any access order (blocks replayed when needed)', () => {
    const datasets = [
      { id: 'x', frames: 1000, weight: 0.2 },
      { id: 'y', frames: 7, weight: 0.8 },
    ];
    const opts = { seed: 3, rank: 1, epoch: 4 };
    const ref = new RankSampler(datasets, opts).take(30_000);
    const draws = new EpochDraws(datasets, { ...opts, length: 30_000 });
    const r = rng(9);
    const order = [
      ...Array.from({ length: 2000 }, () => Math.floor(r() * 30_000)),
      29_999,
      0,
      ...Array.from({ length: 30_000 }, (_, i) => i),
    ];
    for (const i of order) expect(draws.draw(i)).toEqual(ref[i]);
    expect(() => draws.draw(30_000)).toThrow(/draw 30000 is outside the epoch's 30000 draws/);
  });

  it('a given processor is reused when it fits and refused, naming the field, when it does not', async () => {
    const withJson = (over: object) => PolicyProcessor.fromJSON({ ...processor.toJSON(), ...over });
    const one = { datasets: [{ path: path('beta_b') }], samplesPerEpoch: 30 };
    // A generic robot states no delta mask: the processor's (from a checkpoint) is the one trained with.
    const deltas = withJson({ deltaMask: [true, true, false, false] });
    const d = await openTrainingData(base({ ...one, processor: deltas }));
    expect(d.processor).toBe(deltas);
    await d.close();
    await expect(
      openTrainingData(base({ ...one, processor: deltas, deltaMask: [true, false, false, false] })),
    ).rejects.toThrow(
      /dataset 'beta_b': processor\.deltaMask is \[true, true, false, false\].*\[true, false, false, false\]/,
    );
    await expect(
      openTrainingData(base({ ...one, processor: withJson({ stateNames: ['a', 'b', 'c', 'e'] }) })),
    ).rejects.toThrow(
      /processor\.stateNames is \["a", "b", "c", "e"\] \(4 dims\), the dataset has \["a", "b", "c", "d"\]/,
    );
    await expect(
      openTrainingData(base({ ...one, processor: withJson({ robotType: 'other_arm' }) })),
    ).rejects.toThrow(/processor\.robotType is "other_arm", the dataset has "toy_arm"/);
    await expect(openTrainingData(base({ ...one, processor: withJson({ chunkSize: 7 }) }))).rejects.toThrow(
      /processor\.chunkSize is 7 but the policy's chunkSize is 10/,
    );
  });

  it('option errors name the option', async () => {
    await expect(openTrainingData(base({ samplesPerEpoch: 20, batchSize: 30, processor }))).rejects.toThrow(
      /an epoch of 20 draws holds no whole batch of 30/,
    );
    await expect(
      openTrainingData(base({ datasets: [{ path: path('alpha_a') }, { path: path('alpha_a') }] })),
    ).rejects.toThrow(/datasets\[0\] and datasets\[1\] have the same id 'alpha_a'/);
    await expect(openTrainingData(base({ rank: 2, worldSize: 2 }))).rejects.toThrow(
      /rank must be an integer in \[0, 2\), got 2/,
    );
    await expect(openTrainingData(base({ datasets: [{ path: join(tmp.dir, 'nope') }] }))).rejects.toThrow(
      /dataset 'nope'/,
    );
  });
});
