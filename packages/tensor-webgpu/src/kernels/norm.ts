// Fused normalisations. Every norm here normalises contiguous "rows": layerNorm / rmsNorm the last
// dim, groupNorm the (C/G)·H·W elements of one (n, g) group, which are contiguous in NCHW. One
// template covers the three kinds in three stages:
//   fwd    a workgroup per row: f32 reductions for the statistics (two passes over the row for
//          mean then variance, which is far more accurate than E[x²] − mean²), then the normalised
//          (and affine) output; saves (mean, rstd) per row for the backward
//   bwd    a workgroup per row: dx = rstd·(w·dy − mean(w·dy) − x̂·mean(w·dy·x̂)) (rms: no mean term)
//   pgrad  partial sums of dy·x̂ and dy per affine parameter (per column chunk for layer/rms, per
//          (n, c) plane for group); the op finishes with a sum over the partial axis
import { cpuNorm } from '../cpu/norm.js';
import type { Backend, DeviceBuffer } from '../runtime/backend.js';
import type { Engine } from '../runtime/engine.js';
import { wgslProgram, type BindingSchema } from './program.js';
import { adapterClass, TUNING } from './tuning.js';

/** Which normalisation. */
export type NormKind = 'layer' | 'rms' | 'group';

/**
 * How a workgroup sums its threads' partials: `shared` is a shared-memory tree (log2(wg) + 2
 * barriers); `subgroup` sums each subgroup with subgroupAdd, then the per-subgroup partials after a
 * single barrier. Barriers are what a CPU Vulkan (SwiftShader) pays most for.
 */
export type NormReduce = 'shared' | 'subgroup';

/**
 * Switches for tests and debugging: `subgroups: 'off'` forces the shared-memory reduction;
 * `threads: 'gpu'` sizes workgroups for a GPU even on a CPU adapter ({@link normThreads}).
 */
export const normSettings: { subgroups: 'auto' | 'off'; threads: 'auto' | 'gpu' } = {
  subgroups: 'auto',
  threads: 'auto',
};

/** The reduction a norm kernel uses on `engine`. */
export function normReduce(engine: Backend): NormReduce {
  return engine.hasSubgroups && normSettings.subgroups === 'auto' ? 'subgroup' : 'shared';
}

/** Which stage of a normalisation a kernel runs. */
export type NormStage = 'fwd' | 'bwd' | 'pgrad';

/** Parameters baked into one norm kernel variant. */
export interface NormVariant {
  kind: NormKind;
  stage: NormStage;
  dtype: 'f32' | 'f16';
  /** Has a weight (scale). */
  weight: boolean;
  /** Has a bias (fwd only; the backward never needs it). */
  bias: boolean;
  /** Threads per workgroup (power of two). */
  wg: number;
  /** Workgroup reduction strategy (ignored by the layer/rms `pgrad` stage, which has none). */
  reduce: NormReduce;
}

/** Shape of a norm problem. */
export interface NormGeometry {
  rows: number;
  /** Row length. */
  d: number;
  /** group: spatial size H·W and channels per group; layer/rms: 1 and d. */
  hw: number;
  cpg: number;
  groups: number;
}

/** Rows per workgroup of the layer/rms `pgrad` stage. */
export const NORM_PGRAD_ROWS = 32;

/**
 * Threads per row of length `d`, from the tuning table (tuning.ts): on a GPU enough to give each
 * thread a few elements, at most 256; on a CPU adapter 4 (one SwiftShader subgroup). The engine's
 * adapter class decides (`normSettings.threads: 'gpu'` picks the GPU rule on any adapter); without
 * an engine, the default entry.
 */
export function normThreads(d: number, engine?: Backend): number {
  const cls =
    !engine || (normSettings.threads === 'gpu' && adapterClass(engine) === 'cpu-vulkan')
      ? 'unknown'
      : adapterClass(engine);
  const steps = TUNING[cls].norm.threads;
  return (steps.find((s) => d <= s.upTo) ?? steps[steps.length - 1]).threads;
}

