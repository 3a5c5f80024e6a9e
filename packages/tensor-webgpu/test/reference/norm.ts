// Float64 references of layer, RMS and group normalisation.
import type { Nd } from './ndarray.js';

function normalizeRows(x: Float64Array, rows: number, d: number, rms: boolean, eps: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    if (!rms) {
      for (let j = 0; j < d; j++) mean += x[r * d + j];
      mean /= d;
    }
    let v = 0;
    for (let j = 0; j < d; j++) v += (x[r * d + j] - mean) ** 2;
    const rstd = 1 / Math.sqrt(v / d + eps);
    for (let j = 0; j < d; j++) out[r * d + j] = (x[r * d + j] - mean) * rstd;
  }
  return out;
}

/** LayerNorm over the last dim (biased variance). */
export function layerNorm(x: Nd, w: Nd | undefined, b: Nd | undefined, eps: number): Nd {
  const d = x.shape[x.shape.length - 1];
  const y = normalizeRows(x.data, x.data.length / d, d, false, eps);
  for (let i = 0; i < y.length; i++) y[i] = y[i] * (w ? w.data[i % d] : 1) + (b ? b.data[i % d] : 0);
  return { data: y, shape: [...x.shape] };
}

/** HF Qwen3 RMSNorm: x · rsqrt(mean(x²) + eps) · w. */
export function rmsNorm(x: Nd, w: Nd | undefined, eps: number): Nd {
  const d = x.shape[x.shape.length - 1];
  const y = normalizeRows(x.data, x.data.length / d, d, true, eps);
  if (w) for (let i = 0; i < y.length; i++) y[i] *= w.data[i % d];
  return { data: y, shape: [...x.shape] };
}

/** GroupNorm of [N, C, ...] with per-channel affine. */
export function groupNorm(x: Nd, groups: number, w: Nd | undefined, b: Nd | undefined, eps: number): Nd {
  const [n, c] = x.shape;
  const hw = x.data.length / (n * c);
  const y = normalizeRows(x.data, n * groups, (c / groups) * hw, false, eps);
  for (let i = 0; i < y.length; i++) {
    const ch = Math.floor(i / hw) % c;
    y[i] = y[i] * (w ? w.data[ch] : 1) + (b ? b.data[ch] : 0);
  }
  return { data: y, shape: [...x.shape] };
}
