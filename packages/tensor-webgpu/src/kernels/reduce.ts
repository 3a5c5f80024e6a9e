// Reductions over any set of axes, softmax/logSoftmax and cumsum, from three templates.
// Reductions view the input as rows (kept dims) × a reduction index (reduced dims), both strided,
// and reduce each row with one workgroup: threads accumulate a strided slice, then a shared-memory
// tree (or, when the device has subgroups and the op allows, subgroup ops plus a short shared-memory
// step). Long rows with few outputs are split into chunks whose partials a second pass reduces.
// Floats accumulate in f32 (f16 inputs included). The CPU engine runs csrc/reduce.c instead (cpu/reduce.ts).
import { cpuCumsum, cpuReduce, cpuSoftmax } from '../cpu/reduce.js';
import type { DeviceBuffer } from '../runtime/backend.js';
import type { DType } from '../dtype.js';
import type { Engine } from '../runtime/engine.js';
import { Tensor, contiguousStrides, shapeSize } from '../tensor.js';
import { SPECIAL_FLOATS_WGSL, computeType, storageType, type ComputeType } from './elementwise.js';
import { wgslProgram, type BindingSchema, type BindingSpec, type Program } from './program.js';
import { MAX_RANK, coalesce, fmtShape, unravelWgsl } from './shape.js';

/** Reduction kinds of the reduce template. */
export type ReduceOp = 'sum' | 'max' | 'min' | 'argmax' | 'argmin';

/** Switches for tests and debugging: `subgroups: 'off'` forces the shared-memory path. */
export const reduceSettings: { subgroups: 'auto' | 'off' } = { subgroups: 'auto' };

/** Parameters baked into one reduce variant. */
export interface ReduceSpec {
  op: ReduceOp;
  /** dtype of the value input (a partial pass reads its accumulation type). */
  input: DType;
  /** Reads a u32 index buffer next to the values (second pass of argmax/argmin). */
  argIn: boolean;
  /** dtype of the value output, or null when only indices are written. */
  outVal: DType | null;
  /** dtype of the index output (u32 partials, i32 final), or null. */
  outIdx: DType | null;
  wg: number;
  subgroups: boolean;
  /** One thread per row, no workgroup memory (short rows). */
  serial: boolean;
}

/** Rows up to this length are reduced by one thread each (no barriers, no idle threads). */
export const SERIAL_MAX_LEN = 64;
const SERIAL_WG = 64;

const isArg = (op: ReduceOp) => op === 'argmax' || op === 'argmin';

function identity(op: ReduceOp, t: ComputeType): string {
  if (op === 'sum') return `${t}(0)`;
  const high = op === 'min' || op === 'argmin';
  if (t === 'f32') return high ? 'inf_f32()' : '-inf_f32()';
  if (t === 'i32') return high ? 'bitcast<i32>(0x7fffffffu)' : 'bitcast<i32>(0x80000000u)';
  return high ? '0xffffffffu' : '0u';
}

/** Tile choice for a reduction: workgroup size from the row length, chunks when rows are few and long. */
export function reduceConfig(rows: number, len: number): { wg: number; chunks: number; serial: boolean } {
  if (len <= SERIAL_MAX_LEN) return { wg: SERIAL_WG, chunks: 1, serial: true };
  const wg = len >= 256 ? 256 : 2 ** Math.ceil(Math.log2(len));
  // Each thread first sums ~64 elements serially; chunk only when there are too few rows to fill the GPU.
  const chunks = rows >= 64 ? 1 : Math.max(1, Math.min(Math.ceil(len / (wg * 64)), Math.ceil(1024 / rows)));
  return { wg, chunks, serial: false };
}

const sgUsed = (spec: ReduceSpec) => spec.subgroups && !spec.serial && !isArg(spec.op);

