// Spatial resizing of NCHW tensors with PyTorch's `interpolate` semantics (modes 'nearest' and
// 'bilinear', align_corners either way), differentiable.
import { noGrad, recordOp } from '../autograd.js';
import { launchResize, type ResizeGeometry, type ResizeMode } from '../kernels/resize.js';
import { tidy } from '../scope.js';
import { Tensor } from '../tensor.js';
import { contiguous } from './shape.js';
import { checkNumberList } from './validate.js';

/** Options of {@link resizeBilinear}. */
export interface ResizeBilinearOptions {
  /**
   * false (default): half-pixel centres, src = (dst + 0.5)·in/out − 0.5 clamped at 0 (PyTorch
   * `align_corners=False`); true: corner pixels align, src = dst·(in − 1)/(out − 1).
   */
  alignCorners?: boolean;
}

const fmt = (s: readonly number[]) => `[${s.join(',')}]`;

function resize(op: string, mode: ResizeMode, x: Tensor, size: readonly [number, number]): Tensor {
  if (x.rank < 3) throw new Error(`${op}: input must be [N, C, H, W] (or [C, H, W]), got ${fmt(x.shape)}`);
  if (x.dtype !== 'f32' && x.dtype !== 'f16')
    throw new Error(`${op}: expected f32 or f16, got${x.describe()}`);
  if (!Array.isArray(size) || size.length !== 2) throw new Error(`${op}: size must be [h, w], got ${JSON.stringify(size)}`);
  const [outH, outW] = checkNumberList(op, 'size', size, { integer: true, min: 1 });
  const [inH, inW] = x.shape.slice(-2);
  if (inH < 1 || inW < 1) throw new Error(`${op}: empty input ${fmt(x.shape)}`);
  const g: ResizeGeometry = { planes: x.size / (inH * inW), inH, inW, outH, outW };
  const run = (backward: boolean, input: Tensor, shape: number[]) =>
    noGrad(() =>
      tidy(() => {
        const xc = contiguous(input);
        const out = Tensor.empty(shape, input.dtype, input.engine);
        launchResize(
          input.engine,
          mode,
          input.dtype as 'f32' | 'f16',
          backward,
          g,
          { buffer: xc.buffer, offset: xc.offset },
          out.buffer,
          `${op}${backward ? ' backward' : ''} ${fmt(input.shape)}`,
        );
        return out;
      }),
    );
  const inShape = [...x.shape];
  const out = run(false, x, [...x.shape.slice(0, -2), outH, outW]);
  return recordOp(op, out, [x], (gy) => [run(true, gy, inShape)]);
}

/**
 * Nearest-neighbour resize of the last two dims to [h, w] (PyTorch `mode='nearest'`):
 * src = min(⌊dst·(in/out)⌋, in − 1), evaluated in f32 as PyTorch does. Differentiable (the gradient
 * of an input pixel is the sum over the output pixels that copied it).
 */
export function resizeNearest(x: Tensor, size: readonly [number, number]): Tensor {
  return resize('resizeNearest', 'nearest', x, size);
}

/**
 * Bilinear resize of the last two dims to [h, w] (PyTorch `mode='bilinear'`, no antialiasing), with
 * half-pixel centres by default or `alignCorners`. Differentiable.
 */
export function resizeBilinear(
  x: Tensor,
  size: readonly [number, number],
  options: ResizeBilinearOptions = {},
): Tensor {
  return resize('resizeBilinear', options.alignCorners ? 'bilinear-align' : 'bilinear', x, size);
}
