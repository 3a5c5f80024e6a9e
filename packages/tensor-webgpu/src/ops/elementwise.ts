// Differentiable elementwise ops over broadcast operands (NumPy rules). Every op is one launch of
// the elementwise template; gradients are written with these same ops and summed back to each
// input's shape with sumToShape.
import { recordOp } from '../autograd.js';
import { isFloat, type DType } from '../dtype.js';
import { hooks } from '../hooks.js';
import { EW_OPS, acceptsDType, launchElementwise, type EwOperand } from '../kernels/elementwise.js';
import { fmtShape } from '../kernels/shape.js';
import { Tensor } from '../tensor.js';
import { zerosLike } from './creation.js';
import { sumToShape } from './reduce.js';
import { checkOneOf } from './validate.js';

/** A tensor, or a number standing for a scalar of the other operands' dtype. */
export type TensorOrScalar = Tensor | number;

function isTensor(x: unknown): x is Tensor {
  return typeof x === 'object' && x !== null && (x as { isTensor?: boolean }).isTensor === true;
}

function describeArgs(args: readonly TensorOrScalar[]): string {
  return args.map((a) => (isTensor(a) ? `${fmtShape(a.shape)} ${a.dtype}` : String(a))).join(', ');
}

/** The common dtype of the tensor operands (numbers adopt it); throws naming the op. */
function commonDType(op: string, args: readonly TensorOrScalar[]): DType {
  const ts = args.filter(isTensor);
  if (!ts.length) throw new Error(`${op}: at least one operand must be a tensor (got ${describeArgs(args)})`);
  const dtype = ts[0].dtype;
  if (ts.some((t) => t.dtype !== dtype)) throw new Error(`${op}: operand dtypes differ (${describeArgs(args)}); cast() one of them first`);
  const def = EW_OPS[op];
  if (def && !acceptsDType(def.accepts, dtype)) throw new Error(`${op}: dtype ${dtype} is not supported (${describeArgs(args)})`);
  return dtype;
}

function operand(x: TensorOrScalar, dtype: DType): EwOperand {
  return isTensor(x) ? { tensor: x } : { scalar: x, dtype };
}

/**
 * Records `out = op(args)`: `grad(g, i)` gives the gradient for argument position `i` (before
 * summing over broadcast dims); it is only called for tensor arguments that require grad.
 */
function record(op: string, out: Tensor, args: readonly TensorOrScalar[], saved: Tensor[], grad: (g: Tensor, s: readonly Tensor[], i: number) => Tensor | null): Tensor {
  const positions: number[] = [];
  args.forEach((a, i) => isTensor(a) && positions.push(i));
  const tensors = positions.map((i) => args[i] as Tensor);
  const needs = tensors.map((t) => t.requiresGrad);
  const shapes = tensors.map((t) => [...t.shape]);
  return recordOp(
    op,
    out,
    tensors,
    (g, s) =>
      positions.map((pos, k) => {
        if (!needs[k]) return null;
        const gi = grad(g, s, pos);
        return gi && sumToShape(gi, shapes[k]);
      }),
    saved,
  );
}

function unary(op: string, x: Tensor, saveOut: boolean, grad?: (g: Tensor, x: Tensor, out: Tensor) => Tensor): Tensor {
  if (!isTensor(x)) throw new Error(`${op}: expected a tensor, got ${typeof x}`);
  commonDType(op, [x]);
  const out = launchElementwise(op, [{ tensor: x }], x.dtype);
  if (!grad || !isFloat(x.dtype)) return out;
  const saved = saveOut ? [x, out] : [x];
  return record(op, out, [x], saved, (g, s) => grad(g, s[0], s[1]));
}

function binary(op: string, a: TensorOrScalar, b: TensorOrScalar, saveOut: boolean, grad?: (g: Tensor, a: TensorOrScalar, b: TensorOrScalar, out: Tensor | undefined, i: number) => Tensor | null): Tensor {
  const dtype = commonDType(op, [a, b]);
  const out = launchElementwise(op, [operand(a, dtype), operand(b, dtype)], dtype);
  if (!grad || !isFloat(dtype)) return out;
  // Saved: the tensor operands (numbers are captured by value), then the output if needed.
  const ta = isTensor(a) ? 1 : 0;
  const saved = [a, b].filter(isTensor);
  if (saveOut) saved.push(out);
  return record(op, out, [a, b], saved, (g, s, i) => {
    const sa = isTensor(a) ? s[0] : a;
    const sb = isTensor(b) ? s[ta] : b;
    return grad(g, sa, sb, saveOut ? s[s.length - 1] : undefined, i);
  });
}

