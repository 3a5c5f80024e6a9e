// Every elementwise kernel (unary, binary, ternary, casts, copies, fills) comes from ONE template:
// an op table maps a name to a WGSL expression over operands loaded in their compute type, and the
// template wraps it in either a contiguous fast path (offset + i) or a strided/broadcasting path
// (unravel the output index, one stride list per operand). Operands are tensors or uniform scalars.
// On the CPU engine the same validated, coalesced launch runs the C kernels of src/cpu/elementwise.ts.
import { cpuElementwise } from '../cpu/elementwise.js';
import { halfStorageOnlyMessage, type DType } from '../dtype.js';
import type { Backend, DeviceBuffer } from '../runtime/backend.js';
import { toHalfBits } from '../half.js';
import { Tensor, shapeSize } from '../tensor.js';
import { launchPack } from './cast.js';
import { wgslProgram, type BindingSchema, type UniformSchema } from './program.js';
import { MAX_RANK, broadcastShapes, broadcastStrides, coalesce, fmtShape, unravelWgsl } from './shape.js';

/** Type a kernel computes in for a dtype (f16 is widened to f32, bool and u8 to u32). */
export type ComputeType = 'f32' | 'i32' | 'u32';

/**
 * How a tensor's storage is bound in a kernel: its dtype, or `f16p` for f16 on a device without
 * `shader-f16`. The bytes are the same (two halves per 32-bit word, the lower element in the low
 * half); `f16p` is bound as `array<u32>`, read with `unpack2x16float` and computed in f32, so f16
 * storage (weights, checkpoints) works on every device while arithmetic stays f32.
 */
export type StorageDType = DType | 'f16p';

/** The {@link StorageDType} of a tensor on its engine. */
export function storageDType(t: Tensor): StorageDType {
  return halfIsStorageOnly(t.dtype, t.engine) ? 'f16p' : t.dtype;
}

/** True when f16 values on `engine` are storage only (no `shader-f16`). */
export function halfIsStorageOnly(dtype: DType, engine: Backend): boolean {
  return dtype === 'f16' && !engine.hasF16;
}

/** Compute type of a dtype. */
export function computeType(dtype: StorageDType): ComputeType {
  if (dtype === 'f32' || dtype === 'f16' || dtype === 'f16p') return 'f32';
  if (dtype === 'i32') return 'i32';
  return 'u32';
}

/** WGSL element type of a storage array holding `dtype` (u8 and f16p are read as packed u32 words). */
export function storageType(dtype: StorageDType): 'f32' | 'f16' | 'i32' | 'u32' {
  if (dtype === 'f32' || dtype === 'f16' || dtype === 'i32') return dtype;
  return 'u32';
}

/** `enable f16;` when any dtype is (native) f16. */
export function enableF16(dtypes: readonly StorageDType[]): string {
  return dtypes.includes('f16') ? 'enable f16;\n' : '';
}

/**
 * WGSL expression reading packed halves of `buf` as f32: element `idx` (`buf: array<u32>`), or with
 * `vec` 4 the four elements from a 4-aligned `idx` (`buf: array<vec2<u32>>`, two words).
 */
export function packedHalfRead(buf: string, idx: string, vec: 1 | 4): string {
  return vec === 4
    ? `vec4<f32>(unpack2x16float(${buf}[(${idx}) / 4u].x), unpack2x16float(${buf}[(${idx}) / 4u].y))`
    : `unpack2x16float(${buf}[(${idx}) >> 1u])[(${idx}) & 1u]`;
}

/** WGSL storage element type of packed halves read `vec` at a time (see {@link packedHalfRead}). */
export function packedHalfArray(vec: 1 | 4): string {
  return vec === 4 ? 'vec2<u32>' : 'u32';
}

/**
 * A WGSL function `fn <name>(e: u32) -> <compute type>` reading element `e` of the storage array
 * `buf` holding `dtype` (unpacking u8 and f16p words).
 */
