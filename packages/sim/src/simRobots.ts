import type { Embodiment, MjcfDescription, MjcfRobotSpec } from '@vla/robot-core';
import { ACONE, ACONE_MJCF, ACONE_MJCF_SPEC, LIFT2, LIFT2_MJCF, LIFT2_MJCF_SPEC } from '@vla/robots-arx';
import { GENIE1, GENIE1_MJCF, GENIE1_MJCF_SPEC } from '@vla/robots-genie';

/** Robots the simulator knows, by their CLI name. */
export type SimRobotName = 'lift2' | 'acone' | 'genie1';

/** One arm as the tasks and experts see it. */
export interface SimArm {
  readonly side: 'left' | 'right';
  /** Embodiment dim indices of the arm joints, shoulder to wrist. */
  readonly jointDims: readonly number[];
  /** Embodiment dim index of the gripper. */
  readonly gripperDim: number;
  /** MJCF body of the gripper (the fingers' parent). */
  readonly gripperBody: string;
  /** Site between the finger tips, added by the scene builder. */
  readonly gripSite: string;
  /** Finger direction and opening direction in the gripper body frame. */
  readonly approach: readonly [number, number, number];
  readonly opening: readonly [number, number, number];
}

/** A robot model plus what the simulator needs to place it at a table. */
export interface SimRobotSpec {
  readonly name: SimRobotName;
  readonly embodiment: Embodiment;
  readonly mjcf: MjcfDescription;
  readonly spec: MjcfRobotSpec;
  /** Height of the table top (m) that this robot works at. */
  readonly tableHeight: number;
  /** Body joints (lift, waist, head) held at these positions instead of the keyframe's. */
  readonly bodyPose: Readonly<Record<string, number>>;
  readonly arms: readonly [SimArm, SimArm];
  /** Where the tasks put things for this robot (world x/y, metres): see {@link SimWorkspace}. */
  readonly workspace: SimWorkspace;
}

/**
 * Task placement for one robot, chosen inside what its left arm reaches with a top-down grasp
 * (`grasp`) and by position only (`bins`, `belt`).
 */
export interface SimWorkspace {
  /** Region where objects to grasp are placed (x and y ranges). */
  readonly grasp: { readonly x: readonly [number, number]; readonly y: readonly [number, number] };
  /** Candidate bin centres. */
  readonly bins: readonly (readonly [number, number])[];
  /** Belt centre line x, and the y range where parcels can be intercepted top-down. */
  readonly beltX: number;
  readonly intercept: readonly [number, number];
  /** Centres of the two sorting bins for the conveyor task. */
  readonly sortBins: readonly [readonly [number, number], readonly [number, number]];
  /** The handover task's placements: see {@link SimHandoverWorkspace}. */
  readonly handover: SimHandoverWorkspace;
}

/**
 * Handover placement for one robot: the left arm (giver) picks a bar in `pick`, brings its centre to
 * `at`, the right arm (receiver) takes the bar's free end there and places it in one of `bins`. Each
 * region lies inside the reach of the arm that works there, and `at` inside both arms' reach.
 */
export interface SimHandoverWorkspace {
  /** Region of the bar's centre (x and y ranges). */
  readonly pick: { readonly x: readonly [number, number]; readonly y: readonly [number, number] };
  /** Bar yaw range (rad): its long axis on the table. */
  readonly yaw: readonly [number, number];
  /** Handover point: the bar centre's world x, y and height above the table (m). */
  readonly at: readonly [number, number, number];
  /** Horizontal direction from the receiver's end of the bar to the giver's end. */
  readonly giverSide: readonly [number, number];
  /** Candidate bin centres for the receiver. */
  readonly bins: readonly (readonly [number, number])[];
}

// The grip site sits this far along the fingers (fraction of the finger length): where a grasped
// object's centre ends up.
const GRIP_DEPTH = 0.75;

function arms(e: Embodiment, spec: MjcfRobotSpec): [SimArm, SimArm] {
  const idx = (n: string) => e.dims.findIndex((d) => d.name === n);
  const arm = (k: 0 | 1): SimArm => {
    const a = spec.arms[k];
    return {
      side: a.side,
      jointDims: a.links.map((l) => idx(l.joint)),
      gripperDim: idx(a.gripper.dim),
      gripperBody: a.gripper.dim,
      gripSite: `${a.side}_grip`,
      approach: a.gripper.approach,
      opening: a.gripper.opening,
    };
  };
  return [arm(0), arm(1)];
}

/** Where the grip site sits in the gripper body frame. */
export function gripSitePos(spec: MjcfRobotSpec, side: 'left' | 'right'): [number, number, number] {
  const g = spec.arms[side === 'left' ? 0 : 1].gripper;
  return [0, 1, 2].map((i) => g.approach[i] * g.fingerLength * GRIP_DEPTH) as [number, number, number];
}

