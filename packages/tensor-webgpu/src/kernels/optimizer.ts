// Optimizer kernels: fused AdamW and SGD updates (param, state and gradient in one pass, in place),
// and the global gradient norm (per-tensor partial sums of squares, then one reduction). Clipping is
// folded into the update: the update kernels read the norm from its GPU buffer and scale the
// gradient by min(1, maxNorm / (norm + 1e-6)), so clipping needs no readback and no gradient copies.
import type { DType } from '../dtype.js';
import type { Engine, Kernel, StorageBinding } from '../runtime/engine.js';
import { Tensor } from '../tensor.js';
import { linearIndexWgsl, uniformBlock, type ScalarField } from './uniforms.js';

const WG = 256;
/** Most workgroups one tensor's sum of squares uses (a grid-stride loop covers the rest). */
const MAX_NORM_GROUPS = 64;

function storeType(dtype: DType): 'f32' | 'f16' {
  if (dtype !== 'f32' && dtype !== 'f16') throw new Error(`optimizer: dtype ${dtype} is not a float type`);
  return dtype;
}

function header(dtypes: DType[]): string {
  return dtypes.includes('f16') ? 'enable f16;\n' : '';
}

// PyTorch's clip_grad_norm_: coefficient min(1, max_norm / (norm + 1e-6)).
const CLIP_WGSL = `fn clip_coef() -> f32 { return min(1.0, u.max_norm / (gnorm[0] + 1e-6)); }`;

/** Where the clipping norm comes from, when clipping is fused into an update. */
export interface FusedClip {
  /** One-element f32 tensor holding the global gradient norm. */
  norm: Tensor;
  maxNorm: number;
}

/** Hyper-parameters of one AdamW update of one tensor (bias corrections already applied). */
export interface AdamWStepArgs {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** This tensor's step number, starting at 1. */
  step: number;
}

function adamwKernel(p: DType, g: DType, clip: boolean): Kernel {
  return {
    key: `adamw:${p}:${g}:${clip ? 'clip' : 'noclip'}`,
    code: () => {
      const scalars = adamwScalars({
        n: 0,
        pOff: 0,
        gOff: 0,
        first: 0,
        lr: 0,
        beta1: 0,
        beta2: 0,
        eps: 0,
        wd: 0,
        stepSize: 0,
        bc2Sqrt: 0,
        maxNorm: 0,
      });
      const P = storeType(p);
      const G = storeType(g);
      return `${header([p, g])}
@group(0) @binding(0) var<storage, read_write> param: array<${P}>;
@group(0) @binding(1) var<storage, read> grad: array<${G}>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
${clip ? '@group(0) @binding(4) var<storage, read> gnorm: array<f32>;' : ''}
${uniformBlock(scalars).wgsl(clip ? 5 : 4)}
${linearIndexWgsl(WG)}
${clip ? CLIP_WGSL : ''}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linearIndex(wid, lid, nwg);
  if (i >= u.n) { return; }
  let g = f32(grad[u.g_off + i])${clip ? ' * clip_coef()' : ''};
  var mi = (1.0 - u.beta1) * g;
  var vi = (1.0 - u.beta2) * g * g;
  // The first step starts from zero moments, so the state buffers need no initialisation.
  if (u.first == 0u) {
    mi = mi + u.beta1 * m[i];
    vi = vi + u.beta2 * v[i];
  }
  m[i] = mi;
  v[i] = vi;
  // Decoupled weight decay, then the bias-corrected step (PyTorch's AdamW formulation).
  let p = f32(param[u.p_off + i]) * (1.0 - u.lr * u.wd);
  param[u.p_off + i] = ${P}(p - u.step_size * mi / (sqrt(vi) / u.bc2_sqrt + u.eps));
}`;
    },
  };
}

