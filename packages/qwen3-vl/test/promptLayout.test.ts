import { describe, expect, it } from 'vitest';
import { buildPrefixLayout, prefixPositions, prefixSegments, QWEN3_PAD_ID, QWEN3_SPECIAL_IDS as S } from '../src/index.js';

// HF `get_rope_index` (images only) ported literally, as an independent reference: positions over
// the valid tokens, padding at 1.
function hfRopeIndex(ids: number[], valid: number[], gh: number, gw: number): number[][] {
  const pos = [ids.map(() => 1), ids.map(() => 1), ids.map(() => 1)];
  const tokens = ids.filter((_, i) => valid[i]);
  const starts = tokens.map((t, i) => (t === S.visionStart ? i : -1)).filter((i) => i >= 0);
  const images = starts.filter((i) => tokens[i + 1] === S.imagePad).length;
  const list: number[][][] = [];
  const lastMax = () => (list.length ? Math.max(...list[list.length - 1].flat()) + 1 : 0);
  let st = 0;
  for (let n = 0; n < images; n++) {
    const ed = tokens.indexOf(S.imagePad, st);
    const textLen = ed - st;
    const stIdx = lastMax();
    list.push([0, 1, 2].map(() => Array.from({ length: textLen }, (_, i) => i + stIdx)));
    const t: number[] = [];
    const h: number[] = [];
    const w: number[] = [];
    for (let r = 0; r < gh; r++)
      for (let c = 0; c < gw; c++) {
        t.push(textLen + stIdx);
        h.push(r + textLen + stIdx);
        w.push(c + textLen + stIdx);
      }
    list.push([t, h, w]);
    st = ed + gh * gw;
  }
  if (st < tokens.length) {
    const stIdx = lastMax();
    list.push([0, 1, 2].map(() => Array.from({ length: tokens.length - st }, (_, i) => i + stIdx)));
  }
  const flat = [0, 1, 2].map((a) => list.flatMap((seg) => seg[a]));
  let k = 0;
  ids.forEach((_, i) => {
    if (!valid[i]) return;
    for (let a = 0; a < 3; a++) pos[a][i] = flat[a][k];
    k++;
  });
  return pos;
}

describe('prefix layout (SPEC §1: 3 x (1 + 64 + 1) + 48 = 246)', () => {
  const text = [29245, 705, 279, 2518, 23739];

  it('lays out three views and right-padded text', () => {
    const p = buildPrefixLayout(text, [true, true, true]);
    expect(p.ids.length).toBe(246);
    expect(p.imageStart).toEqual([1, 67, 133]);
    expect(p.textStart).toBe(198);
    for (const v of [0, 1, 2]) {
      expect(p.ids[66 * v]).toBe(S.visionStart);
      expect(p.ids[66 * v + 65]).toBe(S.visionEnd);
      for (let i = 1; i <= 64; i++) expect(p.ids[66 * v + i]).toBe(S.imagePad);
    }
    expect([...p.ids.slice(198, 203)]).toEqual(text);
    expect([...p.ids.slice(203)].every((id) => id === QWEN3_PAD_ID)).toBe(true);
    expect(p.valid.reduce((a, b) => a + b, 0)).toBe(198 + 5);
    expect(p.ar.every((x) => x === 0)).toBe(true);
    expect(p.isImage.reduce((a, b) => a + b, 0)).toBe(192);
    expect(p.textLength).toBe(5);
  });

  it('marks every token of a missing camera as padding and truncates long text', () => {
    const long = Array.from({ length: 60 }, (_, i) => 1000 + i);
    const p = buildPrefixLayout(long, [true, false, true]);
    expect(p.ids.length).toBe(246);
    expect([...p.valid.slice(66, 132)].every((v) => v === 0)).toBe(true);
    expect([...p.valid.slice(0, 66)].every((v) => v === 1)).toBe(true);
    expect(p.ids[66]).toBe(S.visionStart);
    expect([...p.ids.slice(198)]).toEqual(long.slice(0, 48));
    expect(p.textLength).toBe(48);
    expect(p.valid.reduce((a, b) => a + b, 0)).toBe(132 + 48);
  });

  it('custom sizes and bad input', () => {
    const p = buildPrefixLayout([1, 2], [true], { imageTokens: 4, maxTextTokens: 3 });
    expect([...p.ids]).toEqual([S.visionStart, S.imagePad, S.imagePad, S.imagePad, S.imagePad, S.visionEnd, 1, 2, QWEN3_PAD_ID]);
    expect(() => buildPrefixLayout([1], [])).toThrow(/at least one camera/);
    expect(() => buildPrefixLayout([-3], [true])).toThrow(/invalid text token id -3/);
  });

  it('M-RoPE positions follow HF get_rope_index, with and without missing cameras', () => {
    for (const cams of [
      [true, true, true],
      [true, false, true],
      [false, false, true],
    ]) {
      const p = buildPrefixLayout(text, cams);
      const got = prefixPositions(p, { h: 8, w: 8 });
      const ref = hfRopeIndex([...p.ids], [...p.valid], 8, 8);
      expect(got.map((row) => [...row])).toEqual(ref);
    }
    // Spot values for the full prefix: <vs>=0, image at 1 + (0, r, c), <ve>=9, next <vs>=10, image at 11.
    const p = buildPrefixLayout(text, [true, true, true]);
    const [t, h, w] = prefixPositions(p, { h: 8, w: 8 });
    expect([t[0], t[1], h[1 + 8 * 3 + 5], w[1 + 8 * 3 + 5], t[65], t[66], t[67]]).toEqual([0, 1, 4, 6, 9, 10, 11]);
    // Three images (10 ids each: start, 8x8 grid spanning 8, end) then 5 text tokens: 30 + 5 - 1.
    expect(Math.max(...t.filter((_, i) => p.valid[i]))).toBe(34);
    expect(t[245]).toBe(1);
    expect(prefixSegments(p, { h: 8, w: 8 }).length).toBe(10);
    expect(() => prefixSegments(p, { h: 4, w: 4 })).toThrow(/does not match/);
  });
});
