// Plain float64 reference implementations, written from the definitions, not from src/.
import type { Embodiment } from '../src/index.js';

/** Dataset value of robot value `x` on dim `i`: linear through (lower, atLower) and (upper, atUpper). */
export function refToDataset(e: Embodiment, i: number, x: number): number {
  const d = e.dims[i];
  if (!d.dataset) return x;
  const slope = (d.dataset.atUpper - d.dataset.atLower) / (d.upper - d.lower);
  return d.dataset.atLower + slope * (x - d.lower);
}

/** Robot-space targets of a chunk given the robot state, with the delta rule `a = s + δ` on delta dims. */
export function refChunkToRobot(
  e: Embodiment,
  actions: Float32Array,
  horizon: number,
  dim: number,
  robotState: number[],
): number[][] {
  const rows: number[][] = [];
  for (let h = 0; h < horizon; h++) {
    rows.push(
      e.dims.map((d, i) => {
        const ds = actions[h * dim + i] + (d.delta ? refToDataset(e, i, robotState[i]) : 0);
        if (!d.dataset) return ds;
        const slope = (d.upper - d.lower) / (d.dataset.atUpper - d.dataset.atLower);
        return d.lower + slope * (ds - d.dataset.atLower);
      }),
    );
  }
  return rows;
}
