// resizeWithPadPlanar: 'upstream' against upstream's own resize_with_pad run in torch (fixtures/README.md),
// 'antialiased' against this package's uint8 resizeWithPad.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LeRobotError, resizeWithPad, resizeWithPadPlanar, upstreamPadLayout } from '../src/index';

interface Case {
  seed: number;
  height: number;
  width: number;
  dstH: number;
  dstW: number;
  scaleShift?: [number, number];
  values: number[];
}
const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/upstreamResizeWithPad.json', import.meta.url), 'utf8'),
) as { cases: Case[] };

/** Pixels in [0, 1) from an integer hash, computed identically by the fixture generator. */
function hashImage(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let h = (Math.imul(i, 2654435761) + Math.imul(seed, 97531)) >>> 0;
    h = (h ^ (h >>> 15)) >>> 0;
    h = Math.imul(h, 0x2c1b3c6d) >>> 0;
    h = (h ^ (h >>> 12)) >>> 0;
    out[i] = (h >>> 8) / 16777216;
  }
  return out;
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe("resizeWithPadPlanar 'upstream' vs upstream resize_with_pad (torch)", () => {
  for (const c of fixture.cases) {
    it(`3x${c.height}x${c.width} → ${c.dstH}x${c.dstW}${c.scaleShift ? ' (out-of-range input, clamped)' : ''}`, () => {
      let img = hashImage(3 * c.height * c.width, c.seed);
      if (c.scaleShift) {
        const [a, b] = c.scaleShift;
        img = img.map((v) => Math.fround(v * a) + b);
      }
      const y = resizeWithPadPlanar(img, 3, c.height, c.width, c.dstH, c.dstW, { method: 'upstream' });
      expect(y.length).toBe(c.values.length);
      // float32 rounding of torch's source coordinates moves a few outputs by ~5e-6.
      expect(maxAbs(y, c.values)).toBeLessThan(1e-5);
    });
  }

  it('places the image like upstream (round half to even, extra pad pixel at the bottom/right)', () => {
    expect(upstreamPadLayout(10, 4, 5, 5)).toEqual({ resizedHeight: 5, resizedWidth: 2, top: 0, left: 1 });
    // 5 x 0.5 = 2.5 rounds to 2 (half to even; half-up would give 3), 19 x 0.5 = 9.5 rounds to 10.
    expect(upstreamPadLayout(5, 10, 7, 5)).toEqual({ resizedHeight: 2, resizedWidth: 5, top: 2, left: 0 });
    expect(upstreamPadLayout(19, 40, 30, 20).resizedHeight).toBe(10);
    expect(upstreamPadLayout(480, 640, 224, 224)).toEqual({
      resizedHeight: 168,
      resizedWidth: 224,
      top: 28,
      left: 0,
    });
    expect(upstreamPadLayout(6, 14, 7, 7).resizedHeight).toBe(3);
  });

  it('returns an image already at the target size unchanged (no clamp, as upstream)', () => {
    const img = Float32Array.from([2, -1, 0.5, 0.25]);
    expect(Array.from(resizeWithPadPlanar(img, 1, 2, 2, 2, 2))).toEqual([2, -1, 0.5, 0.25]);
  });
});

describe("resizeWithPadPlanar 'antialiased' = the uint8 resizeWithPad on floats", () => {
  it('matches within uint8 rounding on a 3-channel image', () => {
    const [h, w, dh, dw] = [61, 83, 32, 40];
    const planar = hashImage(3 * h * w, 7).map((v) => Math.floor(v * 256) / 255);
    const hwc = new Uint8Array(h * w * 3);
    for (let c = 0; c < 3; c++)
      for (let i = 0; i < h * w; i++) hwc[i * 3 + c] = Math.round(planar[c * h * w + i] * 255);
    const ours = resizeWithPad(hwc, h, w, dh, dw);
    const y = resizeWithPadPlanar(planar, 3, h, w, dh, dw, { method: 'antialiased', padValue: 0 });
    const ref = new Float32Array(3 * dh * dw);
    for (let c = 0; c < 3; c++)
      for (let i = 0; i < dh * dw; i++) ref[c * dh * dw + i] = ours[i * 3 + c] / 255;
    expect(maxAbs(y, ref)).toBeLessThan(0.5 / 255 + 1e-6);
  });
});

describe('resizeWithPadPlanar input errors', () => {
  it('names what is wrong', () => {
    expect(() => resizeWithPadPlanar(new Float32Array(10), 3, 2, 2, 4, 4)).toThrow(
      /10 values, expected 3x2x2/,
    );
    expect(() => resizeWithPadPlanar(new Float32Array(12), 3, 2, 2, 0, 4)).toThrow(
      /dstH must be a positive integer, got 0/,
    );
    expect(() =>
      resizeWithPadPlanar(new Float32Array(12), 3, 2, 2, 4, 4, { method: 'nearest' as never }),
    ).toThrow(LeRobotError);
  });
});
