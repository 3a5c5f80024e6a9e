// cosmosTokenizerInput against upstream's get_cosmos_features preprocessing run in torch
// (F.interpolate bilinear, align_corners=False, no antialias, then ·2 − 1); see fixtures/README.md.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { noGrad, tensor } from '@vla/tensor-webgpu';
import { cosmosTokenizerInput } from '../src/index.js';
import { eng } from './setup.js';

interface Case {
  seed: number;
  n: number;
  height: number;
  width: number;
  size: number;
  values: number[];
}
const fixture = JSON.parse(readFileSync(new URL('./fixtures/cosmosInput.json', import.meta.url), 'utf8')) as {
  cases: Case[];
  default256: { seed: number; height: number; width: number; index: number[]; values: number[]; sum: number };
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

describe('cosmosTokenizerInput vs upstream (torch)', () => {
  for (const c of fixture.cases) {
    it(`${c.n}x3x${c.height}x${c.width} → ${c.size}x${c.size}`, async () => {
      const x = tensor(hashImage(c.n * 3 * c.height * c.width, c.seed), [c.n, 3, c.height, c.width]);
      const y = noGrad(() => cosmosTokenizerInput(x, { size: c.size }));
      expect(y.shape).toEqual([c.n, 3, c.size, c.size]);
      // The source coordinate is float32 in both; where it rounds differently the output moves by ~1e-5.
      expect(maxAbs(await y.toArray(), c.values)).toBeLessThan(3e-5);
      x.dispose();
      y.dispose();
    });
  }

  it('defaults to 256x256 and keeps leading dims (views, frames)', async () => {
    const start = eng.poolStats().inUseBytes;
    const c = fixture.default256;
    const x = tensor(hashImage(3 * c.height * c.width, c.seed), [1, 1, 3, c.height, c.width]);
    const y = noGrad(() => cosmosTokenizerInput(x));
    expect(y.shape).toEqual([1, 1, 3, 256, 256]);
    const host = await y.toArray();
    expect(
      maxAbs(
        Float32Array.from(c.index, (i) => host[i]),
        c.values,
      ),
    ).toBeLessThan(3e-5);
    let sum = 0;
    for (const v of host) sum += v;
    expect(Math.abs(sum - c.sum)).toBeLessThan(1e-2);
    x.dispose();
    y.dispose();
    expect(eng.poolStats().inUseBytes).toBe(start);
  });

  it('names what is wrong with bad input', () => {
    const x = tensor(new Float32Array(12), [3, 4]);
    expect(() => cosmosTokenizerInput(x)).toThrow(/expected images \[\.\.\., C, H, W\], got \[3, 4\]/);
    const y = tensor(new Float32Array(48), [3, 4, 4]);
    expect(() => cosmosTokenizerInput(y, { size: 0 })).toThrow(/size must be a positive integer, got 0/);
    x.dispose();
    y.dispose();
  });
});