// Workspaces were measured once with this package's inverse kinematics (ArmIk from the home pose and
// 16–24 random seeds): top-down grasps reachable at 3 and 12 cm above the table for every object yaw,
// straight-line carries from there to each bin (position within 5 mm), and for the handover point both
// arms' top-down grasps 13–20 cm above the table. What shaped them:
// - ARX arms (both robots): joint 1 faces backward at zero, so the arm reaches forward only near
//   joint 1 = ±π. Lift-2's range (-2.09…3.14) lets each arm reach only to its right of its mount
//   (left arm y -0.2…0.25, right arm y < -0.25); AC One's (-3.14…2.62) only to its left (left arm
//   y > 0.2, right arm y -0.15…0.25). A carry across joint 1's wrap is impossible, so every task keeps
//   each arm on its side, and the handover happens where the two sides meet.
// - Genie-1: at table height a top-down grasp reaches a band x 0.4–0.5 (the elbow bends at most
//   85°); the hands start below the table top, which the expert rises clear of first.
const ROBOTS: Record<SimRobotName, SimRobotSpec> = {
  lift2: {
    name: 'lift2',
    embodiment: LIFT2,
    mjcf: LIFT2_MJCF,
    spec: LIFT2_MJCF_SPEC,
    tableHeight: 0.75,
    bodyPose: { lift: 0.2 },
    arms: arms(LIFT2, LIFT2_MJCF_SPEC),
    workspace: {
      grasp: { x: [0.3, 0.41], y: [-0.08, 0.12] },
      bins: [
        [0.37, 0.27],
        [0.37, -0.25],
      ],
      beltX: 0.36,
      intercept: [-0.04, 0.16],
      sortBins: [
        [0.5, 0.0],
        [0.5, 0.17],
      ],
      handover: {
        pick: { x: [0.32, 0.42], y: [-0.02, 0.12] },
        yaw: [Math.PI / 2 - 0.3, Math.PI / 2 + 0.3],
        at: [0.27, -0.215, 0.12],
        giverSide: [0, 1],
        bins: [
          [0.4, -0.4],
          [0.36, -0.5],
        ],
      },
    },
  },
  acone: {
    name: 'acone',
    embodiment: ACONE,
    mjcf: ACONE_MJCF,
    spec: ACONE_MJCF_SPEC,
    tableHeight: 0.75,
    bodyPose: { lift: 0.2 },
    arms: arms(ACONE, ACONE_MJCF_SPEC),
    workspace: {
      grasp: { x: [0.3, 0.41], y: [0.28, 0.48] },
      bins: [
        [0.37, 0.62],
        [0.53, 0.38],
      ],
      beltX: 0.36,
      intercept: [0.27, 0.45],
      sortBins: [
        [0.5, 0.3],
        [0.5, 0.46],
      ],
      handover: {
        pick: { x: [0.32, 0.42], y: [0.3, 0.42] },
        yaw: [Math.PI / 2 - 0.3, Math.PI / 2 + 0.3],
        at: [0.32, 0.22, 0.12],
        giverSide: [0, 1],
        bins: [
          [0.42, -0.05],
          [0.36, -0.1],
        ],
      },
    },
  },
  genie1: {
    name: 'genie1',
    embodiment: GENIE1,
    mjcf: GENIE1_MJCF,
    spec: GENIE1_MJCF_SPEC,
    tableHeight: 0.75,
    bodyPose: {},
    arms: arms(GENIE1, GENIE1_MJCF_SPEC),
    workspace: {
      grasp: { x: [0.42, 0.48], y: [0.12, 0.4] },
      bins: [
        [0.35, 0.0],
        [0.4, 0.6],
      ],
      beltX: 0.45,
      intercept: [0.15, 0.4],
      sortBins: [
        [0.3, 0.0],
        [0.3, -0.16],
      ],
      handover: {
        pick: { x: [0.42, 0.48], y: [0.16, 0.34] },
        yaw: [Math.PI / 2 - 0.3, Math.PI / 2 + 0.3],
        at: [0.42, 0.0, 0.12],
        giverSide: [0, 1],
        bins: [
          [0.45, -0.3],
          [0.4, -0.6],
        ],
      },
    },
  },
};

/** Names accepted by {@link simRobot}. */
export const SIM_ROBOT_NAMES: readonly SimRobotName[] = ['lift2', 'acone', 'genie1'];

/** The simulator's description of a robot; throws a clear error for an unknown name. */
export function simRobot(name: string): SimRobotSpec {
  if (!(SIM_ROBOT_NAMES as readonly string[]).includes(name)) {
    throw new Error(`sim: unknown robot "${name}"; expected one of ${SIM_ROBOT_NAMES.join(', ')}`);
  }
  return ROBOTS[name as SimRobotName];
}
