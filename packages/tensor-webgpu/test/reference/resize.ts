// Float64 references of PyTorch's nearest and bilinear interpolation (NCHW, last two dims). The
// source index rules follow PyTorch's CPU kernels, including their f32 scale.
import type { Nd } from './ndarray.js';

/** Per output index along one axis: the input taps and weights. */
function axisTaps(
  mode: 'nearest' | 'bilinear',
  align: boolean,
  inSize: number,
  outSize: number,
): { i0: number; i1: number; w0: number; w1: number }[] {
  const f = Math.fround;
  const taps = [];
  for (let d = 0; d < outSize; d++) {
    if (mode === 'nearest') {
      const scale = f(inSize / outSize);
      const i = Math.min(Math.floor(f(d * scale)), inSize - 1);
      taps.push({ i0: i, i1: i, w0: 1, w1: 0 });
      continue;
    }
    const scale = align ? (outSize > 1 ? f((inSize - 1) / (outSize - 1)) : 0) : f(inSize / outSize);
    const src = align ? d * scale : Math.max(scale * (d + 0.5) - 0.5, 0);
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const i1 = i0 < inSize - 1 ? i0 + 1 : i0;
    const l1 = src - i0;
    taps.push({ i0, i1, w0: 1 - l1, w1: l1 });
  }
  return taps;
}

/** Resizes the last two dims to [oh, ow]. */
export function resize(
  x: Nd,
  size: [number, number],
  mode: 'nearest' | 'bilinear',
  alignCorners = false,
): Nd {
  const [h, w] = x.shape.slice(-2);
  const [oh, ow] = size;
  const planes = x.data.length / (h * w);
  const th = axisTaps(mode, alignCorners, h, oh);
  const tw = axisTaps(mode, alignCorners, w, ow);
  const out = new Float64Array(planes * oh * ow);
  for (let p = 0; p < planes; p++)
    for (let y = 0; y < oh; y++)
      for (let xx = 0; xx < ow; xx++) {
        const at = (i: number, j: number) => x.data[(p * h + i) * w + j];
        const a = th[y];
        const b = tw[xx];
        out[(p * oh + y) * ow + xx] =
          a.w0 * (b.w0 * at(a.i0, b.i0) + b.w1 * at(a.i0, b.i1)) +
          a.w1 * (b.w0 * at(a.i1, b.i0) + b.w1 * at(a.i1, b.i1));
      }
  return { data: out, shape: [...x.shape.slice(0, -2), oh, ow] };
}