function adamwScalars(x: {
  n: number;
  pOff: number;
  gOff: number;
  first: number;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  wd: number;
  stepSize: number;
  bc2Sqrt: number;
  maxNorm: number;
}): ScalarField[] {
  return [
    { name: 'n', type: 'u32', value: x.n },
    { name: 'p_off', type: 'u32', value: x.pOff },
    { name: 'g_off', type: 'u32', value: x.gOff },
    { name: 'first', type: 'u32', value: x.first },
    { name: 'lr', type: 'f32', value: x.lr },
    { name: 'beta1', type: 'f32', value: x.beta1 },
    { name: 'beta2', type: 'f32', value: x.beta2 },
    { name: 'eps', type: 'f32', value: x.eps },
    { name: 'wd', type: 'f32', value: x.wd },
    { name: 'step_size', type: 'f32', value: x.stepSize },
    { name: 'bc2_sqrt', type: 'f32', value: x.bc2Sqrt },
    { name: 'max_norm', type: 'f32', value: x.maxNorm },
  ];
}

function checkUpdateOperands(op: string, param: Tensor, grad: Tensor, state: Tensor[]): void {
  if (!param.isContiguous)
    throw new Error(`${op}: parameter${param.describe()} must be contiguous to be updated in place`);
  if (!grad.isContiguous) throw new Error(`${op}: gradient${grad.describe()} must be contiguous`);
  if (grad.size !== param.size)
    throw new Error(`${op}: gradient${grad.describe()} does not match parameter${param.describe()}`);
  for (const s of state) {
    if (s.dtype !== 'f32' || s.size !== param.size || s.offset !== 0) {
      throw new Error(`${op}: state tensor${s.describe()} does not match parameter${param.describe()}`);
    }
  }
}

/**
 * One fused AdamW update in place: `param`, `m` (exp_avg) and `v` (exp_avg_sq) are overwritten.
 * On step 1 the old contents of m and v are ignored.
 */
export function launchAdamW(
  param: Tensor,
  grad: Tensor,
  m: Tensor,
  v: Tensor,
  args: AdamWStepArgs,
  clip?: FusedClip,
): void {
  checkUpdateOperands('AdamW', param, grad, [m, v]);
  const n = param.size;
  if (n === 0) return;
  const engine = param.engine;
  const bc1 = 1 - args.beta1 ** args.step;
  const bc2 = 1 - args.beta2 ** args.step;
  const uniforms = uniformBlock(
    adamwScalars({
      n,
      pOff: param.offset,
      gOff: grad.offset,
      first: args.step === 1 ? 1 : 0,
      lr: args.lr,
      beta1: args.beta1,
      beta2: args.beta2,
      eps: args.eps,
      wd: args.weightDecay,
      stepSize: args.lr / bc1,
      bc2Sqrt: Math.sqrt(bc2),
      maxNorm: clip?.maxNorm ?? 0,
    }),
  );
  const storage: StorageBinding[] = [
    { buffer: param.buffer, readOnly: false },
    { buffer: grad.buffer, readOnly: true },
    { buffer: m.buffer, readOnly: false },
    { buffer: v.buffer, readOnly: false },
  ];
  if (clip) storage.push({ buffer: clip.norm.buffer, readOnly: true });
  engine.dispatch({
    kernel: adamwKernel(param.dtype, grad.dtype, !!clip),
    label: `AdamW step${param.describe()}`,
    storage,
    uniforms: uniforms.data,
    workgroups: engine.grid(Math.ceil(n / WG)),
  });
}

/** Hyper-parameters of one SGD update. */
export interface SgdStepArgs {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  /** True on the first update of this tensor (the momentum buffer starts as the gradient). */
  first: boolean;
}

function sgdKernel(p: DType, g: DType, momentum: boolean, clip: boolean): Kernel {
  return {
    key: `sgd:${p}:${g}:${momentum ? 'momentum' : 'plain'}:${clip ? 'clip' : 'noclip'}`,
    code: () => {
      const P = storeType(p);
      const G = storeType(g);
      let binding = 2;
      const bufDecl = momentum
        ? `@group(0) @binding(${binding++}) var<storage, read_write> buf: array<f32>;`
        : '';
      const normDecl = clip ? `@group(0) @binding(${binding++}) var<storage, read> gnorm: array<f32>;` : '';
      return `${header([p, g])}
@group(0) @binding(0) var<storage, read_write> param: array<${P}>;
@group(0) @binding(1) var<storage, read> grad: array<${G}>;
${bufDecl}
${normDecl}
${uniformBlock(sgdScalars(0, 0, 0, {} as SgdStepArgs, 0)).wgsl(binding)}
${linearIndexWgsl(WG)}
${clip ? CLIP_WGSL : ''}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linearIndex(wid, lid, nwg);
  if (i >= u.n) { return; }
  let p = f32(param[u.p_off + i]);
  // Coupled (L2) weight decay, as torch.optim.SGD.
  var d = f32(grad[u.g_off + i])${clip ? ' * clip_coef()' : ''} + u.wd * p;
${
  momentum
    ? `  var b = d;
  if (u.first == 0u) { b = u.momentum * buf[i] + (1.0 - u.dampening) * d; }
  buf[i] = b;
  if (u.nesterov != 0u) { d = d + u.momentum * b; } else { d = b; }`
    : ''
}
  param[u.p_off + i] = ${P}(p - u.lr * d);
}`;
    },
  };
}

