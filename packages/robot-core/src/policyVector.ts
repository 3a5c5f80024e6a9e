import { POLICY_DIM, type ActionChunk } from './actionSource.js';
import { absoluteToDelta, deltaToAbsolute } from './deltaActions.js';
import type { Embodiment } from './embodiment.js';
import { datasetToRobot, robotToDataset, thresholdGripper } from './gripperConvention.js';

/** Zero-pads a vector to `width` (default 32). Throws when it is longer than `width`. */
export function padVector(v: ArrayLike<number>, width = POLICY_DIM): Float32Array {
  if (v.length > width) throw new Error(`padVector: ${v.length} values do not fit in width ${width}`);
  const out = new Float32Array(width);
  for (let i = 0; i < v.length; i++) out[i] = v[i];
  return out;
}

/** Robot state (robot units) → the policy's 32-d state (dataset units, zero-padded). */
export function toPolicyState(e: Embodiment, robotState: ArrayLike<number>): Float32Array {
  return padVector(robotToDataset(e, robotState));
}

/** The policy's padded state → robot units (the padding is dropped). */
export function fromPolicyState(e: Embodiment, padded: ArrayLike<number>): Float64Array {
  if (padded.length < e.dims.length) {
    throw new Error(
      `${e.robotType}: padded state has ${padded.length} values, layout needs ${e.dims.length}`,
    );
  }
  const v = new Float64Array(e.dims.length);
  for (let i = 0; i < v.length; i++) v[i] = padded[i];
  return datasetToRobot(e, v);
}

/** Options for {@link fromPolicyActions}. */
export interface FromPolicyActionsOptions {
  /** The policy predicts deltas on the embodiment's delta dims (InternVLA-A1 does). Default true. */
  readonly delta?: boolean;
  /** Snap grippers at this normalised threshold (upstream uses 0.5); omitted = no snapping. */
  readonly gripperThreshold?: number;
}

/**
 * A policy chunk → absolute robot-space targets, one Float64Array per row. Per row: take the first
 * `dims.length` columns (dataset units), add the dataset-unit state on delta dims when `delta`, snap
 * grippers when asked, then convert to robot units. `robotState` is the state the chunk was computed from.
 */
export function fromPolicyActions(
  e: Embodiment,
  chunk: ActionChunk,
  robotState: ArrayLike<number>,
  options: FromPolicyActionsOptions = {},
): Float64Array[] {
  const n = e.dims.length;
  checkChunk(e, chunk);
  const state = robotToDataset(e, robotState);
  const rows: Float64Array[] = [];
  const row = new Float64Array(n);
  for (let h = 0; h < chunk.horizon; h++) {
    for (let i = 0; i < n; i++) row[i] = chunk.actions[h * chunk.dim + i];
    const abs = options.delta === false ? row.slice() : deltaToAbsolute(e, row, state);
    if (options.gripperThreshold !== undefined) {
      for (let i = 0; i < n; i++) abs[i] = thresholdGripper(e.dims[i], abs[i], options.gripperThreshold);
    }
    rows.push(datasetToRobot(e, abs));
  }
  return rows;
}

/**
 * The inverse of {@link fromPolicyActions} without snapping: absolute robot-space rows → a padded
 * chunk in dataset units, deltas on delta dims when `delta` (default true). Useful to build training
 * targets and to test round trips.
 */
export function toPolicyActions(
  e: Embodiment,
  robotRows: ReadonlyArray<ArrayLike<number>>,
  robotState: ArrayLike<number>,
  options: { readonly delta?: boolean; readonly width?: number } = {},
): ActionChunk {
  const width = options.width ?? POLICY_DIM;
  const n = e.dims.length;
  if (n > width) throw new Error(`${e.robotType}: ${n} dims do not fit in width ${width}`);
  const state = robotToDataset(e, robotState);
  const actions = new Float32Array(robotRows.length * width);
  robotRows.forEach((r, h) => {
    const ds = robotToDataset(e, r);
    const v = options.delta === false ? ds : absoluteToDelta(e, ds, state);
    for (let i = 0; i < n; i++) actions[h * width + i] = v[i];
  });
  return { actions, horizon: robotRows.length, dim: width };
}

/**
 * Absolute robot targets (robot units, one row per step) → the chunk a source returns for them:
 * dataset units, zero-padded to {@link POLICY_DIM}, marked {@link ActionChunk.absolute}. E.g. a remote
 * policy's reply in robot units, or the rest of a plan committed for real-time chunking.
 */
export function toAbsoluteChunk(e: Embodiment, robotRows: ReadonlyArray<ArrayLike<number>>): ActionChunk {
  const n = e.dims.length;
  if (n > POLICY_DIM) throw new Error(`${e.robotType}: ${n} dims do not fit in width ${POLICY_DIM}`);
  const actions = new Float32Array(robotRows.length * POLICY_DIM);
  robotRows.forEach((r, h) => actions.set(robotToDataset(e, r), h * POLICY_DIM));
  return { actions, horizon: robotRows.length, dim: POLICY_DIM, absolute: true };
}

function checkChunk(e: Embodiment, c: ActionChunk): void {
  const n = e.dims.length;
  if (!(Number.isInteger(c.horizon) && c.horizon >= 1))
    throw new Error(`${e.robotType}: chunk horizon ${c.horizon} is not a positive integer`);
  if (!(Number.isInteger(c.dim) && c.dim >= n))
    throw new Error(`${e.robotType}: chunk dim ${c.dim} < layout ${n}`);
  if (c.actions.length !== c.horizon * c.dim) {
    throw new Error(
      `${e.robotType}: chunk has ${c.actions.length} values, shape [${c.horizon}, ${c.dim}] needs ${c.horizon * c.dim}`,
    );
  }
}
