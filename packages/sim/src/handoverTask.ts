import { expandTemplate, makeInstruction } from './instructions.js';
import { halfHeight, objectSize } from './pickPlaceTask.js';
import type { SceneBin, SceneObject } from './sceneBuilder.js';
import { COLOURS, inBin, type SimTask } from './simTask.js';
import type { SimWorld } from './simWorld.js';

/** Half extents of the handed-over bar (m): long enough that both grippers fit on it side by side. */
const BAR_SIZE = [0.07, 0.016, 0.02];
const TABLE = { center: [0.62, 0], half: [0.34, 0.7] } as const;
const TABLE_FRONT = TABLE.center[0] - TABLE.half[0];

/**
 * `handover` (bimanual): a bar lies on the left arm's side of the table with a distractor cube of
 * another colour; the left arm must pick the named bar and hand it to the right arm, which places it in
 * the bin. Success needs both: the bar was held by the right gripper alone (clear of the table and of
 * the left fingers) at some point, and it ends in the bin. Progress is ½ after the handover, 1 when
 * it is placed. Seeded: colours, the bar's place and yaw, the distractor's place, the bin and the
 * wording. 25 s at the control rate.
 */
export const HANDOVER: SimTask = {
  name: 'handover',
  bimanual: true,
  create(robot, rng) {
    const ws = robot.workspace.handover;
    const top = robot.tableHeight;
    const [colour, other] = rng.shuffle(Object.keys(COLOURS));
    const bx = rng.uniform(ws.pick.x[0], ws.pick.x[1]);
    const by = rng.uniform(ws.pick.y[0], ws.pick.y[1]);
    const bar: SceneObject = {
      name: 'obj0',
      shape: 'box',
      size: BAR_SIZE,
      rgba: COLOURS[colour],
      pos: [bx, by, top + BAR_SIZE[2] + 0.001],
      yaw: rng.uniform(ws.yaw[0], ws.yaw[1]),
      mass: 0.08,
    };
    // The distractor stands in front of or behind the bar, clear of its ends and of the grippers.
    const cubeSize = objectSize('box');
    // Toward the back of the table when the bar lies near its front edge.
    const side = rng.pick([-1, 1]);
    const dx = (bx - 0.13 < TABLE_FRONT + 0.03 ? 1 : side) * rng.uniform(0.1, 0.13);
    const cube: SceneObject = {
      name: 'obj1',
      shape: 'box',
      size: cubeSize,
      rgba: COLOURS[other],
      pos: [
        bx + dx,
        by + rng.uniform(-0.04, 0.04),
        top + halfHeight({ shape: 'box', size: cubeSize }) + 0.001,
      ],
      yaw: rng.uniform(-Math.PI / 4, Math.PI / 4),
      mass: 0.08,
    };
    const [px, py] = rng.pick(ws.bins);
    const bin: SceneBin = {
      name: 'bin',
      pos: [px, py, top + 0.01],
      half: [0.085, 0.085],
      wallHeight: 0.05,
      rgba: [0.35, 0.35, 0.38, 1],
    };
    const instruction = makeInstruction(
      'handover',
      rng,
      expandTemplate(`${colour} {bar|stick|block}`, rng),
      expandTemplate('{bin|box|container|grey bin}', rng),
    );
    const arms = robot.spec.arms;
    const fingers = (k: 0 | 1) => [`${arms[k].gripper.dim}_finger1`, `${arms[k].gripper.dim}_finger2`];
    let handedOver = false;
    // Held by the right gripper alone: off the table, both right fingers touch it, no left finger does.
    const heldByReceiver = (w: SimWorld) => {
      const p = w.pose(bar.name).pos;
      if (p[2] - BAR_SIZE[2] < top + 0.015) return false;
      // Cheap test first: the right grip site is at the bar (the contact list is costly to read).
      const g = w.sitePos(robot.arms[1].gripSite);
      if (Math.hypot(g[0] - p[0], g[1] - p[1], g[2] - p[2]) > 0.12) return false;
      const touching = w.contactsOf(bar.name);
      return fingers(1).every((f) => touching.has(f)) && !fingers(0).some((f) => touching.has(f));
    };
    return {
      task: 'handover',
      layout: { table: TABLE, objects: [bar, cube], bins: [bin] },
      instruction,
      maxSteps: 25 * robot.embodiment.controlHz,
      goals: [{ object: bar.name, bin, arm: 0, receiver: 1 }],
      progress: (w) => {
        handedOver ||= heldByReceiver(w);
        return handedOver ? (inBin(w, bar.name, bin) ? 1 : 0.5) : 0;
      },
    };
  },
};