export function elementLoaderWgsl(name: string, buf: string, dtype: StorageDType): string {
  const ct = computeType(dtype);
  if (dtype === 'u8')
    return `fn ${name}(e: u32) -> u32 { return (${buf}[e / 4u] >> ((e % 4u) * 8u)) & 255u; }`;
  if (dtype === 'f16p') return `fn ${name}(e: u32) -> f32 { return ${packedHalfRead(buf, 'e', 1)}; }`;
  return `fn ${name}(e: u32) -> ${ct} { return ${ct}(${buf}[e]); }`;
}

/** WGSL literal of a compute type. */
function lit(t: ComputeType, v: number): string {
  if (t === 'f32') return Number.isInteger(v) ? `${v}.0` : `${v}`;
  return t === 'i32' ? `${v}i` : `${v}u`;
}

/** WGSL functions returning +Inf and NaN at run time (a literal bitcast is a rejected const-expression). */
export const SPECIAL_FLOATS_WGSL = `fn inf_f32() -> f32 { var b = 0x7f800000u; return bitcast<f32>(b); }
fn nan_f32() -> f32 { var b = 0x7fc00000u; return bitcast<f32>(b); }`;

// Helpers included only by ops that use them.
const HELPERS: Record<string, string> = {
  // Non-finite constants must not be const-expressions (WGSL rejects them); a function call is not one.
  special: SPECIAL_FLOATS_WGSL,
  // Abramowitz & Stegun 7.1.26 (|err| < 1.5e-7) away from 0; a Taylor series near 0 keeps the
  // relative error small where erf(x) ~ x.
  erf: `fn erf_f(x: f32) -> f32 {
  let a = abs(x);
  if (a < 0.5) {
    let x2 = x * x;
    return x * (1.1283791671 + x2 * (-0.3761263890 + x2 * (0.1128379167 + x2 * (-0.0268661706 + x2 * (0.0052239776 - x2 * 0.0008548327)))));
  }
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - poly * exp(-a * a));
}`,
  // tanh through exp overflows to NaN for large |x| on some drivers; it is ±1 in f32 beyond 15.
  tanh: `fn tanh_f(x: f32) -> f32 { return tanh(clamp(x, -15.0, 15.0)); }`,
  sigmoid: `fn sigmoid_f(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }`,
  // WGSL pow is undefined for a < 0 and for 0^b with b <= 0; give the real-valued answers.
  pow: `fn pow_f(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (a == 0.0) { return select(0.0, inf_f32(), b < 0.0); }
  if (a > 0.0) { return pow(a, b); }
  if (round(b) != b) { return nan_f32(); }
  let m = pow(-a, b);
  return select(m, -m, abs(b) % 2.0 == 1.0);
}`,
};

/** Which dtypes an op accepts. */
type DTypeClass = 'float' | 'signed' | 'numeric' | 'any';

/** An entry of the op table. */
export interface EwOpDef {
  arity: number;
  /** Accepted dtypes of the value operands. */
  accepts: DTypeClass;
  /** WGSL expression in the result's compute type; `v` are operand names, `t` their compute types, `r` the result's. */
  expr: (v: string[], t: ComputeType[], r: ComputeType) => string;
  helpers?: string[];
}

const F = 'float' as const;
const unaryF = (f: (x: string) => string, helpers?: string[]): EwOpDef => ({
  arity: 1,
  accepts: F,
  expr: ([x]) => f(x),
  helpers,
});
const cmp = (o: string): EwOpDef => ({
  arity: 2,
  accepts: 'any',
  expr: ([a, b]) => `select(0u, 1u, ${a} ${o} ${b})`,
});

