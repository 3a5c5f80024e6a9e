// rgbToPlanar against a plain-TS reference: the layout change (HWC → CHW), the widening of bytes and
// the box means, on awkward sizes (odd widths, boxes that leave remainder rows and columns, a batch
// whose byte count is not a multiple of 4), plus its refusals.
import { describe, expect, it } from 'vitest';
import './setup.js';
import * as T from '../src/index.js';

/** Reference: mean of each box of bytes, planar output, float64. */
function reference(bytes: Uint8Array, n: number, h: number, w: number, box: number): Float64Array {
  const oh = Math.floor(h / box);
  const ow = Math.floor(w / box);
  const out = new Float64Array(n * 3 * oh * ow);
  for (let b = 0; b < n; b++)
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < oh; y++)
        for (let x = 0; x < ow; x++) {
          let s = 0;
          for (let dy = 0; dy < box; dy++)
            for (let dx = 0; dx < box; dx++) s += bytes[((b * h + y * box + dy) * w + x * box + dx) * 3 + c];
          out[((b * 3 + c) * oh + y) * ow + x] = s / (box * box);
        }
  return out;
}

describe('rgbToPlanar', () => {
  it.each([
    [1, 3, 5, 1],
    [3, 7, 11, 1],
    [2, 13, 9, 3],
    [3, 20, 31, 4],
    [1, 8, 8, 8],
  ])('[%i, %i, %i, 3] with box %i matches the reference', async (n, h, w, box) => {
    let seed = n * 1000 + h * 31 + w;
    const bytes = Uint8Array.from({ length: n * h * w * 3 }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
    const x = T.tensor(bytes, [n, h, w, 3], 'u8');
    const y = T.rgbToPlanar(x, { box });
    expect(y.shape).toEqual([n, 3, Math.floor(h / box), Math.floor(w / box)]);
    expect(y.dtype).toBe('f32');
    const got = await y.toArray();
    const want = reference(bytes, n, h, w, box);
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 3);
    x.dispose();
    y.dispose();
  });

  it('refuses what is not RGB8 frames, and boxes larger than the frame', () => {
    const f = T.zeros([1, 4, 4, 3]);
    expect(() => T.rgbToPlanar(f)).toThrow(/rgbToPlanar: expected u8 \[N, H, W, 3\], got.*f32/);
    const g = T.tensor(new Uint8Array(32), [1, 4, 2, 4], 'u8');
    expect(() => T.rgbToPlanar(g)).toThrow(/expected u8 \[N, H, W, 3\]/);
    const x = T.tensor(new Uint8Array(48), [1, 4, 4, 3], 'u8');
    expect(() => T.rgbToPlanar(x, { box: 5 })).toThrow(/box 5 is larger than the 4x4 frames/);
    expect(() => T.rgbToPlanar(x, { box: 0 })).toThrow(/box/);
    for (const t of [f, g, x]) t.dispose();
  });
});
