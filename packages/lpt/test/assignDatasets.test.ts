import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assignDatasets, datasetsForRank, makespan, type Assignment, type DatasetSize } from '../src/index';
import { bruteForceMakespan, referenceLpt } from './reference';

const ids = (a: Assignment): string[][] => a.ranks.map((r) => r.datasets.map((d) => d.id));
const ds = (spec: Record<string, number>): DatasetSize[] =>
  Object.entries(spec).map(([id, frames]) => ({ id, frames }));

/** Random instance: 1..maxN datasets with distinct ids and frames in [1, maxFrames] (small ranges force ties). */
const instance = (maxN: number, maxFrames: number) =>
  fc
    .array(fc.integer({ min: 1, max: maxFrames }), { minLength: 1, maxLength: maxN })
    .map((frames) => frames.map((f, i) => ({ id: `d${String(i).padStart(2, '0')}`, frames: f })));

describe('assignDatasets: hand-made instances', () => {
  it('gives each dataset, largest first, to the least-loaded rank', () => {
    // 7→r0, 6→r1, 5→r1 (6<7), 4→r0 (7<11), 3→r0 (11=11, lowest rank wins)
    const a = assignDatasets(ds({ a: 7, b: 6, c: 5, d: 4, e: 3 }), 2);
    expect(ids(a)).toEqual([
      ['a', 'd', 'e'],
      ['b', 'c'],
    ]);
    expect(a.ranks.map((r) => r.load)).toEqual([14, 11]);
    expect(a.duplicated).toBe(false);
  });

  it('breaks equal sizes by id, whatever the input order', () => {
    const a = assignDatasets(ds({ c: 10, a: 10, b: 10, d: 10 }), 3);
    // sorted a,b,c,d; a→r0, b→r1, c→r2, then all loads 10 → d to the lowest rank
    expect(ids(a)).toEqual([['a', 'd'], ['b'], ['c']]);
  });

  it('compares ids by code unit, not locale ("B" before "a")', () => {
    const a = assignDatasets(ds({ a: 5, B: 5 }), 2);
    expect(ids(a)).toEqual([['B'], ['a']]);
  });

  it('breaks load ties toward the lowest rank', () => {
    // Order x, y, w, z. After x (r0) and y (r1) both ranks hold 5, so w goes to r0; then z to r1.
    const a = assignDatasets(ds({ x: 5, y: 5, z: 3, w: 3 }), 2);
    expect(ids(a)).toEqual([
      ['x', 'w'],
      ['y', 'z'],
    ]);
    // Four ranks all at 9 when t arrives: it goes to rank 0.
    const b = assignDatasets(ds({ p: 9, q: 9, r: 9, s: 9, t: 1 }), 4);
    expect(ids(b)).toEqual([['p', 't'], ['q'], ['r'], ['s']]);
  });

  it('reaches the LPT worst case 4/3 - 1/(3K) on the classic tight instance', () => {
    // K=2, sizes 3,3,2,2,2: greedy makes 7, optimum is 6 (3+3 | 2+2+2). 7/6 = 4/3 - 1/6.
    const a = assignDatasets(ds({ a: 3, b: 3, c: 2, d: 2, e: 2 }), 2);
    expect(makespan(a)).toBe(7);
    expect(bruteForceMakespan([3, 3, 2, 2, 2], 2)).toBe(6);
    expect(makespan(a) / 6).toBeCloseTo(4 / 3 - 1 / 6, 12);
  });

  it('cycles through the datasets (largest first) when there are fewer datasets than ranks', () => {
    const a = assignDatasets(ds({ small: 10, big: 30 }), 5);
    expect(ids(a)).toEqual([['big'], ['small'], ['big'], ['small'], ['big']]);
    expect(a.ranks.map((r) => r.load)).toEqual([30, 10, 30, 10, 30]);
    expect(a.duplicated).toBe(true);
    // A rank's copy is its own: changing it does not touch another rank's entry.
    a.ranks[0].datasets[0].frames = 0;
    expect(a.ranks[2].datasets[0].frames).toBe(30);
  });

  it('one rank holds everything', () => {
    const a = assignDatasets(ds({ a: 1, b: 2, c: 3 }), 1);
    expect(ids(a)).toEqual([['c', 'b', 'a']]);
    expect(a.ranks[0].load).toBe(6);
  });

  it('skips zero-frame datasets and reports them', () => {
    const a = assignDatasets(ds({ a: 5, empty: 0, b: 4, void: 0 }), 2);
    expect(ids(a)).toEqual([['a'], ['b']]);
    expect(a.skipped).toEqual(['empty', 'void']);
    // Zero-frame datasets do not count towards "fewer datasets than ranks" either.
    expect(assignDatasets(ds({ a: 5, empty: 0 }), 2).duplicated).toBe(true);
  });

  it('rejects bad input with a message naming it', () => {
    expect(() => assignDatasets(ds({ a: 1 }), 0)).toThrow(/worldSize must be a positive integer, got 0/);
    expect(() => assignDatasets(ds({ a: 1 }), 1.5)).toThrow(/worldSize.*1\.5/);
    expect(() => assignDatasets([], 2)).toThrow(/no datasets given/);
    expect(() => assignDatasets(ds({ a: 0, b: 0 }), 2)).toThrow(/every dataset has 0 frames \(a, b\)/);
    expect(() =>
      assignDatasets(
        [
          { id: 'x', frames: 1 },
          { id: 'y', frames: 2 },
          { id: 'x', frames: 3 },
        ],
        2,
      ),
    ).toThrow(/duplicate dataset id 'x' \(datasets\[0\] and datasets\[2\]\)/);
    expect(() => assignDatasets([{ id: 'neg', frames: -1 }], 1)).toThrow(
      /'neg'.*non-negative integer, got -1/,
    );
    expect(() => assignDatasets([{ id: 'frac', frames: 2.5 }], 1)).toThrow(/'frac'.*2\.5/);
    expect(() => assignDatasets([{ id: 'nan', frames: NaN }], 1)).toThrow(/'nan'.*NaN/);
    expect(() => assignDatasets([{ id: '', frames: 1 }], 1)).toThrow(/datasets\[0\]\.id/);
  });

  it('datasetsForRank returns the rank’s datasets and checks the rank', () => {
    const a = assignDatasets(ds({ a: 7, b: 6, c: 5 }), 2);
    expect(datasetsForRank(a, 1)).toEqual([
      { id: 'b', frames: 6 },
      { id: 'c', frames: 5 },
    ]);
    expect(() => datasetsForRank(a, 2)).toThrow(/rank must be an integer in \[0, 2\), got 2/);
    expect(() => datasetsForRank(a, -1)).toThrow(/got -1/);
  });
});

