import { mulberry32 } from '@vla/robot-core/testing';
import { describe, expect, it } from 'vitest';
import { readArxArm } from '../src/index.js';

/** The contract, written independently: an array (or typed array) of exactly 7 finite numbers. */
function acceptable(p: unknown): boolean {
  const isArray = Array.isArray(p) || p instanceof Float64Array || p instanceof Float32Array;
  if (!isArray) return false;
  const a = p as ArrayLike<unknown>;
  if (a.length !== 7) return false;
  for (let i = 0; i < 7; i++) if (typeof a[i] !== 'number' || !Number.isFinite(a[i] as number)) return false;
  return true;
}

function hostileJointPos(rnd: () => number): unknown {
  const seven = () => Array.from({ length: 7 }, () => rnd() * 4 - 2);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  switch (Math.floor(rnd() * 9)) {
    case 0:
      return seven();
    case 1:
      return Float64Array.from(seven());
    case 2: {
      const a: unknown[] = seven();
      a[Math.floor(rnd() * 7)] = pick([
        Number.NaN,
        Infinity,
        -Infinity,
        '0.5',
        null,
        undefined,
        {},
        [1],
        true,
      ]);
      return a;
    }
    case 3:
      return Array.from({ length: pick([0, 1, 6, 8, 14, 1000]) }, () => rnd());
    case 4:
      return { ...seven(), length: 7 }; // joint_pos sent as an object
    case 5:
      return pick([undefined, null, 7, 'abc', true]);
    case 6: {
      const a = seven();
      a[Math.floor(rnd() * 7)] = pick([1e308, -1e308, 5e-324]); // finite: the codec passes, the driver judges range
      return a;
    }
    case 7:
      return Object.assign(seven(), { extra: 'x' });
    default:
      return Array.from({ length: 7 }, () => pick([1, '1', null]));
  }
}

describe('readArxArm (arm feedback codec)', () => {
  it('accepts exactly arrays of 7 finite numbers, throws naming joint_pos otherwise, and writes nothing when it throws (seeded hostile inputs)', () => {
    const rnd = mulberry32(2024);
    const map = { scale: 2, offset: 0.25 };
    let accepted = 0;
    for (let k = 0; k < 2000; k++) {
      const p = hostileJointPos(rnd);
      const state = new Float64Array(14).fill(-7);
      const offset = rnd() < 0.5 ? 0 : 7;
      if (acceptable(p)) {
        expect(readArxArm({ joint_pos: p as number[] }, state, offset, map)).toBe(true);
        const a = p as ArrayLike<number>;
        for (let i = 0; i < 6; i++) expect(state[offset + i]).toBe(a[i]);
        expect(state[offset + 6]).toBe(2 * a[6] + 0.25);
        expect(state[7 - offset]).toBe(-7);
        accepted++;
      } else {
        expect(() => readArxArm({ joint_pos: p as number[] }, state, offset, map)).toThrow(/joint_pos/);
        expect(state.every((v) => v === -7)).toBe(true);
      }
    }
    expect(accepted).toBeGreaterThan(400);
    expect(() =>
      readArxArm(
        { joint_pos: { ...[1, 2, 3, 4, 5, 6, 7], length: 7 } as unknown as number[] },
        new Float64Array(14),
        0,
        map,
      ),
    ).toThrow(/^joint_pos is an object, not an array of 7 numbers$/);
    expect(() =>
      readArxArm({ joint_pos: [1, 2, '3', 4, 5, 6, 7] as unknown as number[] }, new Float64Array(14), 0, map),
    ).toThrow(/^joint_pos\[2\] = "3" is not a finite number$/);
    expect(() => readArxArm({}, new Float64Array(14), 0, map)).toThrow(/^joint_pos is undefined/);
  });
});
