// Index-based ops in float64.
import { normAxis, ravel, size, unravel, type Nd } from './ndarray.js';

/** `out[..., j, ...] = x[..., idx[j], ...]` along `axis` (torch.index_select). */
export function indexSelect(x: Nd, axis: number, idx: ArrayLike<number>): Nd {
  axis = normAxis(axis, x.shape.length);
  const shape = [...x.shape];
  shape[axis] = idx.length;
  const out = new Float64Array(size(shape));
  for (let i = 0; i < out.length; i++) {
    const k = unravel(i, shape);
    k[axis] = idx[k[axis]];
    out[i] = x.data[ravel(k, x.shape)];
  }
  return { data: out, shape };
}

/** Embedding lookup: rows of `w` [V, D] for ids of any shape → [...ids, D]. */
export function embedding(w: Nd, ids: Nd): Nd {
  const r = indexSelect(w, 0, ids.data);
  return { data: r.data, shape: [...ids.shape, w.shape[1]] };
}

/** torch.gather: `out[i][j] = x[idx[i][j]][j]` for axis 0 (idx shape = out shape). */
export function gather(x: Nd, axis: number, idx: Nd): Nd {
  axis = normAxis(axis, x.shape.length);
  const out = new Float64Array(idx.data.length);
  for (let i = 0; i < out.length; i++) {
    const k = unravel(i, idx.shape);
    k[axis] = idx.data[i];
    out[i] = x.data[ravel(k, x.shape)];
  }
  return { data: out, shape: [...idx.shape] };
}

/**
 * Functional scatter-add. With `idx` of src's shape: torch.scatter_add (`out[idx[i][j]][j] += src[i][j]`
 * for axis 0). With 1-D `idx` and src of rank > 1: torch.index_add (`out[idx[i], :] += src[i, :]`).
 */
export function scatterAdd(x: Nd, axis: number, idx: Nd, src: Nd): Nd {
  axis = normAxis(axis, x.shape.length);
  const out = Float64Array.from(x.data);
  const indexMode = idx.shape.length === 1 && src.shape.length > 1;
  for (let i = 0; i < src.data.length; i++) {
    const k = unravel(i, src.shape);
    k[axis] = indexMode ? idx.data[k[axis]] : idx.data[i];
    out[ravel(k, x.shape)] += src.data[i];
  }
  return { data: out, shape: [...x.shape] };
}
