import type { CameraFrame } from './robot.js';

/**
 * What an {@link ActionSource} is asked to answer with a chunk: one frame of the robot, as the
 * {@link ChunkExecutor} read it on the tick that requested the chunk. The state is in the dataset's
 * convention, unnormalised and zero-padded to {@link POLICY_DIM}; images are keyed by the
 * embodiment's camera names. (Not a network input: a policy package turns it into its own tensors.)
 */
export interface ChunkRequest {
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
  /**
   * Real-time chunking: the actions already committed for execution while this chunk is computed
   * (set by the executor's `rtc` strategy). A source that supports it samples the new chunk as
   * inpainting of these rows; one that does not may ignore it.
   */
  readonly committed?: CommittedActions;
}

/**
 * Actions already committed for execution while a requested chunk is computed (real-time chunking).
 * Rows are ABSOLUTE targets in dataset units (the convention of an {@link ActionChunk} with
 * `absolute: true`), zero-padded to `dim`: row i is what the robot does at the i-th executed step
 * after the request's observation — the rest of the plan being executed. Rows [0, delaySteps) run
 * before the new chunk can start; later rows are the old plan's continuation (what the new chunk's
 * overlap is softly guided toward).
 */
export interface CommittedActions {
  /** `horizon × dim` row-major, absolute, dataset units. */
  readonly actions: Float32Array;
  /** Number of rows. */
  readonly horizon: number;
  /** Values per row ({@link POLICY_DIM}). */
  readonly dim: number;
  /** Inference delay d in control steps: rows [0, d) execute before the new chunk can start (d ≤ horizon). */
  readonly delaySteps: number;
}

/**
 * A chunk of actions, row-major `[horizon, dim]`, in dataset units. `dim` is usually the padded width
 * 32; only the first `embodiment.dims.length` columns are used. By default the rows on the
 * embodiment's delta dims are deltas from the request's state when the executor's `actionsAreDelta`
 * is on; a source that already added the state back marks its chunk {@link ActionChunk.absolute}.
 */
export interface ActionChunk {
  /** Row-major values, `horizon * dim` long. */
  readonly actions: Float32Array;
  /** Number of rows (actions), e.g. 50. */
  readonly horizon: number;
  /** Values per row, e.g. 32. */
  readonly dim: number;
  /**
   * True when the rows are already absolute targets in dataset units (the source added the request's
   * state back on delta dims itself): the {@link ChunkExecutor} then adds no state to this chunk,
   * whatever its `actionsAreDelta` says. Default false.
   */
  readonly absolute?: boolean;
}

/**
 * Anything that answers a {@link ChunkRequest} with a chunk: a local policy, an openpi websocket
 * client, a replay of a dataset. The robot side never knows which.
 */
export type ActionSource = (request: ChunkRequest) => Promise<ActionChunk>;

/** Policy vector width: state and actions are zero-padded to this many values. */
export const POLICY_DIM = 32;
