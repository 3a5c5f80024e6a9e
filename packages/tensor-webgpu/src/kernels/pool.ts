// Average pooling (NCHW), forward and backward, one thread per output (forward) or per input
// element (backward). The backward gathers from the outputs whose windows cover the element instead
// of scattering, so it needs no atomics and is deterministic.
import { cpuAvgPool } from '../cpu/image.js';
import type { Backend, DeviceBuffer } from '../runtime/backend.js';
import { wgslProgram } from './program.js';

const WG = 256;

/** Geometry of an average pooling. */
export interface PoolGeometry {
  /** N·C planes. */
  planes: number;
  h: number;
  w: number;
  ho: number;
  wo: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
}

/** avgPool2d variant: storage dtype and direction. */
export interface AvgPoolParams {
  dtype: 'f32' | 'f16';
  backward: boolean;
}

/**
 * avgPool2d. `backward: false`: out[p, oh, ow] = mean of the kh·kw window (padding counts as zeros,
 * PyTorch's count_include_pad=True). `backward: true`: dx[p, ih, iw] = Σ dy / (kh·kw) over the
 * windows that contain (ih, iw). X is the input (x or dy), Y the output.
 */
export const avgPoolProgram = wgslProgram({
  name: 'avgpool',
  bindings: (p: AvgPoolParams) => ({
    X: { access: 'read' as const, type: p.dtype },
    Y: { access: 'read_write' as const, type: p.dtype },
  }),
  uniforms: {
    total: 'u32',
    h: 'u32',
    w: 'u32',
    ho: 'u32',
    wo: 'u32',
    kh: 'u32',
    kw: 'u32',
    sh: 'u32',
    sw: 'u32',
    ph: 'u32',
    pw: 'u32',
    xOff: 'u32',
  },
  workgroupSize: () => WG,
  body: ({ dtype: T, backward }, { workgroupSize }) => {
    // ohLo = ⌊(ih + ph − kh) / s⌋ + 1 computed as (a + s) / s: WGSL truncates, which equals the
    // floor whenever a + s ≥ 0, and smaller numerators give results ≤ 0 that are clamped to 0.
    const body = backward
      ? `  let iw = i32(idx % u.w);
  let ih = i32((idx / u.w) % u.h);
  let p = idx / (u.w * u.h);
  // Windows oh with oh·s − pad ≤ ih < oh·s − pad + k.
  let ohLo = max(0, (ih + i32(u.ph) - i32(u.kh) + i32(u.sh)) / i32(u.sh));
  let ohHi = min(i32(u.ho) - 1, (ih + i32(u.ph)) / i32(u.sh));
  let owLo = max(0, (iw + i32(u.pw) - i32(u.kw) + i32(u.sw)) / i32(u.sw));
  let owHi = min(i32(u.wo) - 1, (iw + i32(u.pw)) / i32(u.sw));
  var acc = 0.0;
  for (var oh = ohLo; oh <= ohHi; oh++) {
    for (var ow = owLo; ow <= owHi; ow++) {
      acc += f32(X[u.xOff + (p * u.ho + u32(oh)) * u.wo + u32(ow)]);
    }
  }
  Y[idx] = ${T}(acc / f32(u.kh * u.kw));`
      : `  let ow = idx % u.wo;
  let oh = (idx / u.wo) % u.ho;
  let p = idx / (u.wo * u.ho);
  let h0 = i32(oh * u.sh) - i32(u.ph);
  let w0 = i32(ow * u.sw) - i32(u.pw);
  var acc = 0.0;
  for (var i = max(h0, 0); i < min(h0 + i32(u.kh), i32(u.h)); i++) {
    for (var j = max(w0, 0); j < min(w0 + i32(u.kw), i32(u.w)); j++) {
      acc += f32(X[u.xOff + (p * u.h + u32(i)) * u.w + u32(j)]);
    }
  }
  Y[idx] = ${T}(acc / f32(u.kh * u.kw));`;
    return `@compute @workgroup_size(${workgroupSize})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = linearIndex(wid, lid, nwg);
  if (idx >= u.total) { return; }
${body}
}
`;
  },
});

/** Records an avgPool2d forward (`backward` false: x → y) or backward (dy → dx) launch. */
export function launchAvgPool(
  backend: Backend,
  dtype: 'f32' | 'f16',
  backward: boolean,
  g: PoolGeometry,
  input: { buffer: DeviceBuffer; offset: number },
  out: DeviceBuffer,
  label: string,
): void {
  const total = g.planes * (backward ? g.h * g.w : g.ho * g.wo);
  if (total === 0) return;
  if (backend.kind === 'cpu') return cpuAvgPool(backend, dtype, backward, g, input, out, label);
  const engine = backend;
  avgPoolProgram.dispatch(
    engine,
    { dtype, backward },
    {
      label,
      buffers: { X: input.buffer, Y: out },
      uniforms: {
        total,
        h: g.h,
        w: g.w,
        ho: g.ho,
        wo: g.wo,
        kh: g.kh,
        kw: g.kw,
        sh: g.sh,
        sw: g.sw,
        ph: g.ph,
        pw: g.pw,
        xOff: input.offset,
      },
      workgroups: engine.grid(Math.ceil(total / WG)),
    },
  );
}