function compare(op: string, a: TensorOrScalar, b: TensorOrScalar): Tensor {
  const dtype = commonDType(op, [a, b]);
  return launchElementwise(op, [operand(a, dtype), operand(b, dtype)], 'bool');
}

/** `a + b` with broadcasting. */
export function add(a: TensorOrScalar, b: TensorOrScalar): Tensor {
  return binary('add', a, b, false, (g) => g);
}

/** `a - b` with broadcasting. */
export function sub(a: TensorOrScalar, b: TensorOrScalar): Tensor {
  return binary('sub', a, b, false, (g, _a, _b, _o, i) => (i === 0 ? g : neg(g)));
}

/** `a * b` with broadcasting. */
export function mul(a: TensorOrScalar, b: TensorOrScalar): Tensor {
  return binary('mul', a, b, false, (g, sa, sb, _o, i) => mul(g, i === 0 ? sb : sa));
}

/** `a / b` with broadcasting (integer division truncates for i32/u32). */
export function div(a: TensorOrScalar, b: TensorOrScalar): Tensor {
  return binary('div', a, b, true, (g, _sa, sb, o, i) => (i === 0 ? div(g, sb) : neg(mul(g, div(o!, sb)))));
}

/**
 * `a ** b` (floats). Negative bases give real results for integer exponents (NaN otherwise);
 * `x ** 0 = 1`. The gradient w.r.t. `b` is `out * log(a)`.
 */
export function pow(a: TensorOrScalar, b: TensorOrScalar): Tensor {
  return binary('pow', a, b, true, (g, sa, sb, o, i) => {
    if (i === 0) return mul(g, mul(pow(sa, typeof sb === 'number' ? sb - 1 : sub(sb, 1)), sb));
    return mul(g, mul(o!, typeof sa === 'number' ? Math.log(sa) : log(sa)));
  });
}

/** Elementwise maximum; at ties the gradient is split evenly between `a` and `b`. */
export function maximum(a: TensorOrScalar, b: TensorOrScalar): Tensor {
  return binary('maximum', a, b, false, (g, sa, sb, _o, i) => tieGrad(g, i === 0 ? gt(sa, sb) : gt(sb, sa), eq(sa, sb)));
}

/** Elementwise minimum; at ties the gradient is split evenly between `a` and `b`. */
export function minimum(a: TensorOrScalar, b: TensorOrScalar): Tensor {
  return binary('minimum', a, b, false, (g, sa, sb, _o, i) => tieGrad(g, i === 0 ? lt(sa, sb) : lt(sb, sa), eq(sa, sb)));
}

function tieGrad(g: Tensor, wins: Tensor, ties: Tensor): Tensor {
  return where(wins, g, where(ties, mul(g, 0.5), 0));
}

/** `-x`. */
export function neg(x: Tensor): Tensor {
  return unary('neg', x, false, (g) => neg(g));
}

/** `|x|` (gradient 0 at 0). */
export function abs(x: Tensor): Tensor {
  return unary('abs', x, false, (g, sx) => mul(g, sign(sx)));
}

/** -1, 0 or 1 (gradient 0). */
export function sign(x: Tensor): Tensor {
  return unary('sign', x, false, (_g, sx) => zerosLike(sx));
}

/** `e^x`. */
export function exp(x: Tensor): Tensor {
  return unary('exp', x, true, (g, _x, o) => mul(g, o));
}

/** Natural logarithm. */
export function log(x: Tensor): Tensor {
  return unary('log', x, false, (g, sx) => div(g, sx));
}

/** Square root. */
export function sqrt(x: Tensor): Tensor {
  return unary('sqrt', x, true, (g, _x, o) => div(g, mul(o, 2)));
}

/** `1 / sqrt(x)`. */
export function rsqrt(x: Tensor): Tensor {
  return unary('rsqrt', x, true, (g, sx, o) => mul(g, mul(div(o, sx), -0.5)));
}

/** Hyperbolic tangent. */
export function tanh(x: Tensor): Tensor {
  return unary('tanh', x, true, (g, _x, o) => mul(g, sub(1, mul(o, o))));
}

/** Logistic sigmoid `1 / (1 + e^-x)`. */
export function sigmoid(x: Tensor): Tensor {
  return unary('sigmoid', x, true, (g, _x, o) => mul(g, mul(o, sub(1, o))));
}

/** SiLU (swish): `x * sigmoid(x)`. */
export function silu(x: Tensor): Tensor {
  return unary('silu', x, false, (g, sx) => launchElementwise('siluGrad', [{ tensor: sx }, { tensor: g }], sx.dtype));
}

