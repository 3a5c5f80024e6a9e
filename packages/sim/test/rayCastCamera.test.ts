import { beforeAll, describe, expect, it } from 'vitest';
import { SIM_ROBOT_NAMES, SimEnv, loadMujoco, rayCastCamera, type Mujoco } from '../src/index.js';

let mj: Mujoco;
beforeAll(async () => {
  mj = await loadMujoco();
});

// A camera 1 m above the floor looking straight down (its -z); image right = world +x, image up = world +y.
const XML = `<mujoco>
  <worldbody>
    <geom name="floor" type="plane" size="2 2 0.1" rgba="0.5 0.5 0.5 1"/>
    <geom name="box" type="box" pos="0.2 0 0.05" size="0.05 0.05 0.05" rgba="1 0 0 1"/>
    <geom name="ball" type="sphere" pos="-0.15 0.2 0.1" size="0.06" rgba="0 0 1 1"/>
    <camera name="top" pos="0 0 1" xyaxes="1 0 0 0 1 0" fovy="60"/>
  </worldbody>
</mujoco>`;

/** Independent pinhole projection of a world point seen by the camera above (float64). */
function project(p: [number, number, number], w: number, h: number): [number, number] {
  const t = Math.tan(Math.PI / 6);
  const depth = 1 - p[2];
  const u = p[0] / depth / (t * (w / h));
  const v = p[1] / depth / t;
  return [Math.floor(((1 - v) / 2) * h), Math.floor(((u + 1) / 2) * w)];
}

describe('rayCastCamera', () => {
  it('sees geoms where a pinhole projection puts them, with +y up, and the right depth', () => {
    const m = mj.MjModel.from_xml_string(XML);
    const d = new mj.MjData(m);
    mj.mj_forward(m, d);
    const W = 48;
    const H = 32;
    const img = rayCastCamera(mj, m, d, 'top', W, H);
    const id = (n: string) => mj.mj_name2id(m, mj.mjtObj.mjOBJ_GEOM.value, n);
    const at = (p: [number, number, number]) => {
      const [r, c] = project(p, W, H);
      return r * W + c;
    };
    const box = at([0.2, 0, 0.1]);
    expect(img.geomIds[box]).toBe(id('box'));
    expect(Array.from(img.frame.data.subarray(3 * box, 3 * box + 3))).toEqual(
      [255, 0, 0].map((v) => Math.round(v * (0.45 + 0.55 * (1 / Math.hypot(0.3, 0.2, 1))))),
    );
    const ball = at([-0.15, 0.2, 0.16]);
    expect(img.geomIds[ball]).toBe(id('ball'));
    // +y is up in the image: the ball (y = 0.2) is in the top half, the box (y = 0) on the middle row.
    expect(Math.floor(ball / W)).toBeLessThan(H / 2);
    expect(img.geomIds[at([0.5, -0.4, 0])]).toBe(id('floor'));
    // Depth along the ray through the box's top centre: the box top is 0.9 below the camera.
    const [r, c] = project([0.2, 0, 0.1], W, H);
    const t = Math.tan(Math.PI / 6);
    const u = (((c + 0.5) / W) * 2 - 1) * t * (W / H);
    const v = (1 - ((r + 0.5) / H) * 2) * t;
    expect(img.depth[box]).toBeCloseTo(0.9 * Math.hypot(u, v, 1), 6);
    // Counted pixels: the box's 0.1 m top face covers about (0.1 / 0.9 / (2t) · H)² pixels; a side face
    // seen in perspective adds at most about as much again.
    const boxPixels = Array.from(img.geomIds).filter((g) => g === id('box')).length;
    const side = (0.1 / 0.9 / (2 * t)) * H;
    expect(boxPixels).toBeGreaterThan(0.7 * side * side);
    expect(boxPixels).toBeLessThan(2.5 * side * side);
    d.delete();
    m.delete();
  });

  it('gives per pixel what mj_ray gives for the same ray', () => {
    const m = mj.MjModel.from_xml_string(XML);
    const d = new mj.MjData(m);
    mj.mj_forward(m, d);
    const W = 16;
    const H = 12;
    const img = rayCastCamera(mj, m, d, 'top', W, H);
    const t = Math.tan(Math.PI / 6);
    const gid = new mj.IntBuffer(1);
    const nrm = new mj.DoubleBuffer(3);
    for (let k = 0; k < W * H; k += 5) {
      const c = k % W;
      const r = Math.floor(k / W);
      const dir = [(((c + 0.5) / W) * 2 - 1) * t * (W / H), (1 - ((r + 0.5) / H) * 2) * t, -1];
      const n = Math.hypot(...dir);
      const dist = mj.mj_ray(
        m,
        d,
        [0, 0, 1],
        dir.map((x) => x / n),
        null as unknown as number[],
        true,
        -1,
        gid,
        nrm,
      );
      expect(img.geomIds[k]).toBe((gid.GetView() as Int32Array)[0]);
      expect(img.depth[k]).toBeCloseTo(dist, 9);
    }
    gid.delete();
    nrm.delete();
    d.delete();
    m.delete();
  });

  it.each(SIM_ROBOT_NAMES)(
    '%s: head sees the table, each wrist camera sees its own fingers',
    async (robot) => {
      const env = await SimEnv.create({ task: 'pick-place', robot, camera: null, mujoco: mj });
      env.reset(0);
      const { model: m, data: d } = env.world;
      const geomsOfBody = (prefix: string) => {
        const out = new Set<number>();
        const bodyId = (g: number) => (m.geom_bodyid as Int32Array)[g];
        for (let g = 0; g < m.ngeom; g++) {
          const name = mj.mj_id2name(m, mj.mjtObj.mjOBJ_BODY.value, bodyId(g));
          if (name?.startsWith(prefix)) out.add(g);
        }
        return out;
      };
      const head = rayCastCamera(mj, m, d, 'head', 32, 24);
      const table = mj.mj_name2id(m, mj.mjtObj.mjOBJ_GEOM.value, 'table_top');
      expect(Array.from(head.geomIds).filter((g) => g === table).length).toBeGreaterThan(32 * 24 * 0.1);
      for (const side of ['left', 'right']) {
        const wrist = rayCastCamera(mj, m, d, `hand_${side}`, 32, 24);
        const fingers = geomsOfBody(`${side}_gripper_finger`);
        expect(fingers.size).toBe(2);
        expect(Array.from(wrist.geomIds).some((g) => fingers.has(g))).toBe(true);
      }
      env.delete();
    },
  );
});
