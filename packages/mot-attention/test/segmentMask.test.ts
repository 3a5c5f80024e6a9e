import { describe, expect, it } from 'vitest';
import { segmentMask } from '../src/segmentMask.js';
import { rng } from './random.js';

// Direct statement of the rule: query i sees key j iff sum(ar[0..j]) <= sum(ar[0..i]) and both valid.
function direct(ar: number[], valid: number[], i: number, j: number): number {
  let ci = 0;
  let cj = 0;
  for (let k = 0; k <= i; k++) ci += ar[k];
  for (let k = 0; k <= j; k++) cj += ar[k];
  return cj <= ci && valid[i] && valid[j] ? 1 : 0;
}

describe('segmentMask', () => {
  it('matches the cumulative rule on random ar/valid vectors (property test)', () => {
    const r = rng(7);
    for (let trial = 0; trial < 40; trial++) {
      const S = 1 + Math.floor(r() * 23);
      const B = 1 + Math.floor(r() * 3);
      const perSampleAr = r() < 0.5;
      const ars = Array.from({ length: B }, () => Array.from({ length: S }, () => (r() < 0.3 ? 1 : 0)));
      const valids = Array.from({ length: B }, () => Array.from({ length: S }, () => (r() < 0.8 ? 1 : 0)));
      const q0 = Math.floor(r() * S);
      const q1 = q0 + Math.floor(r() * (S - q0 + 1));
      const m = segmentMask({ ar: perSampleAr ? ars : ars[0], valid: valids, queries: [q0, q1] });
      expect([m.batch, m.queries, m.keys, m.queryStart]).toEqual([B, q1 - q0, q1, q0]);
      for (let b = 0; b < B; b++) {
        const ar = perSampleAr ? ars[b] : ars[0];
        for (let i = q0; i < q1; i++) {
          for (let j = 0; j < q1; j++) {
            expect(m.allowed[(b * (q1 - q0) + i - q0) * q1 + j], `trial ${trial} b ${b} i ${i} j ${j}`).toBe(
              direct(ar, valids[b], i, j),
            );
          }
        }
      }
    }
  });

  it('gives the InternVLA-A1 block structure (prefix | generation | state | actions)', () => {
    // prefix 3 (last is padding), generation 2, state 1, actions 2
    const ar = [0, 0, 0, 1, 0, 1, 1, 0];
    const valid = [1, 1, 0, 1, 1, 1, 1, 1];
    const m = segmentMask({ ar, valid: [valid] });
    const rows = Array.from({ length: 8 }, (_, i) =>
      Array.from(m.allowed.subarray(i * 8, i * 8 + 8)).join(''),
    );
    expect(rows).toEqual([
      '11000000', // prefix sees the valid prefix only
      '11000000',
      '00000000', // padding query sees nothing
      '11011000', // generation: prefix + itself
      '11011000',
      '11011100', // state: prefix + generation + itself
      '11011111', // actions: everything, bidirectional among themselves
      '11011111',
    ]);
  });

  it('accepts booleans, a batch size and rejects mismatched inputs', () => {
    const m = segmentMask({ ar: [true, false, true], batch: 2 });
    expect(m.batch).toBe(2);
    expect(Array.from(m.allowed.subarray(0, 9))).toEqual([1, 1, 0, 1, 1, 0, 1, 1, 1]);
    expect(Array.from(m.allowed.subarray(9))).toEqual(Array.from(m.allowed.subarray(0, 9)));
    expect(() => segmentMask({ ar: [0, 1], valid: [[1, 1, 1]] })).toThrow(
      /valid of sample 0 has length 3, expected 2/,
    );
    expect(() =>
      segmentMask({
        ar: [
          [0, 1],
          [0, 1],
        ],
        valid: [[1, 1]],
      }),
    ).toThrow(/2 ar vectors but 1 valid/);
    expect(() => segmentMask({ ar: [0, 1], queries: [1, 3] })).toThrow(/query range \[1, 3\)/);
    expect(() => segmentMask({ ar: [0, 1], valid: [[1, 1]], batch: 3 })).toThrow(/batch 3/);
  });
});