/** The reduce template: one variant per {@link ReduceSpec}. */
export const reduceProgram = wgslProgram({
  name: 'reduce',
  bindings: (spec: ReduceSpec) => ({
    src: { access: 'read' as const, type: storageType(spec.input) },
    // Partials of a first argmax/argmin pass carry their indices.
    ...(spec.argIn ? { src_idx: { access: 'read' as const, type: 'u32' } } : {}),
    ...(spec.outVal ? { out_val: { access: 'read_write' as const, type: storageType(spec.outVal) } } : {}),
    ...(spec.outIdx ? { out_idx: { access: 'read_write' as const, type: storageType(spec.outIdx) } } : {}),
  }),
  uniforms: {
    rows: 'u32',
    len: 'u32',
    chunk_len: 'u32',
    chunks: 'u32',
    kept_rank: 'u32',
    red_rank: 'u32',
    off: 'u32',
    scale: 'f32',
    kept_shape: ['u32', MAX_RANK],
    kept_st: ['u32', MAX_RANK],
    red_shape: ['u32', MAX_RANK],
    red_st: ['u32', MAX_RANK],
  },
  workgroupSize: (spec) => spec.wg,
  enables: (spec) => (sgUsed(spec) ? ['subgroups'] : []),
  body: reduceBody,
});

function reduceBody(spec: ReduceSpec): string {
  const { op, wg } = spec;
  const A = computeType(spec.input);
  const arg = isArg(op);
  const greater = op === 'argmax' ? '>' : '<';
  // combine(acc, accI, v, vi): the new (acc, accI).
  const combine = arg
    ? `fn better(v: ${A}, vi: u32, acc: ${A}, acci: u32) -> bool { return v ${greater} acc || (v == acc && vi < acci); }`
    : `fn combine(a: ${A}, b: ${A}) -> ${A} { return ${op === 'sum' ? 'a + b' : op === 'max' ? 'max(a, b)' : 'min(a, b)'}; }`;
  const step = arg ? `if (better(v, vi, acc, acci)) { acc = v; acci = vi; }` : `acc = combine(acc, v);`;
  const load = `${A}(src[o])`;
  const viLine = arg ? `let vi = ${spec.argIn ? 'src_idx[o]' : 'k'};` : '';
  let finish: string;
  const scaled = A === 'f32' && op === 'sum' ? 'acc * u.scale' : 'acc';
  const writes: string[] = [];
  if (spec.outVal) writes.push(`out_val[g] = ${storageType(spec.outVal)}(${scaled});`);
  if (spec.outIdx) writes.push(`out_idx[g] = ${storageType(spec.outIdx)}(acci);`);
  if (sgUsed(spec)) {
    const sgOp = op === 'sum' ? 'subgroupAdd' : op === 'max' ? 'subgroupMax' : 'subgroupMin';
    // Assumes subgroups are consecutive invocations of the 1-D workgroup, as on every implementation.
    finish = `  let r = ${sgOp}(acc);
  if (sg_lid == 0u) { sh[lid.x / sg_size] = r; }
  workgroupBarrier();
  if (lid.x == 0u) {
    acc = ${identity(op, A)};
    for (var j = 0u; j < ${wg}u / sg_size; j++) { acc = combine(acc, sh[j]); }
    ${writes.join('\n    ')}
  }`;
  } else {
    const treeStep = arg
      ? `if (better(sh[lid.x + s], shi[lid.x + s], sh[lid.x], shi[lid.x])) { sh[lid.x] = sh[lid.x + s]; shi[lid.x] = shi[lid.x + s]; }`
      : `sh[lid.x] = combine(sh[lid.x], sh[lid.x + s]);`;
    finish = `  sh[lid.x] = acc;
  ${arg ? 'shi[lid.x] = acci;' : ''}
  workgroupBarrier();
  for (var s = ${wg / 2}u; s > 0u; s >>= 1u) {
    if (lid.x < s) { ${treeStep} }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    acc = sh[0];
    ${arg ? 'acci = shi[0];' : ''}
    ${writes.join('\n    ')}
  }`;
  }
  if (spec.serial) {
    return `${SPECIAL_FLOATS_WGSL}
${combine}
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let g = linearIndex(wid, lid, nwg);
  if (g >= u.rows) { return; }
  var base = u.off;
${unravelWgsl('g', 'u.kept_rank', 'kept_shape', [{ off: 'base', strides: 'kept_st' }])}
  var acc = ${identity(op, A)};
  ${arg ? 'var acci = 0xffffffffu;' : ''}
  for (var k = 0u; k < u.len; k++) {
    var o = base;
${unravelWgsl('k', 'u.red_rank', 'red_shape', [{ off: 'o', strides: 'red_st' }])}
    let v = ${load};
    ${viLine}
    ${step}
  }
  ${writes.join('\n  ')}
}`;
  }
  const sgParams = sgUsed(spec)
    ? ', @builtin(subgroup_invocation_id) sg_lid: u32, @builtin(subgroup_size) sg_size: u32'
    : '';
  return `var<workgroup> sh: array<${A}, ${wg}>;
${arg ? `var<workgroup> shi: array<u32, ${wg}>;` : ''}
${SPECIAL_FLOATS_WGSL}
${combine}
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>${sgParams}) {
  let g = wid.y * nwg.x + wid.x;
  if (g >= u.rows * u.chunks) { return; }
  let row = g / u.chunks;
  let chunk = g % u.chunks;
  var base = u.off;
${unravelWgsl('row', 'u.kept_rank', 'kept_shape', [{ off: 'base', strides: 'kept_st' }])}
  let k0 = chunk * u.chunk_len;
  let k1 = min(k0 + u.chunk_len, u.len);
  var acc = ${identity(op, A)};
  ${arg ? 'var acci = 0xffffffffu;' : ''}
  for (var k = k0 + lid.x; k < k1; k += ${wg}u) {
    var o = base;
${unravelWgsl('k', 'u.red_rank', 'red_shape', [{ off: 'o', strides: 'red_st' }])}
    let v = ${load};
    ${viLine}
    ${step}
  }
${finish}
}`;
}