describe('assignDatasets: properties on random instances', () => {
  it('makespan ≤ (4/3 − 1/(3K)) × brute-force optimum (≤ 8 datasets, ≤ 3 ranks)', () => {
    let tight = 0;
    fc.assert(
      fc.property(instance(8, 40), fc.integer({ min: 1, max: 3 }), (items, k) => {
        const a = assignDatasets(items, k);
        const opt = bruteForceMakespan(
          items.map((d) => d.frames),
          k,
        );
        const bound = 4 / 3 - 1 / (3 * k);
        if (makespan(a) > opt) tight++;
        // Multiply out instead of dividing so integers compare exactly.
        expect(3 * k * makespan(a)).toBeLessThanOrEqual((4 * k - 1) * opt);
        expect(makespan(a) / opt).toBeLessThanOrEqual(bound + 1e-12);
      }),
      { seed: 20240531, numRuns: 3000 },
    );
    // The instances are hard enough that greedy is sometimes strictly worse than optimal.
    expect(tight).toBeGreaterThan(0);
  });

  it('matches a literal reference implementation of the spec exactly', () => {
    fc.assert(
      fc.property(instance(30, 12), fc.integer({ min: 1, max: 8 }), (items, k) => {
        fc.pre(items.length >= k);
        const a = assignDatasets(items, k);
        const want = referenceLpt(items, k);
        a.ranks.forEach((r) => r.datasets.forEach((d) => expect(want.get(d.id)).toBe(r.rank)));
      }),
      { seed: 7, numRuns: 1500 },
    );
  });

  it('assigns every dataset exactly once (N ≥ K) and every rank gets at least one', () => {
    fc.assert(
      fc.property(instance(40, 1000), fc.integer({ min: 1, max: 16 }), (items, k) => {
        const a = assignDatasets(items, k);
        expect(a.ranks).toHaveLength(k);
        a.ranks.forEach((r, i) => {
          expect(r.rank).toBe(i);
          expect(r.datasets.length).toBeGreaterThan(0);
          expect(r.load).toBe(r.datasets.reduce((s, d) => s + d.frames, 0));
        });
        const all = a.ranks.flatMap((r) => r.datasets.map((d) => d.id));
        if (items.length >= k) {
          expect([...all].sort()).toEqual(items.map((d) => d.id).sort());
          expect(a.duplicated).toBe(false);
        } else {
          // Cycling: each dataset appears ceil or floor of K/N times, all of them at least once.
          expect(new Set(all)).toEqual(new Set(items.map((d) => d.id)));
          const counts = items.map((d) => all.filter((x) => x === d.id).length);
          expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
          expect(a.duplicated).toBe(true);
        }
      }),
      { seed: 11, numRuns: 1000 },
    );
  });

  it('is deterministic and does not depend on the input order', () => {
    fc.assert(
      fc.property(
        instance(25, 20).chain((items) =>
          fc.tuple(fc.constant(items), fc.shuffledSubarray(items, { minLength: items.length })),
        ),
        fc.integer({ min: 1, max: 6 }),
        ([items, shuffled], k) => {
          const a = assignDatasets(items, k);
          expect(assignDatasets(items, k)).toEqual(a);
          expect(assignDatasets(shuffled, k)).toEqual(a);
        },
      ),
      { seed: 3, numRuns: 500 },
    );
  });
});
