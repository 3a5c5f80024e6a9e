// Shape ops. Views (reshape of contiguous data, permute, transpose, slice/narrow, expand, squeeze,
// unsqueeze, split) share storage and cost no launch; contiguous, concat, stack and pad copy with
// the strided copy kernel. All are differentiable.
import { isGradEnabled, recordOp } from '../autograd.js';
import { hooks } from '../hooks.js';
import { launchPack } from '../kernels/cast.js';
import { launchCopy } from '../kernels/elementwise.js';
import { fmtShape, normAxis } from '../kernels/shape.js';
import { Tensor, contiguousStrides, shapeSize } from '../tensor.js';
import { full } from './creation.js';
import { sumToShape } from './reduce.js';
import { checkNumber, checkNumberList } from './validate.js';

/** Records a view op whose gradient is `grad(g)`. */
function viewOp(name: string, x: Tensor, out: Tensor, grad: (g: Tensor) => Tensor): Tensor {
  return recordOp(name, out, [x], (g) => [grad(g)]);
}

/** Resolves one -1 in a target shape against `size`. */
function resolveShape(op: string, shape: readonly number[], size: number, from: readonly number[]): number[] {
  const out = [...shape];
  const free = out.flatMap((d, i) => (d === -1 ? [i] : []));
  if (free.length > 1) throw new Error(`${op}: only one -1 allowed in ${fmtShape(shape)}`);
  for (const d of out) if (d !== -1 && (!Number.isInteger(d) || d < 0)) throw new Error(`${op}: invalid shape ${fmtShape(shape)}`);
  if (free.length) {
    const known = shapeSize(out.filter((d) => d !== -1));
    if (known === 0 || size % known !== 0) throw new Error(`${op}: cannot reshape ${fmtShape(from)} (${size} elements) to ${fmtShape(shape)}`);
    out[free[0]] = size / known;
  }
  if (shapeSize(out) !== size) throw new Error(`${op}: cannot reshape ${fmtShape(from)} (${size} elements) to ${fmtShape(shape)}`);
  return out;
}

/**
 * Returns a contiguous tensor with the same values: a view when `x` already is contiguous,
 * otherwise a strided copy.
 */
export function contiguous(x: Tensor): Tensor {
  let out: Tensor;
  if (x.isContiguous && (x.dtype !== 'u8' || x.offset % 4 === 0)) out = x.view(x.shape, contiguousStrides(x.shape), x.offset);
  else out = x.dtype === 'u8' ? launchPack(x, 'u8') : launchCopy(x);
  return viewOp('contiguous', x, out, (g) => g);
}

/**
 * Strides that let `newShape` view data laid out as (shape, strides), or null when a copy is needed
 * (the rule of PyTorch's `view`: each run of merged/split dims must be contiguous in itself).
 */
function viewStrides(shape: readonly number[], strides: readonly number[], newShape: readonly number[]): number[] | null {
  if (shapeSize(shape) === 0 || shape.length === 0) return contiguousStrides(newShape);
  const out = new Array<number>(newShape.length);
  let viewD = newShape.length - 1;
  let base = strides[strides.length - 1];
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    tensorNumel *= shape[d];
    if (d === 0 || (shape[d - 1] !== 1 && strides[d - 1] !== tensorNumel * base)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] === 1)) {
        out[viewD] = viewNumel * base;
        viewNumel *= newShape[viewD];
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (d > 0) {
        base = strides[d - 1];
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  return viewD === -1 ? out : null;
}

/**
 * New shape with the same elements (one dim may be -1). A view whenever the layout allows it
 * (always for contiguous inputs), a copy otherwise.
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const target = resolveShape('reshape', shape, x.size, x.shape);
  let out: Tensor;
  const st = x.isContiguous ? contiguousStrides(target) : viewStrides(x.shape, x.strides, target);
  if (st) out = x.view(target, st, x.offset);
  else {
    const c = x.dtype === 'u8' ? launchPack(x, 'u8') : launchCopy(x);
    out = c.view(target, contiguousStrides(target), 0);
    c.dispose();
  }
  const from = [...x.shape];
  return viewOp('reshape', x, out, (g) => reshape(g, from));
}

/** Reorders dims: `out.shape[i] = x.shape[dims[i]]` (a view). */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  const r = x.rank;
  const d = dims.map((a) => normAxis(a, r, 'permute'));
  if (d.length !== r || new Set(d).size !== r) throw new Error(`permute: [${dims.join(', ')}] is not a permutation of the ${r} dims of ${fmtShape(x.shape)}`);
  const out = x.view(
    d.map((a) => x.shape[a]),
    d.map((a) => x.strides[a]),
    x.offset,
  );
  const inverse = new Array<number>(r);
  d.forEach((a, i) => (inverse[a] = i));
  return viewOp('permute', x, out, (g) => permute(g, inverse));
}