/** WGSL of one reduce variant (for tests and debugging). */
export function reduceWgsl(spec: ReduceSpec): string {
  return reduceProgram.wgsl(spec);
}

/** Output dtype of a reduction of `dtype`. */
export function reduceOutDType(op: ReduceOp, dtype: DType): DType {
  if (isArg(op)) return 'i32';
  if (op === 'sum' && dtype === 'bool') return 'i32';
  return dtype;
}

/** Options of {@link launchReduce}. */
export interface ReduceLaunchOptions {
  keepdim?: boolean;
  /** Multiplies float sums in the final pass (mean = sum / n). */
  scale?: number;
  label?: string;
}

/**
 * Reduces `x` over `axes` (sorted, normalised). Returns a new contiguous tensor: values for
 * sum/max/min, i32 indices along the single reduced axis for argmax/argmin (first index on ties).
 */
export function launchReduce(
  x: Tensor,
  axes: readonly number[],
  op: ReduceOp,
  opts: ReduceLaunchOptions = {},
): Tensor {
  const engine = x.engine;
  const label = opts.label ?? `${op} ${fmtShape(x.shape)} axes [${axes.join(', ')}]`;
  const red = new Set(axes);
  const keptDims = x.shape.map((_, i) => i).filter((i) => !red.has(i));
  const outShape = opts.keepdim
    ? x.shape.map((d, i) => (red.has(i) ? 1 : d))
    : keptDims.map((i) => x.shape[i]);
  const outDtype = reduceOutDType(op, x.dtype);
  const rows = shapeSize(keptDims.map((i) => x.shape[i]));
  let len = shapeSize(axes.map((i) => x.shape[i]));
  if (len === 0 && op !== 'sum')
    throw new Error(`${op}: cannot reduce an empty dimension of ${fmtShape(x.shape)}`);
  if (rows === 0) return Tensor.empty(outShape, outDtype, engine);
  const kept = coalesce(
    keptDims.map((i) => x.shape[i]),
    [keptDims.map((i) => x.strides[i])],
  );
  const rd = coalesce(
    axes.map((i) => x.shape[i]),
    [axes.map((i) => x.strides[i])],
  );
  if (kept.shape.length > MAX_RANK || rd.shape.length > MAX_RANK)
    throw new Error(`${op}: layout of ${fmtShape(x.shape)} is too deep; call contiguous() first`);
  if (engine.kind === 'cpu') {
    const out = Tensor.empty(outShape, outDtype, engine);
    const layout = {
      rows,
      len,
      keptShape: kept.shape,
      keptSt: kept.strides[0],
      redShape: rd.shape,
      redSt: rd.strides[0],
    };
    cpuReduce(engine, x, op, layout, out, opts.scale ?? 1, label);
    return out;
  }
  const acc = computeType(x.dtype);
  const accDtype: DType = acc;
  const useSg = engine.hasSubgroups && reduceSettings.subgroups === 'auto' && !isArg(op);

  let stage = {
    buffer: x.buffer,
    dtype: x.dtype,
    idx: null as DeviceBuffer | null,
    off: x.offset,
    keptShape: kept.shape,
    keptSt: kept.strides[0],
    redShape: rd.shape,
    redSt: rd.strides[0],
  };
  let temps: Tensor[] = [];
  for (;;) {
    const { wg, chunks: wanted, serial } = reduceConfig(rows, len);
    const chunkLen = Math.max(1, Math.ceil(len / wanted));
    const chunks = Math.max(1, Math.ceil(len / chunkLen));
    const final = chunks === 1;
    let outVal: Tensor | null = null;
    let outIdx: Tensor | null = null;
    if (final) {
      if (isArg(op)) outIdx = Tensor.empty(outShape, outDtype, engine);
      else outVal = Tensor.empty(outShape, outDtype, engine);
    } else {
      outVal = Tensor.empty([rows, chunks], accDtype, engine);
      if (isArg(op)) outIdx = Tensor.empty([rows, chunks], 'u32', engine);
    }
    const spec: ReduceSpec = {
      op,
      input: stage.dtype,
      argIn: !!stage.idx,
      outVal: outVal ? outVal.dtype : null,
      outIdx: outIdx ? outIdx.dtype : null,
      wg,
      subgroups: useSg && !serial,
      serial,
    };
    const groups = serial ? Math.ceil(rows / wg) : rows * chunks;
    reduceProgram.dispatch(engine, spec, {
      label,
      buffers: {
        src: stage.buffer,
        src_idx: stage.idx ?? undefined,
        out_val: outVal?.buffer,
        out_idx: outIdx?.buffer,
      },
      uniforms: {
        rows,
        len,
        chunk_len: chunkLen,
        chunks,
        kept_rank: stage.keptShape.length,
        red_rank: stage.redShape.length,
        off: stage.off,
        scale: final ? (opts.scale ?? 1) : 1,
        kept_shape: stage.keptShape,
        kept_st: stage.keptSt,
        red_shape: stage.redShape,
        red_st: stage.redSt,
      },
      workgroups: engine.grid(groups),
    });
    for (const t of temps) t.dispose();
    if (final) return (outVal ?? outIdx)!;
    temps = [outVal!, ...(outIdx ? [outIdx] : [])];
    stage = {
      buffer: outVal!.buffer,
      dtype: accDtype,
      idx: outIdx?.buffer ?? null,
      off: 0,
      keptShape: [rows],
      keptSt: [chunks],
      redShape: [chunks],
      redSt: [1],
    };
    len = chunks;
  }
}