/** The op table: name → WGSL expression. */
export const EW_OPS: Record<string, EwOpDef> = {
  copy: { arity: 1, accepts: 'any', expr: ([a]) => a },
  // Scalar/tensor conversion between compute types; bool is "not zero".
  cast: {
    arity: 1,
    accepts: 'any',
    expr: ([a], [ta], r) => (r === ta ? a : `${r}(${a})`),
  },
  toBool: { arity: 1, accepts: 'any', expr: ([a], [ta]) => `select(0u, 1u, ${a} != ${lit(ta, 0)})` },
  index: { arity: 0, accepts: 'any', expr: (_v, _t, r) => `${r}(idx)` },
  add: { arity: 2, accepts: 'numeric', expr: ([a, b]) => `${a} + ${b}` },
  sub: { arity: 2, accepts: 'numeric', expr: ([a, b]) => `${a} - ${b}` },
  mul: { arity: 2, accepts: 'numeric', expr: ([a, b]) => `${a} * ${b}` },
  div: { arity: 2, accepts: 'numeric', expr: ([a, b]) => `${a} / ${b}` },
  pow: { arity: 2, accepts: F, expr: ([a, b]) => `pow_f(${a}, ${b})`, helpers: ['special', 'pow'] },
  maximum: { arity: 2, accepts: 'numeric', expr: ([a, b]) => `max(${a}, ${b})` },
  minimum: { arity: 2, accepts: 'numeric', expr: ([a, b]) => `min(${a}, ${b})` },
  neg: { arity: 1, accepts: 'signed', expr: ([a]) => `-${a}` },
  abs: { arity: 1, accepts: 'numeric', expr: ([a]) => `abs(${a})` },
  sign: {
    arity: 1,
    accepts: 'numeric',
    expr: ([a], [t]) =>
      `select(select(${lit(t, 0)}, ${lit(t, 1)}, ${a} > ${lit(t, 0)}), ${t === 'u32' ? '0u' : lit(t, -1)}, ${a} < ${lit(t, 0)})`,
  },
  exp: unaryF((x) => `exp(${x})`),
  log: unaryF((x) => `log(${x})`),
  sqrt: unaryF((x) => `sqrt(${x})`),
  rsqrt: unaryF((x) => `inverseSqrt(${x})`),
  tanh: unaryF((x) => `tanh_f(${x})`, ['tanh']),
  sigmoid: unaryF((x) => `sigmoid_f(${x})`, ['sigmoid']),
  silu: unaryF((x) => `${x} * sigmoid_f(${x})`, ['sigmoid']),
  relu: { arity: 1, accepts: 'numeric', expr: ([a], [t]) => `max(${a}, ${lit(t, 0)})` },
  erf: unaryF((x) => `erf_f(${x})`, ['erf']),
  gelu: unaryF((x) => `0.5 * ${x} * (1.0 + erf_f(${x} * 0.7071067811865476))`, ['erf']),
  geluTanh: unaryF(
    (x) => `0.5 * ${x} * (1.0 + tanh_f(0.7978845608028654 * (${x} + 0.044715 * ${x} * ${x} * ${x})))`,
    ['tanh'],
  ),
  // Fused gradients (x, g) of the activations whose formula would otherwise take many launches.
  geluGrad: {
    arity: 2,
    accepts: F,
    expr: ([x, g]) =>
      `${g} * (0.5 * (1.0 + erf_f(${x} * 0.7071067811865476)) + ${x} * exp(-0.5 * ${x} * ${x}) * 0.3989422804014327)`,
    helpers: ['erf'],
  },
  geluTanhGrad: {
    arity: 2,
    accepts: F,
    expr: ([x, g]) =>
      `${g} * (0.5 * (1.0 + tanh_f(0.7978845608028654 * (${x} + 0.044715 * ${x} * ${x} * ${x}))) + 0.5 * ${x} * (1.0 - pow(tanh_f(0.7978845608028654 * (${x} + 0.044715 * ${x} * ${x} * ${x})), 2.0)) * 0.7978845608028654 * (1.0 + 0.134145 * ${x} * ${x}))`,
    helpers: ['tanh'],
  },
  siluGrad: {
    arity: 2,
    accepts: F,
    expr: ([x, g]) => `${g} * sigmoid_f(${x}) * (1.0 + ${x} * (1.0 - sigmoid_f(${x})))`,
    helpers: ['sigmoid'],
  },
  clamp: { arity: 3, accepts: 'numeric', expr: ([x, lo, hi]) => `min(max(${x}, ${lo}), ${hi})` },
  // where(cond, a, b): the condition is "not zero" in its own compute type.
  where: { arity: 3, accepts: 'any', expr: ([c, a, b], [tc]) => `select(${b}, ${a}, ${c} != ${lit(tc, 0)})` },
  eq: cmp('=='),
  ne: cmp('!='),
  lt: cmp('<'),
  le: cmp('<='),
  gt: cmp('>'),
  ge: cmp('>='),
};

