// Nearest and bilinear resizing of NCHW planes with PyTorch's index rules, computed in f32 like
// PyTorch's CPU kernels (scale = in/out as f32, source = floor(dst·scale) for nearest; half-pixel
// centres clamped at 0, or align-corners, for bilinear). The backward gathers: each input pixel loops
// over the few output pixels whose source coordinate lies near it and re-evaluates the forward weight,
// so no atomics are needed and the result is deterministic.
import { cpuResize } from '../cpu/image.js';
import type { Backend, DeviceBuffer } from '../runtime/backend.js';
import { wgslProgram } from './program.js';

const WG = 256;

/** Resize modes. */
export type ResizeMode = 'nearest' | 'bilinear' | 'bilinear-align';

/** Geometry of a resize. */
export interface ResizeGeometry {
  planes: number;
  inH: number;
  inW: number;
  outH: number;
  outW: number;
}

/** f32 scale of one axis, as PyTorch computes it. */
export function resizeScale(mode: ResizeMode, inSize: number, outSize: number): number {
  if (mode === 'bilinear-align') return outSize > 1 ? Math.fround((inSize - 1) / (outSize - 1)) : 0;
  return Math.fround(inSize / outSize);
}

/** WGSL: source coordinate of output index d along an axis (before flooring). */
function sourceWgsl(mode: ResizeMode): string {
  if (mode === 'nearest') return 'f32(d) * scale';
  if (mode === 'bilinear-align') return 'f32(d) * scale';
  return 'max(scale * (f32(d) + 0.5) - 0.5, 0.0)';
}

/** Resize variant: mode, storage dtype and direction. */
export interface ResizeParams {
  mode: ResizeMode;
  dtype: 'f32' | 'f16';
  backward: boolean;
}

/**
 * Resize: forward (X [planes, inH, inW] → Y [planes, outH, outW]) or backward (dY → dX); the scales
 * are the f32 values of {@link resizeScale}.
 */
export const resizeProgram = wgslProgram({
  name: 'resize',
  bindings: (p: ResizeParams) => ({
    X: { access: 'read' as const, type: p.dtype },
    Y: { access: 'read_write' as const, type: p.dtype },
  }),
  uniforms: {
    total: 'u32',
    inH: 'u32',
    inW: 'u32',
    outH: 'u32',
    outW: 'u32',
    xOff: 'u32',
    scaleH: 'f32',
    scaleW: 'f32',
  },
  workgroupSize: () => WG,
  body: ({ mode, dtype: T, backward }, { workgroupSize }) => {
    // The two taps (i0, i1) of output index d and their weights; nearest has one tap of weight 1.
    const taps =
      mode === 'nearest'
        ? `fn taps(d: u32, n: u32, scale: f32) -> Taps {
  let i = min(u32(floor(${sourceWgsl(mode)})), n - 1u);
  return Taps(i, i, 1.0, 0.0);
}`
        : `fn taps(d: u32, n: u32, scale: f32) -> Taps {
  let s = ${sourceWgsl(mode)};
  let i0 = min(u32(floor(s)), n - 1u);
  let i1 = select(i0, i0 + 1u, i0 + 1u < n);
  let l1 = s - f32(i0);
  return Taps(i0, i1, 1.0 - l1, l1);
}`;
    const helpers = `struct Taps { i0: u32, i1: u32, w0: f32, w1: f32 }
${taps}
// Weight with which output index d reads input index i.
fn weight(d: u32, i: u32, n: u32, scale: f32) -> f32 {
  let t = taps(d, n, scale);
  return select(0.0, t.w0, t.i0 == i) + select(0.0, t.w1, t.i1 == i);
}
// Output indices whose source coordinate can touch input i (a superset, with a margin of 2).
fn candidates(i: u32, nOut: u32, scale: f32) -> vec2<i32> {
  if (scale <= 0.0) { return vec2<i32>(0, i32(nOut) - 1); }
  let c0 = ${mode === 'bilinear' ? '0.5 * scale - 0.5' : '0.0'};
  let lo = i32(floor((f32(i) - 1.0 - c0) / scale)) - 2;
  let hi = i32(ceil((f32(i) + 1.0 - c0) / scale)) + 2;
  return vec2<i32>(max(lo, 0), min(hi, i32(nOut) - 1));
}`;
    const body = backward
      ? `  let iw = idx % u.inW;
  let ih = (idx / u.inW) % u.inH;
  let p = idx / (u.inW * u.inH);
  let rh = candidates(ih, u.outH, u.scaleH);
  let rw = candidates(iw, u.outW, u.scaleW);
  var acc = 0.0;
  for (var oh = rh.x; oh <= rh.y; oh++) {
    let wh = weight(u32(oh), ih, u.inH, u.scaleH);
    if (wh == 0.0) { continue; }
    for (var ow = rw.x; ow <= rw.y; ow++) {
      let ww = weight(u32(ow), iw, u.inW, u.scaleW);
      if (ww != 0.0) { acc += wh * ww * f32(X[u.xOff + (p * u.outH + u32(oh)) * u.outW + u32(ow)]); }
    }
  }
  Y[idx] = ${T}(acc);`
      : `  let ow = idx % u.outW;
  let oh = (idx / u.outW) % u.outH;
  let p = idx / (u.outW * u.outH);
  let th = taps(oh, u.inH, u.scaleH);
  let tw = taps(ow, u.inW, u.scaleW);
  let base = u.xOff + p * u.inH * u.inW;
  let r0 = th.i0 * u.inW;
  let r1 = th.i1 * u.inW;
  let top = tw.w0 * f32(X[base + r0 + tw.i0]) + tw.w1 * f32(X[base + r0 + tw.i1]);
  let bottom = tw.w0 * f32(X[base + r1 + tw.i0]) + tw.w1 * f32(X[base + r1 + tw.i1]);
  Y[idx] = ${T}(th.w0 * top + th.w1 * bottom);`;
    return `${helpers}
@compute @workgroup_size(${workgroupSize})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = linearIndex(wid, lid, nwg);
  if (idx >= u.total) { return; }
${body}
}
`;
  },
});

/** Records a resize forward (x → y) or backward (dy → dx) launch. */
export function launchResize(
  backend: Backend,
  mode: ResizeMode,
  dtype: 'f32' | 'f16',
  backward: boolean,
  g: ResizeGeometry,
  input: { buffer: DeviceBuffer; offset: number },
  out: DeviceBuffer,
  label: string,
): void {
  const total = g.planes * (backward ? g.inH * g.inW : g.outH * g.outW);
  if (total === 0) return;
  if (backend.kind === 'cpu') return cpuResize(backend, mode, dtype, backward, g, input, out, label);
  const engine = backend;
  resizeProgram.dispatch(
    engine,
    { mode, dtype, backward },
    {
      label,
      buffers: { X: input.buffer, Y: out },
      uniforms: {
        total,
        inH: g.inH,
        inW: g.inW,
        outH: g.outH,
        outW: g.outW,
        xOff: input.offset,
        scaleH: resizeScale(mode, g.inH, g.outH),
        scaleW: resizeScale(mode, g.inW, g.outW),
      },
      workgroups: engine.grid(Math.ceil(total / WG)),
    },
  );
}
