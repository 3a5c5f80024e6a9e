// The host image processor against numbers from torch/torchvision run as transformers 4.57's
// Qwen2VLImageProcessorFast does (resize bicubic antialias on float CHW, normalize, patchify); see
// fixtures/README.md.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  preprocessQwen3VLImage,
  QWEN3_VL_2B_IMAGE_PROCESSOR,
  resampleAntialiased,
  smartResize,
} from '../src/index.js';

interface ProcessorCase {
  seed: number;
  height: number;
  width: number;
  gridThw: [number, number, number];
  rows: number;
  cols: number;
  index: number[];
  values: number[];
  sum: number;
  absSum: number;
}
interface ResampleCase {
  seed: number;
  planes: number;
  inH: number;
  inW: number;
  outH: number;
  outW: number;
  bilinearAa: number[];
  bicubicAa: number[];
}
const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/imageProcessor.json', import.meta.url), 'utf8'),
) as {
  processor: ProcessorCase[];
  resample: ResampleCase[];
};

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

describe('resampleAntialiased vs torch F.interpolate(antialias=True)', () => {
  for (const c of fixture.resample) {
    for (const filter of ['bilinear', 'bicubic'] as const) {
      it(`${filter} ${c.inH}x${c.inW} → ${c.outH}x${c.outW}`, () => {
        const src = hashImage(c.planes * c.inH * c.inW, c.seed);
        const y = resampleAntialiased(src, c.planes, c.inH, c.inW, c.outH, c.outW, filter);
        const ref = filter === 'bilinear' ? c.bilinearAa : c.bicubicAa;
        expect(y.length).toBe(ref.length);
        expect(maxAbs(y, ref)).toBeLessThan(2e-6);
      });
    }
  }

  it('rejects sizes and buffers that do not match', () => {
    expect(() => resampleAntialiased(new Float32Array(5), 1, 2, 3, 4, 4, 'bicubic')).toThrow(
      /5 values, expected 1x2x3/,
    );
    expect(() => resampleAntialiased(new Float32Array(6), 1, 2, 3, 0, 4, 'bicubic')).toThrow(
      /outH must be a positive integer/,
    );
  });
});

describe('preprocessQwen3VLImage vs the transformers fast processor', () => {
  for (const c of fixture.processor) {
    it(`${c.height}x${c.width} → grid ${c.gridThw.join('x')}`, () => {
      const img = hashImage(3 * c.height * c.width, c.seed);
      const { pixelValues, gridThw } = preprocessQwen3VLImage(img, 3, c.height, c.width);
      expect(gridThw).toEqual(c.gridThw);
      expect(pixelValues.length).toBe(c.rows * c.cols);
      expect(c.cols).toBe(3 * 2 * 16 * 16);
      expect(
        maxAbs(
          Float32Array.from(c.index, (i) => pixelValues[i]),
          c.values,
        ),
      ).toBeLessThan(1e-5);
      let sum = 0;
      let absSum = 0;
      for (const v of pixelValues) {
        sum += v;
        absSum += Math.abs(v);
      }
      expect(Math.abs(sum - c.sum) / c.absSum).toBeLessThan(1e-6);
      expect(Math.abs(absSum - c.absSum) / c.absSum).toBeLessThan(1e-6);
    });
  }

  it('patches follow (block row, block col, row, col, channel, time, y, x) with the frame repeated in time', () => {
    // 64x96 needs no resize with these bounds, so the output is a pure reordering of (x - 0.5) / 0.5.
    const [h, w] = [64, 96];
    const img = hashImage(3 * h * w, 9);
    const config = { ...QWEN3_VL_2B_IMAGE_PROCESSOR, minPixels: 1024 };
    expect(smartResize(h, w, { minPixels: 1024 })).toEqual([h, w]);
    const { pixelValues, gridThw } = preprocessQwen3VLImage(img, 3, h, w, config);
    expect(gridThw).toEqual([1, 4, 6]);
    const row = 3 * 2 * 16 * 16;
    for (let n = 0; n < 24; n++) {
      const bh = Math.floor(n / 12);
      const bw = Math.floor((n % 12) / 4);
      const y0 = (bh * 2 + Math.floor((n % 4) / 2)) * 16;
      const x0 = (bw * 2 + (n % 2)) * 16;
      for (let k = 0; k < row; k += 37) {
        const [c, py, px] = [Math.floor(k / 512), Math.floor(k / 16) % 16, k % 16];
        const expected = (img[(c * h + y0 + py) * w + x0 + px] - 0.5) / 0.5;
        expect(pixelValues[n * row + k]).toBeCloseTo(expected, 6);
        // The other temporal slot of the same (channel, y, x) holds the same pixel.
        expect(pixelValues[n * row + (k ^ 256)]).toBe(pixelValues[n * row + k]);
      }
    }
  });

  it('names what is wrong with bad input', () => {
    expect(() => preprocessQwen3VLImage(new Float32Array(10), 3, 4, 4)).toThrow(
      /10 values, expected \[3, 4, 4\]/,
    );
    expect(() => preprocessQwen3VLImage(new Float32Array(16), 1, 4, 4)).toThrow(
      /1 channels but mean\/std have 3\/3/,
    );
    expect(() => preprocessQwen3VLImage(new Float32Array(3 * 2 * 500), 3, 2, 500)).toThrow(/aspect ratio/);
  });
});
