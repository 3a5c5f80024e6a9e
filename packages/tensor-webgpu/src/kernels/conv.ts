// 2-D convolutions as implicit GEMMs on the tiled skeleton of matmul.ts: the im2col matrix is never
// materialised; the loaders compute the input pixel of each (k, n) on the fly. One template covers
// three products, per group g (the GEMM batch index):
//   fwd    y[n, g·Cog+m, oh, ow]  = Σ_k w[g·Cog+m, k] · x(k=(ci,kh,kw), n=(img,oh,ow))     (conv2d)
//   tconv  y[n, g·Cog+m, oh, ow]  = Σ_k w[g·Cig+ci, m, kh, kw] · x[img, g·Cig+ci, ih, iw]  (convTranspose2d
//          and conv2d's input gradient), with ih = (oh + pad - kh·dil) / stride when that divides
//   wgrad  dW[g·Cog+m, n=(ci,kh,kw)] = Σ_k dy[img, g·Cog+m, p] · x(ci, kh, kw; img, p)     (weight gradient)
// Output pixels (n) run along the tile's columns so that neighbouring threads read neighbouring
// input pixels and write neighbouring outputs.
import { cpuConv } from '../cpu/conv.js';
import type { Backend, DeviceBuffer } from '../runtime/backend.js';
import type { DType } from '../dtype.js';
import { packedHalfArray, packedHalfRead } from './elementwise.js';
import { chooseGemmTile, gemmGrid, gemmThreads, gemmWgsl, type GemmTile } from './matmul.js';
import { wgslProgram, type BindingSchema } from './program.js';

/** Which product a conv kernel computes (see the file comment). */
export type ConvKind = 'fwd' | 'tconv' | 'wgrad';

/** Geometry of a convolution, in the terms of the kernel that runs it. */
export interface ConvGeometry {
  /** Images. */
  batch: number;
  /** Channels, height and width of the tensor read through the im2col loader (`x`). */
  cin: number;
  h: number;
  w: number;
  /** Channels, height and width of the output (fwd/tconv) or of `dy` (wgrad). */
  cout: number;
  ho: number;
  wo: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  /** Top and left padding (bottom/right are implied by the output size). */
  ph: number;
  pw: number;
  dh: number;
  dw: number;
  groups: number;
}

/** Parameters baked into one conv kernel variant. */
export interface ConvVariant {
  kind: ConvKind;
  dtype: Extract<DType, 'f32' | 'f16'>;
  tile: GemmTile;
  bias: boolean;
  /** fwd: weight rows read as vec4 (K % 4 == 0, aligned offset). wgrad: output rows written as vec4. */
  vec: boolean;
  /** fwd/tconv: the weight holds f16 while x and y are f32 (read as packed halves, no shader-f16). */
  halfW?: boolean;
}

/**
 * The conv program: a variant per {@link ConvVariant}. Bindings: fwd/tconv: X, Wt, [bias], Y;
 * wgrad: X, DY, Y. GEMM batch index = group. `cinG`/`coutG` are the channels per group and the
 * `*Off` uniforms the element offsets of the operands in their buffers.
 */
