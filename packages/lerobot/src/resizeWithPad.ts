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
