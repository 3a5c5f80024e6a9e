// openpi's sampler: start from noise at t = 1 and take `steps` Euler steps of dt = −1/steps along the
// predicted velocity, x ← x + dt·v(x, t), ending at the data (t = 0).
import { add, mul, noGrad, randNormal, tidy, type Tensor } from '@vla/tensor-webgpu';
import { checkGuidance, guidedVelocity, type SamplerGuidance } from './rtcGuidance.js';

/** The velocity network: `v(x_t, t)` with `t` the current time (same for the whole batch). */
export type VelocityFn = (xt: Tensor, t: number, step: number) => Tensor;

/** Options of {@link eulerSample}. */
export interface EulerOptions {
  /** Number of Euler steps (default 10, dt = −0.1). */
  steps?: number;
  /** Seed of the starting noise ε ~ N(0, 1) (ignored when `noise` is given). */
  seed?: number;
  /** Starting noise (not disposed); must have `shape`. */
  noise?: Tensor;
  /**
   * Real-time-chunking guidance (inpainting toward committed actions, see {@link guidedVelocity}):
   * each step uses the guided velocity instead of `v`. Needs a sample `[B, H, D]`. Not disposed.
   */
  guidance?: SamplerGuidance;
}

/**
 * Integrates dx/dt = v(x, t) from t = 1 (x = ε) to t = 0 with Euler steps; returns x at t = 0.
 * Runs without recording gradients. Each step's temporaries are freed; `velocity` may allocate freely.
 * Step k uses t = 1 − k/steps (upstream accumulates t += dt in f32; the difference is ~1e-7).
 * With `guidance` this is LeRobot's RTC sampler: the same steps along the guided velocity.
 */
export function eulerSample(
  velocity: VelocityFn,
  shape: readonly number[],
  options: EulerOptions = {},
): Tensor {
  const steps = options.steps ?? 10;
  if (!Number.isInteger(steps) || steps <= 0)
    throw new Error(`eulerSample: steps must be a positive integer, got ${steps}`);
  if (options.noise && options.noise.shape.join() !== shape.join()) {
    throw new Error(
      `eulerSample: noise [${options.noise.shape.join(', ')}] does not have shape [${shape.join(', ')}]`,
    );
  }
  const guidance = options.guidance;
  if (guidance) checkGuidance(guidance, shape, 'eulerSample');
  const dt = -1 / steps;
  // The scope owns every x (and the seeded noise), so a velocity that throws at any step frees them;
  // only the caller's `noise`, made outside it, is left alone. The final x moves to the caller's scope.
  return noGrad(() =>
    tidy(() => {
      let x = options.noise ?? randNormal(shape, { seed: options.seed ?? 0 });
      for (let k = 0; k < steps; k++) {
        const t = 1 + k * dt;
        const prev = x;
        x = tidy(() => {
          const v = velocity(prev, t, k);
          if (v.shape.join() !== shape.join())
            throw new Error(
              `eulerSample: velocity returned [${v.shape.join(', ')}] for x of shape [${shape.join(', ')}]`,
            );
          return add(prev, mul(guidance ? guidedVelocity(guidance, prev, v, t) : v, dt));
        });
        // Free each step's input now rather than at the end: only one x is alive at a time.
        if (prev !== options.noise) prev.dispose();
      }
      return x;
    }),
  );
}