function sgdScalars(n: number, pOff: number, gOff: number, a: SgdStepArgs, maxNorm: number): ScalarField[] {
  return [
    { name: 'n', type: 'u32', value: n },
    { name: 'p_off', type: 'u32', value: pOff },
    { name: 'g_off', type: 'u32', value: gOff },
    { name: 'first', type: 'u32', value: a.first ? 1 : 0 },
    { name: 'nesterov', type: 'u32', value: a.nesterov ? 1 : 0 },
    { name: 'lr', type: 'f32', value: a.lr ?? 0 },
    { name: 'momentum', type: 'f32', value: a.momentum ?? 0 },
    { name: 'dampening', type: 'f32', value: a.dampening ?? 0 },
    { name: 'wd', type: 'f32', value: a.weightDecay ?? 0 },
    { name: 'max_norm', type: 'f32', value: maxNorm },
  ];
}

/** One fused SGD update in place (`buf` is the momentum buffer, or null without momentum). */
export function launchSgd(
  param: Tensor,
  grad: Tensor,
  buf: Tensor | null,
  args: SgdStepArgs,
  clip?: FusedClip,
): void {
  checkUpdateOperands('SGD', param, grad, buf ? [buf] : []);
  const n = param.size;
  if (n === 0) return;
  const engine = param.engine;
  const storage: StorageBinding[] = [
    { buffer: param.buffer, readOnly: false },
    { buffer: grad.buffer, readOnly: true },
  ];
  if (buf) storage.push({ buffer: buf.buffer, readOnly: false });
  if (clip) storage.push({ buffer: clip.norm.buffer, readOnly: true });
  engine.dispatch({
    kernel: sgdKernel(param.dtype, grad.dtype, !!buf, !!clip),
    label: `SGD step${param.describe()}`,
    storage,
    uniforms: uniformBlock(sgdScalars(n, param.offset, grad.offset, args, clip?.maxNorm ?? 0)).data,
    workgroups: engine.grid(Math.ceil(n / WG)),
  });
}

function sumSquaresKernel(g: DType): Kernel {
  return {
    key: `sumsq:${g}`,
    code: () => `${header([g])}
@group(0) @binding(0) var<storage, read> x: array<${storeType(g)}>;
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;
${uniformBlock(sumSquaresScalars(0, 0, 0, 0)).wgsl(2)}
var<workgroup> sh: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  var s = 0.0;
  for (var i = wid.x * ${WG}u + lid.x; i < u.n; i = i + u.groups * ${WG}u) {
    let a = f32(x[u.off + i]);
    s = s + a * a;
  }
  sh[lid.x] = s;
  workgroupBarrier();
  for (var k = ${WG / 2}u; k > 0u; k = k >> 1u) {
    if (lid.x < k) { sh[lid.x] = sh[lid.x] + sh[lid.x + k]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { partials[u.base + wid.x] = sh[0]; }
}`,
  };
}

function sumSquaresScalars(n: number, off: number, base: number, groups: number): ScalarField[] {
  return [
    { name: 'n', type: 'u32', value: n },
    { name: 'off', type: 'u32', value: off },
    { name: 'base', type: 'u32', value: base },
    { name: 'groups', type: 'u32', value: groups },
  ];
}

