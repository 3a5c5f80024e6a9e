// Layout arithmetic shared by every strided kernel: broadcasting, axis normalisation, and dimension
// coalescing (merging dims that are contiguous for every operand), plus the WGSL snippet that turns
// a linear index into per-operand element offsets. Shapes and strides travel in uniforms.

/** Rank capacity of strided kernels after coalescing (uniform arrays are sized for it). */
export const MAX_RANK = 8;

/** Normalises a possibly negative axis, naming the op when it is out of range. */
export function normAxis(axis: number, rank: number, op: string): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1)) {
    throw new Error(`${op}: axis ${axis} is out of range for rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Normalises a list of axes (undefined = all), rejecting duplicates; returned sorted. */
export function normAxes(axes: number | readonly number[] | undefined, rank: number, op: string): number[] {
  if (axes === undefined) return [...Array(rank).keys()];
  const list = (typeof axes === 'number' ? [axes] : [...axes]).map((a) => normAxis(a, rank, op));
  if (new Set(list).size !== list.length) throw new Error(`${op}: repeated axis in [${typeof axes === 'number' ? axes : axes.join(', ')}]`);
  return list.sort((a, b) => a - b);
}

/** Formats a shape for messages. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** NumPy broadcasting of shapes; throws naming the op and every shape. */
export function broadcastShapes(op: string, shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const k = rank - s.length + i;
      const d = s[i];
      if (d === out[k] || d === 1) continue;
      if (out[k] === 1) out[k] = d;
      else throw new Error(`${op}: shapes ${shapes.map(fmtShape).join(', ')} cannot be broadcast together`);
    }
  }
  return out;
}

/** Strides of a view aligned to a broadcast output shape (0 for broadcast and new leading dims). */
export function broadcastStrides(shape: readonly number[], strides: readonly number[], outShape: readonly number[]): number[] {
  const r = outShape.length - shape.length;
  return outShape.map((_, k) => (k < r || shape[k - r] === 1 ? 0 : strides[k - r]));
}

/**
 * Drops size-1 dims and merges neighbouring dims that are contiguous for every stride list, so most
 * launches run at rank 1..2. Returns the coalesced shape and one stride list per input list.
 */
export function coalesce(shape: readonly number[], strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  // Walk from the innermost dim outwards; outShape[0] is the current outermost merged dim.
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d];
    if (n === 1) continue;
    if (outShape.length) {
      const inner = outShape[0];
      const mergeable = strides.every((s, k) => s[d] === outStrides[k][0] * inner);
      if (mergeable) {
        outShape[0] = inner * n;
        continue;
      }
    }
    outShape.unshift(n);
    strides.forEach((s, k) => outStrides[k].unshift(s[d]));
  }
  return { shape: outShape, strides: outStrides };
}

/**
 * WGSL that unravels `index` over the uniform shape array `shapeName` (runtime rank `rankExpr`) and
 * adds `coord * <stride>_at(dim)` to each offset variable (already initialised by the caller).
 */
export function unravelWgsl(index: string, rankExpr: string, shapeName: string, offsets: readonly { off: string; strides: string }[]): string {
  const adds = offsets.map((o) => `    ${o.off} += c * ${o.strides}_at(k);`).join('\n');
  return `  {
  var rem = ${index};
  for (var d = ${rankExpr}; d > 0u; d--) {
    let k = d - 1u;
    let s = ${shapeName}_at(k);
    let c = rem % s;
    rem = rem / s;
${adds}
  }
  }`;
}
