import type { CameraFrame } from '@vla/robot-core';
import type { MjData, MjModel } from './mujoco.js';

/**
 * A synchronous source of camera images: renders camera `cameraName` of the scene in its current
 * state as an RGB8 HWC frame of `width × height`. The built-in one is the CPU ray-caster
 * ({@link rayCastCameraSource}); the GPU renderer is asynchronous (its frames are read back) and plugs
 * in as {@link GpuCamera} instead. The model changes on every `reset` (each episode compiles its own
 * scene), so a source must not assume it stays the same.
 */
export type CameraSource = (
  model: MjModel,
  data: MjData,
  cameraName: string,
  width: number,
  height: number,
) => CameraFrame;
