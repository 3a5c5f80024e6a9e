// Creating tensors: from host data, constant fills, ranges, and dtype casts.
import { recordOp } from '../autograd.js';
import { isFloat, type DType } from '../dtype.js';
import { hooks } from '../hooks.js';
import { launchPack } from '../kernels/cast.js';
import { launchElementwise, launchFill } from '../kernels/elementwise.js';
import type { Backend } from '../runtime/backend.js';
import { engine as defaultEngine } from '../runtime/session.js';
import { Tensor, type HostData } from '../tensor.js';

/**
 * Uploads host data as a new tensor. `shape` defaults to `[data.length]`; f32 values are rounded to
 * half for `f16`, booleans are 0/1.
 */
export function tensor(data: HostData, shape?: readonly number[], dtype: DType = 'f32'): Tensor {
  return Tensor.fromData(data, shape ?? [data.length], dtype, defaultEngine());
}

/** A new tensor filled with `value` (converted to `dtype`; u8 saturates to 0..255), on `eng` (default: the default engine). */
export function full(shape: readonly number[], value: number, dtype: DType = 'f32', eng: Backend = defaultEngine()): Tensor {
  if (dtype === 'u8') {
    // Fill the packed words: the byte replicated four times.
    const out = Tensor.empty(shape, 'u8', eng);
    const words = Math.ceil(out.size / 4);
    const b = Math.min(255, Math.max(0, Math.round(value)));
    const alias = Tensor.fromStorage(out.storage.retain(), [words], 'u32');
    launchFill([words], (b * 0x01010101) >>> 0, 'u32', eng, alias);
    alias.dispose();
    return out;
  }
  const v = dtype === 'bool' ? (value ? 1 : 0) : value;
  return launchFill(shape, v, dtype, eng);
}

/** A new tensor of zeros. */
export function zeros(shape: readonly number[], dtype: DType = 'f32'): Tensor {
  return full(shape, 0, dtype);
}

/** A new tensor of ones. */
export function ones(shape: readonly number[], dtype: DType = 'f32'): Tensor {
  return full(shape, 1, dtype);
}

/** Zeros with the shape, dtype (unless given) and engine of `t`. */
export function zerosLike(t: Tensor, dtype: DType = t.dtype): Tensor {
  return full(t.shape, 0, dtype, t.engine);
}

/** Ones with the shape, dtype (unless given) and engine of `t`. */
export function onesLike(t: Tensor, dtype: DType = t.dtype): Tensor {
  return full(t.shape, 1, dtype, t.engine);
}

/** `[0, 1, ..., n - 1]` as a 1-D tensor. */
export function arange(n: number, dtype: DType = 'f32'): Tensor {
  if (!Number.isInteger(n) || n < 0) throw new Error(`arange: n must be a non-negative integer, got ${n}`);
  if (dtype === 'u8' || dtype === 'bool') throw new Error(`arange: dtype ${dtype} is not supported`);
  const eng = defaultEngine();
  return launchElementwise('index', [], dtype, { shape: [n], engine: eng, label: `arange ${n}` });
}

/**
 * Converts to another dtype, returning a new contiguous tensor (a view when the dtype is unchanged).
 * Floats → ints truncate toward zero and saturate; → bool is "not zero"; → u8 rounds to nearest and
 * saturates to 0..255; u8 → anything gives 0..255; → f16 rounds to nearest even (overflow gives ±Inf).
 * Works on every device: without `shader-f16`, f16 is storage only (see {@link Engine.hasF16}).
 * Differentiable between float dtypes.
 */
export function cast(t: Tensor, dtype: DType): Tensor {
  let out: Tensor;
  if (dtype === t.dtype) out = t.view(t.shape, t.strides, t.offset);
  else if (dtype === 'u8') out = launchPack(t, 'u8');
  else if (dtype === 'bool') out = launchElementwise('toBool', [{ tensor: t }], 'bool', { label: `cast [${t.shape}] ${t.dtype}->bool` });
  else out = launchElementwise('cast', [{ tensor: t }], dtype, { label: `cast [${t.shape}] ${t.dtype}->${dtype}` });
  if (isFloat(t.dtype) && isFloat(dtype)) {
    const src = t.dtype;
    recordOp('cast', out, [t], (g) => [cast(g, src)]);
  }
  return out;
}

hooks.onesLike = (t) => onesLike(t);
