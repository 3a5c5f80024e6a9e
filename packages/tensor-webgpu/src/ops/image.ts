// Camera frames to network tensors: RGB8 HWC bytes → planar f32, with an optional box downscale, in
// one kernel (see kernels/image.ts for why it is fused).
import { launchRgbToPlanar } from '../kernels/image.js';
import type { Tensor } from '../tensor.js';
import { checkNumber } from './validate.js';

/** Options of {@link rgbToPlanar}. */
export interface RgbToPlanarOptions {
  /** Average `box × box` blocks (stride `box`; trailing rows/columns that do not fill a box are dropped). Default 1. */
  box?: number;
}

/**
 * RGB8 frames `[N, H, W, 3]` (u8, contiguous, as cameras and video decoders deliver them) → f32
 * `[N, 3, ⌊H/box⌋, ⌊W/box⌋]` holding the byte values (0..255), each the mean of a `box × box` block.
 * Not differentiable (the input is bytes).
 */
export function rgbToPlanar(x: Tensor, options: RgbToPlanarOptions = {}): Tensor {
  const box = checkNumber('rgbToPlanar', 'box', options.box ?? 1, { integer: true, min: 1 });
  const s = x.shape;
  if (x.dtype !== 'u8' || s.length !== 4 || s[3] !== 3)
    throw new Error(`rgbToPlanar: expected u8 [N, H, W, 3], got${x.describe()}`);
  if (!x.isContiguous) throw new Error(`rgbToPlanar: the frames must be contiguous, got${x.describe()}`);
  if (box > s[1] || box > s[2])
    throw new Error(`rgbToPlanar: box ${box} is larger than the ${s[1]}x${s[2]} frames`);
  return launchRgbToPlanar(x, { n: s[0], h: s[1], w: s[2], box }, `rgbToPlanar [${s.join(',')}] box ${box}`);
}