// ---------------------------------------------------------------------------------------------
// Row kernels (softmax, logSoftmax, cumsum): one workgroup per line along `axis`.

/** Rows × line layout of a tensor along one axis, with contiguous output strides. */
export interface LineLayout {
  rows: number;
  len: number;
  shape: number[];
  inSt: number[];
  outSt: number[];
  inAxisSt: number;
  outAxisSt: number;
  off: number;
}

/** Splits `x` into lines along `axis` (coalescing the other dims for both input and output). */
export function lineLayout(x: Tensor, axis: number): LineLayout {
  const outStrides = contiguousStrides(x.shape);
  const others = x.shape.map((_, i) => i).filter((i) => i !== axis);
  const co = coalesce(
    others.map((i) => x.shape[i]),
    [others.map((i) => x.strides[i]), others.map((i) => outStrides[i])],
  );
  if (co.shape.length > MAX_RANK)
    throw new Error(`layout of ${fmtShape(x.shape)} is too deep; call contiguous() first`);
  return {
    rows: shapeSize(others.map((i) => x.shape[i])),
    len: x.shape[axis],
    shape: co.shape,
    inSt: co.strides[0],
    outSt: co.strides[1],
    inAxisSt: x.strides[axis],
    outAxisSt: outStrides[axis],
    off: x.offset,
  };
}

// The uniforms of the row kernels: rows × line layout (the other dims coalesced, strided in and out).
const LINE_UNIFORMS = {
  rows: 'u32',
  len: 'u32',
  rank: 'u32',
  off: 'u32',
  in_axis_st: 'u32',
  out_axis_st: 'u32',
  shape: ['u32', MAX_RANK],
  in_st: ['u32', MAX_RANK],
  out_st: ['u32', MAX_RANK],
} as const;

/** The bindings of the row kernels: one line in, one line out. */
interface LineBindings extends BindingSchema {
  src: BindingSpec;
  dst: BindingSpec;
}

const lineBindings = (input: DType, output: DType): LineBindings => ({
  src: { access: 'read', type: storageType(input) },
  dst: { access: 'read_write', type: storageType(output) },
});

