import { describe, expect, it } from 'vitest';
import { tensor } from '@vla/tensor-webgpu';
import { haarPatch, haarUnpatch } from '../src/index.js';
import { eng } from './setup.js';
import { arr, haarRef, inverseHaarRef, maxAbsDiff, randomArray } from './reference.js';

describe('Haar patcher', () => {
  it('matches the SPEC formulas (float64 reference) forward and inverse, 1-3 levels, awkward shapes', async () => {
    const start = eng.poolStats().inUseBytes;
    const cases: [number, number, number, number, number][] = [
      [2, 3, 16, 24, 2],
      [1, 3, 8, 4, 1],
      [1, 2, 8, 24, 3],
    ];
    for (const [n, c, h, w, levels] of cases) {
      const host = randomArray(n * c * h * w, 1000 + h * w + levels);
      let ref = arr(host, [n, c, h, w]);
      for (let l = 0; l < levels; l++) ref = haarRef(ref);
      const x = tensor(host, [n, c, h, w]);
      const y = haarPatch(x, levels);
      expect(y.shape).toEqual(ref.shape);
      const gpu = await y.toArray();
      expect(maxAbsDiff(gpu, ref.data)).toBeLessThanOrEqual(1e-6);

      // Inverse from random subbands (not only from a forward result): GPU vs reference.
      const sub = randomArray(y.size, 77 + levels);
      let inv = arr(sub, [...y.shape]);
      for (let l = 0; l < levels; l++) inv = inverseHaarRef(inv);
      const subT = tensor(sub, [...y.shape]);
      const back = haarUnpatch(subT, levels);
      expect(back.shape).toEqual([n, c, h, w]);
      expect(maxAbsDiff(await back.toArray(), inv.data)).toBeLessThanOrEqual(1e-5);

      // Round trip.
      const round = haarUnpatch(y, levels);
      expect(maxAbsDiff(await round.toArray(), host)).toBeLessThanOrEqual(1e-5);
      for (const t of [x, y, subT, back, round]) t.dispose();
    }
    expect(eng.poolStats().inUseBytes).toBe(start);
  });

  it('maps 3x256² to 48x64² with subband-major channels', async () => {
    // A constant image has only LL energy: channel block 0 (LL of LL) holds it, the rest is 0.
    const x = tensor(new Float32Array(3 * 256 * 256).fill(0.5), [1, 3, 256, 256]);
    const y = haarPatch(x, 2);
    expect(y.shape).toEqual([1, 48, 64, 64]);
    const v = await y.toArray();
    const plane = 64 * 64;
    for (let ch = 0; ch < 48; ch++) {
      const expected = ch < 3 ? 0.5 : 0;
      expect(Math.abs(v[ch * plane + 123] - expected)).toBeLessThan(1e-7);
    }
    x.dispose();
    y.dispose();
  });

  it('rejects sizes that do not divide', () => {
    const x = tensor(new Float32Array(3 * 6 * 8), [1, 3, 6, 8]);
    expect(() => haarPatch(x, 2)).toThrow(/divisible by 4/);
    expect(() => haarUnpatch(x, 1)).toThrow(/channels 3 not divisible/);
    x.dispose();
  });
});
