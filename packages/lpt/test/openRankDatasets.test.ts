import { describe, expect, it } from 'vitest';
import { assignDatasets, openRankDatasets } from '../src/index';
import { mulberry32 } from './reference';

function countingOpener() {
  const calls: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const open = async (id: string) => {
    calls.push(id);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setImmediate(r));
    inFlight--;
    return { id, handle: `opened:${id}` };
  };
  return { open, calls, maxInFlight: () => maxInFlight };
}

describe('openRankDatasets', () => {
  const rnd = mulberry32(4);
  const data = Array.from({ length: 37 }, (_, i) => ({ id: `ds${i}`, frames: 1 + Math.floor(rnd() * 1e5) }));

  it('opens exactly the rank’s datasets, once each, for every rank', async () => {
    const a = assignDatasets(data, 5);
    const openedByRank: string[][] = [];
    for (let rank = 0; rank < 5; rank++) {
      const c = countingOpener();
      const got = await openRankDatasets(a, rank, c.open);
      const mine = a.ranks[rank].datasets.map((d) => d.id);
      expect([...c.calls].sort()).toEqual([...mine].sort());
      expect(c.calls).toHaveLength(mine.length);
      expect([...got.keys()]).toEqual(mine);
      for (const [id, v] of got) expect(v).toEqual({ id, handle: `opened:${id}` });
      openedByRank.push(c.calls);
    }
    // Together the ranks open every dataset exactly once.
    expect(openedByRank.flat().sort()).toEqual(data.map((d) => d.id).sort());
  });

  it('keeps at most `concurrency` opens in flight', async () => {
    const a = assignDatasets(data, 1);
    const c = countingOpener();
    await openRankDatasets(a, 0, c.open, { concurrency: 3 });
    expect(c.calls).toHaveLength(37);
    expect(c.maxInFlight()).toBe(3);
    const serial = countingOpener();
    await openRankDatasets(a, 0, serial.open, { concurrency: 1 });
    expect(serial.maxInFlight()).toBe(1);
  });

  it('with duplicated datasets, each rank opens its own copy', async () => {
    const a = assignDatasets(data.slice(0, 2), 4);
    const calls = await Promise.all(
      [0, 1, 2, 3].map(async (rank) => {
        const c = countingOpener();
        await openRankDatasets(a, rank, c.open);
        return c.calls;
      }),
    );
    expect(calls.every((c) => c.length === 1)).toBe(true);
  });

  it('names the dataset and rank when opening fails, and stops opening more', async () => {
    const a = assignDatasets(data, 1);
    const bad = a.ranks[0].datasets[2].id;
    const calls: string[] = [];
    const cause = new Error('meta/info.json missing');
    const open = async (id: string) => {
      calls.push(id);
      await new Promise((r) => setImmediate(r));
      if (id === bad) throw cause;
      return id;
    };
    const err = await openRankDatasets(a, 0, open, { concurrency: 2 }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe(`rank 0: opening dataset '${bad}' failed: meta/info.json missing`);
    expect((err as Error).cause).toBe(cause);
    expect(calls.length).toBeLessThan(37);
  });

  it('rejects a bad rank or concurrency', async () => {
    const a = assignDatasets(data, 3);
    const c = countingOpener();
    await expect(openRankDatasets(a, 3, c.open)).rejects.toThrow(
      /rank must be an integer in \[0, 3\), got 3/,
    );
    await expect(openRankDatasets(a, 0, c.open, { concurrency: 0 })).rejects.toThrow(/concurrency.*got 0/);
    expect(c.calls).toEqual([]);
  });
});
