/**
 * A boolean mask from run lengths, as upstream's `make_bool_mask` builds delta masks: a positive
 * `n` adds `n` true entries, a negative `-n` adds `n` false entries, and 0 adds nothing.
 * `makeBoolMask(6, -1, 6, -1)` is 6 joints as deltas, a gripper absolute, twice.
 */
export function makeBoolMask(...runs: readonly number[]): boolean[] {
  const out: boolean[] = [];
  for (const n of runs) {
    if (!Number.isInteger(n)) throw new Error(`makeBoolMask: run length ${n} is not an integer`);
    for (let i = 0; i < Math.abs(n); i++) out.push(n > 0);
  }
  return out;
}
