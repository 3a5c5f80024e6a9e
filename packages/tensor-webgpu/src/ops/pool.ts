// Average pooling over NCHW planes (PyTorch avg_pool2d with count_include_pad=True, ceil_mode=False).
import { noGrad, recordOp } from '../autograd.js';
import { launchAvgPool, type PoolGeometry } from '../kernels/pool.js';
import { tidy } from '../scope.js';
import { Tensor } from '../tensor.js';
import { contiguous } from './shape.js';
import type { SpatialSize } from './conv.js';
import { spatialPair } from './validate.js';

/** Options of {@link avgPool2d}. */
export interface AvgPool2dOptions {
  /** Window size. */
  kernel: SpatialSize;
  /** Default: the window size. */
  stride?: SpatialSize;
  /** Zero padding on each side (counted in the average, like PyTorch's default); default 0. */
  padding?: SpatialSize;
}

const fmt = (s: readonly number[]) => `[${s.join(',')}]`;

function run(backward: boolean, input: Tensor, g: PoolGeometry, shape: number[]): Tensor {
  return noGrad(() =>
    tidy(() => {
      const xc = contiguous(input);
      const out = Tensor.empty(shape, input.dtype, input.engine);
      launchAvgPool(
        input.engine,
        input.dtype as 'f32' | 'f16',
        backward,
        g,
        { buffer: xc.buffer, offset: xc.offset },
        out.buffer,
        `avgPool2d${backward ? ' backward' : ''} ${fmt(input.shape)}`,
      );
      return out;
    }),
  );
}

/**
 * Average pooling of x [N, C, H, W] (or [C, H, W]) with a kh x kw window: output size
 * ⌊(H + 2·ph − kh) / sh⌋ + 1. Padded positions count as zeros in the average (divisor kh·kw).
 * Differentiable.
 */
export function avgPool2d(x: Tensor, options: AvgPool2dOptions): Tensor {
  if (x.rank !== 4 && x.rank !== 3)
    throw new Error(`avgPool2d: input must be [N, C, H, W] or [C, H, W], got ${fmt(x.shape)}`);
  if (x.dtype !== 'f32' && x.dtype !== 'f16')
    throw new Error(`avgPool2d: expected f32 or f16, got${x.describe()}`);
  if (options.kernel === undefined) throw new Error('avgPool2d: options.kernel (the window size) is required');
  const [kh, kw] = spatialPair('avgPool2d', 'kernel', options.kernel, 1, 1);
  const [sh, sw] = spatialPair('avgPool2d', 'stride', options.stride ?? [kh, kw], 1, 1);
  const [ph, pw] = spatialPair('avgPool2d', 'padding', options.padding, 0, 0);
  if (ph * 2 > kh || pw * 2 > kw)
    throw new Error(`avgPool2d: padding [${ph},${pw}] must be at most half the kernel [${kh},${kw}]`);
  const [h, w] = x.shape.slice(-2);
  const ho = Math.floor((h + 2 * ph - kh) / sh) + 1;
  const wo = Math.floor((w + 2 * pw - kw) / sw) + 1;
  if (ho <= 0 || wo <= 0)
    throw new Error(`avgPool2d: kernel [${kh},${kw}] larger than padded input ${fmt(x.shape)}`);
  const planes = x.size / (h * w);
  const g: PoolGeometry = { planes, h, w, ho, wo, kh, kw, sh, sw, ph, pw };
  const outShape = [...x.shape.slice(0, -2), ho, wo];
  const inShape = [...x.shape];
  const out = run(false, x, g, outShape);
  return recordOp('avgPool2d', out, [x], (gy) => [run(true, gy, g, inShape)]);
}