// The layer/rms pgrad stage has no workgroup reduction, so it never uses subgroups.
const usesSubgroups = (v: NormVariant) =>
  v.reduce === 'subgroup' && (v.stage !== 'pgrad' || v.kind === 'group');

/**
 * The parameters of `v` that its WGSL depends on: the layer/rms pgrad stage has no reduction, only
 * fwd reads a bias, and pgrad no weight. Variants that compile to the same code share one key.
 */
export function normParams(v: NormVariant): NormVariant {
  return {
    ...v,
    weight: v.stage !== 'pgrad' && v.weight,
    bias: v.stage === 'fwd' && v.bias,
    reduce: usesSubgroups(v) ? 'subgroup' : 'shared',
  };
}

const rw = { access: 'read_write' as const };
const ro = { access: 'read' as const };

/**
 * The norm template: a variant per {@link NormVariant} (see {@link normParams}). Affine parameters,
 * data and gradients are stored in the variant's dtype; STATS (mean, rstd per row) and the partial
 * parameter gradients P are f32. Operands are bound whole and located by the `*Off` uniforms.
 */
export const normProgram = wgslProgram({
  name: 'norm',
  bindings: (v: NormVariant): BindingSchema => {
    const T = v.dtype;
    if (v.stage === 'fwd')
      return {
        X: { ...ro, type: T },
        ...(v.weight ? { Wt: { ...ro, type: T } } : {}),
        ...(v.bias ? { Bs: { ...ro, type: T } } : {}),
        Y: { ...rw, type: T },
        STATS: { ...rw, type: 'f32' },
      };
    if (v.stage === 'bwd')
      return {
        X: { ...ro, type: T },
        DY: { ...ro, type: T },
        STATS: { ...ro, type: 'f32' },
        ...(v.weight ? { Wt: { ...ro, type: T } } : {}),
        DX: { ...rw, type: T },
      };
    return {
      X: { ...ro, type: T },
      DY: { ...ro, type: T },
      STATS: { ...ro, type: 'f32' },
      P: { ...rw, type: 'f32' },
    };
  },
  uniforms: {
    rows: 'u32',
    d: 'u32',
    hw: 'u32',
    cpg: 'u32',
    groups: 'u32',
    xOff: 'u32',
    dyOff: 'u32',
    wOff: 'u32',
    bOff: 'u32',
    eps: 'f32',
  },
  workgroupSize: (v) => v.wg,
  enables: (v) => (usesSubgroups(v) ? ['subgroups'] : []),
  body: normBody,
});

