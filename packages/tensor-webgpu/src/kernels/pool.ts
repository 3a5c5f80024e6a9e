// Average pooling (NCHW), forward and backward, one thread per output (forward) or per input
// element (backward). The backward gathers from the outputs whose windows cover the element instead
// of scattering, so it needs no atomics and is deterministic.
import type { Engine, Kernel } from '../runtime/engine.js';
import { linearIndexWgsl, uniformBlock, type UniformBlock } from './uniforms.js';

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

function poolUniforms(g: PoolGeometry, total: number, xOff: number): UniformBlock {
  const f: [string, number][] = [
    ['total', total],
    ['h', g.h],
    ['w', g.w],
    ['ho', g.ho],
    ['wo', g.wo],
    ['kh', g.kh],
    ['kw', g.kw],
    ['sh', g.sh],
    ['sw', g.sw],
    ['ph', g.ph],
    ['pw', g.pw],
    ['xOff', xOff],
  ];
  return uniformBlock(f.map(([name, value]) => ({ name, type: 'u32' as const, value })));
}

const ZERO: PoolGeometry = { planes: 0, h: 0, w: 0, ho: 0, wo: 0, kh: 0, kw: 0, sh: 0, sw: 0, ph: 0, pw: 0 };

/**
 * avgPool2d kernel. `backward: false`: out[p, oh, ow] = mean of the kh·kw window (padding counts as
 * zeros, PyTorch's count_include_pad=True). `backward: true`: dx[p, ih, iw] = Σ dy / (kh·kw) over the
 * windows that contain (ih, iw). Bindings: input (x or dy), output, uniforms.
 */
export function avgPoolKernel(dtype: 'f32' | 'f16', backward: boolean): Kernel {
  return {
    key: `avgpool|${dtype}|${backward ? 'bwd' : 'fwd'}`,
    code: () => {
      const T = dtype;
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
      // ohLo = ⌊(ih + ph − kh) / s⌋ + 1 computed as (a + s) / s: WGSL truncates, which equals the
      // floor whenever a + s ≥ 0, and smaller numerators give results ≤ 0 that are clamped to 0.
      return `${T === 'f16' ? 'enable f16;\n' : ''}@group(0) @binding(0) var<storage, read> X: array<${T}>;
@group(0) @binding(1) var<storage, read_write> Y: array<${T}>;
${poolUniforms(ZERO, 0, 0).wgsl(2)}
${linearIndexWgsl(WG)}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = linearIndex(wid, lid, nwg);
  if (idx >= u.total) { return; }
${body}
}
`;
    },
  };
}

/** Records an avgPool2d forward (`backward` false: x → y) or backward (dy → dx) launch. */
export function launchAvgPool(
  engine: Engine,
  dtype: 'f32' | 'f16',
  backward: boolean,
  g: PoolGeometry,
  input: { buffer: GPUBuffer; offset: number },
  out: GPUBuffer,
  label: string,
): void {
  const total = g.planes * (backward ? g.h * g.w : g.ho * g.wo);
  if (total === 0) return;
  engine.dispatch({
    kernel: avgPoolKernel(dtype, backward),
    label,
    storage: [
      { buffer: input.buffer, readOnly: true },
      { buffer: out, readOnly: false },
    ],
    uniforms: poolUniforms(g, total, input.offset).data,
    workgroups: engine.grid(Math.ceil(total / WG)),
  });
}
