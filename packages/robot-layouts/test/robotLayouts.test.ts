import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import {
  CAMERA_SLOTS,
  ROBOT_LAYOUTS,
  assertDeltaMask,
  makeBoolMask,
  robotLayoutOf,
  robotTypesOf,
  type CameraSlot,
} from '../src/index';

interface UpstreamEntry {
  deltaMask: boolean[];
  stateKeys: string[];
  actionKeys: string[];
  images: Record<string, string>;
}

// Upstream's own tables, dumped by running its module (see fixtures/README.md).
const upstream = JSON.parse(
  readFileSync(new URL('./fixtures/upstream-layouts.json', import.meta.url), 'utf8'),
) as Record<string, UpstreamEntry>;

const SLOT_OF_IMAGE: Record<string, CameraSlot> = {
  'observation.images.image0': 'head',
  'observation.images.image1': 'hand_left',
  'observation.images.image2': 'hand_right',
};

describe('makeBoolMask', () => {
  test('positive runs are true, negative runs false, zero adds nothing', () => {
    expect(makeBoolMask(2, -2, 2)).toEqual([true, true, false, false, true, true]);
    expect(makeBoolMask(2, 0, 2)).toEqual([true, true, true, true]);
    expect(makeBoolMask()).toEqual([]);
  });

  test('random runs: length is the sum of |runs|, each run keeps its sign', () => {
    for (let trial = 0; trial < 50; trial++) {
      const runs = Array.from({ length: 1 + Math.floor(Math.random() * 6) }, () =>
        Math.round((Math.random() - 0.5) * 20),
      );
      const mask = makeBoolMask(...runs);
      expect(mask.length).toBe(runs.reduce((a, r) => a + Math.abs(r), 0));
      let o = 0;
      for (const r of runs) {
        for (let i = 0; i < Math.abs(r); i++) expect(mask[o + i]).toBe(r > 0);
        o += Math.abs(r);
      }
    }
  });

  test('a fractional run is an error naming it', () => {
    expect(() => makeBoolMask(6, -1.5)).toThrow(/run length -1.5 is not an integer/);
  });
});

describe('ROBOT_LAYOUTS against upstream tables', () => {
  test('exactly upstream spellings, no more, no fewer', () => {
    expect(ROBOT_LAYOUTS.map((l) => l.robotType).sort()).toEqual(Object.keys(upstream).sort());
  });

  test.each(Object.keys(upstream))('%s: delta mask, state/action keys and cameras', (robotType) => {
    const u = upstream[robotType];
    const l = robotLayoutOf(robotType)!;
    expect(l.robotType).toBe(robotType);
    expect([...l.deltaMask]).toEqual(u.deltaMask);
    expect(makeBoolMask(...l.maskRuns)).toEqual(u.deltaMask);
    expect([...l.stateKeys]).toEqual(u.stateKeys);
    expect([...l.actionKeys]).toEqual(u.actionKeys);
    const cams: Partial<Record<CameraSlot, string>> = {};
    for (const [src, dst] of Object.entries(u.images)) cams[SLOT_OF_IMAGE[dst]] = src;
    expect({ ...l.cameras }).toEqual(cams);
  });

  test('camera slots are the model order', () => {
    expect(CAMERA_SLOTS).toEqual(['head', 'hand_left', 'hand_right']);
  });

  test('layouts are frozen', () => {
    const l = ROBOT_LAYOUTS[0];
    expect(() => ((l.deltaMask as boolean[])[0] = !l.deltaMask[0])).toThrow();
  });
});

describe('robotLayoutOf', () => {
  test('exact spellings win; case and punctuation are otherwise ignored', () => {
    expect(robotLayoutOf('Franka')!.robotType).toBe('Franka');
    expect(robotLayoutOf('franka')!.robotType).toBe('franka');
    expect(robotLayoutOf('arx-lift-2')!.robot).toBe('ARX Lift-2');
    expect(robotLayoutOf('GENIE_1')!.robot).toBe('Genie-1');
    expect(robotLayoutOf('agilex split aloha')!.robot).toBe('AgileX Split Aloha');
  });

  test('unknown or empty robot types have no layout', () => {
    expect(robotLayoutOf('so101_follower')).toBeUndefined();
    expect(robotLayoutOf('')).toBeUndefined();
    expect(robotLayoutOf(null)).toBeUndefined();
  });

  test('spellings that meet when squashed agree on mask and keys', () => {
    const squash = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
    for (const a of ROBOT_LAYOUTS) {
      for (const b of ROBOT_LAYOUTS) {
        if (a === b || squash(a.robotType) !== squash(b.robotType)) continue;
        expect([a.deltaMask, a.stateKeys, a.actionKeys]).toEqual([b.deltaMask, b.stateKeys, b.actionKeys]);
      }
    }
  });

  test('robotTypesOf lists every spelling of a robot', () => {
    expect(robotTypesOf('ARX Lift-2')).toEqual(['ARX Lift-2', 'arx_lift2']);
    expect(robotTypesOf('Genie-1')).toEqual(['Genie-1', 'genie1', 'a2d']);
  });
});

describe('assertDeltaMask', () => {
  const lift2 = makeBoolMask(6, -1, 6, -1);
  test('accepts the upstream mask', () => {
    expect(() => assertDeltaMask('ARX Lift-2', lift2)).not.toThrow();
  });
  test('names the first differing dim', () => {
    const bad = [...lift2];
    bad[13] = true;
    expect(() => assertDeltaMask('ARX Lift-2', bad)).toThrow(
      /"ARX Lift-2" dim 13 is delta, upstream's mask says absolute/,
    );
  });
  test('names a width mismatch and an unknown robot type', () => {
    expect(() => assertDeltaMask('Genie-1', lift2)).toThrow(/has 14 dims, upstream's has 16/);
    expect(() => assertDeltaMask('nope', lift2)).toThrow(/no layout for robot_type "nope"/);
  });
});