function normBody(v: NormVariant): string {
  const T = v.dtype;
  const WG = v.wg;
  // Index of the affine parameter of element j of a row.
  const param =
    v.kind === 'group'
      ? 'fn param(row: u32, j: u32) -> u32 { return (row % u.groups) * u.cpg + j / u.hw; }'
      : 'fn param(row: u32, j: u32) -> u32 { return j; }';
  const wAt = v.weight ? 'f32(Wt[u.wOff + param(row, j)])' : '1.0';
  const sg = usesSubgroups(v);
  const reduce = sg ? subgroupReduceWgsl(WG) : sharedReduceWgsl(WG);
  // Builtins the reduction needs, appended to each entry point's parameters.
  const sgParams = sg
    ? ', @builtin(subgroup_invocation_id) sg_lid: u32, @builtin(subgroup_size) sg_size: u32'
    : '';
  const sgArgs = sg ? ', sg_lid, sg_size' : '';
  const header = `${param}
`;
  if (v.stage === 'fwd') {
    const meanPass =
      v.kind === 'rms'
        ? 'let mean = 0.0;'
        : `var s = 0.0;
  for (var j = lid; j < u.d; j += ${WG}u) { s += f32(X[base + j]); }
  let mean = reduce2(vec2<f32>(s, 0.0), lid, 0u${sgArgs}).x / f32(u.d);`;
    const bAt = v.bias ? ` + f32(Bs[u.bOff + param(row, j)])` : '';
    return `${header}
${reduce}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32${sgParams}) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= u.rows) { return; }
  let base = u.xOff + row * u.d;
  ${meanPass}
  var q = 0.0;
  for (var j = lid; j < u.d; j += ${WG}u) { let c = f32(X[base + j]) - mean; q += c * c; }
  let rstd = inverseSqrt(reduce2(vec2<f32>(q, 0.0), lid, 1u${sgArgs}).x / f32(u.d) + u.eps);
  for (var j = lid; j < u.d; j += ${WG}u) {
    Y[row * u.d + j] = ${T}((f32(X[base + j]) - mean) * rstd * ${wAt}${bAt});
  }
  if (lid == 0u) { STATS[row * 2u] = mean; STATS[row * 2u + 1u] = rstd; }
}
`;
  }
  if (v.stage === 'bwd') {
    return `${header}
${reduce}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32${sgParams}) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= u.rows) { return; }
  let base = u.xOff + row * u.d;
  let dbase = u.dyOff + row * u.d;
  let mean = STATS[row * 2u];
  let rstd = STATS[row * 2u + 1u];
  var acc = vec2<f32>(0.0);
  for (var j = lid; j < u.d; j += ${WG}u) {
    let g = f32(DY[dbase + j]) * ${wAt};
    acc += vec2<f32>(g * (f32(X[base + j]) - mean) * rstd, g);
  }
  let sums = reduce2(acc, lid, 0u${sgArgs}) / f32(u.d);
  let c2 = ${v.kind === 'rms' ? '0.0' : 'sums.y'};
  for (var j = lid; j < u.d; j += ${WG}u) {
    let g = f32(DY[dbase + j]) * ${wAt};
    let xh = (f32(X[base + j]) - mean) * rstd;
    DX[row * u.d + j] = ${T}((g - c2 - xh * sums.x) * rstd);
  }
}
`;
  }
  // pgrad
  if (v.kind === 'group') {
    // A workgroup per (n, c) plane: P[0, n, c] = Σ dy·x̂, P[1, n, c] = Σ dy.
    return `${header}
${reduce}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32${sgParams}) {
  let plane = wid.y * nwg.x + wid.x;
  let channels = u.groups * u.cpg;
  let planes = u.rows / u.groups * channels;
  if (plane >= planes) { return; }
  let n = plane / channels;
  let c = plane % channels;
  let row = n * u.groups + c / u.cpg;
  let mean = STATS[row * 2u];
  let rstd = STATS[row * 2u + 1u];
  let off = plane * u.hw;
  var acc = vec2<f32>(0.0);
  for (var j = lid; j < u.hw; j += ${WG}u) {
    let g = f32(DY[u.dyOff + off + j]);
    acc += vec2<f32>(g * (f32(X[u.xOff + off + j]) - mean) * rstd, g);
  }
  let s = reduce2(acc, lid, 0u${sgArgs});
  if (lid == 0u) { P[plane] = s.x; P[planes + plane] = s.y; }
}
`;
  }
  // layer/rms: a thread per column, a workgroup row per chunk of NORM_PGRAD_ROWS rows.
  return `${header}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32${sgParams}) {
  let j = wid.x * ${WG}u + lid;
  let chunk = wid.y;
  let chunks = (u.rows + ${NORM_PGRAD_ROWS - 1}u) / ${NORM_PGRAD_ROWS}u;
  if (j >= u.d) { return; }
  var acc = vec2<f32>(0.0);
  let end = min(u.rows, (chunk + 1u) * ${NORM_PGRAD_ROWS}u);
  for (var row = chunk * ${NORM_PGRAD_ROWS}u; row < end; row++) {
    let g = f32(DY[u.dyOff + row * u.d + j]);
    let xh = (f32(X[u.xOff + row * u.d + j]) - STATS[row * 2u]) * STATS[row * 2u + 1u];
    acc += vec2<f32>(g * xh, g);
  }
  P[chunk * u.d + j] = acc.x;
  P[(chunks + chunk) * u.d + j] = acc.y;
}
`;
}

