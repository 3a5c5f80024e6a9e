// openpi's sine-cosine embedding of the flow time: periods minPeriod·(maxPeriod/minPeriod)^f for
// f in linspace(0, 1, dim/2), output [sin(2πt/period), cos(2πt/period)] (all sines, then all cosines).
import { Tensor, concat, mul, ropeTables, tensor, tidy } from '@vla/tensor-webgpu';
import { hostTimes, type TimeInput } from './timeArgument.js';

/** Periods of {@link sinusoidalTimeEmbedding} (defaults: openpi's 4e-3 and 4.0). */
export interface TimeEmbeddingOptions {
  minPeriod?: number;
  maxPeriod?: number;
}

/** The `dim/2` periods `minPeriod·(maxPeriod/minPeriod)^f`, f = linspace(0, 1, dim/2), in float64. */
export function timePeriods(dim: number, options: TimeEmbeddingOptions = {}): Float64Array {
  if (!Number.isInteger(dim) || dim <= 0 || dim % 2 !== 0)
    throw new Error(`sinusoidalTimeEmbedding: dim must be a positive even integer, got ${dim}`);
  const { minPeriod = 4e-3, maxPeriod = 4.0 } = options;
  if (!(minPeriod > 0 && maxPeriod > 0))
    throw new Error(`sinusoidalTimeEmbedding: periods must be positive, got ${minPeriod}, ${maxPeriod}`);
  const half = dim / 2;
  const out = new Float64Array(half);
  for (let i = 0; i < half; i++) {
    const f = half === 1 ? 0 : i / (half - 1);
    out[i] = minPeriod * (maxPeriod / minPeriod) ** f;
  }
  return out;
}

/**
 * Sine-cosine embedding `[B, dim]` of flow times. Host times (an array, or one number with
 * `batch`) are embedded in float64 on the host and uploaded; a tensor `[B]` is embedded on the GPU
 * with f32 angles (about 1e-4 absolute error at the 4e-3 period, where 2πt/period reaches ~1571).
 */
export function sinusoidalTimeEmbedding(
  t: TimeInput,
  dim: number,
  options: TimeEmbeddingOptions & { batch?: number } = {},
): Tensor {
  const periods = timePeriods(dim, options);
  const half = dim / 2;
  if (!(t instanceof Tensor)) {
    const batch = typeof t === 'number' ? (options.batch ?? 1) : t.length;
    const ts = hostTimes(t, batch, 'sinusoidalTimeEmbedding');
    const out = new Float32Array(batch * dim);
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < half; i++) {
        const a = ((2 * Math.PI) / periods[i]) * ts[b];
        out[b * dim + i] = Math.sin(a);
        out[b * dim + half + i] = Math.cos(a);
      }
    }
    return tensor(out, [batch, dim]);
  }
  if (t.rank !== 1) throw new Error(`sinusoidalTimeEmbedding: time must be [B], got [${t.shape.join(', ')}]`);
  // The core has no sin/cos op, but RoPE tables are exactly this outer product: with positions
  // 2πt/minPeriod and θ = (maxPeriod/minPeriod)^(half/(half−1)), slot s of a head_dim = dim table
  // turns by 2πt/minPeriod · θ^(−s/half) = 2πt/period_s. One launch instead of a polynomial.
  const { minPeriod = 4e-3, maxPeriod = 4.0 } = options;
  const theta = half > 1 ? (maxPeriod / minPeriod) ** (half / (half - 1)) : 1;
  return tidy(() => {
    const { cos, sin } = ropeTables(mul(t, (2 * Math.PI) / minPeriod), dim, theta);
    return concat([sin, cos], 1);
  });
}
