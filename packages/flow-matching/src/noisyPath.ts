// The linear (rectified-flow) path of openpi: x_t = t·ε + (1 − t)·a, whose velocity dx/dt = ε − a is
// the regression target. t = 1 is pure noise, t = 0 the data.
import { add, mul, reshape, sub, tidy, type Tensor } from '@vla/tensor-webgpu';
import { timeTensor, type TimeInput } from './timeArgument.js';

/** A point on the path and the velocity the network must predict there. */
export interface NoisyPath {
  /** `x_t = t·noise + (1 − t)·actions`, shaped like `actions`. */
  xt: Tensor;
  /** `u = noise − actions`, shaped like `actions`. */
  target: Tensor;
}

/**
 * Interpolates between data `actions` `[B, ...]` and `noise` (same shape) at times `t` (one per
 * sample, broadcast over the other axes).
 */
export function noisyPath(actions: Tensor, noise: Tensor, t: TimeInput): NoisyPath {
  if (actions.shape.join() !== noise.shape.join()) {
    throw new Error(
      `noisyPath: actions [${actions.shape.join(', ')}] and noise [${noise.shape.join(', ')}] differ in shape`,
    );
  }
  if (actions.rank < 1) throw new Error('noisyPath: actions need a batch axis');
  const B = actions.shape[0];
  return tidy(() => {
    const tt = timeTensor(t, B, 'noisyPath');
    const tb = reshape(tt, [B, ...new Array<number>(actions.rank - 1).fill(1)]);
    // x_t = a + t·(ε − a): one subtraction shared with the target.
    const target = sub(noise, actions);
    const xt = add(actions, mul(tb, target));
    return { xt, target };
  });
}
