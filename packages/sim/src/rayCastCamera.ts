import type { CameraFrame } from '@vla/robot-core';
import type { CameraSource } from './cameraSource.js';
import { f64, i32, requireId, type MjData, type MjModel, type Mujoco } from './mujoco.js';

/** What {@link rayCastCamera} saw at each pixel, besides the colours. */
export interface RayCastImage {
  /** RGB8, HWC, row 0 at the top of the image. */
  readonly frame: CameraFrame;
  /** Per pixel, the id of the geom hit, or -1 for none (sky). */
  readonly geomIds: Int32Array;
  /** Per pixel, the distance along the ray (m), or -1 for none. */
  readonly depth: Float64Array;
}

const SKY = [150, 175, 205];
// One light from above and slightly in front: surfaces facing it are brighter, so faces of a box differ.
const LIGHT = (() => {
  const l = [0.3, 0.2, 1];
  const n = Math.hypot(...l);
  return l.map((x) => x / n);
})();

/**
 * A CPU reference camera: one ray per pixel through the pinhole of MuJoCo camera `cameraName`
 * (`mj_multiRay`, which gives exactly what `mj_ray` gives per ray), coloured by the hit geom's
 * rgba (its material's when it has one) with Lambert shading from a fixed light and an ambient term.
 *
 * Geometry follows MuJoCo's camera convention: the camera sits at `cam_xpos`, the columns of
 * `cam_xmat` are its x (image right), y (image up) and z axes, and it looks along -z; `cam_fovy` is
 * the vertical field of view in degrees. Pixel (row r, col c) looks through the pixel centre
 * ((c + ½)/W·2 − 1)·tan(fovy/2)·W/H right and (1 − (r + ½)/H·2)·tan(fovy/2) up. Call `mj_forward`
 * (or step) before, so `cam_xpos`/`cam_xmat` are current. Slow by design (a reference, not a renderer):
 * use small images (32–64 px).
 */
export function rayCastCamera(
  mj: Mujoco,
  m: MjModel,
  d: MjData,
  cameraName: string,
  width: number,
  height: number,
): RayCastImage {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new Error(`rayCastCamera: bad image size ${width}x${height}`);
  }
  const cam = requireId(mj, m, 'camera', cameraName);
  const pos = Array.from(f64(d.cam_xpos).subarray(3 * cam, 3 * cam + 3));
  const r = f64(d.cam_xmat).subarray(9 * cam, 9 * cam + 9);
  const right = [r[0], r[3], r[6]];
  const up = [r[1], r[4], r[7]];
  const back = [r[2], r[5], r[8]];
  const t = Math.tan((f64(m.cam_fovy)[cam] * Math.PI) / 360);
  const n = width * height;
  const vec = new Float64Array(3 * n);
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      const u = (((col + 0.5) / width) * 2 - 1) * t * (width / height);
      const v = (1 - ((row + 0.5) / height) * 2) * t;
      const k = row * width + col;
      let x = u * right[0] + v * up[0] - back[0];
      let y = u * right[1] + v * up[1] - back[1];
      let z = u * right[2] + v * up[2] - back[2];
      const len = Math.hypot(x, y, z);
      x /= len;
      y /= len;
      z /= len;
      vec[3 * k] = x;
      vec[3 * k + 1] = y;
      vec[3 * k + 2] = z;
    }
  }
  const gid = new mj.IntBuffer(n);
  const dist = new mj.DoubleBuffer(n);
  const nrm = new mj.DoubleBuffer(3 * n);
  try {
    // Every geom group, static geoms included, nothing excluded.
    mj.mj_multiRay(
      m,
      d,
      pos,
      vec as unknown as number[],
      null as unknown as number[],
      true,
      -1,
      gid,
      dist,
      nrm,
      n,
      1e3,
    );
    const ids = Int32Array.from(gid.GetView() as Int32Array);
    const depth = Float64Array.from(dist.GetView() as Float64Array);
    const normal = nrm.GetView() as Float64Array;
    const rgbaOf = f64(m.geom_rgba);
    const matOf = i32(m.geom_matid);
    const matRgba = f64(m.mat_rgba);
    const data = new Uint8Array(3 * n);
    for (let k = 0; k < n; k++) {
      const g = ids[k];
      if (g < 0) {
        depth[k] = -1;
        data.set(SKY, 3 * k);
        continue;
      }
      const mat = matOf[g];
      const c = mat >= 0 ? matRgba.subarray(4 * mat, 4 * mat + 3) : rgbaOf.subarray(4 * g, 4 * g + 3);
      let lambert = normal[3 * k] * LIGHT[0] + normal[3 * k + 1] * LIGHT[1] + normal[3 * k + 2] * LIGHT[2];
      lambert = Math.max(0, lambert);
      const shade = 0.45 + 0.55 * lambert;
      for (let ch = 0; ch < 3; ch++) data[3 * k + ch] = Math.round(255 * Math.min(1, c[ch] * shade));
    }
    return { frame: { width, height, data, timestampMs: d.time * 1000 }, geomIds: ids, depth };
  } finally {
    gid.delete();
    dist.delete();
    nrm.delete();
  }
}

/** {@link rayCastCamera} as a {@link CameraSource}: the simulator's built-in, GPU-free cameras. */
export function rayCastCameraSource(mj: Mujoco): CameraSource {
  return (m, d, name, w, h) => rayCastCamera(mj, m, d, name, w, h).frame;
}
