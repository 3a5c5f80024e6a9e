import { describe, expect, it } from 'vitest';
import { assignDatasets, formatLoadReport, loadReport, mixtureWeights } from '../src/index';

describe('loadReport', () => {
  const data = [
    { id: 'a', frames: 7 },
    { id: 'b', frames: 6 },
    { id: 'c', frames: 5 },
    { id: 'd', frames: 4 },
    { id: 'e', frames: 3 },
    { id: 'empty', frames: 0 },
  ];

  it('reports per-rank loads, mean, min, max and imbalance = max/mean', () => {
    const a = assignDatasets(data, 2); // loads 14 and 11 (see assignDatasets tests)
    const r = loadReport(a);
    expect(r.ranks).toEqual([
      { rank: 0, datasets: 3, load: 14, relative: 14 / 12.5 },
      { rank: 1, datasets: 2, load: 11, relative: 11 / 12.5 },
    ]);
    expect(r).toMatchObject({ total: 25, mean: 12.5, min: 11, max: 14, skipped: ['empty'] });
    expect(r.imbalance).toBeCloseTo(1.12, 14);
  });

  it('adds the global mixture mass held by each rank when given a mixture', () => {
    const a = assignDatasets(data, 2);
    const m = mixtureWeights(data, { rules: [{ group: 'all', pattern: '.*', budget: 1 }], gamma: 1 });
    const r = loadReport(a, m);
    expect(r.ranks[0].mixtureMass).toBeCloseTo(14 / 25, 14);
    expect(r.ranks[1].mixtureMass).toBeCloseTo(11 / 25, 14);
  });

  it('prints a table', () => {
    const big = [
      { id: 'x', frames: 1_500_000 },
      { id: 'y', frames: 1_000_000 },
      { id: 'z', frames: 600_000 },
    ];
    const a = assignDatasets(big, 2);
    const m = mixtureWeights(big, { rules: [{ group: 'all', pattern: '.*', budget: 1 }], gamma: 0 });
    expect(formatLoadReport(loadReport(a, m))).toBe(
      [
        'rank  datasets     frames  vs mean  mix mass',
        '----  --------  ---------  -------  --------',
        '   0         1  1,500,000    0.968    0.3333',
        '   1         2  1,600,000    1.032    0.6667',
        'total 3,100,000 frames, mean 1,550,000, min 1,500,000, max 1,600,000',
        'imbalance (max/mean): 1.0323',
      ].join('\n'),
    );
    const plain = formatLoadReport(loadReport(assignDatasets(data, 3)));
    expect(plain.split('\n')[0]).toBe('rank  datasets  frames  vs mean');
    expect(plain).toContain('skipped (0 frames): empty');
  });
});
