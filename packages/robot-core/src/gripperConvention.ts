import type { DimSpec, Embodiment } from './embodiment.js';

/**
 * Robot units → dataset units for one dim. Joints and grippers without a dataset convention pass
 * through; a convention maps `lower → atLower` and `upper → atUpper` linearly (values outside the
 * limits extrapolate, so the map stays invertible).
 */
export function dimToDataset(d: DimSpec, robotValue: number): number {
  if (!d.dataset) return robotValue;
  const t = (robotValue - d.lower) / (d.upper - d.lower);
  return d.dataset.atLower + t * (d.dataset.atUpper - d.dataset.atLower);
}

/** Dataset units → robot units for one dim; the inverse of {@link dimToDataset}. */
export function dimToRobot(d: DimSpec, datasetValue: number): number {
  if (!d.dataset) return datasetValue;
  const t = (datasetValue - d.dataset.atLower) / (d.dataset.atUpper - d.dataset.atLower);
  return d.lower + t * (d.upper - d.lower);
}

/** Whole vector, robot units → dataset units (grippers converted, joints unchanged). */
export function robotToDataset(e: Embodiment, robot: ArrayLike<number>): Float64Array {
  checkLength(e, robot, 'robot vector');
  const out = new Float64Array(e.dims.length);
  for (let i = 0; i < out.length; i++) out[i] = dimToDataset(e.dims[i], robot[i]);
  return out;
}

/** Whole vector, dataset units → robot units. */
export function datasetToRobot(e: Embodiment, dataset: ArrayLike<number>): Float64Array {
  checkLength(e, dataset, 'dataset vector');
  const out = new Float64Array(e.dims.length);
  for (let i = 0; i < out.length; i++) out[i] = dimToRobot(e.dims[i], dataset[i]);
  return out;
}

/**
 * Upstream deployment practice: snap a gripper to fully one way or the other. The dataset value is
 * normalised to [0, 1] over the dataset range of the gripper (for Genie-1 that is the dataset value
 * itself, 0 = open, 1 = closed) and compared with `threshold` (default 0.5): at or above it the value
 * becomes the high end of the dataset range, below it the low end.
 * Non-gripper dims and non-finite values are returned unchanged (the safety layer rejects non-finite).
 */
export function thresholdGripper(d: DimSpec, datasetValue: number, threshold = 0.5): number {
  if (d.kind !== 'gripper' || !Number.isFinite(datasetValue)) return datasetValue;
  const a = d.dataset ? Math.min(d.dataset.atLower, d.dataset.atUpper) : d.lower;
  const b = d.dataset ? Math.max(d.dataset.atLower, d.dataset.atUpper) : d.upper;
  const t = (datasetValue - a) / (b - a);
  return t >= threshold ? b : a;
}

function checkLength(e: Embodiment, v: ArrayLike<number>, what: string): void {
  if (v.length !== e.dims.length) {
    throw new Error(`${e.robotType}: ${what} has ${v.length} values, layout has ${e.dims.length}`);
  }
}