/** Whether `dtype` is accepted by an op's dtype class. */
export function acceptsDType(cls: DTypeClass, dtype: DType): boolean {
  switch (cls) {
    case 'float':
      return dtype === 'f32' || dtype === 'f16';
    case 'signed':
      return dtype === 'f32' || dtype === 'f16' || dtype === 'i32';
    case 'numeric':
      return dtype === 'f32' || dtype === 'f16' || dtype === 'i32' || dtype === 'u32';
    default:
      return true;
  }
}

/** One operand of an elementwise launch: a tensor (possibly a strided view) or a uniform scalar. */
export type EwOperand = { tensor: Tensor } | { scalar: number; dtype: DType };

/** The parameters baked into one elementwise kernel variant. */
export interface EwSpec {
  op: string;
  /** Per operand: `t:<dtype>` for a tensor, `s:<computeType>` for a uniform scalar. */
  operands: string[];
  out: DType;
  strided: boolean;
}

const WG = 256;
/** u8 results are written packed, by the cast pack kernel (launchPack), never by this template. */
const U8_OUTPUT = 'elementwise: u8 output goes through the cast pack kernel';

/** Whether an operand code of {@link EwSpec} is a tensor (else a uniform scalar). */
const isTensorOperand = (o: string) => o.startsWith('t:');

/**
 * Uniforms of a variant: the element count, the rank and one offset per tensor (output first), each
 * scalar operand in its compute type, and in strided variants the shape and one stride list per tensor.
 */
function ewUniforms(p: EwSpec): UniformSchema {
  const scalars: UniformSchema = { n: 'u32', rank: 'u32', off_out: 'u32' };
  const arrays: UniformSchema = p.strided ? { shape: ['u32', MAX_RANK], st_out: ['u32', MAX_RANK] } : {};
  p.operands.forEach((o, i) => {
    if (!isTensorOperand(o)) scalars[`s${i}`] = o.slice(2) as ComputeType;
    else {
      scalars[`off${i}`] = 'u32';
      if (p.strided) arrays[`st${i}`] = ['u32', MAX_RANK];
    }
  });
  return { ...scalars, ...arrays };
}

/**
 * The elementwise template: one variant per op, operand kinds and dtypes, output dtype and layout
 * (contiguous `offset + i`, or strided: unravel the output index over the shared shape). Tensor
 * operand `i` is bound as `in<i>`, the result as `out`.
 */
