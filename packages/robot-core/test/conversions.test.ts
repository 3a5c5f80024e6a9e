import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  POLICY_DIM,
  absoluteToDelta,
  defineEmbodiment,
  deltaToAbsolute,
  dimToDataset,
  dimToRobot,
  fromPolicyActions,
  fromPolicyState,
  padVector,
  thresholdGripper,
  toAbsoluteChunk,
  toPolicyActions,
  toPolicyState,
} from '../src/index.js';
import { embodimentArb } from './arbitraries.js';
import { refChunkToRobot, refToDataset } from './reference.js';
import { mulberry32 } from '../src/testing.js';

const inLimits = (e: ReturnType<typeof defineEmbodiment>, rnd: () => number) =>
  e.dims.map((d) => d.lower + (d.upper - d.lower) * rnd());

describe('policy vector conversions', () => {
  it('state → 32-d padded dataset vector → state round-trips and matches the reference', () => {
    fc.assert(
      fc.property(embodimentArb, fc.integer(), (e, seed) => {
        const s = inLimits(e, mulberry32(seed));
        const p = toPolicyState(e, s);
        expect(p).toBeInstanceOf(Float32Array);
        expect(p.length).toBe(POLICY_DIM);
        for (let i = e.dims.length; i < POLICY_DIM; i++) expect(p[i]).toBe(0);
        e.dims.forEach((_, i) => expect(p[i]).toBeCloseTo(refToDataset(e, i, s[i]), 4));
        const back = fromPolicyState(e, p);
        e.dims.forEach((d, i) =>
          expect(Math.abs(back[i] - s[i])).toBeLessThan(1e-5 * (1 + Math.abs(s[i]) + (d.upper - d.lower))),
        );
      }),
      { numRuns: 300, seed: 11 },
    );
  });

  it('fromPolicyActions matches the float64 reference for awkward chunk shapes', () => {
    fc.assert(
      fc.property(
        embodimentArb,
        fc.integer(),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 0, max: 16 }),
        (e, seed, horizon, extra) => {
          const rnd = mulberry32(seed);
          const dim = e.dims.length + extra;
          const actions = Float32Array.from({ length: horizon * dim }, () => (rnd() - 0.5) * 4);
          const state = inLimits(e, rnd);
          const got = fromPolicyActions(e, { actions, horizon, dim }, state);
          const want = refChunkToRobot(e, actions, horizon, dim, state);
          expect(got.length).toBe(horizon);
          got.forEach((row, h) => row.forEach((v, i) => expect(v).toBeCloseTo(want[h][i], 9)));
        },
      ),
      { numRuns: 300, seed: 12 },
    );
  });

  it('absolute robot rows → policy chunk (delta) → robot rows round-trips', () => {
    fc.assert(
      fc.property(embodimentArb, fc.integer(), fc.boolean(), (e, seed, delta) => {
        const rnd = mulberry32(seed);
        const state = inLimits(e, rnd);
        const rows = Array.from({ length: 50 }, () => inLimits(e, rnd));
        const chunk = toPolicyActions(e, rows, state, { delta });
        expect(chunk.dim).toBe(POLICY_DIM);
        expect(chunk.horizon).toBe(50);
        const back = fromPolicyActions(e, chunk, state, { delta });
        back.forEach((row, h) =>
          row.forEach((v, i) => {
            const d = e.dims[i];
            expect(Math.abs(v - rows[h][i])).toBeLessThan(
              1e-5 * (1 + Math.abs(rows[h][i]) + Math.abs(state[i]) + (d.upper - d.lower)),
            );
          }),
        );
      }),
      { numRuns: 300, seed: 13 },
    );
  });

  it('absolute robot rows → an absolute chunk: each row in dataset units (reference), padding zero', () => {
    fc.assert(
      fc.property(embodimentArb, fc.integer(), fc.integer({ min: 1, max: 9 }), (e, seed, horizon) => {
        const rnd = mulberry32(seed);
        const rows = Array.from({ length: horizon }, () => inLimits(e, rnd));
        const chunk = toAbsoluteChunk(e, rows);
        expect(chunk.absolute).toBe(true);
        expect([chunk.horizon, chunk.dim, chunk.actions.length]).toEqual([
          horizon,
          POLICY_DIM,
          horizon * POLICY_DIM,
        ]);
        rows.forEach((row, h) => {
          for (let i = 0; i < POLICY_DIM; i++) {
            const ref = i < e.dims.length ? refToDataset(e, i, row[i]) : 0;
            expect(chunk.actions[h * POLICY_DIM + i]).toBeCloseTo(ref, 5);
          }
        });
      }),
      { numRuns: 200, seed: 15 },
    );
  });

  it('delta ↔ absolute are inverse and leave absolute (gripper) dims alone', () => {
    fc.assert(
      fc.property(embodimentArb, fc.integer(), (e, seed) => {
        const rnd = mulberry32(seed);
        const a = inLimits(e, rnd);
        const s = inLimits(e, rnd);
        const d = absoluteToDelta(e, a, s);
        const back = deltaToAbsolute(e, d, s);
        e.dims.forEach((dim, i) => {
          expect(back[i]).toBeCloseTo(a[i], 12);
          if (!dim.delta) expect(d[i]).toBe(a[i]);
          else expect(d[i]).toBe(a[i] - s[i]);
        });
        // Symmetry the other way: absolute of a delta, then delta again.
        const again = absoluteToDelta(e, deltaToAbsolute(e, d, s), s);
        again.forEach((v, i) => expect(v).toBeCloseTo(d[i], 12));
      }),
      { numRuns: 300, seed: 14 },
    );
  });

  it('rejects wrong lengths and shapes with messages that name them', () => {
    const e = fc.sample(embodimentArb, { numRuns: 1, seed: 5 })[0];
    const n = e.dims.length;
    expect(() => toPolicyState(e, new Array(n + 1).fill(0))).toThrow(/robot vector has/);
    expect(() =>
      fromPolicyActions(e, { actions: new Float32Array(10), horizon: 3, dim: 32 }, e.home),
    ).toThrow(/shape \[3, 32\]/);
    expect(() => fromPolicyActions(e, { actions: new Float32Array(0), horizon: 0, dim: 32 }, e.home)).toThrow(
      /horizon 0/,
    );
    expect(() => padVector(new Array(33).fill(0))).toThrow(/33 values/);
  });
});