/** Workgroup size of a row kernel for lines of `len`; 0 means one thread per line (short lines). */
export function lineWorkgroup(len: number): number {
  if (len <= SERIAL_MAX_LEN) return 0;
  return len >= 256 ? 256 : 2 ** Math.ceil(Math.log2(len));
}

// Threads per workgroup of a row kernel: `wg`, or one thread per line (0) in workgroups of SERIAL_WG.
const lineThreads = (wg: number) => wg || SERIAL_WG;

// What every row kernel starts with: the shared accumulator (workgroup per line) and a loader.
function lineHeader(wg: number, accType: ComputeType): string {
  return `${wg ? `var<workgroup> sh: array<${accType}, ${wg}>;\n` : ''}${SPECIAL_FLOATS_WGSL}
fn load(o: u32) -> ${accType} { return ${accType}(src[o]); }`;
}

const lineMain = (wg: number) => `@compute @workgroup_size(${lineThreads(wg)})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let g = ${wg ? 'wid.y * nwg.x + wid.x' : 'linearIndex(wid, lid, nwg)'};
  if (g >= u.rows) { return; }
  var ib = u.off;
  var ob = 0u;
${unravelWgsl('g', 'u.rank', 'shape', [
  { off: 'ib', strides: 'in_st' },
  { off: 'ob', strides: 'out_st' },
])}`;

/** Parameters of one softmax variant: data dtype, workgroup size (0: a thread per line), log output. */
export interface SoftmaxSpec {
  dtype: DType;
  wg: number;
  log: boolean;
}

/** Softmax / logSoftmax along a line (f32 math, max-subtracted). */
export const softmaxProgram = wgslProgram({
  name: 'softmax',
  bindings: (p: SoftmaxSpec) => lineBindings(p.dtype, p.dtype),
  uniforms: LINE_UNIFORMS,
  workgroupSize: (p) => lineThreads(p.wg),
  body: ({ dtype, wg, log }) => {
    const tree = (fn: string) => `  workgroupBarrier();
  for (var s = ${wg / 2}u; s > 0u; s >>= 1u) {
    if (lid.x < s) { sh[lid.x] = ${fn}(sh[lid.x], sh[lid.x + s]); }
    workgroupBarrier();
  }`;
    const result = log ? 'v - mx - log(total)' : 'exp(v - mx) / total';
    if (!wg) {
      return `${lineHeader(wg, 'f32')}
${lineMain(wg)}
  var mx = -inf_f32();
  for (var k = 0u; k < u.len; k++) { mx = max(mx, load(ib + k * u.in_axis_st)); }
  var total = 0.0;
  for (var k = 0u; k < u.len; k++) { total += exp(load(ib + k * u.in_axis_st) - mx); }
  for (var k = 0u; k < u.len; k++) {
    let v = load(ib + k * u.in_axis_st);
    dst[ob + k * u.out_axis_st] = ${storageType(dtype)}(${result});
  }
}`;
    }
    return `${lineHeader(wg, 'f32')}
fn add2(a: f32, b: f32) -> f32 { return a + b; }
${lineMain(wg)}
  var m = -inf_f32();
  for (var k = lid.x; k < u.len; k += ${wg}u) { m = max(m, load(ib + k * u.in_axis_st)); }
  sh[lid.x] = m;
${tree('max')}
  let mx = sh[0];
  workgroupBarrier();
  var s = 0.0;
  for (var k = lid.x; k < u.len; k += ${wg}u) { s += exp(load(ib + k * u.in_axis_st) - mx); }
  sh[lid.x] = s;
${tree('add2')}
  let total = sh[0];
  for (var k = lid.x; k < u.len; k += ${wg}u) {
    let v = load(ib + k * u.in_axis_st);
    dst[ob + k * u.out_axis_st] = ${storageType(dtype)}(${result});
  }
}`;
  },
});

/** WGSL of softmax / logSoftmax along a line (for tests and debugging). */
export function softmaxWgsl(dtype: DType, wg: number, logOut: boolean): string {
  return softmaxProgram.wgsl({ dtype, wg, log: logOut });
}

/** Parameters of one cumsum variant: input and output dtypes, workgroup size (0: a thread per line), direction. */
export interface CumsumSpec {
  input: DType;
  output: DType;
  wg: number;
  reverse: boolean;
}

