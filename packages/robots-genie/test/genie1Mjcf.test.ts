import loadMujoco from '@mujoco/mujoco';
import { applyMap } from '@vla/robot-core';
import { inspectMjcf, simulateMjcf, type MujocoLike } from '@vla/robot-core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { GENIE1, GENIE1_MJCF } from '../src/index.js';

let mj: MujocoLike;
beforeAll(async () => {
  mj = (await loadMujoco()) as unknown as MujocoLike;
});

describe('Genie-1 MJCF in MuJoCo WebAssembly', () => {
  it('compiles, and its joints, limits, actuators and cameras match the embodiment', () => {
    const facts = inspectMjcf(mj, GENIE1_MJCF);
    expect(facts.dims.length).toBe(16);
    expect(facts.nu).toBe(16 + 4); // + waist lift, waist pitch, head yaw, head pitch
    facts.dims.forEach((f, i) => {
      const d = GENIE1.dims[i];
      const m = GENIE1_MJCF.dims[i];
      expect(f.dim).toBe(d.name);
      expect(f.jointId).toBeGreaterThanOrEqual(0);
      expect(f.actuatorId).toBeGreaterThanOrEqual(0);
      expect(f.actuatorJointId).toBe(f.jointId);
      const lo = applyMap(m.toSim, d.lower);
      const hi = applyMap(m.toSim, d.upper);
      expect(f.range[0]).toBeCloseTo(lo, 9);
      expect(f.range[1]).toBeCloseTo(hi, 9);
      expect(f.ctrlRange[0]).toBeCloseTo(lo, 9);
      expect(f.ctrlRange[1]).toBeCloseTo(hi, 9);
    });
    // SPEC joint limits, read back from the compiled model (radians, not degrees).
    expect(facts.dims[3].range).toEqual([-1.48, 1.48]);
    expect(facts.dims[12].range).toEqual([-1.74, 1.74]);
    for (const c of GENIE1.cameras) expect(facts.cameras[c.name]).toBeGreaterThanOrEqual(0);
  });

  it('holds the home pose with zero action: drift below 1e-4 after 1 s', () => {
    const r = simulateMjcf(mj, GENIE1_MJCF, 1.0);
    r.start.forEach((v, i) => expect(v).toBeCloseTo(GENIE1.home[i], 9));
    r.end.forEach((v, i) => expect(Math.abs(v - GENIE1.home[i])).toBeLessThan(1e-4));
    expect(r.maxQposChange).toBeLessThan(1e-4);
  });

  it('each position actuator drives its own dim to a new target', () => {
    // 30% of the way from home toward the farther limit, every dim at once.
    const target = GENIE1.dims.map((d, i) => {
      const h = GENIE1.home[i];
      const far = d.upper - h > h - d.lower ? d.upper : d.lower;
      return h + 0.3 * (far - h);
    });
    const r = simulateMjcf(mj, GENIE1_MJCF, 2.0, target);
    r.end.forEach((v, i) => {
      const d = GENIE1.dims[i];
      expect(Math.abs(v - target[i])).toBeLessThan(0.02 * (d.upper - d.lower));
    });
  });
});
