// Plain-TS (float64) references of the optimizers and of global-norm clipping, written from the
// PyTorch documentation of torch.optim.AdamW / SGD and torch.nn.utils.clip_grad_norm_.

/** Mutable state of one parameter under the reference AdamW. */
export interface RefAdamState {
  p: Float64Array;
  m: Float64Array;
  v: Float64Array;
  step: number;
}

/** A fresh reference state for parameter values `p`. */
export function refAdamState(p: ArrayLike<number>): RefAdamState {
  return { p: Float64Array.from(p), m: new Float64Array(p.length), v: new Float64Array(p.length), step: 0 };
}

/** One AdamW step of one parameter (PyTorch's algorithm with decoupled weight decay). */
export function refAdamWStep(
  s: RefAdamState,
  g: ArrayLike<number>,
  o: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; gradScale?: number },
): void {
  s.step++;
  const bc1 = 1 - o.beta1 ** s.step;
  const bc2 = 1 - o.beta2 ** s.step;
  const scale = o.gradScale ?? 1;
  for (let i = 0; i < s.p.length; i++) {
    const gi = g[i] * scale;
    s.p[i] *= 1 - o.lr * o.weightDecay;
    s.m[i] = o.beta1 * s.m[i] + (1 - o.beta1) * gi;
    s.v[i] = o.beta2 * s.v[i] + (1 - o.beta2) * gi * gi;
    const mHat = s.m[i] / bc1;
    const vHat = s.v[i] / bc2;
    s.p[i] -= (o.lr * mHat) / (Math.sqrt(vHat) + o.eps);
  }
}

/** Mutable state of one parameter under the reference SGD. */
export interface RefSgdState {
  p: Float64Array;
  buf: Float64Array | null;
}

/** One SGD step (torch.optim.SGD semantics). */
export function refSgdStep(
  s: RefSgdState,
  g: ArrayLike<number>,
  o: { lr: number; momentum: number; dampening: number; weightDecay: number; nesterov: boolean },
): void {
  const first = s.buf === null;
  if (o.momentum > 0 && first) s.buf = new Float64Array(s.p.length);
  for (let i = 0; i < s.p.length; i++) {
    let d = g[i] + o.weightDecay * s.p[i];
    if (o.momentum > 0) {
      const b = first ? d : o.momentum * s.buf![i] + (1 - o.dampening) * d;
      s.buf![i] = b;
      d = o.nesterov ? d + o.momentum * b : b;
    }
    s.p[i] -= o.lr * d;
  }
}

/** The global L2 norm of several gradients and the clipping coefficient min(1, max / (norm + 1e-6)). */
export function refClip(
  grads: readonly ArrayLike<number>[],
  maxNorm: number,
): { norm: number; coef: number } {
  let ss = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) ss += g[i] * g[i];
  const norm = Math.sqrt(ss);
  return { norm, coef: Math.min(1, maxNorm / (norm + 1e-6)) };
}
