import {
  buildBimanualMjcf,
  type MjcfArmSpec,
  type MjcfDescription,
  type MjcfLinkSpec,
  type MjcfRobotSpec,
} from '@vla/robot-core';
import { GENIE1, GENIE1_ARM_EFFORT, GENIE1_BODY, GENIE1_GRIPPER_WIDTH } from './genie1Embodiment.js';

// Approximate G1 arm: shoulder rotate (y), shoulder roll (x), upper-arm yaw (z), elbow (y), forearm
// yaw (z), wrist pitch (y), wrist roll (z). Zero pose hangs the arm straight down. Upper arm ≈ 0.30 m,
// forearm ≈ 0.27 m, arm ≈ 7 kg; lengths and masses are estimates from public photos and specs.
function genieArm(side: 'left' | 'right'): MjcfArmSpec {
  const s = side === 'left' ? 1 : -1;
  const rows: [Vec, Vec, Vec, number, number][] = [
    // axis, pos, tip, radius, mass
    [[0, 1, 0], [0, s * 0.05, 0], [0, s * 0.06, 0], 0.05, 1.5],
    [[1, 0, 0], [0, s * 0.06, 0], [0, 0, -0.1], 0.045, 1.5],
    [[0, 0, 1], [0, 0, -0.1], [0, 0, -0.2], 0.045, 1.5],
    [[0, 1, 0], [0, 0, -0.2], [0, 0, -0.12], 0.04, 1.0],
    [[0, 0, 1], [0, 0, -0.12], [0, 0, -0.15], 0.035, 0.8],
    [[0, 1, 0], [0, 0, -0.15], [0, 0, -0.06], 0.03, 0.5],
    [[0, 0, 1], [0, 0, -0.06], [0, 0, -0.05], 0.03, 0.4],
  ];
  const links: MjcfLinkSpec[] = rows.map(([axis, pos, tip, radius, mass], k) => ({
    joint: `${side}_joint${k + 1}`,
    axis,
    pos,
    tip,
    radius,
    mass,
    kp: GENIE1_ARM_EFFORT[k] >= 60 ? 400 : 120,
    torque: GENIE1_ARM_EFFORT[k],
  }));
  return {
    side,
    mount: [0, s * 0.22, 0.18],
    links,
    gripper: {
      dim: `${side}_gripper`,
      // Each finger travels half the opening width.
      toFinger: { scale: 0.5, offset: 0 },
      fingerTravel: GENIE1_GRIPPER_WIDTH / 2,
      pos: [0, 0, -0.06],
      approach: [0, 0, -1],
      opening: [0, 1, 0],
      fingerLength: 0.08,
      mass: 0.6,
      kp: 400,
      force: 60,
    },
    camera: { name: `hand_${side}`, pos: [0.05, 0, -0.03], xyaxes: [1, 0, 0, 0, 1, 0], fovy: 70 },
  };
}
type Vec = [number, number, number];

const tilt = 0.6; // head camera looks this far (rad) below the horizon

/** Geometry and actuation of the Genie-1 model, as data (approximate; see the README). */
export const GENIE1_MJCF_SPEC: MjcfRobotSpec = {
  model: 'genie1',
  base: { halfSize: [0.3, 0.25, 0.2], mass: 40 },
  torso: {
    pos: [0, 0, 0.55],
    halfSize: [0.12, 0.18, 0.25],
    mass: 15,
    joints: [
      {
        name: 'waist_lift',
        type: 'slide',
        axis: [0, 0, 1],
        range: GENIE1_BODY.waistLift,
        home: 0.2,
        kp: 20000,
        force: 2000,
      },
      {
        name: 'waist_pitch',
        type: 'hinge',
        axis: [0, 1, 0],
        range: GENIE1_BODY.waistPitch,
        home: 0,
        kp: 3000,
        force: 300,
      },
    ],
  },
  head: {
    pos: [0, 0, 0.35],
    joints: [
      {
        name: 'head_yaw',
        type: 'hinge',
        axis: [0, 0, 1],
        range: GENIE1_BODY.headYaw,
        home: 0,
        kp: 100,
        force: 20,
      },
      {
        name: 'head_pitch',
        type: 'hinge',
        axis: [0, 1, 0],
        range: GENIE1_BODY.headPitch,
        home: 0,
        kp: 100,
        force: 20,
      },
    ],
    camera: {
      name: 'head',
      pos: [0.07, 0, 0.02],
      xyaxes: [0, -1, 0, Math.sin(tilt), 0, Math.cos(tilt)],
      fovy: 60,
    },
  },
  arms: [genieArm('left'), genieArm('right')],
};

/**
 * The Genie-1 MuJoCo model: MJCF text with two 7-DoF arms, parallel grippers, waist lift and pitch,
 * a 2-DoF head, head and wrist cameras and position actuators, plus the map from the 16-d layout to
 * joints and actuators. No mesh files: it loads in MuJoCo WebAssembly in Node and in browsers.
 */
export const GENIE1_MJCF: MjcfDescription = buildBimanualMjcf(GENIE1_MJCF_SPEC, GENIE1);
