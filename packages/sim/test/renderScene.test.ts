import loadMujoco, { type MainModule, type MjData, type MjModel } from '@mujoco/mujoco';
import { init, mean, type Engine } from '@vla/tensor-webgpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SceneRenderer } from '../src/render/sceneRenderer.js';
import { agreement, rayCastIds } from './renderRayCast.js';
import { TABLETOP_XML } from './renderScenes.js';

// SwiftShader renders on the CPU: keep images small and let slow steps finish (nothing is timed).
const SLOW = 120_000;
const LIGHT: [number, number, number] = [0.35, 0.25, 1];

let mj: MainModule;
let engine: Engine;
let m: MjModel;
let d: MjData;
let renderer: SceneRenderer;

const camId = (name: string) => mj.mj_name2id(m, mj.mjtObj.mjOBJ_CAMERA.value, name);
const geomId = (name: string) => mj.mj_name2id(m, mj.mjtObj.mjOBJ_GEOM.value, name);
const qposOf = (joint: string) =>
  (m.jnt_qposadr as Int32Array)[mj.mj_name2id(m, mj.mjtObj.mjOBJ_JOINT.value, joint)];

function reset(): void {
  mj.mj_resetData(m, d);
  mj.mj_forward(m, d);
}

beforeAll(async () => {
  mj = await loadMujoco();
  engine = await init({ backend: 'webgpu' });
  m = mj.MjModel.from_xml_string(TABLETOP_XML);
  d = new mj.MjData(m);
  reset();
  renderer = await SceneRenderer.create(m, { width: 48, height: 48, lighting: { direction: LIGHT } });
}, SLOW);

afterAll(() => {
  renderer?.dispose();
  d?.delete();
  m?.delete();
});

