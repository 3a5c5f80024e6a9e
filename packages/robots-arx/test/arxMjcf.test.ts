import loadMujoco from '@mujoco/mujoco';
import { applyMap, type Embodiment, type MjcfDescription } from '@vla/robot-core';
import { inspectMjcf, simulateMjcf, type MujocoLike } from '@vla/robot-core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACONE, ACONE_MJCF, LIFT2, LIFT2_MJCF } from '../src/index.js';

let mj: MujocoLike;
beforeAll(async () => {
  mj = (await loadMujoco()) as unknown as MujocoLike;
});

const cases: [string, Embodiment, MjcfDescription, number][] = [
  ['ARX Lift-2', LIFT2, LIFT2_MJCF, 1], // + lift
  ['ARX AC One', ACONE, ACONE_MJCF, 3], // + lift, head yaw, head pitch
];

describe.each(cases)('%s MJCF in MuJoCo WebAssembly', (_name, e, desc, bodyActuators) => {
  it('compiles, and its joints, limits, actuators and cameras match the embodiment', () => {
    const facts = inspectMjcf(mj, desc);
    expect(facts.dims.length).toBe(14);
    expect(facts.nu).toBe(14 + bodyActuators);
    facts.dims.forEach((f, i) => {
      const d = e.dims[i];
      const lo = applyMap(desc.dims[i].toSim, d.lower);
      const hi = applyMap(desc.dims[i].toSim, d.upper);
      expect(f.dim).toBe(d.name);
      expect(f.jointId).toBeGreaterThanOrEqual(0);
      expect(f.actuatorJointId).toBe(f.jointId);
      expect(f.range[0]).toBeCloseTo(lo, 9);
      expect(f.range[1]).toBeCloseTo(hi, 9);
      expect(f.ctrlRange[0]).toBeCloseTo(lo, 9);
      expect(f.ctrlRange[1]).toBeCloseTo(hi, 9);
    });
    for (const c of e.cameras) expect(facts.cameras[c.name]).toBeGreaterThanOrEqual(0);
  });

  it('holds the home pose with zero action: drift below 1e-4 after 1 s', () => {
    const r = simulateMjcf(mj, desc, 1.0);
    r.start.forEach((v, i) => expect(v).toBeCloseTo(e.home[i], 9));
    r.end.forEach((v, i) => expect(Math.abs(v - e.home[i])).toBeLessThan(1e-4));
    expect(r.maxQposChange).toBeLessThan(1e-4);
  });

  it('each position actuator drives its own dim to a new target', () => {
    const target = e.dims.map((d, i) => {
      const h = e.home[i];
      const far = d.upper - h > h - d.lower ? d.upper : d.lower;
      return h + 0.3 * (far - h);
    });
    const r = simulateMjcf(mj, desc, 2.0, target);
    r.end.forEach((v, i) =>
      expect(Math.abs(v - target[i])).toBeLessThan(0.02 * (e.dims[i].upper - e.dims[i].lower)),
    );
  });
});

describe('R5a joint limits read back from the compiled Lift-2 model', () => {
  it('are the SPEC values in radians', () => {
    const facts = inspectMjcf(mj, LIFT2_MJCF);
    expect(facts.dims.slice(0, 6).map((f) => f.range)).toEqual([
      [-2.094, 3.1416],
      [0, 3.665],
      [0, 3.24],
      [-1.671, 1.671],
      [-1.671, 1.671],
      [-2.094, 2.094],
    ]);
    expect(facts.dims[6].range).toEqual([0, 0.044]);
  });
});
