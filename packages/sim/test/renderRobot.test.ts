import loadMujoco, { type MainModule, type MjData, type MjModel } from '@mujoco/mujoco';
import { LIFT2_MJCF } from '@vla/robots-arx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SceneRenderer } from '../src/render/sceneRenderer.js';
import { agreement, rayCastIds } from './renderRayCast.js';

const SLOW = 120_000;
const SIZE = 32;
// A table with a cube in front of the robot, added to the robot's own MJCF.
const PROPS = `<geom name="table" type="box" pos="0.55 0 0.35" size="0.25 0.5 0.35" rgba="0.6 0.45 0.3 1"/>
    <body name="cube" pos="0.45 0.15 0.73"><freejoint name="cube"/><geom name="cube" type="box" size="0.025 0.025 0.025" rgba="0.9 0.2 0.2 1"/></body>
  </worldbody>`;

let mj: MainModule;
let m: MjModel;
let d: MjData;
let renderer: SceneRenderer;

const id = (type: 'CAMERA' | 'JOINT' | 'BODY', name: string) =>
  mj.mj_name2id(m, mj.mjtObj[`mjOBJ_${type}`].value, name);

function home(): void {
  mj.mj_resetDataKeyframe(m, d, 0);
  // The robot's keyframe does not know the cube: place it on the table.
  const adr = (m.jnt_qposadr as Int32Array)[id('JOINT', 'cube')];
  d.qpos.set([0.45, 0.15, 0.73, 1, 0, 0, 0], adr);
  mj.mj_forward(m, d);
}

/** Pixels showing a geom of the named side's gripper fingers. */
function fingerMask(ids: Int32Array, side: string): boolean[] {
  const fingers = new Set([id('BODY', `${side}_gripper_finger1`), id('BODY', `${side}_gripper_finger2`)]);
  return Array.from(ids, (g) => g >= 0 && fingers.has((m.geom_bodyid as Int32Array)[g]));
}

beforeAll(async () => {
  mj = await loadMujoco();
  m = mj.MjModel.from_xml_string(LIFT2_MJCF.xml.replace('</worldbody>', PROPS));
  d = new mj.MjData(m);
  home();
  renderer = await SceneRenderer.create(m, { width: SIZE, height: SIZE });
}, SLOW);

afterAll(() => {
  renderer?.dispose();
  d?.delete();
  m?.delete();
});

describe('SceneRenderer on the ARX Lift-2 model from @vla/robots-arx', () => {
  it(
    'head and wrist cameras show the same geoms as an mj_ray ray-cast on ≥ 97% of the pixels',
    async () => {
      const report: string[] = [];
      for (const cam of LIFT2_MJCF.cameras) {
        const ids = await renderer.renderGeomIds(d, cam);
        const a = agreement(ids, rayCastIds(mj, m, d, id('CAMERA', cam), SIZE, SIZE).ids);
        report.push(`${cam} ${(100 * a).toFixed(2)}%`);
        expect(a, cam).toBeGreaterThanOrEqual(0.97);
        // Not an empty view: the table (head) or the robot (wrists) is in it.
        expect(new Set(ids).size, `${cam} shows several geoms`).toBeGreaterThanOrEqual(2);
      }
      console.log(`Lift-2 geom-id agreement with mj_ray at ${SIZE}x${SIZE}: ${report.join(', ')}`);
    },
    SLOW,
  );

  it(
    'each wrist camera sees its gripper, which stays in place in its image while the arm swings',
    async () => {
      for (const side of ['left', 'right']) {
        const cam = `hand_${side}`;
        const before = await renderer.renderGeomIds(d, cam);
        const fingersBefore = fingerMask(before, side);
        const n = fingersBefore.filter(Boolean).length;
        expect(n / before.length, `${cam} sees its fingers`).toBeGreaterThanOrEqual(0.03);
        d.qpos[(m.jnt_qposadr as Int32Array)[id('JOINT', `${side}_joint1`)]] += 0.5;
        mj.mj_forward(m, d);
        const after = await renderer.renderGeomIds(d, cam);
        const ref = rayCastIds(mj, m, d, id('CAMERA', cam), SIZE, SIZE);
        home();
        const fingersAfter = fingerMask(after, side);
        let both = 0;
        let either = 0;
        let sceneChanged = 0;
        for (let k = 0; k < before.length; k++) {
          if (fingersBefore[k] && fingersAfter[k]) both++;
          if (fingersBefore[k] || fingersAfter[k]) either++;
          else if (before[k] !== after[k]) sceneChanged++;
        }
        // The camera rides on the wrist: the fingers stay, the world behind them moves.
        expect(both / either, `${cam} fingers overlap`).toBeGreaterThanOrEqual(0.9);
        expect(sceneChanged / before.length, `${cam} view changed`).toBeGreaterThanOrEqual(0.1);
        expect(agreement(after, ref.ids), `${cam} after the swing`).toBeGreaterThanOrEqual(0.97);
      }
    },
    SLOW,
  );
});
