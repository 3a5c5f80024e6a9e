// CPU launchers of the optimizer family: fused AdamW and SGD steps, the global gradient norm and
// gradient clipping. The launchers in src/kernels/optimizer.ts validate and call these. f16 tensors
// are storage only on this engine (as on a WebGPU device without shader-f16), so updates refuse them.
import { halfStorageOnlyMessage } from '../dtype.js';
import {
  adamwStepScalars,
  type AdamWStepArgs,
  type FusedClip,
  type SgdStepArgs,
} from '../kernels/optimizer.js';
import { Tensor } from '../tensor.js';
import { addressOf, type CpuEngine } from './cpuEngine.js';
import { optAdamW, optClipScale, optSgd, optSqrtSum, optSumSquares } from './programs/optimizer.js';

/** Elements per partial sum of the gradient norm: fixed, so the norm is the same for any thread count. */
const NORM_BLOCK = 4096;

function checkF32(label: string, ...ts: Tensor[]): void {
  if (ts.some((t) => t.dtype === 'f16')) throw new Error(halfStorageOnlyMessage(label));
}

/** One fused AdamW update in place (see launchAdamW): m and v are overwritten, on step 1 without being read. */
export function cpuAdamW(
  engine: CpuEngine,
  param: Tensor,
  grad: Tensor,
  m: Tensor,
  v: Tensor,
  args: AdamWStepArgs,
  clip: FusedClip | undefined,
  label: string,
): void {
  checkF32(label, param, grad);
  engine.run(
    optAdamW,
    {
      param: addressOf(param),
      grad: addressOf(grad),
      m: addressOf(m),
      v: addressOf(v),
      gnorm: clip ? addressOf(clip.norm) : 0,
      n: param.size,
      ...adamwStepScalars(args),
      clip: clip ? 1 : 0,
      lr: args.lr,
      beta1: args.beta1,
      beta2: args.beta2,
      eps: args.eps,
      wd: args.weightDecay,
      max_norm: clip?.maxNorm ?? 0,
    },
    { label, work: param.size * 12 },
  );
}

/** One fused SGD update in place (see launchSgd); `buf` is the momentum buffer or null. */
export function cpuSgd(
  engine: CpuEngine,
  param: Tensor,
  grad: Tensor,
  buf: Tensor | null,
  args: SgdStepArgs,
  clip: FusedClip | undefined,
  label: string,
): void {
  checkF32(label, param, grad);
  engine.run(
    optSgd,
    {
      param: addressOf(param),
      grad: addressOf(grad),
      buf: buf ? addressOf(buf) : 0,
      gnorm: clip ? addressOf(clip.norm) : 0,
      n: param.size,
      first: args.first ? 1 : 0,
      nesterov: args.nesterov ? 1 : 0,
      has_buf: buf ? 1 : 0,
      clip: clip ? 1 : 0,
      lr: args.lr,
      momentum: args.momentum,
      dampening: args.dampening,
      wd: args.weightDecay,
      max_norm: clip?.maxNorm ?? 0,
    },
    { label, work: param.size * 6 },
  );
}

/**
 * The L2 norm of all `tensors` (contiguous floats) as a new 0-d f32 tensor: sums of squares of
 * fixed 4096-element blocks, then one in-order sum of the blocks.
 */
export function cpuGlobalNorm(engine: CpuEngine, tensors: readonly Tensor[]): Tensor {
  const blocks = tensors.map((t) => Math.ceil(t.size / NORM_BLOCK));
  const total = blocks.reduce((a, b) => a + b, 0);
  const out = Tensor.empty([], 'f32', engine);
  const partials = Tensor.empty([Math.max(1, total)], 'f32', engine);
  try {
    let base = 0;
    tensors.forEach((t, k) => {
      checkF32(`grad norm${t.describe()}`, t);
      if (!blocks[k]) return;
      engine.run(
        optSumSquares,
        { x: addressOf(t), partials: addressOf(partials) + base * 4, n: t.size, block: NORM_BLOCK },
        { label: `grad norm${t.describe()}`, work: t.size * 2 },
      );
      base += blocks[k];
    });
    engine.run(
      optSqrtSum,
      { partials: addressOf(partials), out: addressOf(out), count: total },
      { label: `grad norm of ${tensors.length} tensors`, threads: 1 },
    );
  } catch (e) {
    out.dispose();
    throw e;
  } finally {
    partials.dispose();
  }
  return out;
}

/** Writes grad · min(1, maxNorm / (norm + 1e-6)) into `out` (both contiguous, same size). */
export function cpuClipScale(
  engine: CpuEngine,
  grad: Tensor,
  norm: Tensor,
  maxNorm: number,
  out: Tensor,
): void {
  const label = `clip grad${grad.describe()}`;
  checkF32(label, grad);
  engine.run(
    optClipScale,
    { grad: addressOf(grad), gnorm: addressOf(norm), out: addressOf(out), n: grad.size, max_norm: maxNorm },
    { label, work: grad.size },
  );
}