export const elementwiseProgram = wgslProgram({
  name: 'ew',
  bindings: (p: EwSpec) => {
    const bindings: BindingSchema = {};
    p.operands.forEach((o, i) => {
      if (isTensorOperand(o))
        bindings[`in${i}`] = { access: 'read', type: storageType(o.slice(2) as StorageDType) };
    });
    if (p.out === 'u8') throw new Error(U8_OUTPUT);
    bindings.out = { access: 'read_write', type: storageType(p.out) };
    return bindings;
  },
  uniforms: ewUniforms,
  workgroupSize: () => WG,
  body: (p, ctx) => {
    const def = EW_OPS[p.op];
    if (!def) throw new Error(`elementwise: unknown op ${p.op}`);
    const lines: string[] = [];
    const names: string[] = [];
    const types: ComputeType[] = [];
    const loads: string[] = [];
    const offsets: { off: string; strides: string }[] = [{ off: 'o_out', strides: 'st_out' }];
    p.operands.forEach((o, i) => {
      if (isTensorOperand(o)) {
        const dt = o.slice(2) as StorageDType;
        lines.push(elementLoaderWgsl(`load${i}`, `in${i}`, dt));
        loads.push(`  var o${i} = u.off${i};`);
        offsets.push({ off: `o${i}`, strides: `st${i}` });
        names.push(`v${i}`);
        types.push(computeType(dt));
      } else {
        names.push(`u.s${i}`);
        types.push(o.slice(2) as ComputeType);
      }
    });
    for (const h of def.helpers ?? []) lines.push(HELPERS[h]);
    const r = computeType(p.out);
    const body: string[] = [];
    body.push('  var o_out = u.off_out;');
    body.push(...loads);
    if (p.strided) body.push(unravelWgsl('idx', 'u.rank', 'shape', offsets));
    else for (const o of offsets) body.push(`  ${o.off} += idx;`);
    p.operands.forEach((o, i) => {
      if (isTensorOperand(o)) body.push(`  let v${i} = load${i}(o${i});`);
    });
    body.push(`  out[o_out] = ${storageType(p.out)}(${def.expr(names, types, r)});`);
    lines.push(`@compute @workgroup_size(${ctx.workgroupSize})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = linearIndex(wid, lid, nwg);
  if (idx >= u.n) { return; }
${body.join('\n')}
}`);
    return lines.join('\n');
  },
});

/** Options of {@link launchElementwise}. */
export interface EwLaunchOptions {
  /** Write into this (possibly strided) view instead of a new contiguous tensor. */
  dest?: Tensor;
  /** Output shape when no operand is a tensor (fills). */
  shape?: readonly number[];
  /** Engine when no operand is a tensor. */
  engine?: Backend;
  /** Label for errors (default: the op name and shapes). */
  label?: string;
}

/**
 * Runs one elementwise op over broadcast operands and returns the output (a new contiguous tensor,
 * or `dest`). Does not record autograd; the ops layer does.
 */