/** Swaps two dims (default the last two; a view). */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const dims = [...Array(x.rank).keys()];
  const i = normAxis(a, x.rank, 'transpose');
  const j = normAxis(b, x.rank, 'transpose');
  [dims[i], dims[j]] = [dims[j], dims[i]];
  return permute(x, dims);
}

/**
 * `x[..., start:end, ...]` along `axis` (a view). Negative indices count from the end and both ends
 * are clamped to the dim, like Python slicing; `end` defaults to the dim size.
 */
export function slice(x: Tensor, axis: number, start: number, end?: number): Tensor {
  const ax = normAxis(axis, x.rank, 'slice');
  checkNumber('slice', 'start', start, { integer: true });
  if (end !== undefined) checkNumber('slice', 'end', end, { integer: true });
  const n = x.shape[ax];
  const fix = (v: number) => Math.min(n, Math.max(0, v < 0 ? v + n : v));
  const s = fix(start);
  const e = Math.max(s, fix(end ?? n));
  return narrowView('slice', x, ax, s, e - s);
}

/** `length` elements from `start` along `axis` (a view); throws when out of range. */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  const ax = normAxis(axis, x.rank, 'narrow');
  const n = x.shape[ax];
  const s = start < 0 ? start + n : start;
  if (!Number.isInteger(s) || !Number.isInteger(length) || s < 0 || length < 0 || s + length > n) {
    throw new Error(`narrow: start ${start}, length ${length} out of range for axis ${axis} of ${fmtShape(x.shape)}`);
  }
  return narrowView('narrow', x, ax, s, length);
}

function narrowView(op: string, x: Tensor, ax: number, start: number, length: number): Tensor {
  const shape = [...x.shape];
  shape[ax] = length;
  const out = x.view(shape, x.strides, x.offset + start * x.strides[ax]);
  const pads = x.shape.map((d, i): [number, number] => (i === ax ? [start, d - start - length] : [0, 0]));
  return viewOp(op, x, out, (g) => pad(g, pads));
}

