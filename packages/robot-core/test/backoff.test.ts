import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from '../src/index.js';

describe('backoffDelayMs', () => {
  it('doubles from initialMs up to maxMs', () => {
    const o = { initialMs: 10, maxMs: 100, factor: 2 };
    expect([0, 1, 2, 3, 4, 5, 20].map((a) => backoffDelayMs(a, o))).toEqual([10, 20, 40, 80, 100, 100, 100]);
  });
  it('jitter removes at most that fraction', () => {
    expect(backoffDelayMs(2, { initialMs: 10, jitter: 0.5 }, () => 0.999)).toBeCloseTo(40 * (1 - 0.4995), 9);
    expect(backoffDelayMs(2, { initialMs: 10, jitter: 0.5 }, () => 0)).toBe(40);
  });
  it('rejects settings that would spin', () => {
    expect(() => backoffDelayMs(0, { initialMs: 0 })).toThrow(/initialMs/);
    expect(() => backoffDelayMs(0, { factor: 0.5 })).toThrow(/factor/);
  });
});
