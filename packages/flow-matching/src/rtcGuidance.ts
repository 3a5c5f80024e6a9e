// Real-time chunking (RTC, Black et al. 2025) as LeRobot implements it for π0 (policies/rtc/
// modeling_rtc.py): the next chunk is sampled as inpainting of the actions already committed.
import { add, expand, mul, reshape, sub, tidy, type Tensor } from '@vla/tensor-webgpu';

/** The prefix-weight schedules of {@link rtcPrefixWeights} (LeRobot's names). */
export const RTC_SCHEDULES = ['zeros', 'ones', 'linear', 'exp'] as const;

/** How the prefix weights fall from 1 (rows that execute during inference) to 0 (free rows). */
export type RtcSchedule = (typeof RTC_SCHEDULES)[number];

/**
 * What a guided sample is pulled toward: the rows of the previous chunk that are still to come.
 * The velocity becomes `v − w(t) · weights ⊙ (target − x̂₁)`, x̂₁ = x_t − t·v the predicted clean
 * actions, with w(t) from {@link rtcGuidanceWeight}.
 */
export interface SamplerGuidance {
  /** `[B, H, D]` (the sample's shape): the actions to inpaint toward (zeros past the previous chunk). */
  target: Tensor;
  /** `[B, H]` prefix weights in [0, 1] (see {@link rtcPrefixWeights}), the same for every dim. */
  weights: Tensor;
  /** β, the clip of the guidance weight (LeRobot's `max_guidance_weight`, default there 10). */
  maxGuidanceWeight: number;
}

/**
 * The prefix weights of LeRobot's `get_prefix_weights(start = delay, end = executionHorizon, total =
 * horizon)`: `start = min(delay, executionHorizon)`; 'zeros': 1 on rows [0, start), 0 after; 'ones':
 * 1 on [0, end), 0 after; 'linear': 1 on [0, start), then the inner points of linspace(1, 0, n + 2)
 * on the n = min(horizon, end) − start rows up to `end`, 0 after; 'exp': as 'linear' with each inner
 * weight u mapped to u·(e^u − 1)/(e − 1). Float64.
 */
export function rtcPrefixWeights(
  horizon: number,
  delay: number,
  executionHorizon: number,
  schedule: RtcSchedule,
): Float64Array {
  for (const [name, v] of [
    ['horizon', horizon],
    ['delay', delay],
    ['executionHorizon', executionHorizon],
  ] as const)
    if (!Number.isInteger(v) || v < 0)
      throw new Error(`rtcPrefixWeights: ${name} must be a non-negative integer, got ${v}`);
  const start = Math.min(delay, executionHorizon);
  const end = executionHorizon;
  const w = new Float64Array(horizon);
  if (schedule === 'zeros') {
    for (let i = 0; i < Math.min(start, horizon); i++) w[i] = 1;
    return w;
  }
  if (schedule === 'ones') {
    for (let i = 0; i < Math.min(end, horizon); i++) w[i] = 1;
    return w;
  }
  if (schedule !== 'linear' && schedule !== 'exp')
    throw new Error(`rtcPrefixWeights: unknown schedule ${JSON.stringify(schedule)}`);
  for (let i = 0; i < Math.min(start, horizon); i++) w[i] = 1;
  const n = Math.min(horizon, end) - start;
  for (let j = 0; j < n; j++) {
    const u = 1 - (j + 1) / (n + 1);
    w[start + j] = schedule === 'linear' ? u : (u * Math.expm1(u)) / (Math.E - 1);
  }
  return w;
}

/**
 * LeRobot's guidance weight at flow time `t` (ours: 1 = noise, 0 = data; τ = 1 − t):
 * `min(β, ((1−τ)/τ) · ((1−τ)² + τ²)/(1−τ)²)`, i.e. `min(β, (t² + (1−t)²) / (t·(1−t)))`; β at t = 1
 * (τ = 0, where LeRobot's nan_to_num turns +∞ into β) and 0 at t = 0 (where it turns NaN into 0).
 */
export function rtcGuidanceWeight(t: number, maxGuidanceWeight: number): number {
  if (!(maxGuidanceWeight >= 0))
    throw new Error(`rtcGuidanceWeight: maxGuidanceWeight must be ≥ 0, got ${maxGuidanceWeight}`);
  const tau = 1 - t;
  if (tau <= 0) return maxGuidanceWeight;
  if (t <= 0) return 0;
  const c = (1 - tau) / tau;
  const invR2 = ((1 - tau) ** 2 + tau ** 2) / (1 - tau) ** 2;
  return Math.min(c * invR2, maxGuidanceWeight);
}

/** Checks a guidance against the sample's shape `[B, H, D]`. */
export function checkGuidance(g: SamplerGuidance, shape: readonly number[], what: string): void {
  if (shape.length !== 3)
    throw new Error(`${what}: guidance needs a sample [B, H, D], got [${shape.join(', ')}]`);
  if (g.target.shape.join() !== shape.join())
    throw new Error(`${what}: guidance target [${g.target.shape.join(', ')}] is not [${shape.join(', ')}]`);
  if (g.weights.shape.join() !== shape.slice(0, 2).join())
    throw new Error(
      `${what}: guidance weights [${g.weights.shape.join(', ')}] are not [${shape.slice(0, 2).join(', ')}]`,
    );
  if (!(g.maxGuidanceWeight >= 0) || !Number.isFinite(g.maxGuidanceWeight))
    throw new Error(`${what}: maxGuidanceWeight must be finite and ≥ 0, got ${g.maxGuidanceWeight}`);
}

/**
 * The guided velocity at `x_t`: `v − w(t) · weights ⊙ (target − (x_t − t·v))`. LeRobot computes the
 * correction as a vector-Jacobian product of x̂₁ with respect to x_t, but with v evaluated outside the
 * autograd graph (v is a constant there), so the Jacobian is the identity and the correction is the
 * weighted error itself; this does the same without autograd (one network call per step).
 */
export function guidedVelocity(g: SamplerGuidance, xt: Tensor, v: Tensor, t: number): Tensor {
  const w = rtcGuidanceWeight(t, g.maxGuidanceWeight);
  if (w === 0) return v;
  return tidy(() => {
    const [B, H, D] = xt.shape;
    const x1 = sub(xt, mul(v, t));
    const weights = expand(reshape(g.weights, [B, H, 1]), [B, H, D]);
    const err = mul(sub(g.target, x1), weights);
    return add(v, mul(err, -w));
  });
}