/** Broadcasts to `shape` without copying (stride 0); -1 keeps a dim; new leading dims allowed. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const lead = shape.length - x.rank;
  checkNumberList('expand', 'shape', shape, { integer: true, min: -1 });
  if (lead < 0) throw new Error(`expand: ${fmtShape(shape)} has fewer dims than ${fmtShape(x.shape)}`);
  const outShape: number[] = [];
  const strides: number[] = [];
  shape.forEach((d, i) => {
    const k = i - lead;
    const src = k >= 0 ? x.shape[k] : 1;
    const target = d === -1 ? src : d;
    if (k < 0 && d === -1) throw new Error(`expand: -1 is not allowed for new leading dims (${fmtShape(shape)})`);
    if (src !== target && src !== 1) throw new Error(`expand: cannot expand ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
    outShape.push(target);
    strides.push(k < 0 || (src === 1 && target !== 1) ? 0 : x.strides[k]);
  });
  const out = x.view(outShape, strides, x.offset);
  const from = [...x.shape];
  return viewOp('expand', x, out, (g) => sumToShape(g, from));
}

/** Removes size-1 dims: the given axis/axes (which must have size 1), or all of them. */
export function squeeze(x: Tensor, axis?: number | readonly number[]): Tensor {
  let drop: Set<number>;
  if (axis === undefined) drop = new Set(x.shape.flatMap((d, i) => (d === 1 ? [i] : [])));
  else {
    drop = new Set((typeof axis === 'number' ? [axis] : axis).map((a) => normAxis(a, x.rank, 'squeeze')));
    for (const a of drop) if (x.shape[a] !== 1) throw new Error(`squeeze: axis ${a} of ${fmtShape(x.shape)} has size ${x.shape[a]}, not 1`);
  }
  const keepDims = x.shape.map((_, i) => i).filter((i) => !drop.has(i));
  const out = x.view(
    keepDims.map((i) => x.shape[i]),
    keepDims.map((i) => x.strides[i]),
    x.offset,
  );
  const from = [...x.shape];
  return viewOp('squeeze', x, out, (g) => reshape(g, from));
}

/** Inserts a size-1 dim at `axis` (in `[-rank-1, rank]`; a view). */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const ax = normAxis(axis, x.rank + 1, 'unsqueeze');
  const shape = [...x.shape];
  const strides = [...x.strides];
  shape.splice(ax, 0, 1);
  strides.splice(ax, 0, ax < x.rank ? x.strides[ax] * x.shape[ax] : 1);
  const out = x.view(shape, strides, x.offset);
  return viewOp('unsqueeze', x, out, (g) => squeeze(g, ax));
}

function checkSameDType(op: string, xs: readonly Tensor[]): void {
  if (!xs.length) throw new Error(`${op}: needs at least one tensor`);
  const d = xs[0].dtype;
  if (xs.some((x) => x.dtype !== d)) throw new Error(`${op}: dtypes differ (${xs.map((x) => x.dtype).join(', ')})`);
  if (d === 'u8') throw new Error(`${op}: u8 tensors are not supported; cast first`);
}

/**
 * Writes `src`'s values into `dest` in place: a view of the same shape and dtype, e.g. rows of a
 * preallocated buffer (`narrow(buffer, 2, at, n)`), so appending to it copies only the new rows.
 * Every view of `dest`'s storage sees the new values. Not differentiable: no gradient flows to
 * `src` (stop-gradient), and `dest` must not be part of a recorded graph.
 */
export function copyInto(dest: Tensor, src: Tensor): void {
  if (dest.dtype !== src.dtype) throw new Error(`copyInto: dtypes differ (dest ${dest.dtype}, src ${src.dtype})`);
  if (dest.dtype === 'u8') throw new Error('copyInto: u8 tensors are not supported; cast first');
  if (dest.shape.join() !== src.shape.join())
    throw new Error(`copyInto: shapes differ (dest ${fmtShape(dest.shape)}, src ${fmtShape(src.shape)})`);
  if (isGradEnabled() && dest.requiresGrad)
    throw new Error(`copyInto: dest ${fmtShape(dest.shape)} requires a gradient; in-place writes are not differentiable`);
  if (dest.engine !== src.engine) throw new Error('copyInto: dest and src belong to different engines');
  if (dest.size > 0) launchCopy(src, dest);
}

/** Joins tensors along an existing axis (all other dims equal). */
export function concat(xs: readonly Tensor[], axis: number): Tensor {
  checkSameDType('concat', xs);
  const r = xs[0].rank;
  const ax = normAxis(axis, r, 'concat');
  for (const x of xs) {
    if (x.rank !== r || x.shape.some((d, i) => i !== ax && d !== xs[0].shape[i])) {
      throw new Error(`concat: shapes ${xs.map((t) => fmtShape(t.shape)).join(', ')} differ outside axis ${axis}`);
    }
  }
  const shape = [...xs[0].shape];
  shape[ax] = xs.reduce((s, x) => s + x.shape[ax], 0);
  const out = Tensor.empty(shape, xs[0].dtype, xs[0].engine);
  const strides = contiguousStrides(shape);
  const starts: number[] = [];
  let at = 0;
  for (const x of xs) {
    starts.push(at);
    if (x.size > 0) {
      const dest = out.view(x.shape, strides, at * strides[ax]);
      launchCopy(x, dest);
      dest.dispose();
    }
    at += x.shape[ax];
  }
  const lens = xs.map((x) => x.shape[ax]);
  return recordOp('concat', out, xs, (g) => lens.map((n, i) => narrow(g, ax, starts[i], n)));
}

