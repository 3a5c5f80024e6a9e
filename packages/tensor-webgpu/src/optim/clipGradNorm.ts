// Global-norm gradient clipping (torch.nn.utils.clip_grad_norm_): one fused sum of squares over every
// gradient, then each gradient scaled by min(1, maxNorm / (norm + 1e-6)) on the GPU, with no readback.
import { keep, tidy } from '../scope.js';
import { noGrad } from '../autograd.js';
import { hooks } from '../hooks.js';
import { launchClipScale, launchGlobalNorm } from '../kernels/optimizer.js';
import { Tensor } from '../tensor.js';
import { engine } from '../runtime/session.js';
import { checkNumber } from '../ops/validate.js';

/** Gradients of `params` as contiguous tensors (views are copied). @internal */
export function contiguousGrad(p: Tensor): Tensor | null {
  const g = p.grad;
  if (!g) return null;
  if (g.isContiguous) return g;
  // Replace the strided view once, so later kernels can index it linearly.
  const c = keep(tidy(() => hooks.contiguous(g)));
  g.dispose();
  p.grad = c;
  return c;
}

/** The global L2 norm of the gradients of `params` as a 0-d f32 tensor (null if none has a gradient). @internal */
export function globalGradNorm(params: readonly Tensor[]): Tensor | null {
  const grads = params.map(contiguousGrad).filter((g): g is Tensor => g !== null);
  if (!grads.length) return null;
  return launchGlobalNorm(grads, grads[0].engine);
}

/**
 * Clips the gradients of `params` in place so their global L2 norm is at most `maxNorm`, and returns
 * the norm before clipping as a 0-d f32 tensor (read it with `await norm.item()`; dispose it or let a
 * scope do so). Parameters without a gradient are skipped; returns a zero tensor if none has one.
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number): Tensor {
  checkNumber('clipGradNorm', 'maxNorm', maxNorm, { above: 0 });
  const list = [...params];
  return noGrad(() => {
    const norm = globalGradNorm(list);
    if (!norm) return Tensor.fromData([0], [], 'f32', list[0]?.engine ?? engine());
    for (const p of list) {
      const g = p.grad;
      if (!g) continue;
      // A new tensor per gradient: gradients of different leaves may share storage.
      p.grad = keep(launchClipScale(g, norm, maxNorm));
      g.dispose();
    }
    return norm;
  });
}
