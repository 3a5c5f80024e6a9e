import type { LinearMap, MjcfArmSpec, Vec3 } from '@vla/robot-core';

/** Torque limits (N·m) of the ARX 6-DoF arms' joints 1–6 (public ARX5 SDK figures for the X5; used for both arms). */
export const ARX_ARM_TORQUE: readonly number[] = [30, 40, 30, 15, 10, 10];

/**
 * Approximate ARX 6-DoF arm (R5a and X5 share the layout): base yaw (z), shoulder pitch (y), elbow
 * pitch (y), wrist pitch (y), wrist yaw (z), wrist roll (x). At zero the upper arm points back and the
 * forearm lies folded forward over it, as ARX arms rest. Upper arm ≈ 0.27 m, forearm ≈ 0.23 m, about
 * 3.5 kg in all; lengths and masses are estimates.
 */
export function arxArmSpec(side: 'left' | 'right', mount: Vec3, toFinger: LinearMap): MjcfArmSpec {
  const rows: [Vec3, Vec3, Vec3, number, number][] = [
    // axis, pos, tip, radius, mass
    [[0, 0, 1], [0, 0, 0], [0, 0, 0.06], 0.04, 0.6],
    [[0, 1, 0], [0, 0, 0.06], [-0.27, 0, 0], 0.035, 1.1],
    [[0, 1, 0], [-0.27, 0, 0], [0.23, 0, 0], 0.03, 0.8],
    [[0, 1, 0], [0.23, 0, 0], [0.06, 0, 0], 0.028, 0.4],
    [[0, 0, 1], [0.06, 0, 0], [0.05, 0, 0], 0.028, 0.3],
    [[1, 0, 0], [0.05, 0, 0], [0.04, 0, 0], 0.028, 0.3],
  ];
  return {
    side,
    mount,
    links: rows.map(([axis, pos, tip, radius, mass], k) => ({
      joint: `${side}_joint${k + 1}`,
      axis,
      pos,
      tip,
      radius,
      mass,
      kp: k < 3 ? 150 : 40,
      torque: ARX_ARM_TORQUE[k],
    })),
    gripper: {
      dim: `${side}_gripper`,
      toFinger,
      fingerTravel: 0.044,
      pos: [0.05, 0, 0],
      approach: [1, 0, 0],
      opening: [0, 1, 0],
      fingerLength: 0.07,
      mass: 0.5,
      kp: 500,
      force: 40,
    },
    // Looks along the fingers, image up = +z of the wrist.
    camera: { name: `hand_${side}`, pos: [0.02, 0, 0.05], xyaxes: [0, -1, 0, 0, 0, 1], fovy: 70 },
  };
}
