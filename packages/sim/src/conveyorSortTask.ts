import { makeInstruction } from './instructions.js';
import type { SceneBin, SceneObject } from './sceneBuilder.js';
import { COLOURS, inBin, type SimTask } from './simTask.js';

/** Belt slab half height (m): its top is this twice above the table. */
const BELT_HALF_H = 0.01;

/**
 * `conveyor-sort`: two parcels (red or blue) ride a belt toward the robot's reach at a randomised
 * speed (4–7 cm/s); each must be picked in motion and dropped in the bin of its colour. Parcels that
 * ride past the end of the belt fall onto the table and the episode fails. Seeded: speed, colours,
 * spacing, yaws and wording. 30 s at the control rate.
 */
export const CONVEYOR_SORT: SimTask = {
  name: 'conveyor-sort',
  bimanual: false,
  create(robot, rng) {
    const ws = robot.workspace;
    const top = robot.tableHeight;
    const beltTop = top + 2 * BELT_HALF_H;
    const speed = rng.uniform(0.04, 0.07);
    // Parcels travel toward -y; the belt ends a little past the interception window.
    const yEnd = ws.intercept[0] - 0.08;
    const yStart = ws.intercept[1] + 0.7;
    const belt = {
      pos: [ws.beltX, (yStart + yEnd) / 2, top + BELT_HALF_H] as [number, number, number],
      half: [0.05, (yStart - yEnd) / 2, BELT_HALF_H] as [number, number, number],
    };
    const colours = ['red', 'blue'] as const;
    const bins: SceneBin[] = colours.map((c, i) => ({
      name: c,
      pos: [ws.sortBins[i][0], ws.sortBins[i][1], top + 0.01],
      half: [0.06, 0.06],
      wallHeight: 0.05,
      rgba: COLOURS[c],
    }));
    const objects: SceneObject[] = [];
    let y = ws.intercept[1] + rng.uniform(0.15, 0.25);
    for (let i = 0; i < 2; i++) {
      const colour = rng.pick(colours);
      const size = [0.021, 0.021, 0.02];
      objects.push({
        name: `parcel${i}`,
        shape: 'box',
        size,
        rgba: COLOURS[colour],
        pos: [ws.beltX + rng.uniform(-0.01, 0.01), y, beltTop + size[2] + 0.001],
        yaw: rng.uniform(-0.3, 0.3),
        mass: 0.08,
      });
      y += rng.uniform(0.3, 0.38);
    }
    const goals = objects.map((o) => ({
      object: o.name,
      bin: bins[o.rgba === COLOURS.red ? 0 : 1],
      arm: 0 as const,
    }));
    return {
      task: 'conveyor-sort',
      layout: { table: { center: [0.62, 0], half: [0.34, 0.9] }, objects, bins, belt },
      belt: {
        top: beltTop,
        xRange: [belt.pos[0] - belt.half[0], belt.pos[0] + belt.half[0]],
        yRange: [yEnd, yStart],
        velocity: [0, -speed],
      },
      instruction: makeInstruction('conveyor-sort', rng),
      maxSteps: 30 * robot.embodiment.controlHz,
      goals,
      progress: (w) => goals.filter((g) => inBin(w, g.object, g.bin)).length / goals.length,
    };
  },
};
