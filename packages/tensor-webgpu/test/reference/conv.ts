// Float64 references of conv2d, convTranspose2d (by its scatter definition) and avgPool2d, NCHW.
import type { Nd } from './ndarray.js';

/** Convolution geometry: stride, padding [top, bottom, left, right], dilation, groups. */
export interface ConvRefParams {
  stride: [number, number];
  padding: [number, number, number, number];
  dilation: [number, number];
  groups: number;
}

/** PyTorch conv2d: x [N, Cin, H, W], w [Cout, Cin/g, kh, kw], bias [Cout]. */
export function conv2d(x: Nd, w: Nd, bias: Nd | undefined, p: ConvRefParams): Nd {
  const [n, cin, h, wd] = x.shape;
  const [cout, cinG, kh, kw] = w.shape;
  const [sh, sw] = p.stride;
  const [pt, pb, pl, pr] = p.padding;
  const [dh, dw] = p.dilation;
  const coutG = cout / p.groups;
  const ho = Math.floor((h + pt + pb - dh * (kh - 1) - 1) / sh) + 1;
  const wo = Math.floor((wd + pl + pr - dw * (kw - 1) - 1) / sw) + 1;
  const out = new Float64Array(n * cout * ho * wo);
  for (let b = 0; b < n; b++)
    for (let co = 0; co < cout; co++) {
      const g = Math.floor(co / coutG);
      for (let oy = 0; oy < ho; oy++)
        for (let ox = 0; ox < wo; ox++) {
          let s = bias ? bias.data[co] : 0;
          for (let ci = 0; ci < cinG; ci++)
            for (let ky = 0; ky < kh; ky++)
              for (let kx = 0; kx < kw; kx++) {
                const iy = oy * sh - pt + ky * dh;
                const ix = ox * sw - pl + kx * dw;
                if (iy < 0 || ix < 0 || iy >= h || ix >= wd) continue;
                s +=
                  x.data[((b * cin + g * cinG + ci) * h + iy) * wd + ix] *
                  w.data[((co * cinG + ci) * kh + ky) * kw + kx];
              }
          out[((b * cout + co) * ho + oy) * wo + ox] = s;
        }
    }
  return { data: out, shape: [n, cout, ho, wo] };
}

/**
 * PyTorch conv_transpose2d: every input pixel scatters x·w into the output at i·stride − pad + k·dil;
 * padding [top, bottom, left, right] crops, outputPadding extends bottom/right.
 */
export function convTranspose2d(
  x: Nd,
  w: Nd,
  bias: Nd | undefined,
  p: ConvRefParams & { outputPadding: [number, number] },
): Nd {
  const [n, cin, h, wd] = x.shape;
  const [, coutG, kh, kw] = w.shape;
  const cinG = cin / p.groups;
  const cout = coutG * p.groups;
  const [sh, sw] = p.stride;
  const [pt, pb, pl, pr] = p.padding;
  const [dh, dw] = p.dilation;
  const ho = (h - 1) * sh - pt - pb + dh * (kh - 1) + p.outputPadding[0] + 1;
  const wo = (wd - 1) * sw - pl - pr + dw * (kw - 1) + p.outputPadding[1] + 1;
  const out = new Float64Array(n * cout * ho * wo);
  for (let b = 0; b < n; b++)
    for (let ci = 0; ci < cin; ci++) {
      const g = Math.floor(ci / cinG);
      for (let iy = 0; iy < h; iy++)
        for (let ix = 0; ix < wd; ix++) {
          const xv = x.data[((b * cin + ci) * h + iy) * wd + ix];
          for (let co = 0; co < coutG; co++)
            for (let ky = 0; ky < kh; ky++)
              for (let kx = 0; kx < kw; kx++) {
                const oy = iy * sh - pt + ky * dh;
                const ox = ix * sw - pl + kx * dw;
                if (oy < 0 || ox < 0 || oy >= ho || ox >= wo) continue;
                out[((b * cout + g * coutG + co) * ho + oy) * wo + ox] +=
                  xv * w.data[((ci * coutG + co) * kh + ky) * kw + kx];
              }
        }
    }
  if (bias) for (let i = 0; i < out.length; i++) out[i] += bias.data[Math.floor(i / (ho * wo)) % cout];
  return { data: out, shape: [n, cout, ho, wo] };
}

/** PyTorch avg_pool2d (count_include_pad=True, ceil_mode=False) over the last two dims. */
export function avgPool2d(x: Nd, k: [number, number], s: [number, number], p: [number, number]): Nd {
  const [h, w] = x.shape.slice(-2);
  const planes = x.data.length / (h * w);
  const ho = Math.floor((h + 2 * p[0] - k[0]) / s[0]) + 1;
  const wo = Math.floor((w + 2 * p[1] - k[1]) / s[1]) + 1;
  const out = new Float64Array(planes * ho * wo);
  for (let q = 0; q < planes; q++)
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++) {
        let sum = 0;
        for (let i = 0; i < k[0]; i++)
          for (let j = 0; j < k[1]; j++) {
            const y = oy * s[0] - p[0] + i;
            const xx = ox * s[1] - p[1] + j;
            if (y >= 0 && xx >= 0 && y < h && xx < w) sum += x.data[(q * h + y) * w + xx];
          }
        out[(q * ho + oy) * wo + ox] = sum / (k[0] * k[1]);
      }
  return { data: out, shape: [...x.shape.slice(0, -2), ho, wo] };
}
