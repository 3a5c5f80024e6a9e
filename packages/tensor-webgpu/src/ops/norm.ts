// Fused normalisations (kernels/norm.ts): layerNorm and rmsNorm over the last dim, groupNorm over
// NCHW groups. Statistics are computed in f32 whatever the storage dtype; the forward saves
// (mean, rstd) per row so the backward is two passes with no recomputation of the statistics.
import { noGrad, recordOp } from '../autograd.js';
import {
  launchNorm,
  normReduce,
  normThreads,
  NORM_PGRAD_ROWS,
  type BufRef,
  type NormGeometry,
  type NormKind,
  type NormVariant,
} from '../kernels/norm.js';
import { tidy } from '../scope.js';
import { Tensor } from '../tensor.js';
import { cast } from './creation.js';
import { sum } from './reduce.js';
import { contiguous, reshape, slice } from './shape.js';
import { checkNumber } from './validate.js';

const fmt = (s: readonly number[]) => `[${s.join(',')}]`;

const ref = (t: Tensor): BufRef => ({ buffer: t.buffer, offset: t.offset });

function checkParam(op: string, x: Tensor, p: Tensor | undefined | null, n: number, what: string): void {
  if (!p) return;
  if (p.size !== n || p.rank !== 1)
    throw new Error(`${op}: ${what} ${fmt(p.shape)} must be [${n}] for input ${fmt(x.shape)}`);
  if (p.dtype !== x.dtype) throw new Error(`${op}: ${what} dtype ${p.dtype} differs from input ${x.dtype}`);
}

/** Shared forward/backward of the three norms. */
function normOp(
  op: string,
  kind: NormKind,
  x: Tensor,
  weight: Tensor | undefined,
  bias: Tensor | undefined,
  eps: number,
  g: NormGeometry,
): Tensor {
  if (x.dtype !== 'f32' && x.dtype !== 'f16')
    throw new Error(`${op}: expected f32 or f16, got${x.describe()}`);
  const dtype = x.dtype;
  const wg = normThreads(g.d, x.engine);
  // Decided now: the backward runs after x itself may have been disposed.
  const wgGroupBackward = normThreads(g.hw, x.engine);
  const reduce = normReduce(x.engine);
  const nParams = kind === 'group' ? g.groups * g.cpg : g.d;
  const [out, stats] = noGrad(() =>
    tidy(() => {
      const xc = contiguous(x);
      const wc = weight ? contiguous(weight) : undefined;
      const bc = bias ? contiguous(bias) : undefined;
      const y = Tensor.empty(x.shape, dtype, x.engine);
      const st = Tensor.empty([g.rows, 2], 'f32', x.engine);
      const buffers: Record<string, BufRef> = { X: ref(xc), Y: ref(y), STATS: ref(st) };
      if (wc) buffers.Wt = ref(wc);
      if (bc) buffers.Bs = ref(bc);
      launchNorm(x.engine, {
        variant: { kind, stage: 'fwd', dtype, weight: !!wc, bias: !!bc, wg, reduce },
        geometry: g,
        eps,
        buffers,
        label: `${op} ${fmt(x.shape)}`,
      });
      return [y, st];
    }),
  );
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  const needX = x.requiresGrad;
  const needW = !!weight?.requiresGrad;
  const needB = !!bias?.requiresGrad;
  const result = recordOp(
    op,
    out,
    inputs,
    (gy, saved) => {
      const [sx, sstats] = saved;
      const sw = weight ? saved[2] : undefined;
      const grads: (Tensor | null)[] = [];
      const xc = contiguous(sx);
      const gc = contiguous(gy);
      const wc = sw ? contiguous(sw) : undefined;
      if (needX) {
        const dx = Tensor.empty(sx.shape, dtype, sx.engine);
        const variant: NormVariant = { kind, stage: 'bwd', dtype, weight: !!wc, bias: false, wg, reduce };
        const buffers: Record<string, BufRef> = { X: ref(xc), DY: ref(gc), STATS: ref(sstats), DX: ref(dx) };
        if (wc) buffers.Wt = ref(wc);
        launchNorm(sx.engine, {
          variant,
          geometry: g,
          eps,
          buffers,
          label: `${op} backward ${fmt(sx.shape)}`,
        });
        grads.push(dx);
      } else grads.push(null);
      if (needW || needB) {
        // Partial sums [2, chunks, nParams] (Σ dy·x̂, Σ dy), then a sum over the chunk axis.
        const chunks = kind === 'group' ? g.rows / g.groups : Math.ceil(g.rows / NORM_PGRAD_ROWS);
        const partial = Tensor.empty([2, chunks, nParams], 'f32', sx.engine);
        const variant: NormVariant = {
          kind,
          stage: 'pgrad',
          dtype,
          weight: false,
          bias: false,
          wg: kind === 'group' ? wgGroupBackward : 64,
          reduce,
        };
        launchNorm(sx.engine, {
          variant,
          geometry: g,
          eps,
          buffers: { X: ref(xc), DY: ref(gc), STATS: ref(sstats), P: ref(partial) },
          label: `${op} param grad ${fmt(sx.shape)}`,
        });
        const sums = sum(partial, [1]);
        const pick = (i: number) => {
          const r = reshape(slice(sums, 0, i, i + 1), [nParams]);
          return dtype === 'f32' ? r : cast(r, dtype);
        };
        if (weight) grads.push(needW ? pick(0) : null);
        if (bias) grads.push(needB ? pick(1) : null);
      } else {
        if (weight) grads.push(null);
        if (bias) grads.push(null);
      }
      return grads;
    },
    [x, stats, ...(weight ? [weight] : [])],
  );
  stats.dispose();
  return result;
}

