import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assignDatasets,
  mixtureWeights,
  rankMixture,
  type DatasetSize,
  type MixtureRule,
} from '../src/index';

const README_RULES: MixtureRule[] = [
  { group: 'franka', pattern: /franka/, budget: 0.25 },
  { group: 'lift2', pattern: /lift2/, budget: 0.3 },
  { group: 'split_aloha', pattern: /split_aloha/, budget: 0.3 },
  { group: 'genie1', pattern: /genie1/, budget: 0.1 },
  { group: 'acone', pattern: /acone/, budget: 0.05 },
];

const DATASETS: DatasetSize[] = [
  { id: 'franka/pick_cube', frames: 120_000 },
  { id: 'franka/stack', frames: 30_000 },
  { id: 'lift2/fold_towel', frames: 400_000 },
  { id: 'lift2/pour', frames: 100_000 },
  { id: 'lift2/wipe', frames: 25_000 },
  { id: 'split_aloha/sort', frames: 250_000 },
  { id: 'genie1/kitchen', frames: 90_000 },
  { id: 'genie1/shelf', frames: 10_000 },
  { id: 'acone/desk', frames: 60_000 },
];

const sum = (xs: number[]): number => xs.reduce((s, x) => s + x, 0);
const weightOf = (m: ReturnType<typeof mixtureWeights>, id: string): number =>
  m.datasets.find((d) => d.id === id)!.weight;

