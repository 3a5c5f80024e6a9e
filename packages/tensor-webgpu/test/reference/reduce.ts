// Reductions, softmax and scans in float64.
import { normAxis, ravel, size, unravel, type Nd } from './ndarray.js';

/** Reduction kinds of the reference. */
export type ReduceKind = 'sum' | 'mean' | 'max' | 'min' | 'argmax' | 'argmin';

/** Reduces over `axes` (all when undefined). argmax/argmin return the first extreme index along one axis. */
export function reduce(x: Nd, kind: ReduceKind, axes?: number | readonly number[], keepdim = false): Nd {
  const rank = x.shape.length;
  const list = axes === undefined ? x.shape.map((_, i) => i) : (typeof axes === 'number' ? [axes] : axes).map((a) => normAxis(a, rank));
  const red = new Set(list);
  const keptShape = x.shape.map((d, i) => (red.has(i) ? 1 : d));
  const n = size(keptShape);
  const acc = new Float64Array(n).fill(kind === 'max' || kind === 'argmax' ? -Infinity : kind === 'min' || kind === 'argmin' ? Infinity : 0);
  const arg = new Float64Array(n);
  const count = new Float64Array(n);
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape);
    const k = idx.map((v, d) => (red.has(d) ? 0 : v));
    const o = ravel(k, keptShape);
    const v = x.data[i];
    const along = list.length === 1 ? idx[list[0]] : 0;
    count[o]++;
    if (kind === 'sum' || kind === 'mean') acc[o] += v;
    else if ((kind === 'max' || kind === 'argmax') && v > acc[o]) {
      acc[o] = v;
      arg[o] = along;
    } else if ((kind === 'min' || kind === 'argmin') && v < acc[o]) {
      acc[o] = v;
      arg[o] = along;
    }
  }
  let data = kind === 'argmax' || kind === 'argmin' ? arg : acc;
  if (kind === 'mean') data = data.map((v, i) => v / count[i]);
  const shape = keepdim ? keptShape : x.shape.filter((_, i) => !red.has(i));
  return { data, shape };
}

/** Applies `f` to every 1-D line along `axis` (in place on a copy). */
export function alongAxis(x: Nd, axis: number, f: (line: number[]) => number[]): Nd {
  axis = normAxis(axis, x.shape.length);
  const out = new Float64Array(x.data.length);
  const L = x.shape[axis];
  const outer = x.shape.map((d, i) => (i === axis ? 1 : d));
  for (let r = 0; r < size(outer); r++) {
    const base = unravel(r, outer);
    const pos = (k: number) => {
      base[axis] = k;
      return ravel(base, x.shape);
    };
    const line: number[] = [];
    for (let k = 0; k < L; k++) line.push(x.data[pos(k)]);
    const res = f(line);
    for (let k = 0; k < L; k++) out[pos(k)] = res[k];
  }
  return { data: out, shape: [...x.shape] };
}

/** Numerically stable softmax. */
export function softmax(x: Nd, axis = -1): Nd {
  return alongAxis(x, axis, (l) => {
    const m = Math.max(...l);
    const e = l.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  });
}

/** log(softmax(x)). */
export function logSoftmax(x: Nd, axis = -1): Nd {
  return alongAxis(x, axis, (l) => {
    const m = Math.max(...l);
    const lse = m + Math.log(l.reduce((a, v) => a + Math.exp(v - m), 0));
    return l.map((v) => v - lse);
  });
}

/** Inclusive prefix sum (or suffix sum when `reverse`). */
export function cumsum(x: Nd, axis: number, reverse = false): Nd {
  return alongAxis(x, axis, (l) => {
    const out = new Array<number>(l.length);
    let acc = 0;
    for (let j = 0; j < l.length; j++) {
      const k = reverse ? l.length - 1 - j : j;
      acc += l[k];
      out[k] = acc;
    }
    return out;
  });
}
