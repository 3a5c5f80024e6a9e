import type { Rng } from './rng.js';
import type { SceneBin, SceneLayout } from './sceneBuilder.js';
import type { SimRobotSpec } from './simRobots.js';
import type { BeltDrive, SimWorld } from './simWorld.js';

/** One thing to move: an object into a bin, optionally passed from one arm to the other first. */
export interface TaskGoal {
  /** Object body name. */
  readonly object: string;
  /** Bin it must end in. */
  readonly bin: SceneBin;
  /** Arm that picks it (index into the robot's arms). */
  readonly arm: 0 | 1;
  /** For a handover: the arm that receives it and places it. */
  readonly receiver?: 0 | 1;
}

/** A task with its randomisation fixed by a seed: scene, instruction, goals and checks. */
export interface TaskInstance {
  readonly task: string;
  readonly layout: SceneLayout;
  readonly belt?: BeltDrive;
  readonly instruction: string;
  /** Control ticks before the episode times out. */
  readonly maxSteps: number;
  /** Ground truth for experts and checks (privileged; a policy sees only the instruction). */
  readonly goals: readonly TaskGoal[];
  /** Fraction of goals achieved in this world state, 0…1. */
  progress(world: SimWorld): number;
}

/** A task family: makes a {@link TaskInstance} for a robot from a seeded random generator. */
export interface SimTask {
  readonly name: string;
  /** Needs both arms. */
  readonly bimanual: boolean;
  create(robot: SimRobotSpec, rng: Rng): TaskInstance;
}

/**
 * True when the object's centre is inside the bin's inner box in x and y and its bottom is below the
 * rim (objects stacked in the bin count; one held above it does not).
 */
export function inBin(world: SimWorld, object: string, bin: SceneBin): boolean {
  const p = world.pose(object).pos;
  const o = world.layout.objects.find((x) => x.name === object);
  if (!o) throw new Error(`sim: no object "${object}"`);
  const bottom = p[2] - (o.shape === 'box' ? o.size[2] : o.size[1]);
  return (
    Math.abs(p[0] - bin.pos[0]) < bin.half[0] &&
    Math.abs(p[1] - bin.pos[1]) < bin.half[1] &&
    bottom > bin.pos[2] - 0.01 &&
    bottom < bin.pos[2] + bin.wallHeight
  );
}

/** Colours the tasks use, by name. */
export const COLOURS: Readonly<Record<string, readonly [number, number, number, number]>> = {
  red: [0.85, 0.15, 0.12, 1],
  green: [0.15, 0.7, 0.2, 1],
  blue: [0.15, 0.3, 0.85, 1],
  yellow: [0.92, 0.82, 0.15, 1],
};
