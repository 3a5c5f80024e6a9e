import loadMujocoModule, { type MainModule, type MjData, type MjModel } from '@mujoco/mujoco';

/** The MuJoCo WebAssembly module (`@mujoco/mujoco`, single-threaded build). */
export type Mujoco = MainModule;
export type { MjData, MjModel };

let shared: Promise<Mujoco> | undefined;

/**
 * Load MuJoCo WebAssembly once per process (or page) and share it. Works in Node and in browsers
 * whose bundler serves `mujoco.wasm` next to `mujoco.js`.
 */
export function loadMujoco(): Promise<Mujoco> {
  shared ??= loadMujocoModule();
  return shared;
}

/** Name → id of a model object, throwing a clear error when it does not exist. */
export function requireId(
  mj: Mujoco,
  m: MjModel,
  type: 'body' | 'joint' | 'actuator' | 'camera' | 'site' | 'geom' | 'key',
  name: string,
): number {
  const table = {
    body: mj.mjtObj.mjOBJ_BODY,
    joint: mj.mjtObj.mjOBJ_JOINT,
    actuator: mj.mjtObj.mjOBJ_ACTUATOR,
    camera: mj.mjtObj.mjOBJ_CAMERA,
    site: mj.mjtObj.mjOBJ_SITE,
    geom: mj.mjtObj.mjOBJ_GEOM,
    key: mj.mjtObj.mjOBJ_KEY,
  } as const;
  const id = mj.mj_name2id(m, table[type].value, name);
  if (id < 0) throw new Error(`sim: the model has no ${type} named "${name}"`);
  return id;
}

/** A live Float64Array view of a model/data field (views are re-read after each call; wasm memory may move). */
export function f64(x: unknown): Float64Array {
  return x as Float64Array;
}

/** A live Int32Array view of a model/data field. */
export function i32(x: unknown): Int32Array {
  return x as Int32Array;
}
