import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LeRobotDataset, NodeFileStorage, SampleBuilder } from '../src/index';
import { tempDir } from './helpers';
import { writeSynthetic, type SyntheticEpisode } from './synthetic';

// Upstream trains on chunks that run past the episode end with the index clamped to the last
// frame: the padded steps repeat the final pose. The loader must give exactly that.
describe('padded action steps carry the clamped final pose', () => {
  const tmp = tempDir();
  const lengths = [9, 4];
  const horizon = 6;
  let written: SyntheticEpisode[];
  let ds: LeRobotDataset;

  beforeAll(async () => {
    written = await writeSynthetic(join(tmp.dir, 'arm'), {
      fps: 10,
      robotType: 'Franka',
      numeric: {
        'states.joint.position': 7,
        'states.gripper.position': 1,
        'actions.joint.position': 7,
        'actions.gripper.position': 1,
      },
      cameras: [],
      height: 8,
      width: 8,
      episodes: lengths.map((length, i) => ({ length, task: `t${i}` })),
      seed: 3,
    });
    ds = await LeRobotDataset.open(new NodeFileStorage(join(tmp.dir, 'arm')));
  });
  afterAll(() => tmp.cleanup());

  const vec = (ep: SyntheticEpisode, pre: 'states' | 'actions', r: number) => [
    ...ep.values[`${pre}.joint.position`][r],
    ...ep.values[`${pre}.gripper.position`][r],
  ];

  test.each([true, false])(
    'deltaActions %s: every step of every frame, padded ones included',
    async (delta) => {
      const b = new SampleBuilder(ds, {
        actionOffsets: Array.from({ length: horizon }, (_, i) => i),
        deltaActions: delta,
        imageSize: 'native',
      });
      expect(b.mapping.deltaMask).toEqual([...Array(7).fill(true), false]);
      let index = 0;
      for (const ep of written) {
        for (let row = 0; row < ep.length; row++, index++) {
          const s = await b.get(index);
          const state = vec(ep, 'states', row);
          for (let k = 0; k < horizon; k++) {
            const last = row + k >= ep.length;
            expect(s.actionIsPad[k]).toBe(last ? 1 : 0);
            const a = vec(ep, 'actions', Math.min(row + k, ep.length - 1));
            const want = a.map((v, j) => (delta && j < 7 ? v - state[j] : v));
            const got = Array.from(s.actions.subarray(k * 32, k * 32 + 8));
            got.forEach((v, j) => expect(v).toBeCloseTo(want[j], 5));
            // Zero padding beyond the action width, padded step or not.
            expect(s.actions.subarray(k * 32 + 8, (k + 1) * 32).every((v) => v === 0)).toBe(true);
          }
        }
      }
    },
  );
});
