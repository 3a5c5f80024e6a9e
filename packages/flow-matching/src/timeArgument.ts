// Times arrive as a tensor [B], a host array or one number; these helpers give them one shape.
import { Tensor, tensor } from '@vla/tensor-webgpu';

/** Flow-matching time(s): a tensor `[B]`, host values (one per sample) or one number for all. */
export type TimeInput = Tensor | ArrayLike<number> | number;

/** Host values of a non-tensor time input, repeated to `batch` when a single number is given. */
export function hostTimes(t: ArrayLike<number> | number, batch: number, what: string): Float64Array {
  if (typeof t === 'number') return new Float64Array(batch).fill(t);
  if (t.length !== batch) throw new Error(`${what}: ${t.length} times for a batch of ${batch}`);
  return Float64Array.from(t);
}

/** The time as a tensor `[B]`: `t` itself when it is one, else a new upload (use inside `tidy`). */
export function timeTensor(t: TimeInput, batch: number, what: string): Tensor {
  if (t instanceof Tensor) {
    if (t.rank !== 1 || t.shape[0] !== batch)
      throw new Error(`${what}: time must be [${batch}], got [${t.shape.join(', ')}]`);
    return t;
  }
  return tensor(Float32Array.from(hostTimes(t, batch, what)), [batch]);
}
