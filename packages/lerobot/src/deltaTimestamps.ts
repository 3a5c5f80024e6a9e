import { LeRobotError } from './errors';

/** Frame offsets InternVLA-A1 reads images at: t-15, t, t+15. */
export const DEFAULT_IMAGE_OFFSETS: readonly number[] = [-15, 0, 15];

/** Frame offsets of the action chunk: t..t+49 (horizon 50). */
export const DEFAULT_ACTION_OFFSETS: readonly number[] = Array.from({ length: 50 }, (_, i) => i);

/** Rows selected around one frame, with LeRobot's padding flags. */
export interface DeltaWindow {
  /** Row within the episode for each offset, clamped to `[0, length-1]`. */
  rows: Int32Array;
  /** 1 where `row + offset` fell outside the episode (the clamped row repeats an edge frame). */
  isPad: Uint8Array;
}

/**
 * Resolves frame offsets around `row` of an episode of `length` frames:
 * `clamp(row + δ, 0, length - 1)` plus `is_pad` for positions outside the episode.
 */
export function deltaWindow(row: number, length: number, offsets: readonly number[]): DeltaWindow {
  if (!Number.isInteger(row) || row < 0 || row >= length) {
    throw new LeRobotError(
      'invalid_argument',
      `deltaWindow: row ${row} is outside an episode of ${length} frames`,
    );
  }
  const rows = new Int32Array(offsets.length);
  const isPad = new Uint8Array(offsets.length);
  offsets.forEach((d, k) => {
    if (!Number.isInteger(d))
      throw new LeRobotError(
        'invalid_argument',
        `deltaWindow: offset ${d} is not an integer number of frames`,
      );
    const i = row + d;
    rows[k] = Math.min(Math.max(i, 0), length - 1);
    isPad[k] = i < 0 || i >= length ? 1 : 0;
  });
  return { rows, isPad };
}

/**
 * Converts LeRobot-style `delta_timestamps` (seconds) to frame offsets at `fps`. Each must be a
 * whole number of frames within 1e-4 s, as LeRobot requires.
 */
export function secondsToFrameOffsets(
  deltaSeconds: readonly number[],
  fps: number,
  toleranceS = 1e-4,
): number[] {
  return deltaSeconds.map((s) => {
    const k = Math.round(s * fps);
    if (Math.abs(k / fps - s) > toleranceS) {
      throw new LeRobotError(
        'invalid_argument',
        `delta timestamp ${s} s is not a multiple of 1/${fps} s (within ${toleranceS} s)`,
      );
    }
    return k;
  });
}
