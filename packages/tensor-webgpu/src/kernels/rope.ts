// Rotary position embeddings: the rotation itself (rotate-half convention, strided x, broadcast
// cos/sin tables read through strides) and the cos/sin tables for 1-D RoPE and Qwen3-VL's
// interleaved multimodal RoPE (M-RoPE).
//
// Tables follow Hugging Face: inv_freq[s] = 1 / θ^(2s/D) in f32, angle = f32(pos · inv_freq[s]).
// WGSL only promises cos/sin accuracy on [−π, π], and GPU hardware sin/cos degrade fast for large
// arguments (positions reach thousands of radians), so the kernel reduces the angle modulo π/2
// itself (Cody–Waite with a 3-part π/2 whose first two parts have 8 significant bits, so k·P1 and
// k·P2 are exact in f32 for |k| < 2^16, i.e. angles below ~1e5 rad) and evaluates Cephes' minimax
// polynomials on [−π/4, π/4] (error ~1e-7). Larger angles fall back to the builtins.
import { cpuRopeTables, cpuRotary } from '../cpu/rope.js';
import type { Backend, DeviceBuffer } from '../runtime/backend.js';
import { isFloat, type DType } from '../dtype.js';
import { wgslProgram } from './program.js';

const WG = 256;

/** Max rank of x in {@link rotaryProgram}. */
export const ROPE_MAX_RANK = 6;

/** Max head_dim / 2 of the table kernel. */
export const ROPE_MAX_HALF = 256;

/** Parameters baked into one rotary kernel variant. */
export interface RotaryVariant {
  dtype: 'f32' | 'f16';
  tableDtype: 'f32' | 'f16';
  /** Backward: multiply by the transposed rotation (rotation by −θ for half tables). */
  transpose: boolean;
}

/** Layout of a rotary launch: x and the tables as strided views over x's shape. */
export interface RotaryLayout {
  shape: readonly number[];
  xStrides: readonly number[];
  xOffset: number;
  /** Table strides over x's dims (0 where broadcast); the last one steps along the table's own last dim. */
  cosStrides: readonly number[];
  cosOffset: number;
  sinStrides: readonly number[];
  sinOffset: number;
  /** Width of the tables' last dim: D/2 (shared by both halves) or D. */
  tableWidth: number;
}

/**
 * Rotary kernel: y[..., j] = x[j]·cos[j] − x[j+D/2]·sin[j] (j < D/2), x[j]·cos[j] + x[j−D/2]·sin[j]
 * (j ≥ D/2), table index j mod tableWidth; `transpose` applies the transposed map (the backward).
 * Output contiguous.
 */
export const rotaryProgram = wgslProgram({
  name: 'rotary',
  bindings: (v: RotaryVariant) => ({
    X: { access: 'read' as const, type: v.dtype },
    COS: { access: 'read' as const, type: v.tableDtype },
    SIN: { access: 'read' as const, type: v.tableDtype },
    Y: { access: 'read_write' as const, type: v.dtype },
  }),
  uniforms: {
    total: 'u32',
    rank: 'u32',
    d: 'u32',
    tw: 'u32',
    xOff: 'u32',
    cOff: 'u32',
    sOff: 'u32',
    shape: ['u32', ROPE_MAX_RANK],
    xst: ['u32', ROPE_MAX_RANK],
    cst: ['u32', ROPE_MAX_RANK],
    sst: ['u32', ROPE_MAX_RANK],
  },
  workgroupSize: () => WG,
  body: (v) => {
    const T = v.dtype;
    // Forward: partner term −x[j+h]·sin[ti(j)] (j < h) or +x[j−h]·sin[ti(j)].
    // Transposed: +g[j+h]·sin[ti(j+h)] (j < h) or −g[j−h]·sin[ti(j−h)].
    const sinIdx = v.transpose ? 'tp' : 'tj';
    const sign = v.transpose ? 'select(-1.0, 1.0, j < h)' : 'select(1.0, -1.0, j < h)';
    return `@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = linearIndex(wid, lid, nwg);
  if (idx >= u.total) { return; }
  // Offsets of every dim but the last.
  var rem = idx / u.d;
  var xo = u.xOff;
  var co = u.cOff;
  var so = u.sOff;
  for (var i = i32(u.rank) - 2; i >= 0; i--) {
    let k = u32(i);
    let n = shape_at(k);
    let c = rem % n;
    rem = rem / n;
    xo += c * xst_at(k);
    co += c * cst_at(k);
    so += c * sst_at(k);
  }
  let last = u.rank - 1u;
  let j = idx % u.d;
  let h = u.d / 2u;
  let jp = select(j - h, j + h, j < h);
  let tj = j % u.tw;
  let tp = jp % u.tw;
  let xs = xst_at(last);
  let xj = f32(X[xo + j * xs]);
  let xp = f32(X[xo + jp * xs]);
  let c = f32(COS[co + tj * cst_at(last)]);
  let s = f32(SIN[so + ${sinIdx} * sst_at(last)]);
  Y[idx] = ${T}(xj * c + ${sign} * xp * s);
}
`;
  },
});

