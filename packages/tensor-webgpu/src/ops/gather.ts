// Index-based ops: embedding, indexSelect, gather, scatterAdd. Indices are i32 or u32; GPU kernels
// cannot throw, so out-of-range indices read 0 (gathers) or are skipped (scatters).
import { noGrad, recordOp } from '../autograd.js';
import type { DType } from '../dtype.js';
import { launchCopy } from '../kernels/elementwise.js';
import { launchGather, launchScatterAdd } from '../kernels/gather.js';
import { fmtShape, normAxis } from '../kernels/shape.js';
import { Tensor } from '../tensor.js';
import { cast, full } from './creation.js';
import { reshape } from './shape.js';

function checkIndex(op: string, idx: Tensor): void {
  if (idx.dtype !== 'i32' && idx.dtype !== 'u32') throw new Error(`${op}: indices must be i32 or u32, got ${idx.dtype} ${fmtShape(idx.shape)}`);
}

/** `out[..., j, ...] = x[..., idx[j], ...]` along `axis` for a 1-D `idx` (torch.index_select). */
export function indexSelect(x: Tensor, axis: number, idx: Tensor): Tensor {
  checkIndex('indexSelect', idx);
  if (idx.rank !== 1) throw new Error(`indexSelect: idx must be 1-D, got ${fmtShape(idx.shape)}`);
  if (x.dtype === 'u8') throw new Error('indexSelect: u8 tensors are not supported; cast first');
  const ax = normAxis(axis, x.rank, 'indexSelect');
  const shape = [...x.shape];
  shape[ax] = idx.shape[0];
  const idxStrides = shape.map((_, d) => (d === ax ? idx.strides[0] : 0));
  const out = launchGather(x, ax, idx, shape, idxStrides, `indexSelect ${fmtShape(x.shape)} axis ${ax} idx ${fmtShape(idx.shape)}`);
  const xshape = [...x.shape];
  return recordOp('indexSelect', out, [x], (g, [si]) => [scatterAdd(full(xshape, 0, g.dtype, g.engine), ax, si, g)], [idx]);
}

/**
 * torch.gather: `out` has idx's shape and `out[i][j] = x[idx[i][j]][j]` (axis 0); idx has x's rank
 * and `idx.shape[d] <= x.shape[d]` off the axis.
 */
export function gather(x: Tensor, axis: number, idx: Tensor): Tensor {
  checkIndex('gather', idx);
  const ax = normAxis(axis, x.rank, 'gather');
  if (idx.rank !== x.rank || idx.shape.some((d, i) => i !== ax && d > x.shape[i])) {
    throw new Error(`gather: idx ${fmtShape(idx.shape)} does not fit x ${fmtShape(x.shape)} along axis ${ax}`);
  }
  if (x.dtype === 'u8') throw new Error('gather: u8 tensors are not supported; cast first');
  const out = launchGather(x, ax, idx, idx.shape, idx.strides, `gather ${fmtShape(x.shape)} axis ${ax} idx ${fmtShape(idx.shape)}`);
  const xshape = [...x.shape];
  return recordOp('gather', out, [x], (g, [si]) => [scatterAdd(full(xshape, 0, g.dtype, g.engine), ax, si, g)], [idx]);
}

/**
 * Returns `x` plus `src` scattered along `axis` (duplicates accumulate). Two forms:
 * - `idx` with src's shape (torch.scatter_add): `out[idx[i][j]][j] += src[i][j]` for axis 0;
 * - 1-D `idx` with `src.rank > 1` (torch.index_add): `out[..., idx[k], ...] += src[..., k, ...]`.
 * On WebGPU f32 uses a compare-exchange atomic loop (order of additions, hence last bits, may
 * vary); on the CPU engine each destination is summed by one thread in source order (deterministic).
 * f16 goes through f32.
 */
export function scatterAdd(x: Tensor, axis: number, idx: Tensor, src: Tensor): Tensor {
  checkIndex('scatterAdd', idx);
  const ax = normAxis(axis, x.rank, 'scatterAdd');
  const desc = `x ${fmtShape(x.shape)}, idx ${fmtShape(idx.shape)}, src ${fmtShape(src.shape)} along axis ${ax}`;
  if (src.dtype !== x.dtype) throw new Error(`scatterAdd: dtypes differ (x ${x.dtype}, src ${src.dtype})`);
  if (src.rank !== x.rank || src.shape.some((d, i) => i !== ax && d > x.shape[i])) throw new Error(`scatterAdd: src does not fit x: ${desc}`);
  const indexMode = idx.rank === 1 && src.rank > 1;
  if (indexMode ? idx.shape[0] !== src.shape[ax] : idx.shape.join() !== src.shape.join()) {
    throw new Error(`scatterAdd: idx must have src's shape, or be 1-D with src.shape[axis] entries: ${desc}`);
  }
  const idxStrides = indexMode ? src.shape.map((_, d) => (d === ax ? idx.strides[0] : 0)) : idx.strides;
  const work: DType = x.dtype === 'f16' ? 'f32' : x.dtype;
  if (work !== 'f32' && work !== 'i32' && work !== 'u32') throw new Error(`scatterAdd: dtype ${x.dtype} is not supported`);
  const out = noGrad(() => {
    // The kernel accumulates into a fresh contiguous copy in the work dtype.
    const base = work === x.dtype ? launchCopy(x) : cast(x, work);
    const s = work === src.dtype ? src : cast(src, work);
    launchScatterAdd(base, ax, idx, idxStrides, s, 'scatterAdd');
    if (s !== src) s.dispose();
    if (work === x.dtype) return base;
    const r = cast(base, x.dtype);
    base.dispose();
    return r;
  });
  return recordOp(
    'scatterAdd',
    out,
    [x, src],
    (g, [si]) => [g, indexMode ? indexSelect(g, ax, si) : gather(g, ax, si)],
    [idx],
  );
}

/**
 * Embedding lookup: rows of `weight` [V, D] for integer `ids` of any shape → [...ids.shape, D].
 * The gradient to `weight` is scatter-added (repeated ids accumulate).
 */
export function embedding(weight: Tensor, ids: Tensor): Tensor {
  checkIndex('embedding', ids);
  if (weight.rank !== 2) throw new Error(`embedding: weight must be [V, D], got ${fmtShape(weight.shape)}`);
  const flat = reshape(ids, [ids.size]);
  const rows = indexSelect(weight, 0, flat);
  const out = reshape(rows, [...ids.shape, weight.shape[1]]);
  flat.dispose();
  rows.dispose();
  return out;
}
