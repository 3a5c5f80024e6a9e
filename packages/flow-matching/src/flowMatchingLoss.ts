// Flow-matching regression: mean((v − u)²), optionally over a mask (e.g. valid action steps or the
// robot's real action dims inside the 32 padded ones).
import { div, expand, maximum, mean, mul, sub, sum, tidy, type Tensor } from '@vla/tensor-webgpu';

/** Options of {@link flowMatchingLoss}. */
export interface FlowMatchingLossOptions {
  /**
   * Weights broadcastable to `v` (numpy rules, e.g. `[B, H, 1]` per action step or `[1, 1, D]` per
   * dim; 1 = counted, 0 = ignored). The loss is `sum(mask·(v − u)²) / sum(mask)` over v's shape.
   */
  mask?: Tensor;
  /** `mean` (default): a scalar; `none`: the element-wise `(v − u)²` (mask not applied). */
  reduction?: 'mean' | 'none';
}

/** Mean squared error between predicted velocity `v` and target `u` (same shape). */
export function flowMatchingLoss(v: Tensor, u: Tensor, options: FlowMatchingLossOptions = {}): Tensor {
  if (v.shape.join() !== u.shape.join()) {
    throw new Error(
      `flowMatchingLoss: prediction [${v.shape.join(', ')}] and target [${u.shape.join(', ')}] differ in shape`,
    );
  }
  const m = options.mask;
  if (m && (m.rank > v.rank || m.shape.some((s, i) => s !== 1 && s !== v.shape[v.rank - m.rank + i]))) {
    throw new Error(
      `flowMatchingLoss: mask [${m.shape.join(', ')}] does not broadcast to [${v.shape.join(', ')}]`,
    );
  }
  return tidy(() => {
    const d = sub(v, u);
    const sq = mul(d, d);
    if (options.reduction === 'none') return sq;
    if (!m) return mean(sq);
    // All-masked batches give 0, not NaN.
    const den = maximum(sum(expand(m, v.shape)), 1e-12);
    return div(sum(mul(sq, m)), den);
  });
}
