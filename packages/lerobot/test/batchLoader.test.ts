import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  BatchLoader,
  collateSamples,
  FfmpegDecoder,
  LeRobotDataset,
  NodeFileStorage,
  SampleBuilder,
  type SampleSource,
} from '../src/index';
import { CR5, rng } from './helpers';

/** A source that answers after a seeded random delay and records how many calls overlap. */
function slowSource(n: number, seed: number): SampleSource<number> & { maxInFlight: number } {
  const r = rng(seed);
  const delays = Array.from({ length: n }, () => Math.floor(r() * 4));
  let inFlight = 0;
  const src = {
    length: n,
    maxInFlight: 0,
    async get(i: number) {
      inFlight++;
      src.maxInFlight = Math.max(src.maxInFlight, inFlight);
      await new Promise((res) => setTimeout(res, delays[i]));
      inFlight--;
      return i * 10;
    },
  };
  return src;
}

async function collect(loader: BatchLoader<number>, epoch: number): Promise<number[][]> {
  const out: number[][] = [];
  for await (const b of loader.epoch(epoch)) {
    expect(b.samples).toEqual(b.indices.map((i) => i * 10));
    out.push(b.indices);
  }
  return out;
}

describe('BatchLoader', () => {
  test('same seed → same batches regardless of concurrency and prefetch; each epoch is a permutation', async () => {
    const runs = [
      [1, 0],
      [3, 1],
      [8, 4],
    ] as const;
    const results: number[][][] = [];
    for (const [concurrency, prefetchBatches] of runs) {
      const src = slowSource(103, 1);
      const loader = new BatchLoader(src, { batchSize: 10, seed: 1234, concurrency, prefetchBatches });
      results.push(await collect(loader, 0));
      expect(src.maxInFlight).toBeLessThanOrEqual(concurrency);
      if (concurrency > 1) expect(src.maxInFlight).toBeGreaterThan(1);
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
    expect(results[0].map((b) => b.length)).toEqual([...Array(10).fill(10), 3]);
    expect(results[0].flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 103 }, (_, i) => i));
    expect(results[0].flat()).not.toEqual(Array.from({ length: 103 }, (_, i) => i));
  });

  test('epochs and seeds change the order; dropLast and no-shuffle behave', async () => {
    const a = new BatchLoader(slowSource(50, 2), { batchSize: 7, seed: 5, dropLast: true });
    const e0 = await collect(a, 0);
    const e1 = await collect(a, 1);
    expect(e0).toHaveLength(7);
    expect(e0.every((b) => b.length === 7)).toBe(true);
    expect(e1).not.toEqual(e0);
    const b = new BatchLoader(slowSource(50, 2), { batchSize: 7, seed: 6, dropLast: true });
    expect(await collect(b, 0)).not.toEqual(e0);
    const c = new BatchLoader(slowSource(5, 2), { batchSize: 2, shuffle: false });
    expect(await collect(c, 3)).toEqual([[0, 1], [2, 3], [4]]);
  });

  test('resuming at (epoch, batch) serves exactly the rest of the uninterrupted run, building nothing before it', async () => {
    const uninterrupted = async (seed: number) => {
      const l = new BatchLoader(slowSource(47, 3), { batchSize: 5, seed });
      const out: [number, number, number[]][] = [];
      for await (const b of l.batches(0, 3)) out.push([b.epoch, b.batchIndex, b.indices]);
      return out;
    };
    const whole = await uninterrupted(21);
    expect(whole).toHaveLength(30);
    for (const [epoch, fromBatch, prefetchBatches] of [
      [0, 0, 2],
      [0, 3, 0],
      [1, 9, 2],
      [1, 10, 1],
      [2, 7, 5],
    ] as const) {
      const l = new BatchLoader(slowSource(47, 3), { batchSize: 5, seed: 21, prefetchBatches });
      const got: [number, number, number[]][] = [];
      for await (const b of l.batches(epoch, 3 - epoch, fromBatch)) {
        expect(b.samples).toEqual(b.indices.map((i) => i * 10));
        got.push([b.epoch, b.batchIndex, b.indices]);
      }
      const start = epoch * 10 + fromBatch;
      expect(got, `resume at ${epoch}/${fromBatch}`).toEqual(whole.slice(start));
    }
    // Prefetch starts at the resume point: samples of batches before it are never requested.
    const src = slowSource(47, 3);
    const asked: number[] = [];
    const l = new BatchLoader(
      { length: 47, get: (i) => (asked.push(i), src.get(i)) },
      { batchSize: 5, seed: 21, prefetchBatches: 3 },
    );
    const first = await l.epoch(1, 4).next();
    expect(first.value).toMatchObject({ epoch: 1, batchIndex: 4 });
    const position = new Map(Array.from(l.order(1), (i, p) => [i, p]));
    const positions = asked.map((i) => position.get(i)!);
    expect(Math.min(...positions)).toBe(20);
    // Batch 4 was served; at most batches 5..8 (prefetch 3, refilled after the shift) were started.
    expect(Math.max(...positions)).toBeLessThan(45);
    expect(positions.filter((p) => p < 25)).toHaveLength(5);
    // The end of an epoch is a valid (empty) start; past it is an error naming the range.
    expect((await l.epoch(0, 10).next()).done).toBe(true);
    await expect(l.epoch(0, 11).next()).rejects.toThrow(/fromBatch must be an integer in \[0, 10\].*got 11/);
    await expect(l.epoch(0, 1.5).next()).rejects.toThrow(/fromBatch/);
    await expect(l.epoch(-1).next()).rejects.toThrow(/epoch must be a non-negative integer, got -1/);
  });

  test('a failing sample surfaces at its batch', async () => {
    const src: SampleSource<number> = {
      length: 6,
      get: async (i) => (i === 4 ? Promise.reject(new Error('bad sample 4')) : i),
    };
    const loader = new BatchLoader(src, { batchSize: 2, shuffle: false, prefetchBatches: 3 });
    const seen: number[][] = [];
    await expect(
      (async () => {
        for await (const b of loader.epoch()) seen.push(b.samples);
      })(),
    ).rejects.toThrow('bad sample 4');
    expect(seen).toEqual([
      [0, 1],
      [2, 3],
    ]);
  });

  test('option validation', () => {
    expect(() => new BatchLoader(slowSource(3, 0), { batchSize: 0 })).toThrow(
      /batchSize must be a positive integer/,
    );
    expect(() => new BatchLoader({ length: 0, get: async () => 0 }, { batchSize: 1 })).toThrow(/empty/);
  });
});

