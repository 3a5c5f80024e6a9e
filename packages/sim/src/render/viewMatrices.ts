// Camera and light matrices, computed in float64 and stored column-major (WGSL's mat4x4f layout).

/** A camera pose in MuJoCo's convention. */
export interface CameraPose {
  /** Position in the world (m). */
  readonly pos: ArrayLike<number>;
  /**
   * Row-major 3x3 rotation whose columns are the camera's x (image right), y (image up) and z axes in
   * the world; the camera looks along -z (MuJoCo's `cam_xmat`).
   */
  readonly xmat: ArrayLike<number>;
  /** Vertical field of view in degrees. */
  readonly fovy: number;
}

/** Column-major 4x4 from rows. */
function fromRows(rows: readonly (readonly number[])[], out: Float32Array, offset: number): void {
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) out[offset + 4 * c + r] = rows[r][c];
}

/**
 * View-projection of a MuJoCo camera for a `width × height` image: reversed-Z with an infinite far
 * plane (clip z = near, clip w = distance in front of the camera), so depth = near / distance.
 * A pixel's centre (row r, col c) sees the ray through ((c + ½)/W·2 − 1)·tan(fovy/2)·W/H right and
 * (1 − (r + ½)/H·2)·tan(fovy/2) up, like a pinhole ray-cast of the same camera.
 */
export function cameraViewProj(
  cam: CameraPose,
  width: number,
  height: number,
  near: number,
  out: Float32Array,
  offset = 0,
): void {
  const m = cam.xmat;
  const p = cam.pos;
  const right = [m[0], m[3], m[6]];
  const up = [m[1], m[4], m[7]];
  const back = [m[2], m[5], m[8]];
  const dot = (a: number[]) => a[0] * p[0] + a[1] * p[1] + a[2] * p[2];
  const f = 1 / Math.tan((cam.fovy * Math.PI) / 360);
  const sx = f / (width / height);
  fromRows(
    [
      [sx * right[0], sx * right[1], sx * right[2], -sx * dot(right)],
      [f * up[0], f * up[1], f * up[2], -f * dot(up)],
      [0, 0, 0, near],
      [-back[0], -back[1], -back[2], dot(back)],
    ],
    out,
    offset,
  );
}

/**
 * Orthographic view-projection of a directional light (`toLight`: unit vector towards it) around a
 * sphere (`center`, `radius`): x, y span [-1, 1] over the sphere's shadow, depth runs from 0 at the
 * side facing the light to 1 at the far side.
 */
export function lightViewProj(
  toLight: readonly number[],
  center: ArrayLike<number>,
  radius: number,
  out: Float32Array,
  offset = 0,
): void {
  const L = toLight;
  // Any axis not parallel to the light completes the basis.
  const helper = Math.abs(L[2]) < 0.9 ? [0, 0, 1] : [1, 0, 0];
  const cross = (a: readonly number[], b: readonly number[]) => [
    a[1] * b[2] - a[2] * b[1],
    a[2] * b[0] - a[0] * b[2],
    a[0] * b[1] - a[1] * b[0],
  ];
  const norm = (a: number[]) => {
    const n = Math.hypot(a[0], a[1], a[2]);
    return a.map((x) => x / n);
  };
  const x = norm(cross(helper, L));
  const y = cross(L, x);
  const c = center;
  const dot = (a: readonly number[]) => a[0] * c[0] + a[1] * c[1] + a[2] * c[2];
  const s = 1 / radius;
  // depth = (radius - (p - c)·L) / (2 radius)
  const dz = -1 / (2 * radius);
  fromRows(
    [
      [s * x[0], s * x[1], s * x[2], -s * dot(x)],
      [s * y[0], s * y[1], s * y[2], -s * dot(y)],
      [dz * L[0], dz * L[1], dz * L[2], 0.5 - dz * dot(L)],
      [0, 0, 0, 1],
    ],
    out,
    offset,
  );
}
