import type { CameraFrame } from './robot.js';

/**
 * What a policy receives each time it is asked for a chunk. The state is in the dataset's convention,
 * unnormalised and zero-padded to {@link POLICY_DIM}; images are keyed by the embodiment's camera names.
 */
export interface PolicyObservation {
  /** Upstream robot_type key of the robot that produced it. */
  readonly robotType: string;
  /** Dataset-convention state padded with zeros to 32 values. */
  readonly state: Float32Array;
  /** Latest frame per camera (RGB8, HWC). Cameras that have not delivered yet are absent. */
  readonly images: Readonly<Record<string, CameraFrame>>;
  /** Task instruction, when the executor was given one. */
  readonly prompt?: string;
  /** When the observation was taken, on the executor's clock (ms). */
  readonly timestampMs: number;
}

/**
 * A chunk of actions, row-major `[horizon, dim]`. `dim` is usually the padded width 32; only the first
 * `embodiment.dims.length` columns are used.
 */
export interface ActionChunk {
  /** Row-major values, `horizon * dim` long. */
  readonly actions: Float32Array;
  /** Number of rows (actions), e.g. 50. */
  readonly horizon: number;
  /** Values per row, e.g. 32. */
  readonly dim: number;
}

/**
 * Anything that turns an observation into a chunk: a local policy, an openpi websocket client, a
 * replay of a dataset. The robot side never knows which.
 */
export type ActionSource = (observation: PolicyObservation) => Promise<ActionChunk>;

/** Policy vector width: state and actions are zero-padded to this many values. */
export const POLICY_DIM = 32;