describe('SceneRenderer on a tabletop with every primitive', () => {
  it(
    'shows the same geom as an mj_ray ray-cast on ≥ 97% of the pixels, for both cameras',
    async () => {
      const report: string[] = [];
      for (const [cam, size] of [
        ['overview', 48],
        ['mover', 48],
        ['overview', 32],
      ] as const) {
        const ids = await renderer.renderGeomIds(d, cam, { width: size, height: size });
        const ref = rayCastIds(mj, m, d, camId(cam), size, size);
        const a = agreement(ids, ref.ids);
        report.push(`${cam} ${size}x${size}: ${(100 * a).toFixed(2)}%`);
        expect(a, `${cam} ${size}x${size}`).toBeGreaterThanOrEqual(0.97);
      }
      console.log(`geom-id agreement with mj_ray: ${report.join(', ')}`);
    },
    SLOW,
  );

  it(
    'draws every primitive type, and neither the alpha-0 geom nor the group-3 collision geom',
    async () => {
      const drawn = new Set(renderer.drawnGeoms);
      for (const g of ['floor', 'table', 'cube', 'ball', 'capsule', 'cylinder', 'egg', 'wedge'])
        expect(drawn.has(geomId(g)), g).toBe(true);
      expect(drawn.has(geomId('ghost'))).toBe(false);
      expect(drawn.has(geomId('collision'))).toBe(false);
      // Each object covers pixels in the image, where the ray-cast sees it too (per-geom overlap).
      const ids = await renderer.renderGeomIds(d, 'overview', { width: 64, height: 64 });
      const ref = rayCastIds(mj, m, d, camId('overview'), 64, 64);
      for (const g of ['cube', 'ball', 'capsule', 'cylinder', 'egg', 'wedge']) {
        const id = geomId(g);
        let both = 0;
        let either = 0;
        for (let k = 0; k < ids.length; k++) {
          const a = ids[k] === id;
          const b = ref.ids[k] === id;
          if (a && b) both++;
          if (a || b) either++;
        }
        expect(either, `${g} is in view`).toBeGreaterThanOrEqual(8);
        expect(both / either, `${g} intersection over union`).toBeGreaterThan(0.6);
      }
    },
    SLOW,
  );

  it(
    'gives byte-identical images for the same state, whatever was rendered in between',
    async () => {
      const first = await renderer.render(d, 'overview');
      // Other cameras, sizes, outputs and states in between (the shadow map is redrawn).
      await renderer.render(d, 'mover', { width: 64, height: 40 });
      renderer.renderTensor(d, 'mover', { width: 32, height: 32 }).dispose();
      d.qpos[qposOf('cube')] += 0.1;
      mj.mj_forward(m, d);
      const moved = await renderer.render(d, 'overview');
      reset();
      const again = await renderer.render(d, 'overview');
      const fresh = await SceneRenderer.create(m, { width: 48, height: 48, lighting: { direction: LIGHT } });
      const other = await fresh.render(d, 'overview');
      fresh.dispose();
      expect(Buffer.from(again.data).equals(Buffer.from(first.data))).toBe(true);
      expect(Buffer.from(other.data).equals(Buffer.from(first.data))).toBe(true);
      expect(Buffer.from(moved.data).equals(Buffer.from(first.data))).toBe(false);
      expect(first.width).toBe(48);
      expect(first.height).toBe(48);
      expect(first.data.length).toBe(48 * 48 * 3);
    },
    SLOW,
  );

  it(
    'moving the cube 5 cm changes the pixels where it was and where it went',
    async () => {
      const size = 64;
      const cube = geomId('cube');
      const before = await renderer.render(d, 'overview', { width: size, height: size });
      const refBefore = rayCastIds(mj, m, d, camId('overview'), size, size);
      d.qpos[qposOf('cube') + 1] += 0.05; // +y: to the right in the overview image
      mj.mj_forward(m, d);
      const after = await renderer.render(d, 'overview', { width: size, height: size });
      const refAfter = rayCastIds(mj, m, d, camId('overview'), size, size);
      reset();
      const changed = (k: number) =>
        Math.abs(before.data[3 * k] - after.data[3 * k]) +
          Math.abs(before.data[3 * k + 1] - after.data[3 * k + 1]) +
          Math.abs(before.data[3 * k + 2] - after.data[3 * k + 2]) >
        30;
      let left = 0;
      let leftChanged = 0;
      let arrived = 0;
      let arrivedChanged = 0;
      for (let k = 0; k < size * size; k++) {
        const was = refBefore.ids[k] === cube;
        const is = refAfter.ids[k] === cube;
        if (was && !is) {
          left++;
          if (changed(k)) leftChanged++;
        }
        if (is && !was) {
          arrived++;
          if (changed(k)) arrivedChanged++;
        }
      }
      expect(left).toBeGreaterThanOrEqual(4);
      expect(arrived).toBeGreaterThanOrEqual(4);
      expect(leftChanged / left).toBeGreaterThanOrEqual(0.9);
      expect(arrivedChanged / arrived).toBeGreaterThanOrEqual(0.9);
    },
    SLOW,
  );

  it(
    'the camera on the sliding body moves with it and still matches the ray-cast',
    async () => {
      const before = await renderer.render(d, 'mover');
      d.qpos[qposOf('slide')] = 0.12;
      mj.mj_forward(m, d);
      const after = await renderer.render(d, 'mover');
      const ids = await renderer.renderGeomIds(d, 'mover');
      const ref = rayCastIds(mj, m, d, camId('mover'), 48, 48);
      reset();
      expect(Buffer.from(after.data).equals(Buffer.from(before.data))).toBe(false);
      expect(agreement(ids, ref.ids)).toBeGreaterThanOrEqual(0.97);
    },
    SLOW,
  );

  it(
    'shades the table where a ray towards the key light is blocked (mj_ray), and only there',
    async () => {
      const size = 64;
      const dark = await SceneRenderer.create(m, {
        width: size,
        height: size,
        lighting: { direction: LIGHT },
        shadows: { mapSize: 0 },
      });
      const lit = await dark.render(d, 'mover');
      dark.dispose();
      const shaded = await renderer.render(d, 'mover', { width: size, height: size });
      const ref = rayCastIds(mj, m, d, camId('mover'), size, size);
      const n = Math.hypot(...LIGHT);
      const toLight = LIGHT.map((x) => x / n);
      const gid = new mj.IntBuffer(1);
      let table = 0;
      let blocked = 0;
      let blockedDark = 0;
      let openLit = 0;
      try {
        for (let k = 0; k < size * size; k++) {
          if (ref.ids[k] !== geomId('table')) continue;
          table++;
          const p = [0, 1, 2].map((c) => ref.points[3 * k + c] + 1e-4 * toLight[c]);
          const inShadow = mj.mj_ray(m, d, p, toLight, [1, 1, 1, 0, 0, 0], true, -1, gid, null) >= 0;
          const ratio =
            (shaded.data[3 * k] + shaded.data[3 * k + 1] + shaded.data[3 * k + 2]) /
            (lit.data[3 * k] + lit.data[3 * k + 1] + lit.data[3 * k + 2]);
          if (inShadow) {
            blocked++;
            if (ratio < 0.85) blockedDark++;
          } else if (ratio >= 0.85) {
            openLit++;
          }
        }
      } finally {
        gid.delete();
      }
      const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(1)}%`;
      console.log(
        `shadows: ${blocked} of ${table} table pixels blocked from the light; rendered darker: ${pct(blockedDark, blocked)} of those, ${pct(table - blocked - openLit, table - blocked)} of the others`,
      );
      expect(table).toBeGreaterThan(1000);
      expect(blocked).toBeGreaterThanOrEqual(50);
      // Shadow edges are soft (2x2 filtering) and pixels straddle them: a few disagree.
      expect(blockedDark / blocked).toBeGreaterThanOrEqual(0.85);
      expect(openLit / (table - blocked)).toBeGreaterThanOrEqual(0.97);
    },
    SLOW,
  );

  it(
    'renderTensor: a [1, 3, H, W] tensor on the engine holding the rendered bytes, with no readback',
    async () => {
      const frame = await renderer.render(d, 'overview');
      const readbacks = engine.counters.readbacks;
      const inUse = engine.poolStats().inUseBytes;
      const t = renderer.renderTensor(d, 'overview');
      const signed = renderer.renderTensor(d, 'overview', { range: '-1..1' });
      const avg = mean(t);
      expect(engine.counters.readbacks).toBe(readbacks);
      expect(t.engine).toBe(engine);
      expect(t.shape).toEqual([1, 3, 48, 48]);
      const v = (await t.toArray()) as Float32Array;
      const s = (await signed.toArray()) as Float32Array;
      let sum = 0;
      for (let c = 0; c < 3; c++) {
        for (let k = 0; k < 48 * 48; k++) {
          const want = frame.data[3 * k + c] / 255;
          expect(Math.abs(v[c * 48 * 48 + k] - want)).toBeLessThan(1e-6);
          expect(Math.abs(s[c * 48 * 48 + k] - (2 * want - 1))).toBeLessThan(1e-6);
          sum += want;
        }
      }
      expect(await avg.item()).toBeCloseTo(sum / (3 * 48 * 48), 5);
      for (const x of [t, signed, avg]) x.dispose();
      expect(engine.poolStats().inUseBytes).toBe(inUse);
    },
    SLOW,
  );

  it('names the cameras it knows when asked for one it does not', async () => {
    await expect(renderer.render(d, 'nope')).rejects.toThrow(/no camera "nope" \(cameras: overview, mover\)/);
    expect(() => renderer.renderTensor(d, 'overview', { width: 0 })).toThrow(/bad image size 0x48/);
    await expect(SceneRenderer.create(m, { width: 8, height: 8, checker: { cell: 0 } })).rejects.toThrow(
      /checker\.cell must be > 0, got 0/,
    );
    const other = mj.MjModel.from_xml_string('<mujoco><worldbody><geom size="1"/></worldbody></mujoco>');
    const otherData = new mj.MjData(other);
    expect(() => renderer.renderTensor(otherData, 'overview')).toThrow(
      /does not belong to the renderer's model/,
    );
    otherData.delete();
    other.delete();
  });
});
