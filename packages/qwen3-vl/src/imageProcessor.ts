// The Qwen3-VL image processor on the host, as HF transformers 4.57 runs it for
// Qwen3-VL-2B-Instruct: `Qwen3VLProcessor.from_pretrained` loads the fast processor
// (`Qwen2VLImageProcessorFast`: transformers loads the fast class for Qwen2-VL-type processors even when
// a slow one was saved), which resizes a float
// tensor with torchvision `resize(bicubic, antialias=True)` — i.e. torch's antialiased bicubic
// (Keys a = -0.5, filter widened when downscaling, taps renormalised at the borders) with no clamping
// for float input — then normalises, repeats the still frame over the temporal patch and flattens
// patches in merge-block order.
import { smartResize } from './visionPositions.js';

/** Settings of {@link preprocessQwen3VLImage} (HF `preprocessor_config.json`). */
export interface Qwen3VLImageProcessorConfig {
  /** Spatial patch size (16). */
  patchSize: number;
  /** Frames per patch (2): a still image is repeated this many times. */
  temporalPatchSize: number;
  /** Patches per merged token side (2). */
  mergeSize: number;
  /** Smart-resize lower bound on H·W (HF `size.shortest_edge`, 65,536). */
  minPixels: number;
  /** Smart-resize upper bound on H·W (HF `size.longest_edge`, 16,777,216). */
  maxPixels: number;
  /** Per-channel mean subtracted after resizing. */
  imageMean: readonly number[];
  /** Per-channel standard deviation divided by after subtracting the mean. */
  imageStd: readonly number[];
}

/** The processor settings of Qwen/Qwen3-VL-2B-Instruct. */
export const QWEN3_VL_2B_IMAGE_PROCESSOR: Readonly<Qwen3VLImageProcessorConfig> = Object.freeze({
  patchSize: 16,
  temporalPatchSize: 2,
  mergeSize: 2,
  minPixels: 65536,
  maxPixels: 16777216,
  imageMean: [0.5, 0.5, 0.5],
  imageStd: [0.5, 0.5, 0.5],
});

/** Output of {@link preprocessQwen3VLImage}: HF `pixel_values` and `image_grid_thw` of one image. */
export interface Qwen3VLImagePatches {
  /** `[t·h·w, C·T·P·P]` row-major, rows in (t, h/merge, w/merge, merge, merge) order, columns (C, T, P, P). */
  pixelValues: Float32Array;
  /** Patch grid `[t, h, w]` (t = 1 for a still image). */
  gridThw: [number, number, number];
}

/** Filters of {@link resampleAntialiased}: torch's `_upsample_*_aa` kernels. */
export type AntialiasFilter = 'bilinear' | 'bicubic';

// Torch's antialiased filters; bicubic uses Keys a = -0.5 (non-antialiased bicubic in torch uses -0.75).
function bicubicWeight(x: number): number {
  const a = -0.5;
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}
function triangleWeight(x: number): number {
  const t = Math.abs(x);
  return t < 1 ? 1 - t : 0;
}

interface AxisTaps {
  start: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  stride: number;
}

// One axis of torch's separable antialiased resize: centre scale·(i+0.5), support = half-width·max(scale,1),
// first tap trunc(centre - support + 0.5) clamped to 0, weights filter((j - centre + 0.5)/max(scale,1))
// normalised. Rounded to float32 where torch's CPU kernel holds float32 values: with a float32 centre the
// weights of large images move by ~1e-4, well above the accumulation error.
function axisTaps(inSize: number, outSize: number, filter: AntialiasFilter): AxisTaps {
  const f = Math.fround;
  const scale = f(inSize / outSize);
  const halfWidth = filter === 'bicubic' ? 2 : 1;
  const kernel = filter === 'bicubic' ? bicubicWeight : triangleWeight;
  const support = scale >= 1 ? f(halfWidth * scale) : halfWidth;
  const invScale = scale >= 1 ? f(1 / scale) : 1;
  const stride = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * stride);
  for (let i = 0; i < outSize; i++) {
    const center = f(scale * (i + 0.5));
    const lo = Math.max(Math.trunc(f(center - support) + 0.5), 0);
    const n = Math.min(Math.trunc(f(center + support) + 0.5), inSize) - lo;
    let total = 0;
    for (let j = 0; j < n; j++) {
      const w = f(kernel(f((f(j + lo - center) + 0.5) * invScale)));
      weights[i * stride + j] = w;
      total = f(total + w);
    }
    if (total !== 0) for (let j = 0; j < n; j++) weights[i * stride + j] /= total;
    start[i] = lo;
    count[i] = n;
  }
  return { start, count, weights, stride };
}

/**
 * Resizes planar float images `[planes, inH, inW]` to `[planes, outH, outW]` like torch
 * `F.interpolate(mode, antialias=True, align_corners=False)`: width first, then height (an axis whose
 * size does not change is copied), float32 intermediate, no clamping.
 */