/** `max(x, 0)` (gradient 0 at 0). */
export function relu(x: Tensor): Tensor {
  return unary('relu', x, false, (g, sx) => where(gt(sx, 0), g, 0));
}

/** Gauss error function (|error| < 1e-6 in f32). */
export function erf(x: Tensor): Tensor {
  return unary('erf', x, false, (g, sx) => mul(g, mul(exp(neg(mul(sx, sx))), 2 / Math.sqrt(Math.PI))));
}

/** Options of {@link gelu}. */
export interface GeluOptions {
  /** `'none'` (default): exact, `x * Φ(x)` with erf; `'tanh'`: the tanh approximation. */
  approximate?: 'none' | 'tanh';
}

/** GELU activation. */
export function gelu(x: Tensor, opts: GeluOptions = {}): Tensor {
  const tanhApprox = checkOneOf('gelu', 'approximate', opts.approximate ?? 'none', ['none', 'tanh'] as const) === 'tanh';
  return unary(tanhApprox ? 'geluTanh' : 'gelu', x, false, (g, sx) =>
    launchElementwise(tanhApprox ? 'geluTanhGrad' : 'geluGrad', [{ tensor: sx }, { tensor: g }], sx.dtype),
  );
}

function bound(dtype: DType, high: boolean): number {
  if (dtype === 'i32') return high ? 2147483647 : -2147483648;
  if (dtype === 'u32') return high ? 4294967295 : 0;
  return high ? Infinity : -Infinity;
}

/**
 * Clamps to `[min, max]` (either may be null/undefined, a number or a broadcastable tensor). The
 * gradient passes where `min <= x <= max`; a tensor bound receives the gradient where it is active.
 */
export function clamp(x: Tensor, min?: TensorOrScalar | null, max?: TensorOrScalar | null): Tensor {
  const lo = min ?? bound(x.dtype, false);
  const hi = max ?? bound(x.dtype, true);
  const dtype = commonDType('clamp', [x, lo, hi]);
  const out = launchElementwise('clamp', [operand(x, dtype), operand(lo, dtype), operand(hi, dtype)], dtype);
  if (!isFloat(dtype)) return out;
  const saved = [x, lo, hi].filter(isTensor);
  return record('clamp', out, [x, lo, hi], saved, (g, s, i) => {
    const sx = s[0];
    let k = 1;
    const slo = isTensor(lo) ? s[k++] : lo;
    const shi = isTensor(hi) ? s[k] : hi;
    if (i === 0) return where(lt(sx, slo), 0, where(gt(sx, shi), 0, g));
    if (i === 1) return where(lt(sx, slo), g, 0);
    return where(gt(sx, shi), g, 0);
  });
}

/**
 * `cond ? a : b` elementwise with broadcasting over all three. `cond` is "not zero" (any dtype,
 * usually bool); `a` and `b` share a dtype (numbers adopt it; two numbers give f32).
 */
export function where(cond: Tensor, a: TensorOrScalar, b: TensorOrScalar): Tensor {
  if (!isTensor(cond)) throw new Error(`where: the condition must be a tensor, got ${typeof cond}`);
  const dtype = isTensor(a) || isTensor(b) ? commonDType('where', [a, b]) : 'f32';
  const out = launchElementwise('where', [{ tensor: cond }, operand(a, dtype), operand(b, dtype)], dtype);
  if (!isFloat(dtype)) return out;
  return record('where', out, [cond, a, b], [cond], (g, s, i) => {
    if (i === 0) return null;
    return i === 1 ? where(s[0], g, 0) : where(s[0], 0, g);
  });
}

/** `a == b` → bool. */
export function eq(a: TensorOrScalar, b: TensorOrScalar): Tensor {
  return compare('eq', a, b);
}
/** `a != b` → bool. */
export function ne(a: TensorOrScalar, b: TensorOrScalar): Tensor {
  return compare('ne', a, b);
}
/** `a < b` → bool. */
export function lt(a: TensorOrScalar, b: TensorOrScalar): Tensor {
  return compare('lt', a, b);
}
/** `a <= b` → bool. */
export function le(a: TensorOrScalar, b: TensorOrScalar): Tensor {
  return compare('le', a, b);
}
/** `a > b` → bool. */
export function gt(a: TensorOrScalar, b: TensorOrScalar): Tensor {
  return compare('gt', a, b);
}
/** `a >= b` → bool. */
export function ge(a: TensorOrScalar, b: TensorOrScalar): Tensor {
  return compare('ge', a, b);
}

hooks.add = (a, b) => add(a, b);