/** Inclusive (or reverse) scan along a line: tiles of `wg` with a Hillis–Steele scan and a carry. */
export const cumsumProgram = wgslProgram({
  name: 'cumsum',
  bindings: (p: CumsumSpec) => lineBindings(p.input, p.output),
  uniforms: LINE_UNIFORMS,
  workgroupSize: (p) => lineThreads(p.wg),
  body: ({ input, output, wg, reverse }) => {
    const A = computeType(input === 'bool' ? 'i32' : input);
    const idx = reverse ? 'u.len - 1u - j' : 'j';
    if (!wg) {
      return `${lineHeader(wg, A)}
${lineMain(wg)}
  var acc = ${A}(0);
  for (var j = 0u; j < u.len; j++) {
    let k = ${idx};
    acc += load(ib + k * u.in_axis_st);
    dst[ob + k * u.out_axis_st] = ${storageType(output)}(acc);
  }
}`;
    }
    return `${lineHeader(wg, A)}
${lineMain(wg)}
  var carry = ${A}(0);
  for (var base = 0u; base < u.len; base += ${wg}u) {
    let j = base + lid.x;
    let k = ${idx};
    var v = ${A}(0);
    if (j < u.len) { v = load(ib + k * u.in_axis_st); }
    sh[lid.x] = v;
    workgroupBarrier();
    for (var d = 1u; d < ${wg}u; d <<= 1u) {
      var t = ${A}(0);
      if (lid.x >= d) { t = sh[lid.x - d]; }
      workgroupBarrier();
      sh[lid.x] += t;
      workgroupBarrier();
    }
    if (j < u.len) { dst[ob + k * u.out_axis_st] = ${storageType(output)}(carry + sh[lid.x]); }
    carry += sh[${wg - 1}u];
    workgroupBarrier();
  }
}`;
  },
});

/** WGSL of a cumsum variant (for tests and debugging). */
export function cumsumWgsl(input: DType, output: DType, wg: number, reverse: boolean): string {
  return cumsumProgram.wgsl({ input, output, wg, reverse });
}

function launchLine<P extends { wg: number }>(
  engine: Engine,
  program: Program<P, LineBindings, typeof LINE_UNIFORMS>,
  p: P,
  x: Tensor,
  out: Tensor,
  l: LineLayout,
  label: string,
): void {
  if (l.rows === 0 || l.len === 0) return;
  program.dispatch(engine, p, {
    label,
    buffers: { src: x.buffer, dst: out.buffer },
    uniforms: {
      rows: l.rows,
      len: l.len,
      rank: l.shape.length,
      off: l.off,
      in_axis_st: l.inAxisSt,
      out_axis_st: l.outAxisSt,
      shape: l.shape,
      in_st: l.inSt,
      out_st: l.outSt,
    },
    workgroups: engine.grid(p.wg ? l.rows : Math.ceil(l.rows / SERIAL_WG)),
  });
}

/** Softmax (or log-softmax) of `x` along `axis` into a new contiguous tensor. */
export function launchSoftmax(x: Tensor, axis: number, logOut: boolean): Tensor {
  const out = Tensor.empty(x.shape, x.dtype, x.engine);
  const l = lineLayout(x, axis);
  const wg = lineWorkgroup(l.len);
  const name = logOut ? 'logSoftmax' : 'softmax';
  const label = `${name} ${fmtShape(x.shape)} axis ${axis}`;
  if (x.engine.kind === 'cpu') {
    cpuSoftmax(x.engine, x, out, l, logOut, label);
    return out;
  }
  launchLine(x.engine, softmaxProgram, { dtype: x.dtype, wg, log: logOut }, x, out, l, label);
  return out;
}

/** Inclusive cumulative sum along `axis` (suffix sums when `reverse`); bool sums to i32. */
export function launchCumsum(x: Tensor, axis: number, reverse: boolean): Tensor {
  const outDtype: DType = x.dtype === 'bool' ? 'i32' : x.dtype;
  const out = Tensor.empty(x.shape, outDtype, x.engine);
  const l = lineLayout(x, axis);
  const label = `cumsum ${fmtShape(x.shape)} axis ${axis}`;
  if (x.engine.kind === 'cpu') {
    cpuCumsum(x.engine, x, out, l, reverse, label);
    return out;
  }
  const wg = lineWorkgroup(l.len);
  launchLine(x.engine, cumsumProgram, { input: x.dtype, output: outDtype, wg, reverse }, x, out, l, label);
  return out;
}
