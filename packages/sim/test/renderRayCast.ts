// The independent reference of the renderer tests: MuJoCo's own ray caster (`mj_ray`), one ray per
// pixel centre through the pinhole of a camera.
import type { MainModule, MjData, MjModel } from '@mujoco/mujoco';

/** What the rays saw. */
export interface RayCastIds {
  /** Per pixel (row-major, row 0 at the top), the id of the geom hit, or -1. */
  readonly ids: Int32Array;
  /** Per pixel, the hit point in the world (NaN where nothing was hit). */
  readonly points: Float64Array;
}

/**
 * Casts a ray through the centre of every pixel of camera `cam` (MuJoCo's convention: columns of
 * `cam_xmat` are image right, image up and backwards; `cam_fovy` vertical) at `width × height`,
 * seeing only the geom groups in `groups` (as the renderer draws them).
 */
export function rayCastIds(
  mj: MainModule,
  m: MjModel,
  d: MjData,
  cam: number,
  width: number,
  height: number,
  groups: readonly number[] = [0, 1, 2],
): RayCastIds {
  const pos = Array.from((d.cam_xpos as Float64Array).subarray(3 * cam, 3 * cam + 3));
  const r = Array.from((d.cam_xmat as Float64Array).subarray(9 * cam, 9 * cam + 9));
  const t = Math.tan(((m.cam_fovy as Float64Array)[cam] * Math.PI) / 360);
  const mask = [0, 1, 2, 3, 4, 5].map((g) => (groups.includes(g) ? 1 : 0));
  const gid = new mj.IntBuffer(1);
  const ids = new Int32Array(width * height);
  const points = new Float64Array(3 * width * height);
  try {
    for (let row = 0; row < height; row++) {
      for (let col = 0; col < width; col++) {
        const u = (((col + 0.5) / width) * 2 - 1) * t * (width / height);
        const v = (1 - ((row + 0.5) / height) * 2) * t;
        const dir = [0, 1, 2].map((k) => u * r[3 * k] + v * r[3 * k + 1] - r[3 * k + 2]);
        const dist = mj.mj_ray(m, d, pos, dir, mask, true, -1, gid, null);
        const k = row * width + col;
        const g = dist >= 0 ? (gid.GetView() as Int32Array)[0] : -1;
        ids[k] = g;
        for (let c = 0; c < 3; c++) points[3 * k + c] = g >= 0 ? pos[c] + dist * dir[c] : NaN;
      }
    }
  } finally {
    gid.delete();
  }
  return { ids, points };
}

/** Fraction of pixels on which two id images agree. */
export function agreement(a: Int32Array, b: Int32Array): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}
