import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SafetyLayer, type Embodiment } from '../src/index.js';
import { fuzzSafetyLayer } from '../src/testing.js';
import { embodimentArb } from './arbitraries.js';

// 100,000 random sequences (each 24 ticks, expanded from a seed so fast-check stays cheap per run)
// over random embodiments: every command inside position and velocity limits, holds exact, e-stop latched.
describe('SafetyLayer invariants (property)', () => {
  it('no command leaves the joint or velocity limits; e-stop latches until reset', async () => {
    const seen = {
      commands: 0,
      estopTicks: 0,
      rejectedObservations: 0,
      resetsAccepted: 0,
      resetsRefused: 0,
      accepted: 0,
      attacksRefused: 0,
      chainsRefused: 0,
    };
    // Eight blocks of 12,500, yielding in between so the test runner's worker stays responsive.
    for (let block = 0; block < 8; block++) {
      fc.assert(
        fc.property(
          embodimentArb,
          fc.integer(),
          fc.double({ min: 0.05, max: 1, noNaN: true }),
          (e, seed, velocityScale) => {
            const r = fuzzSafetyLayer(e, { ticks: 24, seed, velocityScale });
            for (const k of Object.keys(seen) as (keyof typeof seen)[]) seen[k] += r[k];
          },
        ),
        { numRuns: 12_500, seed: 0x5afe + block },
      );
      await new Promise((r) => setTimeout(r, 0));
    }
    expect(seen.commands).toBe(2_400_000);
    // The sequences really exercised the latch, rejected observations and both kinds of reset.
    expect(seen.estopTicks).toBeGreaterThan(10_000);
    expect(seen.rejectedObservations).toBeGreaterThan(10_000);
    expect(seen.resetsAccepted).toBeGreaterThan(1_000);
    expect(seen.resetsRefused).toBeGreaterThan(10_000);
    // ... and the driver side: most commands executed, every attack and far anchor refused.
    expect(seen.accepted).toBeGreaterThan(1_500_000);
    expect(seen.attacksRefused).toBeGreaterThan(100_000);
    expect(seen.chainsRefused).toBeGreaterThan(50_000);
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

  it('the checker fails on a driver that checks only the brand, as drivers did before the gate (negative control)', () => {
    const e = fc.sample(embodimentArb, { numRuns: 1, seed: 3 })[0];
    expect(() => fuzzSafetyLayer(e, { ticks: 400, seed: 1, driverCheck: 'brand-only' })).toThrow(
      /the robot accepted/,
    );
    // Without the cheap attacks, what remains is a re-anchor away from the robot: a jump it executed.
    const jumpsOnly = { replay: 0, foreignLayer: 0, otherRobot: 0 };
    expect(() =>
      fuzzSafetyLayer(e, { ticks: 2000, seed: 1, driverCheck: 'brand-only', rates: jumpsOnly }),
    ).toThrow(/the robot accepted (a move of|#\d+, anchored far from it)/);
  });

  it('resetEmergencyStop with random valid and invalid measurements: the latch holds unless the reset is valid', () => {
    type Measured = {
      kind:
        | 'valid'
        | 'racing'
        | 'nan'
        | 'inf'
        | 'outside'
        | 'short'
        | 'long'
        | 'string'
        | 'throws'
        | 'nan-then-valid';
      at: number[];
    };
    const measuredArb = (e: Embodiment): fc.Arbitrary<Measured> =>
      fc.record({
        kind: fc.constantFrom(
          'valid',
          'racing',
          'nan',
          'inf',
          'outside',
          'short',
          'long',
          'string',
          'throws',
          'nan-then-valid',
        ),
        at: fc.tuple(...e.dims.map(() => fc.double({ min: 0, max: 1, noNaN: true }))),
      });
    const opsArb = (e: Embodiment) =>
      fc.array(
        fc.oneof(
          fc.constant({ op: 'estop' as const }),
          fc.constant({ op: 'step' as const }),
          fc.record({
            op: fc.constant('reset' as const),
            measured: fc.option(measuredArb(e), { nil: undefined }),
          }),
        ),
        { minLength: 1, maxLength: 30 },
      );
    let refusedWhileLatched = 0;
    let released = 0;
    fc.assert(
      fc.property(
        embodimentArb.chain((e) => fc.tuple(fc.constant(e), opsArb(e))),
        ([e, ops]) => {
          const s = new SafetyLayer(e, { observationTimeoutMs: 1e9 });
          const home = [...e.home];
          let now = 0;
          s.observe(home, now);
          s.start(home, now);
          let latched = false;
          let heldSince = now; // when the layer last made a command
          for (const o of ops) {
            now += 10;
            if (o.op === 'estop') {
              s.emergencyStop();
              latched = true;
            } else if (o.op === 'step') {
              s.observe(home, now);
              const before = s.lastCommand!.positions;
              const c = s.step(
                e.dims.map((d) => d.upper),
                now,
              );
              if (latched) {
                expect(c.reason).toBe('estop');
                expect(c.positions).toEqual(before);
              } else {
                expect(c.reason).toBe('ok');
                // Toward the upper limits, at most maxVelocity × min(period, elapsed) from the held pose.
                const dt = Math.min(now - heldSince, 1000 / e.controlHz) / 1000;
                e.dims.forEach((d, k) => {
                  const limit = d.maxVelocity * dt;
                  const moved = c.positions[k] - before[k];
                  const want = Math.min(d.upper, before[k] + limit);
                  if (moved > limit * (1 + 1e-12) + 1e-12 || Math.abs(c.positions[k] - want) > 1e-9)
                    throw new Error(
                      `${d.name} moved ${moved} from the held pose (limit ${limit}, want ${want})`,
                    );
                });
              }
              heldSince = now;
            } else if (o.measured === undefined) {
              s.resetEmergencyStop();
              latched = false;
            } else {
              const { kind, at } = o.measured;
              const inside = e.dims.map((d, i) => d.lower + (d.upper - d.lower) * at[i]);
              const bad = inside.slice();
              const i = Math.floor(at[0] * (e.dims.length - 1));
              const d = e.dims[i];
              let arg: ArrayLike<number> = inside;
              if (kind === 'nan') bad[i] = Number.NaN;
              if (kind === 'inf') bad[i] = -Infinity;
              if (kind === 'outside') bad[i] = d.upper + 0.03 * (d.upper - d.lower) + 1e-9;
              if (kind !== 'valid') arg = bad;
              // Values that change between reads: only the first read may count.
              if (kind === 'racing') arg = changing(inside, Number.NaN);
              if (kind === 'nan-then-valid')
                arg = changing(
                  bad.map((v, k) => (k === i ? Number.NaN : v)),
                  0,
                );
              if (kind === 'short') arg = inside.slice(1);
              if (kind === 'long') arg = [...inside, 0];
              if (kind === 'string')
                arg = inside.map((v, k) => (k === i ? String(v) : v)) as unknown as number[];
              if (kind === 'throws')
                arg = new Proxy(inside, {
                  get: (t, k) => {
                    if (k === 'length') return t.length;
                    throw new Error('sensor buffer detached');
                  },
                });
              const before = s.lastCommand;
              const valid = (kind === 'valid' || kind === 'racing') && latched;
              if (valid) {
                s.resetEmergencyStop(arg, now);
                released++;
                latched = false;
                heldSince = now;
                expect(s.lastCommand!.positions).toEqual(inside);
                expect(s.lastCommand!.timestampMs).toBe(now);
              } else {
                expect(() => s.resetEmergencyStop(arg, now)).toThrow(/safety: /);
                expect(s.lastCommand).toBe(before);
                if (latched) refusedWhileLatched++;
              }
            }
            expect(s.estopped).toBe(latched);
          }
        },
      ),
      { numRuns: 3_000, seed: 0xe570 },
    );
    expect(refusedWhileLatched).toBeGreaterThan(1_000);
    expect(released).toBeGreaterThan(300);
  }, 60_000);
});

/** An ArrayLike whose elements read as `first` once and as `later` on every read after that. */
function changing(first: readonly number[], later: number): ArrayLike<number> {
  const out: Record<number, number> & { length: number } = { length: first.length };
  first.forEach((v, i) => {
    let read = false;
    Object.defineProperty(out, i, { get: () => (read ? later : ((read = true), v)) });
  });
  return out;
}
