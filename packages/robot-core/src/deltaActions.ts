import type { Embodiment } from './embodiment.js';

/**
 * Absolute → delta on one action row in dataset units: `delta = action - state` on delta-masked dims,
 * unchanged elsewhere (grippers stay absolute).
 */
export function absoluteToDelta(
  e: Embodiment,
  action: ArrayLike<number>,
  state: ArrayLike<number>,
): Float64Array {
  check(e, action, state);
  const out = new Float64Array(e.dims.length);
  for (let i = 0; i < out.length; i++) out[i] = e.dims[i].delta ? action[i] - state[i] : action[i];
  return out;
}

/** Delta → absolute on one action row in dataset units: `action = state + delta` on delta-masked dims. */
export function deltaToAbsolute(
  e: Embodiment,
  delta: ArrayLike<number>,
  state: ArrayLike<number>,
): Float64Array {
  check(e, delta, state);
  const out = new Float64Array(e.dims.length);
  for (let i = 0; i < out.length; i++) out[i] = e.dims[i].delta ? state[i] + delta[i] : delta[i];
  return out;
}

function check(e: Embodiment, a: ArrayLike<number>, s: ArrayLike<number>): void {
  const n = e.dims.length;
  if (a.length !== n || s.length !== n) {
    throw new Error(
      `${e.robotType}: delta conversion needs ${n} values, got action ${a.length} and state ${s.length}`,
    );
  }
}