/** Joins tensors of equal shape along a new axis. */
export function stack(xs: readonly Tensor[], axis: number): Tensor {
  checkSameDType('stack', xs);
  const ax = normAxis(axis, xs[0].rank + 1, 'stack');
  for (const x of xs) {
    if (x.shape.join() !== xs[0].shape.join()) throw new Error(`stack: shapes ${xs.map((t) => fmtShape(t.shape)).join(', ')} differ`);
  }
  const parts = xs.map((x) => unsqueeze(x, ax));
  const out = concat(parts, ax);
  for (const p of parts) p.dispose();
  return out;
}

/**
 * Splits along `axis` into views: `sizes` gives each part's length (summing to the dim), a number
 * gives that many equal parts (which must divide the dim).
 */
export function split(x: Tensor, sizes: number | readonly number[], axis = 0): Tensor[] {
  const ax = normAxis(axis, x.rank, 'split');
  const n = x.shape[ax];
  let lens: number[];
  if (typeof sizes === 'number') {
    if (!Number.isInteger(sizes) || sizes <= 0 || n % sizes !== 0) throw new Error(`split: ${sizes} parts do not divide axis ${axis} (size ${n}) of ${fmtShape(x.shape)}`);
    lens = new Array<number>(sizes).fill(n / sizes);
  } else {
    lens = [...sizes];
    if (lens.reduce((a, b) => a + b, 0) !== n || lens.some((l) => !Number.isInteger(l) || l < 0)) {
      throw new Error(`split: sizes [${lens.join(', ')}] do not sum to axis ${axis} (size ${n}) of ${fmtShape(x.shape)}`);
    }
  }
  let at = 0;
  return lens.map((l) => {
    const part = narrow(x, ax, at, l);
    at += l;
    return part;
  });
}

/**
 * Pads with a constant: `pads[d] = [before, after]` for every dim d (use [0, 0] to leave a dim).
 * The gradient is the interior of the output gradient.
 */
export function pad(x: Tensor, pads: readonly (readonly [number, number])[], value = 0): Tensor {
  if (pads.length !== x.rank) throw new Error(`pad: ${pads.length} [before, after] pairs for ${x.rank} dims of ${fmtShape(x.shape)}`);
  for (const [b, a] of pads) {
    if (!Number.isInteger(b) || !Number.isInteger(a) || b < 0 || a < 0) throw new Error(`pad: pads must be non-negative integers, got ${JSON.stringify(pads)}`);
  }
  if (x.dtype === 'u8') throw new Error('pad: u8 tensors are not supported; cast first');
  const shape = x.shape.map((d, i) => d + pads[i][0] + pads[i][1]);
  const out = full(shape, value, x.dtype, x.engine);
  const strides = contiguousStrides(shape);
  if (x.size > 0) {
    const dest = out.view(x.shape, strides, pads.reduce((o, [b], i) => o + b * strides[i], 0));
    launchCopy(x, dest);
    dest.dispose();
  }
  const from = [...x.shape];
  return viewOp('pad', x, out, (g) => {
    let v = g;
    from.forEach((d, i) => {
      if (d !== g.shape[i]) v = narrow(v, i, pads[i][0], d);
    });
    return v === g ? g.view(g.shape, g.strides, g.offset) : v;
  });
}

hooks.contiguous = (t) => contiguous(t);
