import { describe, expect, it } from 'vitest';
import { mergeBlockOrder, posEmbedInterpolation, smartResize, visionRotaryAngles } from '../src/index.js';

describe('vision position tables', () => {
  it('smart-resizes like the Qwen3-VL processor (224² → 256²)', () => {
    expect(smartResize(224, 224)).toEqual([256, 256]);
    expect(smartResize(256, 256)).toEqual([256, 256]);
    expect(smartResize(480, 640)).toEqual([480, 640]);
    expect(smartResize(100, 300)).toEqual([160, 448]);
    expect(() => smartResize(1, 500)).toThrow(/aspect ratio/);
  });

  it('orders tokens by 2x2 merge block', () => {
    const { row, col } = mergeBlockOrder(4, 6, 2);
    expect([...row.slice(0, 8)]).toEqual([0, 0, 1, 1, 0, 0, 1, 1]);
    expect([...col.slice(0, 8)]).toEqual([0, 1, 0, 1, 2, 3, 2, 3]);
    expect(row[12]).toBe(2);
    expect(() => mergeBlockOrder(3, 4, 2)).toThrow(/not divisible/);
  });

  it('interpolates the learned grid bilinearly (exact on a linear function)', () => {
    // Grid values f(r, c) = 3r - 2c + 1; bilinear interpolation reproduces f at the sample points.
    const side = 6;
    const f = (r: number, c: number) => 3 * r - 2 * c + 1;
    const grid = Float64Array.from({ length: side * side }, (_, i) => f(Math.floor(i / side), i % side));
    const gh = 4;
    const gw = 10;
    const interp = posEmbedInterpolation(side, gh, gw, 2);
    const { row, col } = mergeBlockOrder(gh, gw, 2);
    for (let s = 0; s < gh * gw; s++) {
      let v = 0;
      let wsum = 0;
      for (let k = 0; k < 4; k++) {
        v += grid[interp.index[k][s]] * interp.weight[k][s];
        wsum += interp.weight[k][s];
      }
      const y = (row[s] * (side - 1)) / (gh - 1);
      const x = (col[s] * (side - 1)) / (gw - 1);
      expect(v).toBeCloseTo(f(y, x), 5);
      expect(wsum).toBeCloseTo(1, 6);
    }
    // Same grid size: the identity lookup.
    const same = posEmbedInterpolation(4, 4, 4, 2);
    const order = mergeBlockOrder(4, 4, 2);
    for (let s = 0; s < 16; s++) {
      expect(same.index[0][s]).toBe(order.row[s] * 4 + order.col[s]);
      expect(same.weight[0][s]).toBeCloseTo(1, 6);
    }
  });

  it('2-D rotary angles: row frequencies then column frequencies', () => {
    const a = visionRotaryAngles(2, 4, 2, 8, 10000);
    // head_dim 8 → 4 angles per token: row·[1, 1e-2], col·[1, 1e-2].
    const { row, col } = mergeBlockOrder(2, 4, 2);
    for (let s = 0; s < 8; s++) {
      expect([...a.slice(4 * s, 4 * s + 4)]).toEqual([row[s], row[s] * 0.01, col[s], col[s] * 0.01]);
    }
  });
});
