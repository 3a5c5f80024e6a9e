import { describe, expect, it } from 'vitest';
import { mropePositions } from '@vla/qwen3-vl';
import { internvlaLayout, internvlaValid } from '../src/layout.js';

describe('internvlaLayout', () => {
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
