import { buildBimanualMjcf, type MjcfDescription, type MjcfRobotSpec } from '@vla/robot-core';
import { ACONE, ACONE_BODY, ACONE_FINGER_TRAVEL } from './acOneEmbodiment.js';
import { arxArmSpec } from './arxArmGeometry.js';

const tilt = 0.6;

/** Geometry and actuation of the ARX AC One model, as data (approximate and partly assumed; see the README). */
export const ACONE_MJCF_SPEC: MjcfRobotSpec = {
  model: 'arx_acone',
  base: { halfSize: [0.3, 0.25, 0.12], mass: 35 },
  torso: {
    pos: [0, 0, 0.55],
    // Narrower than the shoulders (arms at y = ±0.2): the folded home pose tucks the wrists beside
    // the torso, where a full-width torso would swallow the wrist cameras.
    halfSize: [0.08, 0.14, 0.2],
    mass: 10,
    joints: [
      {
        name: 'lift',
        type: 'slide',
        axis: [0, 0, 1],
        range: ACONE_BODY.lift,
        home: 0.2,
        kp: 20000,
        force: 2000,
      },
    ],
  },
  head: {
    pos: [0, 0, 0.32],
    joints: [
      {
        name: 'head_yaw',
        type: 'hinge',
        axis: [0, 0, 1],
        range: ACONE_BODY.headYaw,
        home: 0,
        kp: 80,
        force: 15,
      },
      {
        name: 'head_pitch',
        type: 'hinge',
        axis: [0, 1, 0],
        range: ACONE_BODY.headPitch,
        home: 0,
        kp: 80,
        force: 15,
      },
    ],
    camera: {
      name: 'head',
      pos: [0.07, 0, 0.02],
      xyaxes: [0, -1, 0, Math.sin(tilt), 0, Math.cos(tilt)],
      fovy: 70,
    },
  },
  arms: [
    // Vendor gripper value 0..1 → 0..0.044 m per finger (assumed).
    arxArmSpec('left', [0.1, 0.2, 0.12], { scale: ACONE_FINGER_TRAVEL, offset: 0 }),
    arxArmSpec('right', [0.1, -0.2, 0.12], { scale: ACONE_FINGER_TRAVEL, offset: 0 }),
  ],
};

/**
 * The ARX AC One MuJoCo model: MJCF text with two 6-DoF X5-like arms, two-finger grippers, lift, 2-DoF
 * head, head and wrist cameras and position actuators, plus the map from the 14-d layout to joints
 * and actuators. No mesh files.
 */
export const ACONE_MJCF: MjcfDescription = buildBimanualMjcf(ACONE_MJCF_SPEC, ACONE);
