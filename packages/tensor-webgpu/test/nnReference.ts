// Float64 host references for the nn layers' forward passes (PyTorch semantics).

/** y[r, o] = Σ_i x[r, i]·w[o, i] + b[o] for x [rows, in], w [out, in]. */
export function refLinear(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  b: ArrayLike<number> | null,
  rows: number,
  inF: number,
  outF: number,
): Float64Array {
  const y = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outF; o++) {
      let s = b ? b[o] : 0;
      for (let i = 0; i < inF; i++) s += x[r * inF + i] * w[o * inF + i];
      y[r * outF + o] = s;
    }
  }
  return y;
}

/** Normalises each row of length `d`: layer norm (mean and variance) or RMS norm (mean square). */
export function refRowNorm(
  x: ArrayLike<number>,
  d: number,
  kind: 'layer' | 'rms',
  eps: number,
  w?: ArrayLike<number> | null,
  b?: ArrayLike<number> | null,
): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < x.length / d; r++) {
    let mean = 0;
    if (kind === 'layer') {
      for (let i = 0; i < d; i++) mean += x[r * d + i];
      mean /= d;
    }
    let ms = 0;
    for (let i = 0; i < d; i++) ms += (x[r * d + i] - mean) ** 2;
    const inv = 1 / Math.sqrt(ms / d + eps);
    for (let i = 0; i < d; i++) y[r * d + i] = (x[r * d + i] - mean) * inv * (w ? w[i] : 1) + (b ? b[i] : 0);
  }
  return y;
}

/** Group norm of x [n, c, hw] over groups of c/g channels, per-channel affine. */
export function refGroupNorm(
  x: ArrayLike<number>,
  n: number,
  c: number,
  hw: number,
  groups: number,
  eps: number,
  w: ArrayLike<number>,
  b: ArrayLike<number>,
): Float64Array {
  const y = new Float64Array(x.length);
  const cg = c / groups;
  for (let s = 0; s < n; s++) {
    for (let g = 0; g < groups; g++) {
      const start = (s * c + g * cg) * hw;
      const len = cg * hw;
      let mean = 0;
      for (let i = 0; i < len; i++) mean += x[start + i];
      mean /= len;
      let v = 0;
      for (let i = 0; i < len; i++) v += (x[start + i] - mean) ** 2;
      const inv = 1 / Math.sqrt(v / len + eps);
      for (let i = 0; i < len; i++) {
        const ch = g * cg + Math.floor(i / hw);
        y[start + i] = (x[start + i] - mean) * inv * w[ch] + b[ch];
      }
    }
  }
  return y;
}

/** Direct conv2d: x [n, ci, h, w], weight [co, ci/g, kh, kw], symmetric padding. */
export function refConv2d(
  x: ArrayLike<number>,
  xs: readonly [number, number, number, number],
  wt: ArrayLike<number>,
  ws: readonly [number, number, number, number],
  bias: ArrayLike<number> | null,
  o: { stride: [number, number]; padding: [number, number]; dilation: [number, number]; groups: number },
): { data: Float64Array; shape: number[] } {
  const [n, ci, h, w] = xs;
  const [co, cig, kh, kw] = ws;
  const oh = Math.floor((h + 2 * o.padding[0] - o.dilation[0] * (kh - 1) - 1) / o.stride[0]) + 1;
  const ow = Math.floor((w + 2 * o.padding[1] - o.dilation[1] * (kw - 1) - 1) / o.stride[1]) + 1;
  const out = new Float64Array(n * co * oh * ow);
  const cog = co / o.groups;
  for (let s = 0; s < n; s++)
    for (let oc = 0; oc < co; oc++) {
      const g = Math.floor(oc / cog);
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++) {
          let acc = bias ? bias[oc] : 0;
          for (let ic = 0; ic < cig; ic++)
            for (let ky = 0; ky < kh; ky++)
              for (let kx = 0; kx < kw; kx++) {
                const iy = y * o.stride[0] - o.padding[0] + ky * o.dilation[0];
                const ix = xx * o.stride[1] - o.padding[1] + kx * o.dilation[1];
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                acc +=
                  x[((s * ci + g * cig + ic) * h + iy) * w + ix] * wt[((oc * cig + ic) * kh + ky) * kw + kx];
              }
          out[((s * co + oc) * oh + y) * ow + xx] = acc;
        }
    }
  return { data: out, shape: [n, co, oh, ow] };
}

/** Transposed conv2d by scattering: x [n, ci, h, w], weight [ci, co/g, kh, kw]. */
export function refConvTranspose2d(
  x: ArrayLike<number>,
  xs: readonly [number, number, number, number],
  wt: ArrayLike<number>,
  ws: readonly [number, number, number, number],
  bias: ArrayLike<number> | null,
  o: { stride: [number, number]; padding: [number, number]; outputPadding: [number, number]; groups: number },
): { data: Float64Array; shape: number[] } {
  const [n, ci, h, w] = xs;
  const [, cog, kh, kw] = ws;
  const co = cog * o.groups;
  const cig = ci / o.groups;
  const oh = (h - 1) * o.stride[0] - 2 * o.padding[0] + kh + o.outputPadding[0];
  const ow = (w - 1) * o.stride[1] - 2 * o.padding[1] + kw + o.outputPadding[1];
  const out = new Float64Array(n * co * oh * ow);
  for (let s = 0; s < n; s++)
    for (let ic = 0; ic < ci; ic++) {
      const g = Math.floor(ic / cig);
      for (let y = 0; y < h; y++)
        for (let xx = 0; xx < w; xx++) {
          const v = x[((s * ci + ic) * h + y) * w + xx];
          for (let c = 0; c < cog; c++)
            for (let ky = 0; ky < kh; ky++)
              for (let kx = 0; kx < kw; kx++) {
                const oy = y * o.stride[0] - o.padding[0] + ky;
                const ox = xx * o.stride[1] - o.padding[1] + kx;
                if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
                out[((s * co + g * cog + c) * oh + oy) * ow + ox] +=
                  v * wt[((ic * cog + c) * kh + ky) * kw + kx];
              }
        }
    }
  if (bias) for (let i = 0; i < out.length; i++) out[i] += bias[Math.floor(i / (oh * ow)) % co];
  return { data: out, shape: [n, co, oh, ow] };
}