// Both reductions sum vec2<f32> across the workgroup and return the total to every thread. `slot`
// picks a separate scratch area per call site of one kernel, so a second reduction need not wait
// for every thread to have read the first one's result.
function sharedReduceWgsl(wg: number): string {
  return `var<workgroup> red: array<vec2<f32>, ${2 * wg}>;
fn reduce2(v: vec2<f32>, lid: u32, slot: u32) -> vec2<f32> {
  let o = slot * ${wg}u;
  red[o + lid] = v;
  workgroupBarrier();
  for (var s = ${wg / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { red[o + lid] += red[o + lid + s]; }
    workgroupBarrier();
  }
  return red[o];
}`;
}

// Subgroup sums, one barrier, then each subgroup sums the per-subgroup partials (strided over its
// lanes, then subgroupAdd). Like kernels/reduce.ts, assumes subgroups are consecutive invocations
// of the 1-D workgroup (lid / sg_size numbers them), as on every implementation.
function subgroupReduceWgsl(wg: number): string {
  return `var<workgroup> red: array<vec2<f32>, ${2 * wg}>;
fn reduce2(v: vec2<f32>, lid: u32, slot: u32, sg_lid: u32, sg_size: u32) -> vec2<f32> {
  let o = slot * ${wg}u;
  let r = subgroupAdd(v);
  if (sg_lid == 0u) { red[o + lid / sg_size] = r; }
  workgroupBarrier();
  var t = vec2<f32>(0.0);
  for (var i = sg_lid; i < (${wg}u + sg_size - 1u) / sg_size; i += sg_size) { t += red[o + i]; }
  return subgroupAdd(t);
}`;
}

/** A buffer and element offset. */
export interface BufRef {
  buffer: DeviceBuffer;
  offset: number;
}

/** Everything one norm launch binds, by binding name (those {@link normProgram} declares for the variant). */
export interface NormLaunch {
  variant: NormVariant;
  geometry: NormGeometry;
  eps: number;
  buffers: Record<string, BufRef>;
  label: string;
}

/** Workgroup count of a norm stage. */
export function normWorkgroups(engine: Engine, v: NormVariant, g: NormGeometry): [number, number, number] {
  if (v.stage === 'pgrad' && v.kind !== 'group')
    return [Math.ceil(g.d / v.wg), Math.ceil(g.rows / NORM_PGRAD_ROWS), 1];
  if (v.stage === 'pgrad') return engine.grid((g.rows / g.groups) * g.groups * g.cpg);
  return engine.grid(g.rows);
}

/** Records one norm kernel launch (the CPU engine runs it at once: cpu/norm.ts). */
export function launchNorm(engine: Backend, p: NormLaunch): void {
  if (engine.kind === 'cpu') return cpuNorm(engine, p);
  const v = normParams(p.variant);
  const [x, y, z] = normWorkgroups(engine, v, p.geometry);
  if (x * y * z === 0 || p.geometry.rows === 0) return;
  const b = p.buffers;
  // Bound whole (the offsets travel as uniforms); dispatch picks the variant's bindings by name.
  const buffers = Object.fromEntries(Object.entries(b).map(([name, ref]) => [name, ref.buffer]));
  const g = p.geometry;
  normProgram.dispatch(engine, v, {
    label: p.label,
    buffers,
    uniforms: {
      rows: g.rows,
      d: g.d,
      hw: g.hw,
      cpg: g.cpg,
      groups: g.groups,
      xOff: b.X.offset,
      dyOff: b.DY?.offset ?? 0,
      wOff: b.Wt?.offset ?? 0,
      bOff: b.Bs?.offset ?? 0,
      eps: p.eps,
    },
    workgroups: [x, y, z],
  });
}
