import {
  defineEmbodiment,
  deltaMask,
  withDeltaMask,
  fromPolicyActions,
  fromPolicyState,
  toPolicyActions,
  toPolicyState,
  type Embodiment,
} from '@vla/robot-core';
import { fuzzSafetyLayer, mulberry32 } from '@vla/robot-core/testing';
import { assertDeltaMask, makeBoolMask } from '@vla/robot-layouts';
import { describe, expect, it } from 'vitest';
import { ACONE, LIFT2 } from '../src/index.js';

const layout = (side: string) => [
  ...Array.from({ length: 6 }, (_, k) => `${side}_joint${k + 1}`),
  `${side}_gripper`,
];

describe.each([
  ['ARX Lift-2', LIFT2],
  ['ARX AC One', ACONE],
] as [string, Embodiment][])('%s embodiment', (robotType, e) => {
  it('has the SPEC layout: L arm 6, L gripper, R arm 6, R gripper; (6 delta, 1 abs) × 2', () => {
    expect(e.robotType).toBe(robotType);
    expect(e.dims.map((d) => d.name)).toEqual([...layout('left'), ...layout('right')]);
    const mask = [true, true, true, true, true, true, false];
    expect(e.dims.map((d) => d.delta)).toEqual([...mask, ...mask]);
    expect(e.cameras.map((c) => c.name)).toEqual(['head', 'hand_left', 'hand_right']);
  });

  it('takes its delta flags from the layout table (upstream make_bool_mask(6, -1, 6, -1))', () => {
    expect(deltaMask(e)).toEqual(makeBoolMask(6, -1, 6, -1));
    expect(() => assertDeltaMask(e.robotType, deltaMask(e))).not.toThrow();
  });

  it('rejects a delta mask that does not fit its layout', () => {
    const spec = { ...e, dims: [...e.dims] };
    expect(() => withDeltaMask(spec, makeBoolMask(6, -1, 6))).toThrow(
      `embodiment "${robotType}": delta mask has 13 entries, layout has 14 dims`,
    );
    // A table that made a gripper a delta dim fails at construction.
    expect(() => defineEmbodiment(withDeltaMask(spec, makeBoolMask(14)))).toThrow(
      /gripper "left_gripper" cannot be a delta dim/,
    );
  });

  it('round-trips state and 50-action chunks', () => {
    const rnd = mulberry32(7);
    for (let trial = 0; trial < 50; trial++) {
      const pick = () => e.dims.map((d) => d.lower + (d.upper - d.lower) * rnd());
      const state = pick();
      fromPolicyState(e, toPolicyState(e, state)).forEach((v, i) => expect(v).toBeCloseTo(state[i], 5));
      const rows = Array.from({ length: 50 }, pick);
      const chunk = toPolicyActions(e, rows, state);
      expect(chunk.actions[6]).toBeCloseTo(rows[0][6], 6); // gripper absolute, dataset = robot units
      expect(chunk.actions[7]).toBeCloseTo(rows[0][7] - state[7], 5); // right joint 1 as a delta
      fromPolicyActions(e, chunk, state).forEach((r, h) =>
        r.forEach((v, i) => expect(v).toBeCloseTo(rows[h][i], 5)),
      );
    }
  });

  it('its safety layer never exceeds its limits under random garbage', () => {
    for (let seed = 0; seed < 400; seed++) fuzzSafetyLayer(e, { ticks: 50, seed });
  });
});

describe('numbers', () => {
  it('Lift-2 uses the SPEC R5a limits and velocities; AC One marks its numbers as assumed', () => {
    expect(LIFT2.dims.slice(0, 6).map((d) => [d.lower, d.upper, d.maxVelocity])).toEqual([
      [-2.094, 3.1416, 5.5],
      [0, 3.665, 5.5],
      [0, 3.24, 5.5],
      [-1.671, 1.671, 20],
      [-1.671, 1.671, 20],
      [-2.094, 2.094, 20],
    ]);
    expect(LIFT2.dims[6]).toMatchObject({ unit: 'm', lower: 0, upper: 0.044 });
    expect(LIFT2.dims.slice(0, 6).every((d) => d.assumed === undefined)).toBe(true);
    expect(ACONE.dims.every((d) => typeof d.assumed === 'string' && d.assumed.includes('assumed'))).toBe(
      true,
    );
    expect(ACONE.dims[6]).toMatchObject({ unit: 'vendor', lower: 0, upper: 1 });
  });
});
