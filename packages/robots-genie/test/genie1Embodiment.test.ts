import {
  deltaMask,
  POLICY_DIM,
  fromPolicyActions,
  fromPolicyState,
  thresholdGripper,
  toPolicyActions,
  toPolicyState,
} from '@vla/robot-core';
import { fuzzSafetyLayer, mulberry32 } from '@vla/robot-core/testing';
import { assertDeltaMask, makeBoolMask } from '@vla/robot-layouts';
import { describe, expect, it } from 'vitest';
import { GENIE1 } from '../src/index.js';

describe('Genie-1 embodiment', () => {
  it('takes its delta flags from the layout table (upstream make_bool_mask(14, -2))', () => {
    expect(deltaMask(GENIE1)).toEqual(makeBoolMask(14, -2));
    expect(() => assertDeltaMask('Genie-1', deltaMask(GENIE1))).not.toThrow();
  });

  it('has the SPEC layout: L arm 7, R arm 7, L gripper, R gripper; 14 delta + 2 absolute', () => {
    expect(GENIE1.robotType).toBe('Genie-1');
    expect(GENIE1.dims.map((d) => d.name)).toEqual([
      ...Array.from({ length: 7 }, (_, k) => `left_joint${k + 1}`),
      ...Array.from({ length: 7 }, (_, k) => `right_joint${k + 1}`),
      'left_gripper',
      'right_gripper',
    ]);
    expect(GENIE1.dims.map((d) => d.delta)).toEqual([...new Array(14).fill(true), false, false]);
    expect(GENIE1.dims.slice(0, 7).map((d) => d.upper)).toEqual([3.14, 2.09, 3.14, 1.48, 3.14, 1.74, 3.14]);
    expect(GENIE1.dims.slice(0, 14).every((d) => d.maxVelocity === 3.14 && d.lower === -d.upper)).toBe(true);
    expect(GENIE1.cameras.map((c) => `${c.name} ${c.width}x${c.height}@${c.fps}`)).toEqual([
      'head 640x480@30',
      'hand_left 640x480@30',
      'hand_right 640x480@30',
    ]);
  });

  it('maps gripper width to the dataset convention 0 = open, 1 = closed', () => {
    const s = [...GENIE1.home];
    s[14] = 0.1; // open
    s[15] = 0; // closed
    const p = toPolicyState(GENIE1, s);
    expect(p.length).toBe(POLICY_DIM);
    expect(p[14]).toBeCloseTo(0, 6);
    expect(p[15]).toBeCloseTo(1, 6);
    expect(thresholdGripper(GENIE1.dims[14], 0.62)).toBe(1);
  });

  it('round-trips state and 50-action chunks (delta on arms, absolute grippers)', () => {
    const rnd = mulberry32(42);
    for (let trial = 0; trial < 50; trial++) {
      const pick = () => GENIE1.dims.map((d) => d.lower + (d.upper - d.lower) * rnd());
      const state = pick();
      fromPolicyState(GENIE1, toPolicyState(GENIE1, state)).forEach((v, i) =>
        expect(v).toBeCloseTo(state[i], 5),
      );
      const rows = Array.from({ length: 50 }, pick);
      const chunk = toPolicyActions(GENIE1, rows, state);
      // Gripper columns are absolute dataset values, arm columns deltas.
      expect(chunk.actions[14]).toBeCloseTo(1 - rows[0][14] / 0.1, 5);
      expect(chunk.actions[0]).toBeCloseTo(rows[0][0] - state[0], 5);
      fromPolicyActions(GENIE1, chunk, state).forEach((r, h) =>
        r.forEach((v, i) => expect(v).toBeCloseTo(rows[h][i], 5)),
      );
    }
  });

  it('its safety layer never exceeds its limits under random garbage', () => {
    for (let seed = 0; seed < 400; seed++) fuzzSafetyLayer(GENIE1, { ticks: 50, seed });
  });
});
