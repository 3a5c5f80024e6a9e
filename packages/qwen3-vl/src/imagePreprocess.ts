// Image preprocessing of the Qwen3-VL processor, on the GPU: resize to the smart-resize size (224² →
// 256²) and normalise with mean = std = 0.5, i.e. [0, 1] → [-1, 1]. HF resizes with bicubic
// resampling; this uses bilinear (the op the core has), so pixels differ slightly from HF's.
import { resizeBilinear, sub, mul, tidy, type Tensor } from '@vla/tensor-webgpu';
import { smartResize, type SmartResizeOptions } from './visionPositions.js';

/** Options of {@link prepareImages}. */
export interface PrepareImagesOptions extends SmartResizeOptions {
  /** Explicit output size [H, W] instead of {@link smartResize}. */
  size?: [number, number];
}

/** RGB in [0, 1], `[N, 3, H, W]` → normalised pixels `[N, 3, H', W']` for the vision tower. */
export function prepareImages(images: Tensor, options: PrepareImagesOptions = {}): Tensor {
  if (images.rank !== 4 || images.shape[1] !== 3)
    throw new Error(`prepareImages: expected [N, 3, H, W], got [${images.shape.join(', ')}]`);
  const [h, w] = options.size ?? smartResize(images.shape[2], images.shape[3], options);
  return tidy(() => {
    const resized =
      h === images.shape[2] && w === images.shape[3]
        ? images
        : resizeBilinear(images, [h, w], { alignCorners: false });
    return sub(mul(resized, 2), 1);
  });
}