export function launchElementwise(
  op: string,
  operands: readonly EwOperand[],
  outDtype: DType,
  opts: EwLaunchOptions = {},
): Tensor {
  const def = EW_OPS[op];
  if (!def) throw new Error(`elementwise: unknown op ${op}`);
  if (def.arity !== operands.length)
    throw new Error(`${op}: expects ${def.arity} operands, got ${operands.length}`);
  const tensors = operands.filter((o): o is { tensor: Tensor } => 'tensor' in o).map((o) => o.tensor);
  const shapes = tensors.map((t) => t.shape);
  let outShape: readonly number[];
  if (opts.dest) {
    outShape = opts.dest.shape;
    const b = broadcastShapes(op, [...shapes, outShape]);
    if (b.join() !== outShape.join())
      throw new Error(
        `${op}: operands ${shapes.map(fmtShape).join(', ')} do not broadcast to destination ${fmtShape(outShape)}`,
      );
  } else {
    outShape = tensors.length ? broadcastShapes(op, shapes) : (opts.shape ?? []);
  }
  const engine = opts.dest?.engine ?? tensors[0]?.engine ?? opts.engine;
  if (!engine) throw new Error(`${op}: no tensor operand and no engine given`);
  if (halfIsStorageOnly(outDtype, engine)) return writeStorageOnlyHalf(op, operands, outShape, engine, opts);
  if (outDtype === 'u8') throw new Error(U8_OUTPUT);
  const out = opts.dest ?? Tensor.empty(outShape, outDtype, engine);
  if (out.dtype !== outDtype)
    throw new Error(`${op}: destination dtype ${out.dtype} differs from ${outDtype}`);
  const n = shapeSize(outShape);
  if (n === 0) return out;

  const strideLists = [
    broadcastStrides(out.shape, out.strides, outShape),
    ...tensors.map((t) => broadcastStrides(t.shape, t.strides, outShape)),
  ];
  const co = coalesce(outShape, strideLists);
  const strided = !(co.shape.length <= 1 && co.strides.every((s) => s.length === 0 || s[0] === 1));
  if (co.shape.length > MAX_RANK) {
    throw new Error(
      `${op}: layout of ${fmtShape(outShape)} needs rank ${co.shape.length} after merging dims (max ${MAX_RANK}); call contiguous() first`,
    );
  }
  const label = opts.label ?? `${op} ${shapes.map(fmtShape).join(' ') || fmtShape(outShape)}`;
  if (engine.kind === 'cpu') {
    cpuElementwise(engine, op, operands, out, co, n, label);
    return out;
  }
  const spec: EwSpec = {
    op,
    operands: operands.map((o) =>
      'tensor' in o ? `t:${storageDType(o.tensor)}` : `s:${computeType(o.dtype)}`,
    ),
    out: outDtype,
    strided,
  };
  // Buffers and uniforms by the names ewUniforms and the bindings give them; the strided fields are
  // ignored by contiguous variants.
  const buffers: Record<string, DeviceBuffer> = { out: out.buffer };
  const uniforms: Record<string, number | readonly number[]> = {
    n,
    rank: co.shape.length,
    off_out: out.offset,
    shape: co.shape,
    st_out: co.strides[0],
  };
  let ti = 0;
  operands.forEach((o, i) => {
    if ('scalar' in o) uniforms[`s${i}`] = o.scalar;
    else {
      buffers[`in${i}`] = o.tensor.buffer;
      uniforms[`off${i}`] = o.tensor.offset;
      uniforms[`st${i}`] = co.strides[1 + ti++];
    }
  });
  elementwiseProgram.dispatch(engine, spec, {
    label,
    buffers,
    uniforms,
    workgroups: engine.grid(Math.ceil(n / WG)),
  });
  return out;
}

/**
 * f16 results on a device without shader-f16: copies and casts of one tensor into a new tensor go
 * through the pack kernel, fills write whole words; anything else needs f16 arithmetic and throws.
 */
function writeStorageOnlyHalf(
  op: string,
  operands: readonly EwOperand[],
  shape: readonly number[],
  engine: Backend,
  opts: EwLaunchOptions,
): Tensor {
  const label = opts.label ?? `${op} ${fmtShape(shape)}`;
  const [x] = operands;
  if (opts.dest || operands.length !== 1 || (op !== 'copy' && op !== 'cast')) {
    throw new Error(halfStorageOnlyMessage(opts.dest ? `${label} (writing into an f16 view)` : label));
  }
  if ('tensor' in x) return launchPack(x.tensor, 'f16');
  // A fill: the half's bits twice per word, written through a u32 alias of the storage.
  const out = Tensor.empty(shape, 'f16', engine);
  const h = toHalfBits(x.scalar);
  const words = Math.ceil(out.size / 2);
  if (words > 0) {
    const alias = Tensor.fromStorage(out.storage.retain(), [words], 'u32');
    launchFill([words], (h | (h << 16)) >>> 0, 'u32', engine, alias);
    alias.dispose();
  }
  return out;
}

/** Strided copy of `src` into a new contiguous tensor (or into the view `dest`). */
export function launchCopy(src: Tensor, dest?: Tensor): Tensor {
  return launchElementwise('copy', [{ tensor: src }], src.dtype, {
    dest,
    label: `contiguous ${fmtShape(src.shape)}`,
  });
}

/** Fills a new tensor (or the view `dest`) with a value. */
export function launchFill(
  shape: readonly number[],
  value: number,
  dtype: DType,
  engine: Backend,
  dest?: Tensor,
): Tensor {
  return launchElementwise('copy', [{ scalar: value, dtype }], dtype, {
    shape,
    engine,
    dest,
    label: `fill ${fmtShape(shape)}`,
  });
}
