import { LeRobotError } from './errors';

/** Sizes of the image inside the padded canvas and the padding around it. */
export interface PadLayout {
  resizedHeight: number;
  resizedWidth: number;
  top: number;
  left: number;
}

/**
 * Where a `srcH × srcW` image lands in a `dstH × dstW` canvas, keeping its aspect ratio
 * (openpi's `resize_with_pad`: ratio = max(srcW/dstW, srcH/dstH), sizes truncated, padding split
 * with the extra pixel at the bottom/right).
 */
export function padLayout(srcH: number, srcW: number, dstH: number, dstW: number): PadLayout {
  const ratio = Math.max(srcW / dstW, srcH / dstH);
  const resizedHeight = Math.max(1, Math.min(dstH, Math.trunc(srcH / ratio)));
  const resizedWidth = Math.max(1, Math.min(dstW, Math.trunc(srcW / ratio)));
  return {
    resizedHeight,
    resizedWidth,
    top: Math.floor((dstH - resizedHeight) / 2),
    left: Math.floor((dstW - resizedWidth) / 2),
  };
}

interface AxisWeights {
  start: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  taps: number;
}

// Triangle (linear) filter widened by the downscale factor, i.e. antialiased like jax.image.resize
// 'linear'; for upscaling it is plain bilinear with half-pixel centres. Taps are renormalised at borders.
function axisWeights(inSize: number, outSize: number): AxisWeights {
  const scale = inSize / outSize;
  const support = Math.max(scale, 1);
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * taps);
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale - 0.5;
    const lo = Math.max(0, Math.ceil(center - support));
    const hi = Math.min(inSize - 1, Math.floor(center + support));
    let sum = 0;
    let n = 0;
    for (let j = lo; j <= hi && n < taps; j++, n++) {
      const w = Math.max(0, 1 - Math.abs((j - center) / support));
      weights[i * taps + n] = w;
      sum += w;
    }
    if (sum === 0) {
      // Degenerate (should not happen for sane sizes): nearest neighbour.
      weights[i * taps] = 1;
      start[i] = Math.min(inSize - 1, Math.max(0, Math.round(center)));
      count[i] = 1;
      continue;
    }
    for (let k = 0; k < n; k++) weights[i * taps + k] /= sum;
    start[i] = lo;
    count[i] = n;
  }
  return { start, count, weights, taps };
}

/**
 * Resizes an interleaved `H × W × C` uint8 image into the interior of a `dstH × dstW` canvas,
 * keeping its aspect ratio (see {@link padLayout}), and fills the border with `padValue`.
 * The pad value is 0 (black) like openpi's `resize_with_pad` for uint8 images; in the model's
 * [-1, 1] float convention that is -1.
 */
export function resizeWithPad(
  src: Uint8Array,
  srcH: number,
  srcW: number,
  dstH: number,
  dstW: number,
  channels = 3,
  padValue = 0,
): Uint8Array {
  if (src.length !== srcH * srcW * channels) {
    throw new LeRobotError(
      'shape_mismatch',
      `resizeWithPad: image has ${src.length} bytes, expected ${srcH}x${srcW}x${channels}`,
    );
  }
  const out = new Uint8Array(dstH * dstW * channels).fill(padValue);
  const { resizedHeight: rh, resizedWidth: rw, top, left } = padLayout(srcH, srcW, dstH, dstW);
  if (rh === srcH && rw === srcW) {
    for (let y = 0; y < rh; y++)
      out.set(
        src.subarray(y * srcW * channels, (y + 1) * srcW * channels),
        ((top + y) * dstW + left) * channels,
      );
    return out;
  }
  const wx = axisWeights(srcW, rw);
  const wy = axisWeights(srcH, rh);
  // Horizontal pass into float rows, then vertical pass straight into the canvas.
  const tmp = new Float32Array(srcH * rw * channels);
  for (let y = 0; y < srcH; y++) {
    const row = y * srcW * channels;
    for (let x = 0; x < rw; x++) {
      const s = wx.start[x];
      const n = wx.count[x];
      const wo = x * wx.taps;
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let k = 0; k < n; k++) acc += wx.weights[wo + k] * src[row + (s + k) * channels + c];
        tmp[(y * rw + x) * channels + c] = acc;
      }
    }
  }
  for (let y = 0; y < rh; y++) {
    const s = wy.start[y];
    const n = wy.count[y];
    const wo = y * wy.taps;
    const dstRow = ((top + y) * dstW + left) * channels;
    for (let x = 0; x < rw * channels; x++) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += wy.weights[wo + k] * tmp[(s + k) * rw * channels + x];
      out[dstRow + x] = acc <= 0 ? 0 : acc >= 255 ? 255 : Math.round(acc);
    }
  }
  return out;
}

