import { buildBimanualMjcf, type MjcfDescription, type MjcfRobotSpec } from '@vla/robot-core';
import { arxArmSpec } from './arxArmGeometry.js';
import { LIFT2, LIFT2_LIFT_RANGE } from './lift2Embodiment.js';

const tilt = 0.7; // head camera pitch below the horizon (rad), approximate

/** Geometry and actuation of the ARX Lift-2 model, as data (approximate; see the README). */
export const LIFT2_MJCF_SPEC: MjcfRobotSpec = {
  model: 'arx_lift2',
  base: { halfSize: [0.25, 0.22, 0.12], mass: 30 },
  torso: {
    pos: [0, 0, 0.6],
    halfSize: [0.06, 0.28, 0.04],
    mass: 6,
    joints: [
      {
        name: 'lift',
        type: 'slide',
        axis: [0, 0, 1],
        range: LIFT2_LIFT_RANGE,
        home: 0.2,
        kp: 20000,
        force: 2000,
      },
    ],
  },
  // camera_h sits on a fixed mast above the arms; Lift-2 has no head joints.
  head: {
    pos: [-0.05, 0, 0.45],
    joints: [],
    camera: {
      name: 'head',
      pos: [0.07, 0, 0],
      xyaxes: [0, -1, 0, Math.sin(tilt), 0, Math.cos(tilt)],
      fovy: 70,
    },
  },
  arms: [
    arxArmSpec('left', [0.05, 0.25, 0.05], { scale: 1, offset: 0 }),
    arxArmSpec('right', [0.05, -0.25, 0.05], { scale: 1, offset: 0 }),
  ],
};

/**
 * The ARX Lift-2 MuJoCo model: MJCF text with two 6-DoF R5a-like arms, two-finger grippers (0–0.044 m
 * per finger), the 0–0.46 m lift, the head and wrist cameras and position actuators, plus the map from
 * the 14-d layout to joints and actuators. No mesh files.
 */
export const LIFT2_MJCF: MjcfDescription = buildBimanualMjcf(LIFT2_MJCF_SPEC, LIFT2);
