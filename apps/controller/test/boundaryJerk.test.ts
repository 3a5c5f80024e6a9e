// The jerk figure of the strategy comparison against a hand computation and a float64 reference.
import { describe, expect, it } from 'vitest';
import { boundaryJerk, latencyStats } from '../src/boundaryJerk.js';
import { rng } from '@vla/policy-runtime/testing';

describe('boundaryJerk', () => {
  it('a cubic has constant third difference 6a; a step at a boundary shows only in the stencils that straddle it', () => {
    // q = 0.01 t³ on one joint: Δ³q = 0.06 everywhere.
    const cubic = Array.from({ length: 12 }, (_, t) => [0.01 * t ** 3, 5]);
    const j = boundaryJerk(cubic, [0], [6]);
    expect(j.boundary).toBeCloseTo(0.06, 12);
    expect(j.elsewhere).toBeCloseTo(0.06, 12);
    // Stencils t = 2…10; those with t − 2 ≤ 6 ≤ t + 1 are t = 5…8.
    expect(j.boundaryCount).toBe(4);
    expect(j.elsewhereCount).toBe(5);
    // A jump of 1 at tick 6 on a still joint: Δ³q_t = q_{t+1} − 3q_t + 3q_{t−1} − q_{t−2} is 1, −2, 1
    // at t = 5, 6, 7 and 0 elsewhere.
    const step = Array.from({ length: 12 }, (_, t) => [t >= 6 ? 1 : 0]);
    const s = boundaryJerk(step, [0], [6, 7]);
    // t = 5…9 straddle 6 or 7: jerks 1, 2, 1, 0, 0.
    expect(s.boundaryCount).toBe(5);
    expect(s.boundary).toBeCloseTo(4 / 5, 12);
    expect(s.elsewhere).toBe(0);
  });

  it('matches a float64 reference on random positions over a subset of joints', () => {
    const r = rng(41);
    const n = 37;
    const q = Array.from({ length: n }, () => Array.from({ length: 5 }, () => r() * 2 - 1));
    const joints = [0, 2, 3];
    const b = [3, 11, 30];
    const got = boundaryJerk(q, joints, b);
    let sb = 0;
    let nb = 0;
    let se = 0;
    let ne = 0;
    for (let t = 2; t < n - 1; t++) {
      const v = Math.hypot(...joints.map((k) => q[t + 1][k] - 3 * q[t][k] + 3 * q[t - 1][k] - q[t - 2][k]));
      if (b.some((x) => x >= t - 2 && x <= t + 1)) {
        sb += v;
        nb++;
      } else {
        se += v;
        ne++;
      }
    }
    expect(got.boundaryCount).toBe(nb);
    expect(got.elsewhereCount).toBe(ne);
    expect(got.boundary).toBeCloseTo(sb / nb, 12);
    expect(got.elsewhere).toBeCloseTo(se / ne, 12);
  });

  it('latencyStats: mean, nearest-rank p95, max', () => {
    const v = Array.from({ length: 40 }, (_, i) => 40 - i);
    const s = latencyStats(v);
    expect(s.mean).toBeCloseTo(20.5, 12);
    expect(s.p95).toBe(38);
    expect(s.max).toBe(40);
    expect(Number.isNaN(latencyStats([]).mean)).toBe(true);
  });
});
