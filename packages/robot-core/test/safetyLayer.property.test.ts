import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzSafetyLayer } from '../src/testing.js';
import { embodimentArb } from './arbitraries.js';

// 100,000 random sequences (each 24 ticks, expanded from a seed so fast-check stays cheap per run)
// over random embodiments: every command inside position and velocity limits, holds exact, e-stop latched.
describe('SafetyLayer invariants (property)', () => {
  it('no command leaves the joint or velocity limits; e-stop latches until reset', () => {
    let commands = 0;
    let estopTicks = 0;
    fc.assert(
      fc.property(
        embodimentArb,
        fc.integer(),
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        (e, seed, velocityScale) => {
          const r = fuzzSafetyLayer(e, { ticks: 24, seed, velocityScale });
          commands += r.commands;
          estopTicks += r.estopTicks;
        },
      ),
      { numRuns: 100_000, seed: 0x5afe },
    );
    expect(commands).toBe(2_400_000);
    // The sequences really exercised the latch.
    expect(estopTicks).toBeGreaterThan(10_000);
  }, 120_000);

  it('an e-stop held for a long stretch of garbage never moves', () => {
    fc.assert(
      fc.property(embodimentArb, fc.integer(), (e, seed) => {
        const r = fuzzSafetyLayer(e, {
          ticks: 200,
          seed,
          rates: { estop: 0.2, reset: 0.01, huge: 0.3, nan: 0.2 },
        });
        expect(r.estopTicks).toBeGreaterThan(0);
      }),
      { numRuns: 500, seed: 7 },
    );
  });

  it('the checker fails on a layer that allows larger steps than the embodiment (negative control)', () => {
    const e = fc.sample(embodimentArb, { numRuns: 1, seed: 3 })[0];
    const tooFast = { tickPeriodMs: 4000 / e.controlHz, observationTimeoutMs: 1e9 };
    expect(() => fuzzSafetyLayer(e, { ticks: 200, seed: 1, layerOverrides: tooFast })).toThrow(/moved .* > /);
  });
});