const NORM_KERNEL: Kernel = {
  key: 'sqrtsum',
  code: () => `@group(0) @binding(0) var<storage, read> partials: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
${uniformBlock([{ name: 'count', type: 'u32', value: 0 }]).wgsl(2)}
var<workgroup> sh: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
  var s = 0.0;
  for (var i = lid.x; i < u.count; i = i + ${WG}u) { s = s + partials[i]; }
  sh[lid.x] = s;
  workgroupBarrier();
  for (var k = ${WG / 2}u; k > 0u; k = k >> 1u) {
    if (lid.x < k) { sh[lid.x] = sh[lid.x] + sh[lid.x + k]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { out[0] = sqrt(sh[0]); }
}`,
};

/**
 * The L2 norm of all `tensors` together, as a new 0-d f32 tensor: ⌈n/256⌉ (≤ 64) workgroup partial
 * sums per tensor, then one workgroup adds them up. Inputs must be contiguous float tensors.
 */
export function launchGlobalNorm(tensors: readonly Tensor[], engine: Engine): Tensor {
  const groups = tensors.map((t) => Math.min(MAX_NORM_GROUPS, Math.ceil(t.size / WG)));
  const total = groups.reduce((a, b) => a + b, 0);
  const out = Tensor.empty([], 'f32', engine);
  const partials = Tensor.empty([Math.max(1, total)], 'f32', engine);
  try {
    let base = 0;
    tensors.forEach((t, k) => {
      if (!t.isContiguous) throw new Error(`clipGradNorm: gradient${t.describe()} must be contiguous`);
      if (!groups[k]) return;
      engine.dispatch({
        kernel: sumSquaresKernel(t.dtype),
        label: `grad norm${t.describe()}`,
        storage: [
          { buffer: t.buffer, readOnly: true },
          { buffer: partials.buffer, readOnly: false },
        ],
        uniforms: uniformBlock(sumSquaresScalars(t.size, t.offset, base, groups[k])).data,
        workgroups: [groups[k]],
      });
      base += groups[k];
    });
    engine.dispatch({
      kernel: NORM_KERNEL,
      label: `grad norm of ${tensors.length} tensors`,
      storage: [
        { buffer: partials.buffer, readOnly: true },
        { buffer: out.buffer, readOnly: false },
      ],
      uniforms: uniformBlock([{ name: 'count', type: 'u32', value: total }]).data,
      workgroups: [1],
    });
  } catch (e) {
    out.dispose();
    throw e;
  } finally {
    partials.dispose();
  }
  return out;
}

function clipScaleKernel(g: DType): Kernel {
  return {
    key: `clipscale:${g}`,
    code: () => {
      const G = storeType(g);
      return `${header([g])}
@group(0) @binding(0) var<storage, read> grad: array<${G}>;
@group(0) @binding(1) var<storage, read> gnorm: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<${G}>;
${uniformBlock([
  { name: 'n', type: 'u32', value: 0 },
  { name: 'off', type: 'u32', value: 0 },
  { name: 'max_norm', type: 'f32', value: 0 },
]).wgsl(3)}
${linearIndexWgsl(WG)}
${CLIP_WGSL}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linearIndex(wid, lid, nwg);
  if (i >= u.n) { return; }
  out[i] = ${G}(f32(grad[u.off + i]) * clip_coef());
}`;
    },
  };
}

/** A new contiguous copy of `grad` scaled by min(1, maxNorm / (norm + 1e-6)). */
export function launchClipScale(grad: Tensor, norm: Tensor, maxNorm: number): Tensor {
  if (!grad.isContiguous) throw new Error(`clipGradNorm: gradient${grad.describe()} must be contiguous`);
  const out = Tensor.empty(grad.shape, grad.dtype, grad.engine);
  if (grad.size === 0) return out;
  grad.engine.dispatch({
    kernel: clipScaleKernel(grad.dtype),
    label: `clip grad${grad.describe()}`,
    storage: [
      { buffer: grad.buffer, readOnly: true },
      { buffer: norm.buffer, readOnly: true },
      { buffer: out.buffer, readOnly: false },
    ],
    uniforms: uniformBlock([
      { name: 'n', type: 'u32', value: grad.size },
      { name: 'off', type: 'u32', value: grad.offset },
      { name: 'max_norm', type: 'f32', value: maxNorm },
    ]).data,
    workgroups: grad.engine.grid(Math.ceil(grad.size / WG)),
  });
  return out;
}
