// data.stateDropout: the rows whose state is replaced by zeros are drawn per global row, so the
// share dropped follows the probability, one process and ranks that split the batch drop the same
// rows, and the kept rows keep their values.
import { describe, expect, it } from 'vitest';
import { tensor } from '@vla/tensor-webgpu';
import type { PolicyBatch } from '@vla/internvla-a1';
import { dropStates } from '../src/train.js';
import './setup.js';

const D = 5;
const stateOf = (rows: number, from = 0) =>
  Float32Array.from({ length: rows * D }, (_, i) => 1 + from * D + i);
const batch = (rows: number, from = 0) => ({ state: tensor(stateOf(rows, from), [rows, D]) }) as PolicyBatch;
const read = async (pb: PolicyBatch) => (await pb.state.toArray()) as Float32Array;
const dropped = (v: Float32Array, rows: number) =>
  Array.from({ length: rows }, (_, r) => v.subarray(r * D, (r + 1) * D).every((x) => x === 0));

describe('dropStates', () => {
  it('drops rows with the given probability and keeps the others unchanged', async () => {
    const rows = 400;
    const v = await read(dropStates(batch(rows), 0.3, { seed: 17, start: 0 }));
    const gone = dropped(v, rows);
    const share = gone.filter(Boolean).length / rows;
    // Binomial(400, 0.3): the standard deviation of the share is 0.023.
    expect(share).toBeGreaterThan(0.3 - 4 * 0.023);
    expect(share).toBeLessThan(0.3 + 4 * 0.023);
    const want = stateOf(rows);
    gone.forEach((g, r) => {
      if (!g)
        expect(Array.from(v.subarray(r * D, (r + 1) * D))).toEqual(
          Array.from(want.subarray(r * D, (r + 1) * D)),
        );
    });
    expect(dropped(await read(dropStates(batch(8), 1, { seed: 17, start: 0 })), 8).every(Boolean)).toBe(true);
    expect(dropStates(batch(8), 0, { seed: 17, start: 0 }).state.shape).toEqual([8, D]);
  });

  it('ranks that split a batch drop the rows one process drops; another step draws other rows', async () => {
    const whole = dropped(await read(dropStates(batch(16), 0.5, { seed: 3, start: 0 })), 16);
    const first = dropped(await read(dropStates(batch(8), 0.5, { seed: 3, start: 0 })), 8);
    const second = dropped(await read(dropStates(batch(8, 8), 0.5, { seed: 3, start: 8 })), 8);
    expect([...first, ...second]).toEqual(whole);
    const next = dropped(await read(dropStates(batch(16), 0.5, { seed: 4, start: 0 })), 16);
    expect(next).not.toEqual(whole);
  });
});