describe('mixtureWeights', () => {
  it('README budgets: group sums equal the budgets, weights sum to 1', () => {
    const m = mixtureWeights(DATASETS, { rules: README_RULES, gamma: 0.5 });
    expect(sum(m.datasets.map((d) => d.weight))).toBeCloseTo(1, 14);
    // The example budgets already sum to 1, so normalised == given.
    for (const r of README_RULES) {
      const inGroup = m.datasets.filter((d) => d.group === r.group);
      expect(sum(inGroup.map((d) => d.weight))).toBeCloseTo(r.budget, 14);
    }
    expect(m.groups.map((g) => g.datasets)).toEqual([
      ['franka/pick_cube', 'franka/stack'],
      ['lift2/fold_towel', 'lift2/pour', 'lift2/wipe'],
      ['split_aloha/sort'],
      ['genie1/kitchen', 'genie1/shelf'],
      ['acone/desk'],
    ]);
    // γ = 0.5 inside franka: 0.25 split as sqrt(120000) : sqrt(30000) = 2 : 1.
    expect(weightOf(m, 'franka/pick_cube')).toBeCloseTo((0.25 * 2) / 3, 14);
    expect(weightOf(m, 'franka/stack')).toBeCloseTo(0.25 / 3, 14);
  });

  it('γ = 0 splits a group equally, γ = 1 in proportion to frames', () => {
    const eq = mixtureWeights(DATASETS, { rules: README_RULES, gamma: 0 });
    for (const id of ['lift2/fold_towel', 'lift2/pour', 'lift2/wipe'])
      expect(weightOf(eq, id)).toBeCloseTo(0.1, 14);
    const prop = mixtureWeights(DATASETS, { rules: README_RULES, gamma: 1 });
    expect(weightOf(prop, 'lift2/fold_towel')).toBeCloseTo((0.3 * 400) / 525, 14);
    expect(weightOf(prop, 'lift2/wipe')).toBeCloseTo((0.3 * 25) / 525, 14);
    expect(weightOf(prop, 'genie1/shelf')).toBeCloseTo(0.01, 14);
  });

  it('normalises budgets that do not sum to 1, over the groups that have datasets', () => {
    const rules: MixtureRule[] = [
      { group: 'a', pattern: '^a', budget: 3 },
      { group: 'nobody', pattern: '^zzz', budget: 100 },
      { group: 'b', pattern: '^b', budget: 1 },
    ];
    const m = mixtureWeights(
      [
        { id: 'a1', frames: 5 },
        { id: 'b1', frames: 5 },
      ],
      { rules, gamma: 1 },
    );
    expect(m.datasets.map((d) => d.weight)).toEqual([0.75, 0.25]);
    expect(m.groups.map((g) => g.share)).toEqual([0.75, 0, 0.25]);
  });

  it('the first matching rule wins', () => {
    const rules: MixtureRule[] = [
      { group: 'special', pattern: /franka\/stack/, budget: 0.5 },
      { group: 'franka', pattern: /franka/, budget: 0.5 },
    ];
    const m = mixtureWeights(DATASETS.slice(0, 2), { rules, gamma: 1 });
    expect(m.datasets.map((d) => d.group)).toEqual(['franka', 'special']);
    expect(m.datasets.map((d) => d.weight)).toEqual([0.5, 0.5]);
  });

  it('ignores g/y flags, which would otherwise make RegExp.test skip alternate matches', () => {
    const rules: MixtureRule[] = [{ group: 'all', pattern: /x/g, budget: 1 }];
    const m = mixtureWeights(
      ['x1', 'x2', 'x3'].map((id) => ({ id, frames: 1 })),
      { rules, gamma: 0 },
    );
    expect(m.datasets.map((d) => d.group)).toEqual(['all', 'all', 'all']);
  });

  it('an unmatched dataset is an error; a catch-all rule gives a default group', () => {
    const data = [...DATASETS, { id: 'ur5/drawer', frames: 5 }];
    expect(() => mixtureWeights(data, { rules: README_RULES, gamma: 1 })).toThrow(
      /dataset 'ur5\/drawer' matches no mixture rule/,
    );
    const m = mixtureWeights(data, {
      rules: [...README_RULES, { group: 'other', pattern: '.*', budget: 0.05 }],
      gamma: 1,
    });
    expect(m.datasets.at(-1)!.group).toBe('other');
    expect(m.datasets.at(-1)!.weight).toBeCloseTo(0.05 / 1.05, 14);
  });

  it('zero-frame datasets get weight 0 for any γ; an all-empty group takes no budget', () => {
    const data: DatasetSize[] = [
      { id: 'a/full', frames: 10 },
      { id: 'a/empty', frames: 0 },
      { id: 'b/empty', frames: 0 },
    ];
    const rules: MixtureRule[] = [
      { group: 'a', pattern: '^a/', budget: 1 },
      { group: 'b', pattern: '^b/', budget: 1 },
    ];
    for (const gamma of [0, 0.5, 1, -1]) {
      const m = mixtureWeights(data, { rules, gamma });
      expect(m.datasets.map((d) => d.weight)).toEqual([1, 0, 0]);
    }
  });

  it('large |γ| neither overflows nor underflows', () => {
    const data = [
      { id: 'big', frames: 1e9 },
      { id: 'small', frames: 1e6 },
    ];
    const rules = [{ group: 'g', pattern: '.*', budget: 1 }];
    const hi = mixtureWeights(data, { rules, gamma: 200 });
    expect(hi.datasets.map((d) => d.weight)).toEqual([1, 0]); // (1/1000)^200 is below the smallest double
    const mid = mixtureWeights(data, { rules, gamma: 40 });
    // (1e6 / 1e9)^40 = 1e-120, far below what frames^γ could hold before normalising (1e360).
    expect(mid.datasets[1].weight / mid.datasets[0].weight / 1e-120).toBeCloseTo(1, 10);
    expect(Number.isFinite(mid.datasets[0].weight)).toBe(true);
  });

  it('rejects bad rules and γ with a message naming them', () => {
    const d = [{ id: 'x', frames: 1 }];
    const ok = { group: 'g', pattern: 'x', budget: 1 };
    expect(() => mixtureWeights(d, { rules: [], gamma: 1 })).toThrow(/non-empty array/);
    expect(() => mixtureWeights(d, { rules: [ok, { ...ok }], gamma: 1 })).toThrow(
      /duplicate mixture group 'g'/,
    );
    expect(() => mixtureWeights(d, { rules: [{ ...ok, budget: -1 }], gamma: 1 })).toThrow(/'g': budget.*-1/);
    expect(() => mixtureWeights(d, { rules: [{ ...ok, budget: NaN }], gamma: 1 })).toThrow(/budget.*NaN/);
    expect(() => mixtureWeights(d, { rules: [{ ...ok, pattern: '(' }], gamma: 1 })).toThrow(
      /'g': invalid pattern "\("/,
    );
    expect(() => mixtureWeights(d, { rules: [ok], gamma: Infinity })).toThrow(/gamma.*Infinity/);
    expect(() => mixtureWeights(d, { rules: [{ ...ok, budget: 0 }], gamma: 1 })).toThrow(/sum to 0/);
    expect(() => mixtureWeights([...d, { id: 'x', frames: 2 }], { rules: [ok], gamma: 1 })).toThrow(
      /duplicate dataset id 'x'/,
    );
  });
});