export const convProgram = wgslProgram({
  name: 'conv',
  bindings: (v: ConvVariant): BindingSchema => {
    const T = v.dtype;
    const X = { access: 'read' as const, type: T };
    if (v.kind === 'wgrad')
      return {
        X,
        DY: { access: 'read', type: T },
        Y: { access: 'read_write', type: v.vec ? `vec4<${T}>` : T },
      };
    const wVec = v.kind === 'fwd' && v.vec ? 4 : 1;
    return {
      X,
      Wt: { access: 'read', type: v.halfW ? packedHalfArray(wVec) : wVec === 4 ? `vec4<${T}>` : T },
      ...(v.bias ? { bias: { access: 'read', type: T } } : {}),
      Y: { access: 'read_write', type: T },
    };
  },
  uniforms: {
    M: 'u32',
    N: 'u32',
    K: 'u32',
    batchStart: 'u32',
    cin: 'u32',
    h: 'u32',
    w: 'u32',
    cout: 'u32',
    ho: 'u32',
    wo: 'u32',
    kh: 'u32',
    kw: 'u32',
    sh: 'u32',
    sw: 'u32',
    ph: 'u32',
    pw: 'u32',
    dh: 'u32',
    dw: 'u32',
    cinG: 'u32',
    coutG: 'u32',
    xOff: 'u32',
    wOff: 'u32',
    biasOff: 'u32',
  },
  workgroupSize: (v) => gemmThreads(v.tile),
  body: (v) => {
    const T = v.dtype;
    // Input pixel (img, g·Cig+ci, ih, iw) of x, or 0 in the padding. Signed math for the offsets.
    const readX = `fn readX(img: u32, ci: u32, ih: i32, iw: i32) -> f32 {
  if (ih < 0 || iw < 0 || ih >= i32(u.h) || iw >= i32(u.w)) { return 0.0; }
  return f32(X[u.xOff + ((img * u.cin + grp * u.cinG + ci) * u.h + u32(ih)) * u.w + u32(iw)]);
}`;
    // Weight reads (fwd/tconv): element i, or the vec4 at a 4-aligned i.
    const readW = v.halfW
      ? v.vec
        ? `fn wAt4(i: u32) -> vec4<f32> { return ${packedHalfRead('Wt', 'i', 4)}; }`
        : `fn wAt(i: u32) -> f32 { return ${packedHalfRead('Wt', 'i', 1)}; }`
      : v.kind === 'wgrad'
        ? ''
        : v.vec
          ? 'fn wAt4(i: u32) -> vec4<f32> { return vec4<f32>(Wt[i / 4u]); }'
          : 'fn wAt(i: u32) -> f32 { return f32(Wt[i]); }';
    const common = `${readW}
var<private> grp: u32;
fn prologue(bz: u32) { grp = bz; }
${readX}
`;
    let body: string;
    let aFast: 'k' | 'mn';
    let bFast: 'k' | 'mn';
    let aVec: 1 | 4 = 1;
    if (v.kind === 'wgrad') {
      aFast = 'k';
      bFast = 'k';
      const store = v.vec
        ? `fn storeC(m: u32, n: u32, v: vec4<f32>) {
  if (n < u.N) { Y[((grp * u.coutG + m) * u.N + n) / 4u] = vec4<${T}>(v); }
}`
        : `fn storeC(m: u32, n: u32, v: vec4<f32>) {
  for (var c = 0u; c < 4u; c++) { if (n + c < u.N) { Y[(grp * u.coutG + m) * u.N + n + c] = ${T}(v[c]); } }
}`;
      body = `${common}
// A = dy viewed [Cog, img·Ho·Wo]; B = im2col(x) viewed [img·Ho·Wo, Cig·kh·kw].
fn loadA(m: u32, k: u32) -> f32 {
  if (m >= u.M || k >= u.K) { return 0.0; }
  let hw = u.ho * u.wo;
  let img = k / hw;
  return f32(DY[((img * u.cout + grp * u.coutG + m) * hw) + k % hw]);
}
fn loadB(k: u32, n: u32) -> f32 {
  if (k >= u.K || n >= u.N) { return 0.0; }
  let hw = u.ho * u.wo;
  let img = k / hw;
  let p = k % hw;
  let kk = u.kh * u.kw;
  let ci = n / kk;
  let r = n % kk;
  let ih = i32((p / u.wo) * u.sh + (r / u.kw) * u.dh) - i32(u.ph);
  let iw = i32((p % u.wo) * u.sw + (r % u.kw) * u.dw) - i32(u.pw);
  return readX(img, ci, ih, iw);
}
${store}
`;
    } else {
      bFast = 'mn';
      const biasTerm = v.bias ? ' + f32(bias[u.biasOff + grp * u.coutG + m])' : '';
      const store = `fn storeC(m: u32, n: u32, v: vec4<f32>) {
  let hw = u.ho * u.wo;
  for (var c = 0u; c < 4u; c++) {
    let nn = n + c;
    if (nn < u.N) {
      let img = nn / hw;
      Y[(img * u.cout + grp * u.coutG + m) * hw + nn % hw] = ${T}(v[c]${biasTerm});
    }
  }
}`;
      let loadA: string;
      let loadB: string;
      if (v.kind === 'fwd') {
        aFast = 'k';
        aVec = v.vec ? 4 : 1;
        loadA = v.vec
          ? `fn loadA(m: u32, k: u32) -> vec4<f32> {
  if (m >= u.M || k >= u.K) { return vec4<f32>(0.0); }
  return wAt4(u.wOff + (grp * u.coutG + m) * u.K + k);
}`
          : `fn loadA(m: u32, k: u32) -> f32 {
  if (m >= u.M || k >= u.K) { return 0.0; }
  return wAt(u.wOff + (grp * u.coutG + m) * u.K + k);
}`;
        loadB = `fn loadB(k: u32, n: u32) -> f32 {
  if (k >= u.K || n >= u.N) { return 0.0; }
  let kk = u.kh * u.kw;
  let ci = k / kk;
  let r = k % kk;
  let hw = u.ho * u.wo;
  let img = n / hw;
  let p = n % hw;
  let ih = i32((p / u.wo) * u.sh + (r / u.kw) * u.dh) - i32(u.ph);
  let iw = i32((p % u.wo) * u.sw + (r % u.kw) * u.dw) - i32(u.pw);
  return readX(img, ci, ih, iw);
}`;
      } else {
        aFast = 'k';
        loadA = `fn loadA(m: u32, k: u32) -> f32 {
  if (m >= u.M || k >= u.K) { return 0.0; }
  let kk = u.kh * u.kw;
  return wAt(u.wOff + ((grp * u.cinG + k / kk) * u.coutG + m) * kk + k % kk);
}`;
        // Output pixel o receives input pixel i through tap t when o = i·s - pad + t·dil.
        loadB = `fn loadB(k: u32, n: u32) -> f32 {
  if (k >= u.K || n >= u.N) { return 0.0; }
  let kk = u.kh * u.kw;
  let ci = k / kk;
  let r = k % kk;
  let hw = u.ho * u.wo;
  let img = n / hw;
  let p = n % hw;
  let th = i32(p / u.wo + u.ph) - i32((r / u.kw) * u.dh);
  let tw = i32(p % u.wo + u.pw) - i32((r % u.kw) * u.dw);
  if (th < 0 || tw < 0 || u32(th) % u.sh != 0u || u32(tw) % u.sw != 0u) { return 0.0; }
  return readX(img, ci, th / i32(u.sh), tw / i32(u.sw));
}`;
      }
      body = `${common}
${loadA}
${loadB}
${store}
`;
    }
    return gemmWgsl(
      {
        tile: v.tile,
        a: { vec: aVec, fast: aFast },
        b: { vec: 1, fast: bFast },
      },
      body,
    );
  },
});

