// Weight-only f16: gradients of an f16 weight are computed in f32 (the activations' dtype) and
// stored in the weight's dtype. Internal to the ops (not re-exported by the barrel).
import type { Tensor } from '../tensor.js';
import { cast } from './creation.js';

/** `g` in the dtype of `like` (a view when they already agree). */
export function asDtypeOf(g: Tensor, like: Tensor): Tensor {
  return g.dtype === like.dtype ? g : cast(g, like.dtype);
}