/** Maps uint8 pixels to float32 in [-1, 1] (`x / 127.5 - 1`), the model's image convention. */
export function toSignedUnitFloat(img: Uint8Array): Float32Array {
  const out = new Float32Array(img.length);
  for (let i = 0; i < img.length; i++) out[i] = img[i] / 127.5 - 1;
  return out;
}

/**
 * How {@link resizeWithPadPlanar} resizes and places the image:
 * - `'upstream'`: InternVLA-A1's training transform (`resize_with_pad` in its LeRobot fork): scale
 *   `min(dstH/srcH, dstW/srcW)`, sizes rounded half-to-even, PyTorch bilinear with half-pixel centres
 *   and **no antialiasing**, padding split with the extra pixel at the bottom/right, pad 0, result
 *   clamped to [0, 1]; an image already at the target size is returned as is. Use it to reproduce
 *   upstream numbers and to feed released checkpoints what they were trained on.
 * - `'antialiased'`: this package's layout ({@link padLayout}) and triangle filter widened by the
 *   downscale factor. Better for new training: camera frames shrink ~3x to 224 px and plain bilinear
 *   then samples 2 of every ~3 pixels per axis, so fine texture aliases into moiré.
 */
export type ResizeWithPadMethod = 'upstream' | 'antialiased';

/** Options of {@link resizeWithPadPlanar}. */
export interface ResizeWithPadPlanarOptions {
  /** Resampling and layout rules (default `'upstream'`). */
  method?: ResizeWithPadMethod;
  /** Value of the padding (default 0, black in [0, 1] pixels, as upstream). */
  padValue?: number;
}

/** Python's `round` (half to even), which upstream uses for the resized size. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Where upstream's `resize_with_pad` puts a `srcH × srcW` image in a `dstH × dstW` canvas. */
export function upstreamPadLayout(srcH: number, srcW: number, dstH: number, dstW: number): PadLayout {
  const scale = Math.min(dstH / srcH, dstW / srcW);
  const resizedHeight = roundHalfEven(srcH * scale);
  const resizedWidth = roundHalfEven(srcW * scale);
  return {
    resizedHeight,
    resizedWidth,
    top: Math.floor((dstH - resizedHeight) / 2),
    left: Math.floor((dstW - resizedWidth) / 2),
  };
}

// PyTorch's non-antialiased bilinear taps along one axis (align_corners=False), in float32 like its
// CPU kernel: src = max(scale·(d + 0.5) − 0.5, 0), taps floor(src) and the next one (clamped).
function bilinearTaps(inSize: number, outSize: number): { i0: Int32Array; i1: Int32Array; l1: Float32Array } {
  const f = Math.fround;
  const scale = f(inSize / outSize);
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const l1 = new Float32Array(outSize);
  for (let d = 0; d < outSize; d++) {
    const src = Math.max(f(f(scale * f(d + 0.5)) - 0.5), 0);
    const i = Math.min(Math.floor(src), inSize - 1);
    i0[d] = i;
    i1[d] = i < inSize - 1 ? i + 1 : i;
    l1[d] = f(src - i);
  }
  return { i0, i1, l1 };
}

