import { describe, expect, it } from 'vitest';
import { mropeMaxPosition, mropePositions, sliceMropeIds } from '../src/mropePositions.js';
import { internvlaLayout, internvlaValid } from '../src/internvlaLayout.js';

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

  it('gives the 3B layout: views at 10k.., text from 30, everything after continues 1-D', () => {
    const layout = internvlaLayout();
    expect([
      layout.prefix.end,
      layout.generation.end - layout.generation.start,
      layout.suffix.end - layout.suffix.start,
    ]).toEqual([246, 96, 51]);
    const ids = mropePositions(layout.rope);
    // view 1: <vision_start> at 10, image (11, 11 + row, 11 + col), <vision_end> at 19
    expect([ids[0][66], ids[1][66], ids[2][66]]).toEqual([10, 10, 10]);
    const tok = (row: number, col: number) => 67 + row * 8 + col;
    expect([ids[0][tok(3, 5)], ids[1][tok(3, 5)], ids[2][tok(3, 5)]]).toEqual([11, 14, 16]);
    expect([ids[0][131], ids[1][131], ids[2][131]]).toEqual([19, 19, 19]);
    expect(ids[0][layout.text.start]).toBe(30);
    expect(ids[1][layout.generation.start]).toBe(78);
    expect(ids[2][layout.actions.end - 1]).toBe(78 + 96 + 51 - 1);
  });
});

describe('internvlaLayout', () => {
  it('builds ar flags and ranges, also without a generation expert', () => {
    const l = internvlaLayout({
      views: 2,
      imageGrid: [1, 2],
      textTokens: 2,
      generationTokens: 4,
      actionTokens: 3,
    });
    expect(Array.from(l.ar)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0]);
    expect([l.text, l.generation, l.state, l.actions]).toEqual([
      { start: 8, end: 10 },
      { start: 10, end: 14 },
      { start: 14, end: 15 },
      { start: 15, end: 18 },
    ]);
    const valid = internvlaValid(l, { views: [true, false], text: [1, 0] });
    expect(Array.from(valid)).toEqual([1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1]);
    const ablation = internvlaLayout({
      views: 1,
      imageGrid: [1, 1],
      textTokens: 1,
      generationTokens: 0,
      actionTokens: 2,
    });
    expect(Array.from(ablation.ar)).toEqual([0, 0, 0, 0, 1, 1, 0]);
    expect(() => internvlaValid(l, { views: [true], text: [1, 1] })).toThrow(/1 view flags for 2 views/);
    expect(() => internvlaLayout({ textTokens: -1 })).toThrow(/textTokens/);
  });
});