/** Random datasets spread over a few groups, with random budgets and γ. */
const mixtureCase = fc.record({
  frames: fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength: 30 }),
  groupOf: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 30, maxLength: 30 }),
  budgets: fc.array(fc.double({ min: 0.01, max: 10, noNaN: true }), { minLength: 4, maxLength: 4 }),
  gamma: fc.double({ min: -2, max: 3, noNaN: true }),
  k: fc.integer({ min: 1, max: 8 }),
});

describe('mixtureWeights: properties', () => {
  it('weights sum to 1, group sums equal normalised budgets, shares follow frames^γ', () => {
    fc.assert(
      fc.property(mixtureCase, ({ frames, groupOf, budgets, gamma }) => {
        fc.pre(frames.some((f) => f > 0));
        const data = frames.map((f, i) => ({ id: `g${groupOf[i]}/d${i}`, frames: f }));
        const rules = budgets.map((b, g) => ({ group: `g${g}`, pattern: `^g${g}/`, budget: b }));
        const m = mixtureWeights(data, { rules, gamma });
        expect(sum(m.datasets.map((d) => d.weight))).toBeCloseTo(1, 12);

        const active = budgets.map((_, g) => data.some((d, i) => groupOf[i] === g && d.frames > 0));
        const activeSum = sum(budgets.filter((_, g) => active[g]));
        budgets.forEach((b, g) => {
          const members = m.datasets.filter((d) => d.group === `g${g}`);
          expect(sum(members.map((d) => d.weight))).toBeCloseTo(active[g] ? b / activeSum : 0, 12);
          // Reference: direct frames^γ over the group's non-empty members (γ small enough not to overflow).
          const raw = members.map((d) => (d.frames > 0 ? Math.pow(d.frames, gamma) : 0));
          const rawSum = sum(raw);
          members.forEach((d, j) => {
            const want = active[g] ? (b / activeSum) * (raw[j] / rawSum) : 0;
            expect(Math.abs(d.weight - want)).toBeLessThanOrEqual(1e-12 * Math.max(1, want));
          });
        });
      }),
      { seed: 99, numRuns: 400 },
    );
  });

  it('per-rank weights sum to 1 and keep the global ratios inside the rank', () => {
    fc.assert(
      fc.property(mixtureCase, ({ frames, groupOf, budgets, gamma, k }) => {
        const data = frames.map((f, i) => ({ id: `g${groupOf[i]}/d${i}`, frames: f + 1 }));
        const rules = budgets.map((b, g) => ({ group: `g${g}`, pattern: `^g${g}/`, budget: b }));
        const m = mixtureWeights(data, { rules, gamma });
        const a = assignDatasets(data, k);
        for (let r = 0; r < k; r++) {
          const w = rankMixture(a, m, r);
          expect(w.map((d) => d.id)).toEqual(a.ranks[r].datasets.map((d) => d.id));
          expect(sum(w.map((d) => d.weight))).toBeCloseTo(1, 12);
          const globalMass = sum(w.map((d) => m.datasets.find((x) => x.id === d.id)!.weight));
          w.forEach((d) => {
            const g = m.datasets.find((x) => x.id === d.id)!.weight;
            expect(d.weight).toBeCloseTo(g / globalMass, 12);
          });
        }
      }),
      { seed: 5, numRuns: 300 },
    );
  });

  it('rankMixture errors when a rank has only zero-weight datasets or a dataset is missing', () => {
    const data = [
      { id: 'a', frames: 10 },
      { id: 'b', frames: 10 },
    ];
    const a = assignDatasets(data, 2);
    const m = mixtureWeights(data, {
      rules: [
        { group: 'A', pattern: '^a$', budget: 1 },
        { group: 'B', pattern: '^b$', budget: 0 },
      ],
      gamma: 1,
    });
    expect(rankMixture(a, m, 0)).toEqual([{ id: 'a', group: 'A', frames: 10, weight: 1 }]);
    expect(() => rankMixture(a, m, 1)).toThrow(/rank 1: all of its datasets \(b\) have mixture weight 0/);
    const other = mixtureWeights([{ id: 'a', frames: 10 }], {
      rules: [{ group: 'A', pattern: 'a', budget: 1 }],
      gamma: 1,
    });
    expect(() => rankMixture(a, other, 1)).toThrow(/rank 1: dataset 'b' is not in the mixture/);
    expect(() => rankMixture(a, m, 5)).toThrow(/rank must be an integer in \[0, 2\)/);
  });
});