/**
 * Layer normalisation over the last dim: (x − mean) / √(var + eps) · weight + bias, with the biased
 * variance, statistics in f32. weight and bias are optional, [D]. Differentiable in all inputs.
 */
export function layerNorm(x: Tensor, weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  checkNumber('layerNorm', 'eps', eps, { min: 0 });
  if (x.rank < 1) throw new Error(`layerNorm: input must have at least 1 dim, got ${fmt(x.shape)}`);
  const d = x.shape[x.rank - 1];
  checkParam('layerNorm', x, weight, d, 'weight');
  checkParam('layerNorm', x, bias, d, 'bias');
  return normOp('layerNorm', 'layer', x, weight ?? undefined, bias ?? undefined, eps, {
    rows: x.size / Math.max(d, 1),
    d,
    hw: 1,
    cpg: d,
    groups: 1,
  });
}

/**
 * RMS normalisation over the last dim with Hugging Face Qwen3 semantics:
 * x · rsqrt(mean(x²) + eps) · weight, computed in f32 (for f16 inputs the result is rounded to f16
 * once, after the weight multiply). weight [D]. Differentiable in x and weight.
 */
export function rmsNorm(x: Tensor, weight: Tensor | null | undefined, eps = 1e-6): Tensor {
  checkNumber('rmsNorm', 'eps', eps, { min: 0 });
  if (x.rank < 1) throw new Error(`rmsNorm: input must have at least 1 dim, got ${fmt(x.shape)}`);
  const d = x.shape[x.rank - 1];
  checkParam('rmsNorm', x, weight, d, 'weight');
  return normOp('rmsNorm', 'rms', x, weight ?? undefined, undefined, eps, {
    rows: x.size / Math.max(d, 1),
    d,
    hw: 1,
    cpg: d,
    groups: 1,
  });
}

/**
 * Group normalisation of x [N, C, ...spatial] (PyTorch `group_norm`): channels split into `groups`,
 * each (n, group) normalised over its channels and spatial positions (biased variance, f32), then
 * the per-channel affine weight/bias [C] (optional). Differentiable in all inputs.
 */
export function groupNorm(
  x: Tensor,
  groups: number,
  weight?: Tensor | null,
  bias?: Tensor | null,
  eps = 1e-5,
): Tensor {
  checkNumber('groupNorm', 'groups', groups, { integer: true, min: 1 });
  checkNumber('groupNorm', 'eps', eps, { min: 0 });
  if (x.rank < 2) throw new Error(`groupNorm: input must be [N, C, ...], got ${fmt(x.shape)}`);
  const [n, c] = x.shape;
  if (c % groups !== 0) throw new Error(`groupNorm: ${c} channels are not divisible into ${groups} groups`);
  checkParam('groupNorm', x, weight, c, 'weight');
  checkParam('groupNorm', x, bias, c, 'bias');
  const hw = x.size / Math.max(1, n * c);
  const cpg = c / groups;
  return normOp('groupNorm', 'group', x, weight ?? undefined, bias ?? undefined, eps, {
    rows: n * groups,
    d: cpg * hw,
    hw,
    cpg,
    groups,
  });
}