describe('gripper conventions', () => {
  const genieLike = defineEmbodiment({
    robotType: 'genie-like',
    dims: [
      { name: 'j', kind: 'joint', unit: 'rad', lower: -1, upper: 1, maxVelocity: 1, delta: true },
      {
        name: 'g',
        kind: 'gripper',
        unit: 'm',
        lower: 0,
        upper: 0.1,
        maxVelocity: 0.2,
        delta: false,
        dataset: { atLower: 1, atUpper: 0, description: '0 = open, 1 = closed' },
      },
    ],
    cameras: [],
    controlHz: 30,
    home: [0, 0.1],
  });
  const g = genieLike.dims[1];

  it('maps an opening width to the dataset convention and back', () => {
    expect(dimToDataset(g, 0.1)).toBe(0); // fully open
    expect(dimToDataset(g, 0)).toBe(1); // closed
    expect(dimToDataset(g, 0.025)).toBeCloseTo(0.75, 12);
    expect(dimToRobot(g, 0.75)).toBeCloseTo(0.025, 12);
  });

  it('thresholds at 0.5 of the dataset range (upstream practice)', () => {
    expect(thresholdGripper(g, 0.49)).toBe(0);
    expect(thresholdGripper(g, 0.5)).toBe(1);
    expect(thresholdGripper(g, 0.93)).toBe(1);
    expect(thresholdGripper(g, 0.7, 0.8)).toBe(0);
    expect(thresholdGripper(genieLike.dims[0], 0.7)).toBe(0.7); // joints untouched
    const rows = fromPolicyActions(
      genieLike,
      { actions: Float32Array.from([0.1, 0.8, -0.1, 0.2]), horizon: 2, dim: 2 },
      [0.5, 0.05],
      {
        gripperThreshold: 0.5,
      },
    );
    expect(rows[0][1]).toBe(0); // closed: width 0
    expect(rows[1][1]).toBeCloseTo(0.1, 12); // open
    expect(rows[0][0]).toBeCloseTo(0.6, 6);
    expect(rows[1][0]).toBeCloseTo(0.4, 6);
  });
});

describe('defineEmbodiment', () => {
  const base = {
    robotType: 'x',
    dims: [
      {
        name: 'a',
        kind: 'joint' as const,
        unit: 'rad' as const,
        lower: -1,
        upper: 1,
        maxVelocity: 1,
        delta: true,
      },
    ],
    cameras: [],
    controlHz: 30,
    home: [0],
  };
  it('names what is wrong', () => {
    expect(() => defineEmbodiment({ ...base, home: [2] })).toThrow(/home 2 for "a"/);
    expect(() => defineEmbodiment({ ...base, dims: [{ ...base.dims[0], lower: 1, upper: -1 }] })).toThrow(
      /"a" needs finite lower < upper/,
    );
    expect(() => defineEmbodiment({ ...base, dims: [{ ...base.dims[0], maxVelocity: 0 }] })).toThrow(
      /maxVelocity/,
    );
    expect(() => defineEmbodiment({ ...base, dims: [base.dims[0], base.dims[0]], home: [0, 0] })).toThrow(
      /repeats/,
    );
    expect(Object.isFrozen(defineEmbodiment(base).dims[0])).toBe(true);
  });
});
