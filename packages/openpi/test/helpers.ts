// Test helpers: a small embodiment with a converted gripper, seeded randomness, a float64 reference of
// the robot/dataset conversions written from the definitions, and a python3 locator.
import { spawnSync } from 'node:child_process';
import { defineEmbodiment, type Embodiment } from '@vla/robot-core';
import { mulberry32 } from '@vla/robot-core/testing';

/** mulberry32: a seeded uniform generator in [0, 1) (robot-core's). */
export const rng: (seed: number) => () => number = mulberry32;

/** Three delta joints and a gripper stored 1 = closed at the lower limit (a converted gripper). */
export const toyArm: Embodiment = defineEmbodiment({
  robotType: 'toy-arm',
  dims: [
    { name: 'joint1', kind: 'joint', unit: 'rad', lower: -3, upper: 3, maxVelocity: 2, delta: true },
    { name: 'joint2', kind: 'joint', unit: 'rad', lower: -2, upper: 2, maxVelocity: 2, delta: true },
    { name: 'joint3', kind: 'joint', unit: 'rad', lower: -1, upper: 1, maxVelocity: 2, delta: true },
    {
      name: 'gripper',
      kind: 'gripper',
      unit: 'm',
      lower: 0,
      upper: 0.08,
      maxVelocity: 0.5,
      delta: false,
      dataset: { atLower: 1, atUpper: 0, description: 'test: 1 = closed' },
    },
  ],
  cameras: [
    { name: 'head', width: 8, height: 6, fps: 10 },
    { name: 'wrist', width: 5, height: 3, fps: 10 },
  ],
  controlHz: 10,
  home: [0, 0, 0, 0.04],
});

/** Gripper robot metres → dataset value, from the convention's definition (1 at 0 m, 0 at 0.08 m). */
export const refGripperToDataset = (m: number): number => 1 - m / 0.08;
/** Dataset value → gripper metres. */
export const refGripperToRobot = (v: number): number => (1 - v) * 0.08;

/** Robot state → dataset state (float64 reference). */
export function refToDataset(robot: ArrayLike<number>): number[] {
  return [robot[0], robot[1], robot[2], refGripperToDataset(robot[3])];
}

/** A robot state inside the limits. */
export function randomState(r: () => number): number[] {
  return [(r() * 2 - 1) * 2.5, (r() * 2 - 1) * 1.5, (r() * 2 - 1) * 0.9, r() * 0.08];
}

/** A python3 with Debian's msgpack, numpy and websockets, or the reason there is none. */
export function findPython(): { cmd: string } | { missing: string } {
  const candidates = [process.env.VLA_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c);
  const tried: string[] = [];
  for (const cmd of candidates) {
    const r = spawnSync(cmd, ['-c', 'import msgpack, numpy, websockets'], { encoding: 'utf8' });
    if (r.status === 0) return { cmd };
    tried.push(`${cmd}: ${r.error ? r.error.message : r.stderr.trim().split('\n').pop()}`);
  }
  return { missing: `no python3 with msgpack, numpy and websockets (${tried.join('; ')})` };
}