describe('BatchLoader over real samples (cr5, one camera in three slots)', () => {
  let ds: LeRobotDataset;
  const decoder = new FfmpegDecoder();
  beforeAll(async () => {
    ds = await LeRobotDataset.open(new NodeFileStorage(CR5), { decoder });
  });
  afterAll(() => decoder.close());

  test('batches are identical across concurrency settings and collate to contiguous arrays', async () => {
    const key = 'observation.images.top';
    const make = (concurrency: number) =>
      new BatchLoader(
        new SampleBuilder(ds, {
          imageSize: [32, 32],
          mapping: { cameras: { head: key, hand_left: key, hand_right: key } },
        }),
        {
          batchSize: 3,
          seed: 77,
          concurrency,
        },
      );
    const take = async (l: BatchLoader<Awaited<ReturnType<SampleBuilder['get']>>>) => {
      const out = [];
      for await (const b of l.epoch(0)) {
        out.push(collateSamples(b.samples));
        if (out.length === 2) break;
      }
      return out;
    };
    const [x, y] = [await take(make(1)), await take(make(4))];
    expect(x).toHaveLength(2);
    for (let i = 0; i < 2; i++) {
      expect(y[i].state).toEqual(x[i].state);
      expect(y[i].actions).toEqual(x[i].actions);
      expect(y[i].images.head).toEqual(x[i].images.head);
      expect(y[i].tasks).toEqual(['grasp_cube', 'grasp_cube', 'grasp_cube']);
    }
    const b = x[0];
    expect(b.images.head).toHaveLength(3 * 3 * 32 * 32 * 3);
    expect(b.images.hand_right).toEqual(b.images.head);
    expect(Array.from(b.imageMasks.hand_left)).toEqual([1, 1, 1]);
    expect(b.state).toHaveLength(3 * 32);
    expect(b.actions).toHaveLength(3 * 50 * 32);
    expect(b.actionIsPad).toHaveLength(150);
    expect(b.imageIsPad).toHaveLength(9);
  });
});