/** Records a rotary launch (forward or transposed) into a contiguous output buffer. */
export function launchRotary(
  backend: Backend,
  v: RotaryVariant,
  layout: RotaryLayout,
  bufs: { x: DeviceBuffer; cos: DeviceBuffer; sin: DeviceBuffer; out: DeviceBuffer },
  label: string,
): void {
  if (backend.kind === 'cpu') return cpuRotary(backend, v, layout, bufs, label);
  const engine = backend;
  const total = layout.shape.reduce((a, b) => a * b, 1);
  if (total === 0) return;
  rotaryProgram.dispatch(engine, v, {
    label,
    buffers: { X: bufs.x, COS: bufs.cos, SIN: bufs.sin, Y: bufs.out },
    uniforms: {
      total,
      rank: layout.shape.length,
      d: layout.shape[layout.shape.length - 1] ?? 0,
      tw: layout.tableWidth,
      xOff: layout.xOffset,
      cOff: layout.cosOffset,
      sOff: layout.sinOffset,
      shape: layout.shape,
      xst: layout.xStrides,
      cst: layout.cosStrides,
      sst: layout.sinStrides,
    },
    workgroups: engine.grid(Math.ceil(total / WG)),
  });
}

/** inv_freq of RoPE as Hugging Face computes it in f32: 1 / θ^(f32(2s) / D). */
export function ropeInvFreq(headDim: number, theta: number): Float32Array {
  const half = headDim / 2;
  const out = new Float32Array(half);
  for (let s = 0; s < half; s++) out[s] = 1 / Math.fround(theta ** Math.fround((2 * s) / headDim));
  return out;
}

/**
 * Table kernel: for each position p (of `npos`) and slot s < half, the angle
 * f32(pos[a(s)][p]) · inv_freq[s] with axis a(s) = 1 (h) if s % 3 == 1 and s < hLimit, 2 (w) if
 * s % 3 == 2 and s < wLimit, else 0 (t); 1-D RoPE passes limits 0. Writes COS and SIN [npos, half].
 * `pos` is the WGSL element type the positions are read as (f32 for every float dtype).
 */
export const ropeTableProgram = wgslProgram({
  name: 'rope-table',
  bindings: (p: { pos: 'f32' | 'i32' | 'u32' }) => ({
    POS: { access: 'read' as const, type: p.pos },
    COS: { access: 'read_write' as const, type: 'f32' },
    SIN: { access: 'read_write' as const, type: 'f32' },
  }),
  uniforms: {
    total: 'u32',
    half: 'u32',
    npos: 'u32',
    posOff: 'u32',
    hLimit: 'u32',
    wLimit: 'u32',
    invf: ['u32', ROPE_MAX_HALF],
  },
  workgroupSize: () => WG,
  body: () => `// Cody–Waite split of π/2: P1 and P2 have 8 significant bits (k·P1, k·P2 exact for |k| < 2^16).
const P1 = 1.5703125;
const P2 = 4.825592041015625e-4;
const P3 = 1.2675908465098473e-6;
fn sinPoly(r: f32) -> f32 {
  let z = r * r;
  return r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
}
fn cosPoly(r: f32) -> f32 {
  let z = r * r;
  return 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
}
fn sincos(a: f32) -> vec2<f32> {
  let kf = round(a * 0.6366197723675814);
  if (abs(kf) >= 65536.0) { return vec2<f32>(sin(a), cos(a)); }
  let r = ((a - kf * P1) - kf * P2) - kf * P3;
  let s = sinPoly(r);
  let c = cosPoly(r);
  let q = ((i32(kf) % 4) + 4) % 4;
  if (q == 0) { return vec2<f32>(s, c); }
  if (q == 1) { return vec2<f32>(c, -s); }
  if (q == 2) { return vec2<f32>(-s, -c); }
  return vec2<f32>(-c, s);
}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = linearIndex(wid, lid, nwg);
  if (idx >= u.total) { return; }
  let s = idx % u.half;
  let p = idx / u.half;
  var axis = 0u;
  if (s % 3u == 1u && s < u.hLimit) { axis = 1u; }
  if (s % 3u == 2u && s < u.wLimit) { axis = 2u; }
  let pos = f32(POS[u.posOff + axis * u.npos + p]);
  let sc = sincos(pos * bitcast<f32>(invf_at(s)));
  COS[idx] = sc.y;
  SIN[idx] = sc.x;
}
`,
});

/** Records a table launch: positions [axes, npos] → cos, sin [npos, half] (f32). */
export function launchRopeTables(
  backend: Backend,
  p: {
    posDtype: DType;
    positions: { buffer: DeviceBuffer; offset: number };
    npos: number;
    headDim: number;
    theta: number;
    hLimit: number;
    wLimit: number;
  },
  out: { cos: DeviceBuffer; sin: DeviceBuffer },
  label: string,
): void {
  const half = p.headDim / 2;
  if (half > ROPE_MAX_HALF) throw new Error(`${label}: head_dim ${p.headDim} exceeds ${2 * ROPE_MAX_HALF}`);
  if (backend.kind === 'cpu') {
    const { posDtype, positions, npos, hLimit, wLimit } = p;
    const invFreq = ropeInvFreq(p.headDim, p.theta);
    return cpuRopeTables(backend, { posDtype, positions, npos, half, hLimit, wLimit, invFreq }, out, label);
  }
  const engine = backend;
  const total = p.npos * half;
  if (total === 0) return;
  const invFreq = ropeInvFreq(p.headDim, p.theta);
  const pos = isFloat(p.posDtype) ? 'f32' : p.posDtype === 'i32' ? 'i32' : 'u32';
  ropeTableProgram.dispatch(
    engine,
    { pos },
    {
      label,
      buffers: { POS: p.positions.buffer, COS: out.cos, SIN: out.sin },
      uniforms: {
        total,
        half,
        npos: p.npos,
        posOff: p.positions.offset,
        hLimit: p.hLimit,
        wLimit: p.wLimit,
        // The inverse frequencies travel as their f32 bits (the kernel bitcasts them back).
        invf: Array.from(new Uint32Array(invFreq.buffer, invFreq.byteOffset, invFreq.length)),
      },
      workgroups: engine.grid(Math.ceil(total / WG)),
    },
  );
}
