import { POLICY_DIM, type ActionSource } from '@vla/robot-core';

/** Options of {@link scriptedSource}. */
export interface ScriptedSourceOptions {
  /** Rows per chunk (InternVLA-A1 predicts 50). Default 50. */
  readonly horizon?: number;
  /** Rows of one sweep; with the executor running this many rows per chunk, every chunk ends where it began. Default 30. */
  readonly period?: number;
  /** Amplitude of the joint sweep in rad, as a delta on the request's state. Default 0.3. */
  readonly reach?: number;
  /** Gripper value (dataset units, 0 = open, 1 = closed) at the middle of a sweep. Default 1. */
  readonly grip?: number;
}

/**
 * A stand-in for a policy when none has been trained for the robot yet. Every chunk sweeps joints 1–4
 * (the arm's delta dims) out by `reach` and back over `period` rows (odd joints one way, even joints
 * the other), as deltas on the request's state, and closes the gripper to `grip` and opens it again
 * (absolute). Rows are padded to the policy's 32 values, in dataset units: exactly what a trained
 * policy returns. A `reach` or `grip` past the robot's range makes targets the safety layer must clamp.
 */
export function scriptedSource(options: ScriptedSourceOptions = {}): ActionSource {
  const horizon = options.horizon ?? 50;
  const period = options.period ?? 30;
  const reach = options.reach ?? 0.3;
  const grip = options.grip ?? 1;
  return async () => {
    const actions = new Float32Array(horizon * POLICY_DIM);
    for (let h = 0; h < horizon; h++) {
      const row = actions.subarray(h * POLICY_DIM, (h + 1) * POLICY_DIM);
      // Row h is the target h + 1 steps after the observation.
      const phase = (Math.PI * (h + 1)) / period;
      for (let j = 0; j < 4; j++) row[j] = (j % 2 === 0 ? 1 : -1) * reach * Math.sin(2 * phase);
      row[4] = grip * Math.sin(phase) ** 2;
    }
    return { actions, horizon, dim: POLICY_DIM };
  };
}
