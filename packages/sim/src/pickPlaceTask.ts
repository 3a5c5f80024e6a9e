import { makeInstruction, SHAPE_WORDS, expandTemplate } from './instructions.js';
import type { SceneBin, SceneObject } from './sceneBuilder.js';
import { COLOURS, inBin, type SimTask } from './simTask.js';

const SHAPES = ['box', 'cylinder'] as const;

/** Size of an object of `shape`: box half extents or cylinder [radius, half height]. */
export function objectSize(shape: 'box' | 'cylinder'): number[] {
  return shape === 'box' ? [0.021, 0.021, 0.025] : [0.021, 0.026];
}

/** Half height of an object. */
export function halfHeight(o: Pick<SceneObject, 'shape' | 'size'>): number {
  return o.shape === 'box' ? o.size[2] : o.size[1];
}

/**
 * `pick-place`: three objects of distinct colour/shape on the table and one bin; the instruction
 * names one object by colour and shape, which must end up in the bin. Seeded: positions, yaws,
 * colours, shapes, the bin's place and the instruction's wording. 12 s at the control rate.
 */
export const PICK_PLACE: SimTask = {
  name: 'pick-place',
  bimanual: false,
  create(robot, rng) {
    const ws = robot.workspace;
    const top = robot.tableHeight;
    const kinds = rng.shuffle(Object.keys(COLOURS).flatMap((c) => SHAPES.map((s) => [c, s] as const)));
    // Distinct colours, so colour plus shape names one object.
    const chosen: (readonly [string, 'box' | 'cylinder'])[] = [];
    for (const k of kinds) if (!chosen.some((c) => c[0] === k[0]) && chosen.length < 3) chosen.push(k);
    const objects: SceneObject[] = [];
    const placed: [number, number][] = [];
    for (const [i, [colour, shape]] of chosen.entries()) {
      let x = 0;
      let y = 0;
      for (let tries = 0; tries < 200; tries++) {
        x = rng.uniform(ws.grasp.x[0], ws.grasp.x[1]);
        y = rng.uniform(ws.grasp.y[0], ws.grasp.y[1]);
        if (placed.every(([px, py]) => Math.hypot(px - x, py - y) > 0.075)) break;
      }
      placed.push([x, y]);
      const size = objectSize(shape);
      objects.push({
        name: `obj${i}`,
        shape,
        size,
        rgba: COLOURS[colour],
        pos: [x, y, top + halfHeight({ shape, size }) + 0.001],
        yaw: rng.uniform(-Math.PI / 4, Math.PI / 4),
        mass: 0.08,
      });
    }
    const [bx, by] = rng.pick(ws.bins);
    const bin: SceneBin = {
      name: 'bin',
      pos: [bx, by, top + 0.01],
      half: [0.065, 0.065],
      wallHeight: 0.05,
      rgba: [0.35, 0.35, 0.38, 1],
    };
    const target = objects[0];
    const words = expandTemplate(`${chosen[0][0]} ${SHAPE_WORDS[chosen[0][1]]}`, rng);
    const instruction = makeInstruction(
      'pick-place',
      rng,
      words,
      expandTemplate('{bin|box|container|grey bin}', rng),
    );
    return {
      task: 'pick-place',
      layout: { table: { center: [0.62, 0], half: [0.34, 0.7] }, objects, bins: [bin] },
      instruction,
      maxSteps: 12 * robot.embodiment.controlHz,
      goals: [{ object: target.name, bin, arm: 0 }],
      progress: (w) => (inBin(w, target.name, bin) ? 1 : 0),
    };
  },
};
