import { describe, expect, it } from 'vitest';
import { mropeMaxPosition, mropePositions, sliceMropeIds } from '../src/mropePositions.js';

const rows = (ids: Int32Array[]) => ids.map((r) => Array.from(r));

describe('mropePositions', () => {
  it('matches a hand-worked example: text, a 2x3 image, text, a 1x2 image, text', () => {
    // tokens: T0 <vs> [2x3 image] <ve> T1 <vs> [1x2 image] <ve> T2 T3
    const ids = mropePositions([
      { kind: 'text', length: 2 }, // T0 at 0, <vs> at 1
      { kind: 'image', grid: [1, 2, 3] }, // st = 2: t = 2, h = 2 + row, w = 2 + col; max 4
      { kind: 'text', length: 3 }, // <ve> 5, T1 6, <vs> 7
      { kind: 'image', grid: [1, 1, 2] }, // st = 8: t 8, h 8, w 8..9
      { kind: 'text', length: 3 }, // <ve> 10, T2 11, T3 12
    ]);
    expect(rows(ids)).toEqual([
      [0, 1, 2, 2, 2, 2, 2, 2, 5, 6, 7, 8, 8, 10, 11, 12],
      [0, 1, 2, 2, 2, 3, 3, 3, 5, 6, 7, 8, 8, 10, 11, 12],
      [0, 1, 2, 3, 4, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
    ]);
    expect(mropeMaxPosition(ids)).toBe(12);
    expect(rows(sliceMropeIds(ids, 13, 16))).toEqual([
      [10, 11, 12],
      [10, 11, 12],
      [10, 11, 12],
    ]);
  });

  it('uses the temporal index for multi-frame grids and the largest extent for the next start', () => {
    const ids = mropePositions([
      { kind: 'image', grid: [2, 1, 3] },
      { kind: 'text', length: 1 },
    ]);
    expect(rows(ids)).toEqual([
      [0, 0, 0, 1, 1, 1, 3],
      [0, 0, 0, 0, 0, 0, 3],
      [0, 1, 2, 0, 1, 2, 3],
    ]);
  });

  it('skips padding (it gets padPosition) and a fully padded image', () => {
    const ids = mropePositions(
      [
        { kind: 'text', length: 1 },
        { kind: 'image', grid: [1, 2, 2] }, // missing camera
        { kind: 'text', length: 4 }, // 2nd token padding
      ],
      { valid: [1, 0, 0, 0, 0, 1, 0, 1, 1] },
    );
    expect(rows(ids)).toEqual([
      [0, 1, 1, 1, 1, 1, 1, 2, 3],
      [0, 1, 1, 1, 1, 1, 1, 2, 3],
      [0, 1, 1, 1, 1, 1, 1, 2, 3],
    ]);
    expect(mropeMaxPosition(ids, [1, 0, 0, 0, 0, 1, 0, 1, 1])).toBe(3);
    expect(() => mropePositions([{ kind: 'image', grid: [1, 1, 2] }], { valid: [1, 0] })).toThrow(
      /partly padding/,
    );
    expect(() => mropePositions([{ kind: 'text', length: 2 }], { valid: [1] })).toThrow(/valid has length 1/);
  });
});
