import { describe, expect, it } from 'vitest';
import {
  SafeCommand,
  SafetyLayer,
  acceptSafeCommand,
  defineEmbodiment,
  type Embodiment,
  type Robot,
} from '../src/index.js';

const e = defineEmbodiment({
  robotType: 'two-dof',
  dims: [
    { name: 'j', kind: 'joint', unit: 'rad', lower: -1, upper: 1, maxVelocity: 3, delta: true },
    { name: 'g', kind: 'gripper', unit: 'm', lower: 0, upper: 0.05, maxVelocity: 0.3, delta: false },
  ],
  cameras: [],
  controlHz: 10,
  home: [0, 0],
});

function started(now = 0, config = {}) {
  const s = new SafetyLayer(e, { observationTimeoutMs: 250, actionTimeoutMs: 1000, ...config });
  s.observe([0, 0], now);
  s.start([0, 0], now);
  return s;
}

describe('SafetyLayer', () => {
  it('clamps to limits and to maxVelocity × dt per tick', () => {
    const s = started();
    s.observe([0, 0], 100);
    const c = s.step([5, 1], 100);
    expect(c.held).toBe(false);
    expect(c.positions[0]).toBeCloseTo(0.3, 12); // 3 rad/s × 0.1 s
    expect(c.positions[1]).toBeCloseTo(0.03, 12); // 0.3 m/s × 0.1 s
    s.observe([0, 0], 200);
    const c2 = s.step([5, 1], 200);
    expect(c2.positions[0]).toBeCloseTo(0.6, 12);
    expect(c2.positions[1]).toBeCloseTo(0.05, 12); // upper limit
    expect(s.stats.positionClamped).toBe(2);
    expect(s.stats.velocityLimited).toBe(2);
  });

  it('limits by the real elapsed time when ticks come faster than the period', () => {
    const s = started();
    s.observe([0, 0], 10);
    expect(s.step([1, 0], 10).positions[0]).toBeCloseTo(0.03, 12);
    s.observe([0, 0], 10);
    expect(s.step([1, 0], 10).positions[0]).toBeCloseTo(0.03, 12); // no time passed: no motion
  });

  it('holds the last safe pose on NaN/Inf, wrong length, missing and stale input', () => {
    const s = started();
    s.observe([0, 0], 100);
    const moved = s.step([0.1, 0], 100);
    for (const [target, reason] of [
      [[Number.NaN, 0], 'invalid-action'],
      [[0, Infinity], 'invalid-action'],
      [[0], 'invalid-action'],
      [undefined, 'no-action'],
    ] as const) {
      const c = s.step(target as number[] | undefined, 150);
      expect(c.held).toBe(true);
      expect(c.reason).toBe(reason);
      expect(c.positions).toEqual(moved.positions);
    }
    expect(s.step([0.2, 0], 150, 150 - 1001).reason).toBe('stale-action');
    expect(s.step([0.2, 0], 351).reason).toBe('stale-observation'); // last observation at 100
    expect(s.observe([Number.NaN, 0], 360)).toBe(false); // a NaN observation does not refresh the watchdog
    expect(s.step([0.2, 0], 360).reason).toBe('stale-observation');
    s.observe([0, 0], 360);
    expect(s.step([0.2, 0], 360).held).toBe(false);
  });

  it('latches the e-stop until reset, then resumes under the velocity limit', () => {
    const s = started();
    s.observe([0, 0], 100);
    const before = s.step([0.2, 0], 100);
    s.emergencyStop();
    for (let t = 200; t < 1000; t += 100) {
      s.observe([0, 0], t);
      const c = s.step([1, 0.05], t);
      expect(c.reason).toBe('estop');
      expect(c.positions).toEqual(before.positions);
    }
    expect(() => s.start([0, 0], 1000)).toThrow(/e-stop/);
    s.resetEmergencyStop();
    s.observe([0, 0], 1000);
    const c = s.step([1, 0], 1000);
    expect(c.held).toBe(false);
    expect(c.positions[0]).toBeCloseTo(before.positions[0] + 0.3, 12);
  });

  it('refuses to start from a state outside the limits and before start', () => {
    const s = new SafetyLayer(e);
    expect(() => s.step([0, 0], 0)).toThrow(/before start/);
    expect(() => s.start([1.5, 0], 0)).toThrow(/measured j = 1.5 is outside/);
    expect(() => s.start([0, Number.NaN], 0)).toThrow(/measured g is NaN/);
    s.start([1.01, 0], 0); // within the 2% tolerance: clamped
    expect(s.lastCommand!.positions[0]).toBe(1);
  });

  it('rejects configs that would weaken it', () => {
    expect(() => new SafetyLayer(e, { velocityScale: 1.5 })).toThrow(/velocityScale/);
    expect(() => new SafetyLayer(e, { observationTimeoutMs: 0 })).toThrow(/observationTimeoutMs/);
  });
});

/** A driver that only runs the gate, for embodiment `em`, standing at its home pose. */
const gate = (em: Embodiment): Robot => ({
  embodiment: em,
  observe: () => ({ state: Float64Array.from(em.home), images: {}, timestampMs: 0 }),
  command(cmd) {
    acceptSafeCommand(this, cmd);
  },
});

describe('SafeCommand cannot be forged', () => {
  it('only the safety layer creates one; drivers reject look-alikes', () => {
    const s = started();
    s.observe([0, 0], 0);
    const real = s.step([0, 0], 0);
    expect(SafeCommand.isSafeCommand(real)).toBe(true);
    expect(Object.isFrozen(real) && Object.isFrozen(real.positions)).toBe(true);

    // The constructor is private in the types and guarded at run time.
    const Ctor = SafeCommand as unknown as new (...a: unknown[]) => SafeCommand;
    expect(() => new Ctor(Symbol('SafeCommand.mint'), { robotType: 'two-dof', positions: [9, 9] })).toThrow(
      /only the SafetyLayer/,
    );
    const proto = Object.create(SafeCommand.prototype) as SafeCommand;
    Object.assign(proto, { robotType: 'two-dof', positions: [9, 9] });
    const literal = { ...real, positions: [9, 9] };
    const proxy = new Proxy(real, {});
    const robot = gate(e);
    for (const fake of [proto, literal, proxy, null, undefined, 'cmd']) {
      expect(SafeCommand.isSafeCommand(fake)).toBe(false);
      expect(() => robot.command(fake as SafeCommand)).toThrow(/not created by a SafetyLayer/);
    }
    const other = defineEmbodiment({ ...e, robotType: 'other' });
    expect(() => gate(other).command(real)).toThrow(/robot type "two-dof"/);
    const three = defineEmbodiment({ ...e, dims: [...e.dims, { ...e.dims[0], name: 'k' }], home: [0, 0, 0] });
    expect(() => gate(three).command(real)).toThrow(/2 positions, expected 3/);
    expect(() => robot.command(real)).not.toThrow();
  });
});

// Compile-time guarantees, checked by `tsc --noEmit` (never executed).
export function typeLevelForgeryIsRejected(): void {
  // @ts-expect-error the constructor is private
  new SafeCommand();
  // @ts-expect-error an object literal lacks the private brand, so it is not a SafeCommand
  const literal: SafeCommand = {
    robotType: 'x',
    positions: [],
    held: false,
    reason: 'ok',
    timestampMs: 0,
    sequence: 0,
  };
  void literal;
}
