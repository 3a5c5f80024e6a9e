// The tokenizer's input as upstream InternVLA-A1 makes it (`get_cosmos_features`): frames in [0, 1] of
// any size, bilinearly resized to 256x256 with half-pixel centres and no antialiasing (PyTorch
// `F.interpolate(mode='bilinear', align_corners=False)`), then mapped to [-1, 1].
import { resizeBilinear, sub, mul, tidy, type Tensor } from '@vla/tensor-webgpu';

/** Options of {@link cosmosTokenizerInput}. */
export interface CosmosTokenizerInputOptions {
  /** Output side in pixels (upstream: 256, giving a 32x32 latent with CI8x8). */
  size?: number;
}

/**
 * Float images in [0, 1], `[..., C, H, W]` → tokenizer input `[..., C, size, size]` in [-1, 1]:
 * bilinear resize without antialiasing (as upstream; downscaling aliases), then `x·2 − 1`.
 */
export function cosmosTokenizerInput(images: Tensor, options: CosmosTokenizerInputOptions = {}): Tensor {
  const size = options.size ?? 256;
  if (!Number.isInteger(size) || size < 1)
    throw new Error(`cosmosTokenizerInput: size must be a positive integer, got ${size}`);
  if (images.rank < 3)
    throw new Error(`cosmosTokenizerInput: expected images [..., C, H, W], got [${images.shape.join(', ')}]`);
  return tidy(() => sub(mul(resizeBilinear(images, [size, size], { alignCorners: false }), 2), 1));
}
