// Plain-TS float64 references of the generation expert's projections (SPEC §1), written from the
// formulas, independent of the policy code: 1x1 conv, stride-k conv to tokens in (view, time,
// row-major) order, and the output path mean-over-time → transposed conv → LayerNorm → Linear.

/** A host array with its shape. */
export interface Arr {
  data: Float64Array;
  shape: number[];
}

export function arr(values: ArrayLike<number>, shape: number[]): Arr {
  return { data: Float64Array.from(values), shape };
}

/**
 * Generation tokens from latents `[B·frames, C, h, w]` (frames = views·2 in view, time order):
 * `tok = convk(conv1x1(latent))`, returned `[B, frames·g·g, W]`.
 */
export function refGenerationTokens(
  latents: Arr,
  lat: { w: Arr; b: Arr },
  tok: { w: Arr; b: Arr },
  frames: number,
): Arr {
  const [N, C, h] = latents.shape;
  const W = lat.w.shape[0];
  const k = tok.w.shape[2];
  const g = h / k;
  const B = N / frames;
  const out = new Float64Array(N * g * g * W);
  const mid = new Float64Array(W * h * h);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < W; o++)
      for (let p = 0; p < h * h; p++) {
        let s = lat.b.data[o];
        for (let c = 0; c < C; c++) s += lat.w.data[o * C + c] * latents.data[(n * C + c) * h * h + p];
        mid[o * h * h + p] = s;
      }
    const b = Math.floor(n / frames);
    const f = n % frames;
    for (let r = 0; r < g; r++)
      for (let cc = 0; cc < g; cc++)
        for (let o = 0; o < W; o++) {
          let s = tok.b.data[o];
          for (let i = 0; i < W; i++)
            for (let kh = 0; kh < k; kh++)
              for (let kw = 0; kw < k; kw++)
                s +=
                  tok.w.data[((o * W + i) * k + kh) * k + kw] *
                  mid[i * h * h + (r * k + kh) * h + cc * k + kw];
          out[((b * frames + f) * g * g + r * g + cc) * W + o] = s;
        }
  }
  return { data: out, shape: [B, frames * g * g, W] };
}

/**
 * Predicted latents `[B·views, C, h, h]` from the generation expert's output `[B, views·2·g², W]`:
 * mean over the 2 frames, ConvTranspose k = s (weight `[W_in, W_out, k, k]`), LayerNorm over channels
 * (eps 1e-5), Linear W → C.
 */
export function refPredictLatent(
  out: Arr,
  deconv: { w: Arr; b: Arr },
  norm: { w: Arr; b: Arr },
  proj: { w: Arr; b: Arr },
  views: number,
  g: number,
): Arr {
  const [B, , W] = out.shape;
  const k = deconv.w.shape[2];
  const h = g * k;
  const C = proj.w.shape[0];
  const res = new Float64Array(B * views * C * h * h);
  for (let b = 0; b < B; b++)
    for (let v = 0; v < views; v++) {
      const avg = (t: number, w: number) =>
        (out.data[((b * views * 2 + v * 2 + 0) * g * g + t) * W + w] +
          out.data[((b * views * 2 + v * 2 + 1) * g * g + t) * W + w]) /
        2;
      for (let y = 0; y < h; y++)
        for (let x = 0; x < h; x++) {
          const r = Math.floor(y / k);
          const c = Math.floor(x / k);
          const feat = new Float64Array(W);
          for (let o = 0; o < W; o++) {
            let s = deconv.b.data[o];
            for (let i = 0; i < W; i++)
              s += avg(r * g + c, i) * deconv.w.data[((i * W + o) * k + (y % k)) * k + (x % k)];
            feat[o] = s;
          }
          let mu = 0;
          for (const f of feat) mu += f / W;
          let vr = 0;
          for (const f of feat) vr += (f - mu) ** 2 / W;
          const nrm = feat.map((f, o) => ((f - mu) / Math.sqrt(vr + 1e-5)) * norm.w.data[o] + norm.b.data[o]);
          for (let cc = 0; cc < C; cc++) {
            let s = proj.b.data[cc];
            for (let o = 0; o < W; o++) s += proj.w.data[cc * W + o] * nrm[o];
            res[(((b * views + v) * C + cc) * h + y) * h + x] = s;
          }
        }
    }
  return { data: res, shape: [B * views, C, h, h] };
}

/**
 * The flow-matching action loss (SPEC §1): `u = ε − a`, mean of `(v − u)²` over `[B, H, D]` data —
 * every step, or with `isPad` (`isPad[b·H + h]` marks a padded step) only the non-padded ones; the
 * first `dims` of the D dims of each step.
 */
export function refActionLoss(
  v: ArrayLike<number>,
  noise: ArrayLike<number>,
  actions: ArrayLike<number>,
  isPad: ArrayLike<number | boolean> | null,
  D: number,
  dims = D,
): number {
  const steps = v.length / D;
  if (isPad && isPad.length !== steps) throw new Error('refActionLoss: v and isPad disagree in size');
  let sum = 0;
  let n = 0;
  for (let s = 0; s < steps; s++) {
    if (isPad?.[s]) continue;
    for (let d = 0; d < dims; d++) {
      const i = s * D + d;
      sum += (v[i] - (noise[i] - actions[i])) ** 2;
      n++;
    }
  }
  return sum / n;
}

/** MSE of predicted vs target latents `[B·views, …]` over the views with `viewMask[b·views + v]` set. */
export function refLatentLoss(
  pred: ArrayLike<number>,
  target: ArrayLike<number>,
  viewMask: ArrayLike<number | boolean>,
): number {
  const per = pred.length / viewMask.length;
  let sum = 0;
  let n = 0;
  for (let k = 0; k < viewMask.length; k++) {
    if (!viewMask[k]) continue;
    for (let i = k * per; i < (k + 1) * per; i++) sum += (pred[i] - target[i]) ** 2;
    n += per;
  }
  return sum / n;
}