/** Buffers and offsets of a conv launch. */
export interface ConvBuffers {
  x: { buffer: DeviceBuffer; offset: number };
  /** Weight (fwd/tconv) or dy (wgrad). */
  w: { buffer: DeviceBuffer; offset: number };
  bias?: { buffer: DeviceBuffer; offset: number };
  out: DeviceBuffer;
}

/** GEMM sizes of a conv kind. */
export function convGemmSize(kind: ConvKind, g: ConvGeometry): { M: number; N: number; K: number } {
  const cinG = g.cin / g.groups;
  const coutG = g.cout / g.groups;
  if (kind === 'wgrad') return { M: coutG, N: cinG * g.kh * g.kw, K: g.batch * g.ho * g.wo };
  return { M: coutG, N: g.batch * g.ho * g.wo, K: cinG * g.kh * g.kw };
}

/** Records one conv kernel launch (one GEMM per group, as the z dimension of the grid). */
export function launchConv(
  backend: Backend,
  kind: ConvKind,
  dtype: 'f32' | 'f16',
  g: ConvGeometry,
  bufs: ConvBuffers,
  label: string,
  tile?: GemmTile,
  halfW = false,
): void {
  if (backend.kind === 'cpu') return cpuConv(backend, kind, dtype, g, bufs, label, halfW);
  const engine = backend;
  const { M, N, K } = convGemmSize(kind, g);
  if (M === 0 || N === 0) return;
  const t = tile ?? chooseGemmTile(M, N, g.groups, engine);
  const vec =
    kind === 'fwd' ? K % 4 === 0 && bufs.w.offset % 4 === 0 : kind === 'wgrad' ? N % 4 === 0 : false;
  const variant: ConvVariant = {
    kind,
    dtype,
    tile: t,
    bias: !!bufs.bias && kind !== 'wgrad',
    vec,
    halfW: halfW && kind !== 'wgrad',
  };
  const [gx, gy] = gemmGrid(t, M, N);
  const maxDim = engine.limits.maxComputeWorkgroupsPerDimension;
  if (gx > maxDim || gy > maxDim) throw new Error(`${label}: too large for one dispatch (GEMM ${M}x${N})`);
  const w = bufs.w.buffer;
  // wgrad reads dy where fwd/tconv read the weight.
  const buffers: Record<string, DeviceBuffer> =
    kind === 'wgrad'
      ? { X: bufs.x.buffer, DY: w, Y: bufs.out }
      : {
          X: bufs.x.buffer,
          Wt: w,
          ...(variant.bias && bufs.bias ? { bias: bufs.bias.buffer } : {}),
          Y: bufs.out,
        };
  for (let start = 0; start < g.groups; start += maxDim) {
    convProgram.dispatch(engine, variant, {
      label,
      buffers,
      uniforms: {
        M,
        N,
        K,
        batchStart: start,
        cin: g.cin,
        h: g.h,
        w: g.w,
        cout: g.cout,
        ho: g.ho,
        wo: g.wo,
        kh: g.kh,
        kw: g.kw,
        sh: g.sh,
        sw: g.sw,
        ph: g.ph,
        pw: g.pw,
        dh: g.dh,
        dw: g.dw,
        cinG: g.cin / g.groups,
        coutG: g.cout / g.groups,
        xOff: bufs.x.offset,
        wOff: bufs.w.offset,
        biasOff: bufs.bias?.offset ?? 0,
      },
      workgroups: [gx, gy, Math.min(maxDim, g.groups - start)],
    });
  }
}
