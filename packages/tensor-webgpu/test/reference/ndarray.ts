// Plain-TS float64 n-d arrays: the independent reference every GPU op is tested against.
// Deliberately naive (index loops, no views) so that it is easy to trust.

/** A dense row-major float64 array. */
export interface Nd {
  data: Float64Array;
  shape: number[];
}

/** Builds an Nd from any numbers (copied to float64). */
export function nd(data: ArrayLike<number>, shape: readonly number[]): Nd {
  const n = size(shape);
  if (data.length !== n) throw new Error(`nd: ${data.length} values for shape [${shape}]`);
  return { data: Float64Array.from(data), shape: [...shape] };
}

/** Number of elements. */
export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Row-major strides. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Multi-index of flat index `i`. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}

/** Flat index of a multi-index. */
export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let f = 0;
  for (let d = 0; d < shape.length; d++) f = f * shape[d] + idx[d];
  return f;
}

/** Normalises a possibly negative axis. */
export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** NumPy broadcast of shapes. */
export function broadcastShapes(...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + i] ?? 1;
      if (v !== 1) {
        if (d !== 1 && d !== v) throw new Error(`broadcast: [${shapes.map((x) => `[${x}]`).join(' ')}]`);
        d = v;
      }
    }
    out.push(d);
  }
  return out;
}

/** Reads `a` at a multi-index of a broadcast output shape. */
export function atBroadcast(a: Nd, idx: readonly number[]): number {
  const off = idx.length - a.shape.length;
  let f = 0;
  for (let d = 0; d < a.shape.length; d++) f = f * a.shape[d] + (a.shape[d] === 1 ? 0 : idx[off + d]);
  return a.data[f];
}

/** Elementwise map over broadcast inputs. */
export function zipWith(inputs: readonly Nd[], f: (...v: number[]) => number): Nd {
  const shape = broadcastShapes(...inputs.map((x) => x.shape));
  const out = new Float64Array(size(shape));
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape);
    out[i] = f(...inputs.map((x) => atBroadcast(x, idx)));
  }
  return { data: out, shape };
}

/** Unary map. */
export function map(a: Nd, f: (v: number) => number): Nd {
  return { data: a.data.map(f), shape: [...a.shape] };
}

/** Transposes axes. */
export function permute(a: Nd, dims: readonly number[]): Nd {
  const shape = dims.map((d) => a.shape[d]);
  const out = new Float64Array(a.data.length);
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape);
    const src = new Array<number>(a.shape.length);
    dims.forEach((d, k) => (src[d] = idx[k]));
    out[i] = a.data[ravel(src, a.shape)];
  }
  return { data: out, shape };
}

/** `a[..., start:end, ...]` along one axis. */
export function slice(a: Nd, axis: number, start: number, end: number): Nd {
  axis = normAxis(axis, a.shape.length);
  const shape = [...a.shape];
  shape[axis] = end - start;
  const out = new Float64Array(size(shape));
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape);
    idx[axis] += start;
    out[i] = a.data[ravel(idx, a.shape)];
  }
  return { data: out, shape };
}

/** Broadcasts to a shape (copying). */
export function expand(a: Nd, shape: readonly number[]): Nd {
  const out = new Float64Array(size(shape));
  for (let i = 0; i < out.length; i++) out[i] = atBroadcast(a, unravel(i, shape));
  return { data: out, shape: [...shape] };
}

/** Concatenation along an axis. */
export function concat(xs: readonly Nd[], axis: number): Nd {
  axis = normAxis(axis, xs[0].shape.length);
  const shape = [...xs[0].shape];
  shape[axis] = xs.reduce((s, x) => s + x.shape[axis], 0);
  const out = new Float64Array(size(shape));
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape);
    let k = idx[axis];
    let j = 0;
    while (k >= xs[j].shape[axis]) k -= xs[j++].shape[axis];
    idx[axis] = k;
    out[i] = xs[j].data[ravel(idx, xs[j].shape)];
  }
  return { data: out, shape };
}

/** Stacks along a new axis. */
export function stack(xs: readonly Nd[], axis: number): Nd {
  axis = normAxis(axis, xs[0].shape.length + 1);
  return concat(
    xs.map((x) => ({ data: x.data, shape: [...x.shape.slice(0, axis), 1, ...x.shape.slice(axis)] })),
    axis,
  );
}

/** Constant padding; `pads[d] = [before, after]` for the leading dims given. */
export function pad(a: Nd, pads: readonly (readonly [number, number])[], value = 0): Nd {
  const shape = a.shape.map((d, i) => d + (pads[i]?.[0] ?? 0) + (pads[i]?.[1] ?? 0));
  const out = new Float64Array(size(shape)).fill(value);
  for (let i = 0; i < a.data.length; i++) {
    const idx = unravel(i, a.shape).map((v, d) => v + (pads[d]?.[0] ?? 0));
    out[ravel(idx, shape)] = a.data[i];
  }
  return { data: out, shape };
}
