// Reductions (sum, mean, max, min, argmax, argmin), softmax/logSoftmax, cumsum and sumToShape.
// Floats accumulate in f32. max/min send the gradient to every position equal to the extreme value,
// split evenly among ties (like torch.amax); argmax/argmin return the first index on ties.
import { recordOp } from '../autograd.js';
import { halfStorageOnlyMessage, isFloat } from '../dtype.js';
import { launchCumsum, launchReduce, launchSoftmax, type ReduceOp } from '../kernels/reduce.js';
import { fmtShape, normAxes, normAxis } from '../kernels/shape.js';
import { Tensor } from '../tensor.js';
import { cast } from './creation.js';
import { div, eq, exp, mul, sub, where } from './elementwise.js';
import { expand, reshape } from './shape.js';

/** Axes argument of reductions: one axis, several, or undefined for all. */
export type Axes = number | readonly number[] | undefined;

function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

function checkReducible(op: string, x: Tensor): void {
  if (x.dtype === 'u8') throw new Error(`${op}: u8 tensors cannot be reduced; cast first (${fmtShape(x.shape)})`);
  if (x.dtype === 'f16' && !x.engine.hasF16) throw new Error(halfStorageOnlyMessage(`${op} ${fmtShape(x.shape)}`));
}

/** Gradient of the output, reshaped to keepdim form and broadcast back to the input's shape. */
function spread(g: Tensor, shape: readonly number[], axes: readonly number[]): Tensor {
  return expand(reshape(g, keptShape(shape, axes)), shape);
}

/** Sum over `axes` (all when omitted). bool sums to i32. */
export function sum(x: Tensor, axes?: Axes, keepdim = false): Tensor {
  checkReducible('sum', x);
  const ax = normAxes(axes, x.rank, 'sum');
  const out = launchReduce(x, ax, 'sum', { keepdim });
  const shape = [...x.shape];
  return recordOp('sum', out, [x], (g) => [spread(g, shape, ax)]);
}

/** Mean over `axes` (all when omitted); floats only. */
export function mean(x: Tensor, axes?: Axes, keepdim = false): Tensor {
  checkReducible('mean', x);
  if (!isFloat(x.dtype)) throw new Error(`mean: dtype ${x.dtype} is not a float; cast first`);
  const ax = normAxes(axes, x.rank, 'mean');
  const count = ax.reduce((n, a) => n * x.shape[a], 1);
  const out = launchReduce(x, ax, 'sum', { keepdim, scale: count ? 1 / count : NaN });
  const shape = [...x.shape];
  return recordOp('mean', out, [x], (g) => [mul(spread(g, shape, ax), 1 / count)]);
}

function extreme(op: 'max' | 'min', x: Tensor, axes: Axes, keepdim: boolean): Tensor {
  checkReducible(op, x);
  if (x.dtype === 'bool') throw new Error(`${op}: bool tensors are not supported; cast first`);
  const ax = normAxes(axes, x.rank, op);
  const out = launchReduce(x, ax, op as ReduceOp, { keepdim });
  const shape = [...x.shape];
  return recordOp(
    op,
    out,
    [x],
    (g, [sx, so]) => {
      const kshape = keptShape(shape, ax);
      const m = eq(sx, reshape(so, kshape));
      const count = cast(sum(m, ax, true), sx.dtype);
      return [where(m, div(reshape(g, kshape), count), 0)];
    },
    [x, out],
  );
}

/** Maximum over `axes` (all when omitted); the gradient is split evenly among tied maxima. */
export function max(x: Tensor, axes?: Axes, keepdim = false): Tensor {
  return extreme('max', x, axes, keepdim);
}

/** Minimum over `axes` (all when omitted); the gradient is split evenly among tied minima. */
export function min(x: Tensor, axes?: Axes, keepdim = false): Tensor {
  return extreme('min', x, axes, keepdim);
}

function argExtreme(op: 'argmax' | 'argmin', x: Tensor, axis: number, keepdim: boolean): Tensor {
  checkReducible(op, x);
  if (x.dtype === 'bool') throw new Error(`${op}: bool tensors are not supported; cast first`);
  const ax = normAxis(axis, x.rank, op);
  return launchReduce(x, [ax], op, { keepdim });
}

/** Index (i32) of the maximum along `axis`; the first one on ties. Not differentiable. */
export function argmax(x: Tensor, axis: number, keepdim = false): Tensor {
  return argExtreme('argmax', x, axis, keepdim);
}

/** Index (i32) of the minimum along `axis`; the first one on ties. Not differentiable. */
export function argmin(x: Tensor, axis: number, keepdim = false): Tensor {
  return argExtreme('argmin', x, axis, keepdim);
}

function checkFloat(op: string, x: Tensor): void {
  if (!isFloat(x.dtype)) throw new Error(`${op}: dtype ${x.dtype} is not a float (${fmtShape(x.shape)})`);
  checkReducible(op, x);
}

/** Softmax along `axis` (max-subtracted, f32 math). */
export function softmax(x: Tensor, axis = -1): Tensor {
  checkFloat('softmax', x);
  const ax = normAxis(axis, x.rank, 'softmax');
  const out = launchSoftmax(x, ax, false);
  return recordOp('softmax', out, [x], (g, [y]) => [mul(y, sub(g, sum(mul(g, y), ax, true)))], [out]);
}

/** log(softmax(x)) along `axis`, computed as `x - max - log(sum(exp(x - max)))`. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  checkFloat('logSoftmax', x);
  const ax = normAxis(axis, x.rank, 'logSoftmax');
  const out = launchSoftmax(x, ax, true);
  return recordOp('logSoftmax', out, [x], (g, [y]) => [sub(g, mul(exp(y), sum(g, ax, true)))], [out]);
}

/** Options of {@link cumsum}. */
export interface CumsumOptions {
  /** Sum from the end: `out[i] = x[i] + ... + x[n-1]`. */
  reverse?: boolean;
}

/** Inclusive cumulative sum along `axis` (f32 accumulation for floats; bool gives i32). */
export function cumsum(x: Tensor, axis: number, opts: CumsumOptions = {}): Tensor {
  checkReducible('cumsum', x);
  const ax = normAxis(axis, x.rank, 'cumsum');
  const reverse = !!opts.reverse;
  const out = launchCumsum(x, ax, reverse);
  return recordOp('cumsum', out, [x], (g) => [cumsum(g, ax, { reverse: !reverse })]);
}

/**
 * Sums `x` down to `shape`, which must broadcast to `x.shape` (the reverse of broadcasting): used to
 * reduce gradients of broadcast operands. Returns a view when the shapes already match.
 */
export function sumToShape(x: Tensor, shape: readonly number[]): Tensor {
  const lead = x.rank - shape.length;
  const bad = lead < 0 || shape.some((d, i) => d !== 1 && d !== x.shape[lead + i]);
  if (bad) throw new Error(`sumToShape: ${fmtShape(shape)} does not broadcast to ${fmtShape(x.shape)}`);
  const axes = x.shape.map((_, i) => i).filter((i) => i < lead || (shape[i - lead] === 1 && x.shape[i] !== 1));
  if (!axes.length) return reshape(x, shape);
  const s = sum(x, axes, true);
  const out = reshape(s, shape);
  s.dispose();
  return out;
}

