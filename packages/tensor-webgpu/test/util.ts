// Test helpers shared by the package's tests: seeded host data, closeness checks with useful
// messages, and a finite-difference gradient checker that works for any differentiable op.
import { expect } from 'vitest';
import { noGrad, Tensor, tidy, type DType } from '../src/index.js';

/** A seeded 32-bit PRNG (mulberry32): returns floats in [0, 1). */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` seeded uniform floats in [lo, hi), already rounded to f32 so GPU and reference see the same inputs. */
export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = prng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

/** `n` seeded integers in [lo, hi). */
export function randomInts(n: number, seed: number, lo: number, hi: number): Int32Array {
  const r = prng(seed);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + Math.floor((hi - lo) * r());
  return out;
}

/** Tolerances: an element passes when |actual - expected| <= atol + rtol * |expected|. */
export interface CloseOptions {
  atol?: number;
  rtol?: number;
  /** Prefix for the failure message (op and shape). */
  what?: string;
}

/**
 * Asserts two arrays are elementwise close. NaN matches NaN and infinities must match exactly. The
 * failure message names the first bad index, its values, the number of bad elements and the max error.
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, opts: CloseOptions = {}): void {
  const { atol = 1e-5, rtol = 1e-5, what = 'values' } = opts;
  if (actual.length !== expected.length) {
    expect.fail(`${what}: length ${actual.length} differs from expected ${expected.length}`);
  }
  let bad = 0;
  let first = -1;
  let maxErr = 0;
  let maxAt = -1;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    let ok: boolean;
    let err = 0;
    if (Number.isNaN(e) || Number.isNaN(a)) ok = Number.isNaN(e) && Number.isNaN(a);
    else if (!Number.isFinite(e) || !Number.isFinite(a)) ok = a === e;
    else {
      err = Math.abs(a - e);
      ok = err <= atol + rtol * Math.abs(e);
    }
    if (!ok) {
      bad++;
      if (first < 0) first = i;
      if (!Number.isFinite(err)) err = Infinity;
    }
    if (err > maxErr || (!ok && maxAt < 0)) {
      maxErr = Math.max(maxErr, err);
      maxAt = i;
    }
  }
  if (bad) {
    expect.fail(
      `${what}: ${bad}/${actual.length} elements differ (atol ${atol}, rtol ${rtol}); first at [${first}]: ` +
        `actual ${actual[first]}, expected ${expected[first]}; max |error| ${maxErr.toExponential(3)} at [${maxAt}] ` +
        `(actual ${actual[maxAt]}, expected ${expected[maxAt]})`,
    );
  }
}

/** Reads a tensor and checks its shape and values against a reference `{data, shape}`. */
export async function expectTensorClose(
  t: Tensor,
  ref: { data: ArrayLike<number>; shape: readonly number[] },
  opts: CloseOptions = {},
): Promise<void> {
  const what = opts.what ?? 'tensor';
  expect(t.shape, `${what}: shape`).toEqual([...ref.shape]);
  expectClose(await t.toArray(), ref.data, { ...opts, what });
}

/** An input of {@link gradCheck}: host data (uploaded as a leaf) with an optional dtype. */
export interface GradInput {
  data: ArrayLike<number>;
  shape: readonly number[];
  dtype?: DType;
  /** Check the gradient of this input (default: true for float dtypes). */
  grad?: boolean;
}

/** Options of {@link gradCheck}. */
export interface GradCheckOptions {
  /** Finite-difference step (default 1e-3). */
  eps?: number;
  /** Absolute tolerance (default 2e-3). */
  atol?: number;
  /** Relative tolerance against the finite difference (default 1e-2). */
  rtol?: number;
  /** Seed of the random output weights and of the sampled points. */
  seed?: number;
  /** At most this many elements per input are perturbed (a seeded random subset). Default 48. */
  maxPoints?: number;
  /** Name for messages. */
  what?: string;
}

/**
 * Compares autograd gradients of `L = sum(fn(inputs) * w)` (w: seeded random weights) with central
 * finite differences `(L(x + eps) - L(x - eps)) / 2eps`. The op runs on the GPU in f32 for both;
 * L is summed on the host in float64 so the only noise is f32 rounding of the outputs.
 * Pick inputs away from kinks (relu at 0, ties of max, clamp bounds).
 */
export async function gradCheck(fn: (...xs: Tensor[]) => Tensor, inputs: readonly GradInput[], opts: GradCheckOptions = {}): Promise<void> {
  const { eps = 1e-3, atol = 2e-3, rtol = 1e-2, seed = 1234, maxPoints = 48, what = 'gradCheck' } = opts;
  const dtypes = inputs.map((x) => x.dtype ?? 'f32');
  const wantGrad = inputs.map((x, i) => x.grad ?? (dtypes[i] === 'f32' || dtypes[i] === 'f16'));
  // Analytic gradients.
  const leaves = inputs.map((x, i) => {
    const t = Tensor.fromData(x.data, x.shape, dtypes[i]);
    t.requiresGrad = wantGrad[i];
    return t;
  });
  const y = fn(...leaves);
  const w = randomArray(y.size, seed, -1, 1);
  const wT = Tensor.fromData(w, y.shape, y.dtype);
  const analytic: (Float32Array | null)[] = [];
  try {
    if (!y.requiresGrad) expect.fail(`${what}: output does not require grad`);
    y.backward(wT);
    for (let i = 0; i < leaves.length; i++) {
      if (!wantGrad[i]) {
        analytic.push(null);
        continue;
      }
      const g = leaves[i].grad;
      if (!g) expect.fail(`${what}: no gradient reached input ${i} [${inputs[i].shape}]`);
      expect(g.shape, `${what}: grad shape of input ${i}`).toEqual([...inputs[i].shape]);
      analytic.push((await g.toArray()) as Float32Array);
    }
  } finally {
    y.dispose();
    wT.dispose();
    for (const t of leaves) t.dispose();
  }

  // Finite differences, evaluated in batches so readbacks overlap.
  const evalLoss = async (variants: { input: number; data: Float32Array }[]): Promise<number[]> => {
    const outs = noGrad(() =>
      tidy(() =>
        variants.map((v) => {
          const xs = inputs.map((x, i) => Tensor.fromData(i === v.input ? v.data : x.data, x.shape, dtypes[i]));
          return fn(...xs);
        }),
      ),
    );
    try {
      const arrays = await Promise.all(outs.map((o) => o.toArray()));
      return arrays.map((a) => {
        let s = 0;
        for (let k = 0; k < a.length; k++) s += a[k] * w[k];
        return s;
      });
    } finally {
      for (const o of outs) o.dispose();
    }
  };

  const failures: string[] = [];
  let checked = 0;
  for (let i = 0; i < inputs.length; i++) {
    const ga = analytic[i];
    if (!ga) continue;
    const n = ga.length;
    let points = [...Array(n).keys()];
    if (n > maxPoints) {
      const r = prng(seed + 17 * (i + 1));
      for (let k = n - 1; k > 0; k--) {
        const j = Math.floor(r() * (k + 1));
        [points[k], points[j]] = [points[j], points[k]];
      }
      points = points.slice(0, maxPoints);
    }
    const base = Float32Array.from(inputs[i].data);
    for (let start = 0; start < points.length; start += 16) {
      const chunk = points.slice(start, start + 16);
      const variants = chunk.flatMap((p) => {
        const plus = base.slice();
        const minus = base.slice();
        plus[p] += eps;
        minus[p] -= eps;
        return [
          { input: i, data: plus },
          { input: i, data: minus },
        ];
      });
      const losses = await evalLoss(variants);
      chunk.forEach((p, k) => {
        // The actual step in f32 (x ± eps is rounded).
        const h = Math.fround(base[p] + eps) - Math.fround(base[p] - eps);
        const fd = (losses[2 * k] - losses[2 * k + 1]) / h;
        const err = Math.abs(ga[p] - fd);
        checked++;
        if (!(err <= atol + rtol * Math.abs(fd))) {
          failures.push(`input ${i} [${inputs[i].shape}] element ${p}: autograd ${ga[p]}, finite difference ${fd} (|err| ${err.toExponential(2)})`);
        }
      });
    }
  }
  if (failures.length) {
    expect.fail(`${what}: ${failures.length}/${checked} gradient entries differ (eps ${eps}, atol ${atol}, rtol ${rtol}):\n  ${failures.slice(0, 8).join('\n  ')}`);
  }
}

/** How {@link layoutInput} lays out a tensor's data. */
export type Layout = 'contiguous' | 'permuted' | 'sliced' | 'expanded';

/**
 * A tensor of `shape` holding `data` (row-major) through the given layout: `permuted` is a permute
 * view of a tensor stored in reversed dim order, `sliced` a view into a buffer with padding on every
 * dim (non-zero offset, gaps), `expanded` keeps only the first index of dim 0 and expands it (so the
 * returned reference data is repeated accordingly). Returns the tensor and the data it really holds.
 */
export function layoutInput(data: ArrayLike<number>, shape: readonly number[], layout: Layout, dtype: DType = 'f32'): { t: Tensor; data: Float64Array } {
  const n = shape.reduce((a, b) => a * b, 1);
  const src = Float64Array.from(data);
  const strides = (s: readonly number[]) => {
    const st = new Array<number>(s.length);
    let acc = 1;
    for (let i = s.length - 1; i >= 0; i--) {
      st[i] = acc;
      acc *= s[i];
    }
    return st;
  };
  const unravel = (i: number, s: readonly number[]) => {
    const idx = new Array<number>(s.length);
    for (let d = s.length - 1; d >= 0; d--) {
      idx[d] = i % s[d];
      i = Math.floor(i / s[d]);
    }
    return idx;
  };
  const r = shape.length;
  if (layout === 'contiguous' || r === 0) return { t: Tensor.fromData(src, shape, dtype), data: src };
  if (layout === 'permuted') {
    const rev = [...shape].reverse();
    const stored = new Float64Array(n);
    const st = strides(rev);
    for (let i = 0; i < n; i++) {
      const idx = unravel(i, shape);
      stored[idx.reduceRight((o, v, d) => o + v * st[r - 1 - d], 0)] = src[i];
    }
    const base = Tensor.fromData(stored, rev, dtype);
    const t = base.view(shape, [...st].reverse(), 0);
    base.dispose();
    return { t, data: src };
  }
  if (layout === 'sliced') {
    const big = shape.map((d) => d + 2);
    const st = strides(big);
    const stored = new Float64Array(big.reduce((a, b) => a * b, 1)).fill(12345);
    const off = st.reduce((a, b) => a + b, 0);
    for (let i = 0; i < n; i++) stored[off + unravel(i, shape).reduce((o, v, d) => o + v * st[d], 0)] = src[i];
    const base = Tensor.fromData(stored, big, dtype);
    const t = base.view(shape, st, off);
    base.dispose();
    return { t, data: src };
  }
  // expanded: dim 0 is broadcast from a single row.
  const row = n / shape[0];
  const rowData = src.slice(0, row);
  const base = Tensor.fromData(rowData, [1, ...shape.slice(1)], dtype);
  const t = base.view(shape, [0, ...strides(shape.slice(1))], 0);
  base.dispose();
  const full = new Float64Array(n);
  for (let i = 0; i < n; i++) full[i] = rowData[i % row];
  return { t, data: full };
}
