import loadMujoco from '@mujoco/mujoco';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildBimanualMjcf,
  defineEmbodiment,
  insertIntoWorldbody,
  type MjcfArmSpec,
  type MjcfRobotSpec,
} from '../src/index.js';
import { inspectMjcf, simulateMjcf, type MujocoLike } from '../src/testing.js';

// A two-link-per-arm robot with awkward, asymmetric limits and a gripper in a flipped vendor unit.
const e = defineEmbodiment({
  robotType: 'toy-bimanual',
  dims: ['left', 'right'].flatMap((s) => [
    {
      name: `${s}_joint1`,
      kind: 'joint' as const,
      unit: 'rad' as const,
      lower: -0.3,
      upper: 2.9,
      maxVelocity: 2,
      delta: true,
    },
    {
      name: `${s}_joint2`,
      kind: 'joint' as const,
      unit: 'rad' as const,
      lower: -1.9,
      upper: 0.1,
      maxVelocity: 2,
      delta: true,
    },
    {
      name: `${s}_gripper`,
      kind: 'gripper' as const,
      unit: 'vendor' as const,
      lower: 0,
      upper: 5,
      maxVelocity: 5,
      delta: false,
    },
  ]),
  cameras: [{ name: 'head', width: 64, height: 48, fps: 10 }],
  controlHz: 10,
  home: [1, -1, 2.5, 1, -1, 5],
});

const arm = (side: 'left' | 'right'): MjcfArmSpec => ({
  side,
  mount: [0, side === 'left' ? 0.2 : -0.2, 0],
  links: [1, 2].map((k) => ({
    joint: `${side}_joint${k}`,
    axis: [0, 1, 0] as const,
    pos: k === 1 ? ([0, 0, 0] as const) : ([0.2, 0, 0] as const),
    tip: [0.2, 0, 0] as const,
    radius: 0.03,
    mass: 0.5,
    kp: 80,
    torque: 20,
  })),
  // Vendor 0..5 where 5 is closed: finger travel 0.04 - 0.008·g.
  gripper: {
    dim: `${side}_gripper`,
    toFinger: { scale: -0.008, offset: 0.04 },
    fingerTravel: 0.04,
    pos: [0.2, 0, 0],
    approach: [1, 0, 0],
    opening: [0, 1, 0],
    fingerLength: 0.05,
    mass: 0.2,
    kp: 200,
    force: 20,
  },
  camera: { name: `hand_${side}`, pos: [0, 0, 0.05], xyaxes: [0, -1, 0, 0, 0, 1], fovy: 60 },
});

const spec: MjcfRobotSpec = {
  model: 'toy',
  base: { halfSize: [0.2, 0.2, 0.1], mass: 10 },
  torso: { pos: [0, 0, 0.4], halfSize: [0.05, 0.15, 0.2], mass: 3, joints: [] },
  head: {
    pos: [0, 0, 0.3],
    joints: [],
    camera: { name: 'head', pos: [0.05, 0, 0], xyaxes: [0, -1, 0, 0, 0, 1], fovy: 60 },
  },
  arms: [arm('left'), arm('right')],
};

let mj: MujocoLike;
beforeAll(async () => {
  mj = (await loadMujoco()) as unknown as MujocoLike;
});

describe('buildBimanualMjcf', () => {
  it('writes radian limits from the embodiment and maps grippers through toFinger (even a decreasing map)', () => {
    const desc = buildBimanualMjcf(spec, e);
    const facts = inspectMjcf(mj, desc);
    expect(facts.dims.map((f) => f.range)).toEqual([
      [-0.3, 2.9],
      [-1.9, 0.1],
      [0, 0.04],
      [-0.3, 2.9],
      [-1.9, 0.1],
      [0, 0.04],
    ]);
    const r = simulateMjcf(mj, desc, 0.5);
    r.end.forEach((v, i) => expect(v).toBeCloseTo(e.home[i], 4));
    expect(desc.dims[2].toSim).toEqual({ scale: -0.008, offset: 0.04 });
  });

  it('names what does not match', () => {
    const wrongJoint = {
      ...spec,
      arms: [{ ...arm('left'), links: [{ ...arm('left').links[0], joint: 'elbow' }] }, arm('right')] as const,
    };
    expect(() => buildBimanualMjcf(wrongJoint as unknown as MjcfRobotSpec, e)).toThrow(
      /joint "elbow" is not a dim of toy-bimanual/,
    );
    const oneLink = {
      ...spec,
      arms: [{ ...arm('left'), links: [arm('left').links[0]] }, arm('right')] as const,
    };
    expect(() => buildBimanualMjcf(oneLink as unknown as MjcfRobotSpec, e)).toThrow(
      /dim "left_joint2" of toy-bimanual has no joint/,
    );
    const farGripper = {
      ...spec,
      arms: [
        { ...arm('left'), gripper: { ...arm('left').gripper, toFinger: { scale: 1, offset: 0 } } },
        arm('right'),
      ] as const,
    };
    expect(() => buildBimanualMjcf(farGripper as unknown as MjcfRobotSpec, e)).toThrow(
      /upper limit maps to finger travel 5/,
    );
  });

  it('lets a scene add objects to the worldbody', () => {
    const desc = buildBimanualMjcf(spec, e);
    const xml = insertIntoWorldbody(
      desc.xml,
      '<body name="cube" pos="0.5 0 0.05"><freejoint/><geom type="box" size="0.02 0.02 0.02"/></body>',
    );
    expect(() => mj.MjModel.from_xml_string(xml)).not.toThrow();
    expect(() => insertIntoWorldbody('<mujoco/>', '<body/>')).toThrow(/no <\/worldbody>/);
  });
});