export function resampleAntialiased(
  src: Float32Array,
  planes: number,
  inH: number,
  inW: number,
  outH: number,
  outW: number,
  filter: AntialiasFilter,
): Float32Array {
  for (const [name, v] of [
    ['planes', planes],
    ['inH', inH],
    ['inW', inW],
    ['outH', outH],
    ['outW', outW],
  ] as const) {
    if (!Number.isInteger(v) || v <= 0)
      throw new Error(`resampleAntialiased: ${name} must be a positive integer, got ${v}`);
  }
  if (src.length !== planes * inH * inW)
    throw new Error(`resampleAntialiased: input has ${src.length} values, expected ${planes}x${inH}x${inW}`);
  let cur = src;
  if (outW !== inW) {
    const t = axisTaps(inW, outW, filter);
    const next = new Float32Array(planes * inH * outW);
    for (let r = 0; r < planes * inH; r++) {
      const row = r * inW;
      for (let x = 0; x < outW; x++) {
        const s = row + t.start[x];
        const wo = x * t.stride;
        let acc = 0;
        for (let k = 0; k < t.count[x]; k++) acc += t.weights[wo + k] * cur[s + k];
        next[r * outW + x] = acc;
      }
    }
    cur = next;
  }
  if (outH !== inH) {
    const t = axisTaps(inH, outH, filter);
    const next = new Float32Array(planes * outH * outW);
    for (let p = 0; p < planes; p++) {
      const plane = p * inH * outW;
      for (let y = 0; y < outH; y++) {
        const wo = y * t.stride;
        const dst = (p * outH + y) * outW;
        for (let k = 0; k < t.count[y]; k++) {
          const w = t.weights[wo + k];
          const s = plane + (t.start[y] + k) * outW;
          for (let x = 0; x < outW; x++) next[dst + x] += w * cur[s + x];
        }
      }
    }
    cur = next;
  }
  return cur === src ? src.slice() : cur;
}

/** `[height, width]` the processor resizes a `height × width` image to (its smart-resize). */
export function processedImageSize(
  height: number,
  width: number,
  config: Readonly<Qwen3VLImageProcessorConfig> = QWEN3_VL_2B_IMAGE_PROCESSOR,
): [number, number] {
  return smartResize(height, width, {
    factor: config.patchSize * config.mergeSize,
    minPixels: config.minPixels,
    maxPixels: config.maxPixels,
  });
}

/**
 * HF `pixel_values` of one still image: `[C, H, W]` float pixels in [0, 1] (HF `do_rescale=False`) →
 * smart-resize, antialiased bicubic resize, `(x - mean) / std`, the frame repeated over the temporal
 * patch, patches flattened in merge-block order (see {@link Qwen3VLImagePatches}).
 */
export function preprocessQwen3VLImage(
  image: Float32Array,
  channels: number,
  height: number,
  width: number,
  config: Readonly<Qwen3VLImageProcessorConfig> = QWEN3_VL_2B_IMAGE_PROCESSOR,
): Qwen3VLImagePatches {
  const { patchSize: p, temporalPatchSize: tp, mergeSize: m, imageMean, imageStd } = config;
  if (imageMean.length !== channels || imageStd.length !== channels) {
    throw new Error(
      `preprocessQwen3VLImage: image has ${channels} channels but mean/std have ${imageMean.length}/${imageStd.length}`,
    );
  }
  if (image.length !== channels * height * width) {
    throw new Error(
      `preprocessQwen3VLImage: image has ${image.length} values, expected [${channels}, ${height}, ${width}]`,
    );
  }
  const [rh, rw] = processedImageSize(height, width, config);
  const resized = resampleAntialiased(image, channels, height, width, rh, rw, 'bicubic');
  // HF normalises in float32 as (x - mean) / std.
  for (let c = 0; c < channels; c++) {
    const mean = Math.fround(imageMean[c]);
    const std = Math.fround(imageStd[c]);
    for (let i = c * rh * rw; i < (c + 1) * rh * rw; i++) resized[i] = Math.fround(resized[i] - mean) / std;
  }
  const gh = rh / p;
  const gw = rw / p;
  const row = channels * tp * p * p;
  const out = new Float32Array(gh * gw * row);
  let o = 0;
  for (let bh = 0; bh < gh / m; bh++)
    for (let bw = 0; bw < gw / m; bw++)
      for (let ih = 0; ih < m; ih++)
        for (let iw = 0; iw < m; iw++) {
          const y0 = (bh * m + ih) * p;
          const x0 = (bw * m + iw) * p;
          for (let c = 0; c < channels; c++)
            for (let t = 0; t < tp; t++)
              for (let py = 0; py < p; py++) {
                const s = (c * rh + y0 + py) * rw + x0;
                out.set(resized.subarray(s, s + p), o);
                o += p;
              }
        }
  return { pixelValues: out, gridThw: [1, gh, gw] };
}
