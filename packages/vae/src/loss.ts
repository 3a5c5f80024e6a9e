// Reconstruction objective for training a tokenizer from scratch (upstream Cosmos adds perceptual
// and adversarial terms; pixel MSE + L1 is enough for small tokenizers on simple images).
import { abs, add, mean, mul, sub, tidy, type Tensor } from '@vla/tensor-webgpu';

/** Options of {@link reconstructionLoss}. */
export interface ReconstructionLossOptions {
  /** Weight of the mean absolute error added to the MSE (default 0: MSE only). */
  l1Weight?: number;
}

/** `mean((recon - target)²) + l1Weight · mean(|recon - target|)`, a scalar tensor. */
export function reconstructionLoss(recon: Tensor, target: Tensor, options: ReconstructionLossOptions = {}): Tensor {
  if (recon.shape.join() !== target.shape.join()) {
    throw new Error(`reconstructionLoss: shapes differ, [${recon.shape.join(', ')}] vs [${target.shape.join(', ')}]`);
  }
  const l1 = options.l1Weight ?? 0;
  if (!(l1 >= 0)) throw new Error(`reconstructionLoss: l1Weight must be >= 0, got ${l1}`);
  return tidy(() => {
    const d = sub(recon, target);
    const mse = mean(mul(d, d));
    return l1 > 0 ? add(mse, mul(mean(abs(d)), l1)) : mse;
  });
}