function resizePlanarUpstream(
  src: Float32Array,
  planes: number,
  inH: number,
  inW: number,
  outH: number,
  outW: number,
): Float32Array {
  const ty = bilinearTaps(inH, outH);
  const tx = bilinearTaps(inW, outW);
  const out = new Float32Array(planes * outH * outW);
  for (let p = 0; p < planes; p++) {
    const base = p * inH * inW;
    for (let y = 0; y < outH; y++) {
      const r0 = base + ty.i0[y] * inW;
      const r1 = base + ty.i1[y] * inW;
      const h1 = ty.l1[y];
      const h0 = 1 - h1;
      for (let x = 0; x < outW; x++) {
        const w1 = tx.l1[x];
        const w0 = 1 - w1;
        const a = tx.i0[x];
        const b = tx.i1[x];
        out[(p * outH + y) * outW + x] =
          h0 * (w0 * src[r0 + a] + w1 * src[r0 + b]) + h1 * (w0 * src[r1 + a] + w1 * src[r1 + b]);
      }
    }
  }
  return out;
}

function resizePlanarAntialiased(
  src: Float32Array,
  planes: number,
  inH: number,
  inW: number,
  outH: number,
  outW: number,
): Float32Array {
  const wx = axisWeights(inW, outW);
  const wy = axisWeights(inH, outH);
  const tmp = new Float32Array(planes * inH * outW);
  for (let r = 0; r < planes * inH; r++)
    for (let x = 0; x < outW; x++) {
      let acc = 0;
      for (let k = 0; k < wx.count[x]; k++)
        acc += wx.weights[x * wx.taps + k] * src[r * inW + wx.start[x] + k];
      tmp[r * outW + x] = acc;
    }
  const out = new Float32Array(planes * outH * outW);
  for (let p = 0; p < planes; p++)
    for (let y = 0; y < outH; y++)
      for (let k = 0; k < wy.count[y]; k++) {
        const w = wy.weights[y * wy.taps + k];
        const s = (p * inH + wy.start[y] + k) * outW;
        const d = (p * outH + y) * outW;
        for (let x = 0; x < outW; x++) out[d + x] += w * tmp[s + x];
      }
  return out;
}

/**
 * Resizes planar float images (`[planes, srcH, srcW]`, e.g. CHW or NCHW in [0, 1]) into a
 * `dstH × dstW` canvas keeping the aspect ratio; see {@link ResizeWithPadMethod} for the two rules.
 * Returns `[planes, dstH, dstW]`.
 */
export function resizeWithPadPlanar(
  src: Float32Array,
  planes: number,
  srcH: number,
  srcW: number,
  dstH: number,
  dstW: number,
  options: ResizeWithPadPlanarOptions = {},
): Float32Array {
  const method = options.method ?? 'upstream';
  const padValue = options.padValue ?? 0;
  for (const [name, v] of [
    ['planes', planes],
    ['srcH', srcH],
    ['srcW', srcW],
    ['dstH', dstH],
    ['dstW', dstW],
  ] as const) {
    if (!Number.isInteger(v) || v <= 0)
      throw new LeRobotError(
        'invalid_argument',
        `resizeWithPadPlanar: ${name} must be a positive integer, got ${v}`,
      );
  }
  if (src.length !== planes * srcH * srcW) {
    throw new LeRobotError(
      'shape_mismatch',
      `resizeWithPadPlanar: image has ${src.length} values, expected ${planes}x${srcH}x${srcW}`,
    );
  }
  if (method !== 'upstream' && method !== 'antialiased')
    throw new LeRobotError('invalid_argument', `resizeWithPadPlanar: unknown method '${String(method)}'`);
  if (method === 'upstream' && srcH === dstH && srcW === dstW) return src.slice();
  const L =
    method === 'upstream' ? upstreamPadLayout(srcH, srcW, dstH, dstW) : padLayout(srcH, srcW, dstH, dstW);
  const resize = method === 'upstream' ? resizePlanarUpstream : resizePlanarAntialiased;
  const inner = resize(src, planes, srcH, srcW, L.resizedHeight, L.resizedWidth);
  const out = new Float32Array(planes * dstH * dstW).fill(padValue);
  for (let p = 0; p < planes; p++)
    for (let y = 0; y < L.resizedHeight; y++) {
      const s = (p * L.resizedHeight + y) * L.resizedWidth;
      out.set(inner.subarray(s, s + L.resizedWidth), (p * dstH + L.top + y) * dstW + L.left);
    }
  if (method === 'upstream') for (let i = 0; i < out.length; i++) out[i] = Math.min(1, Math.max(0, out[i]));
  return out;
}
