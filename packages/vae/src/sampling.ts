// Resolution changes of the Cosmos encoder/decoder, each a module with one child `conv` (upstream names).
import { Conv2d, Module, pad, resizeNearest, tidy, type Tensor } from '@vla/tensor-webgpu';

/** Halves H and W: zero-pad right and bottom by 1, then a 3x3 convolution with stride 2 and no padding. */
export class Downsample extends Module {
  /** The stride-2 convolution. */
  readonly conv: Conv2d;
  constructor(readonly channels: number) {
    super();
    this.conv = this.module('conv', new Conv2d(channels, channels, 3, { stride: 2, padding: 0 }));
  }
  /** [N, C, H, W] → [N, C, H/2, W/2] (H, W even). */
  forward(x: Tensor): Tensor {
    return tidy(() =>
      this.conv.forward(
        pad(x, [
          [0, 0],
          [0, 0],
          [0, 1],
          [0, 1],
        ]),
      ),
    );
  }
}

/** Doubles H and W: nearest-neighbour x2, then a 3x3 convolution with padding 1. */
export class Upsample extends Module {
  /** The 3x3 convolution after the nearest-neighbour upsampling. */
  readonly conv: Conv2d;
  constructor(readonly channels: number) {
    super();
    this.conv = this.module('conv', new Conv2d(channels, channels, 3, { padding: 1 }));
  }
  /** [N, C, H, W] → [N, C, 2H, 2W]. */
  forward(x: Tensor): Tensor {
    return tidy(() => this.conv.forward(resizeNearest(x, [x.shape[2] * 2, x.shape[3] * 2])));
  }
}
