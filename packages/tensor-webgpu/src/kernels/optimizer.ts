// Optimizer kernels: fused AdamW and SGD updates (param, state and gradient in one pass, in place),
// and the global gradient norm (per-tensor partial sums of squares, then one reduction). Clipping is
// folded into the update: the update kernels read the norm from its GPU buffer and scale the
// gradient by min(1, maxNorm / (norm + 1e-6)), so clipping needs no readback and no gradient copies.
import type { Backend } from '../runtime/backend.js';
import { cpuAdamW, cpuClipScale, cpuGlobalNorm, cpuSgd } from '../cpu/optimizer.js';
import type { DType } from '../dtype.js';
import { Tensor } from '../tensor.js';
import { wgslProgram } from './program.js';

const WG = 256;
/** Most workgroups one tensor's sum of squares uses (a grid-stride loop covers the rest). */
const MAX_NORM_GROUPS = 64;

/** Float storage of a parameter or gradient. */
type FloatType = 'f32' | 'f16';

function storeType(dtype: DType): FloatType {
  if (dtype !== 'f32' && dtype !== 'f16') throw new Error(`optimizer: dtype ${dtype} is not a float type`);
  return dtype;
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

/** Fused AdamW update; the gradient norm binding is present only when clipping is fused in. */
const adamwProgram = wgslProgram({
  name: 'adamw',
  bindings: (p: { param: FloatType; grad: FloatType; clip: boolean }) => ({
    param: { access: 'read_write' as const, type: p.param },
    grad: { access: 'read' as const, type: p.grad },
    m: { access: 'read_write' as const, type: 'f32' },
    v: { access: 'read_write' as const, type: 'f32' },
    ...(p.clip ? { gnorm: { access: 'read' as const, type: 'f32' } } : {}),
  }),
  uniforms: {
    n: 'u32',
    p_off: 'u32',
    g_off: 'u32',
    first: 'u32',
    lr: 'f32',
    beta1: 'f32',
    beta2: 'f32',
    eps: 'f32',
    wd: 'f32',
    step_size: 'f32',
    bc2_sqrt: 'f32',
    max_norm: 'f32',
  },
  workgroupSize: () => WG,
  body: (p, { workgroupSize }) => `${p.clip ? CLIP_WGSL : ''}
@compute @workgroup_size(${workgroupSize})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linearIndex(wid, lid, nwg);
  if (i >= u.n) { return; }
  let g = f32(grad[u.g_off + i])${p.clip ? ' * clip_coef()' : ''};
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
  param[u.p_off + i] = ${p.param}(p - u.step_size * mi / (sqrt(vi) / u.bc2_sqrt + u.eps));
}`,
});

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
 * The per-step scalars of the fused AdamW update, the same for both engines' kernels: `first`
 * (ignore old m and v), the bias-corrected step size lr / (1 − β1^t) and √(1 − β2^t).
 */
export function adamwStepScalars(args: AdamWStepArgs): {
  first: number;
  step_size: number;
  bc2_sqrt: number;
} {
  return {
    first: args.step === 1 ? 1 : 0,
    step_size: args.lr / (1 - args.beta1 ** args.step),
    bc2_sqrt: Math.sqrt(1 - args.beta2 ** args.step),
  };
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
  if (param.engine.kind === 'cpu')
    return cpuAdamW(param.engine, param, grad, m, v, args, clip, `AdamW step${param.describe()}`);
  const engine = param.engine;
  adamwProgram.dispatch(
    engine,
    { param: storeType(param.dtype), grad: storeType(grad.dtype), clip: !!clip },
    {
      label: `AdamW step${param.describe()}`,
      buffers: {
        param: param.buffer,
        grad: grad.buffer,
        m: m.buffer,
        v: v.buffer,
        ...(clip ? { gnorm: clip.norm.buffer } : {}),
      },
      uniforms: {
        n,
        p_off: param.offset,
        g_off: grad.offset,
        ...adamwStepScalars(args),
        lr: args.lr,
        beta1: args.beta1,
        beta2: args.beta2,
        eps: args.eps,
        wd: args.weightDecay,
        max_norm: clip?.maxNorm ?? 0,
      },
      workgroups: engine.grid(Math.ceil(n / WG)),
    },
  );
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

/** Fused SGD update; the momentum buffer and gradient norm bindings are present only when used. */
const sgdProgram = wgslProgram({
  name: 'sgd',
  bindings: (p: { param: FloatType; grad: FloatType; momentum: boolean; clip: boolean }) => ({
    param: { access: 'read_write' as const, type: p.param },
    grad: { access: 'read' as const, type: p.grad },
    ...(p.momentum ? { buf: { access: 'read_write' as const, type: 'f32' } } : {}),
    ...(p.clip ? { gnorm: { access: 'read' as const, type: 'f32' } } : {}),
  }),
  uniforms: {
    n: 'u32',
    p_off: 'u32',
    g_off: 'u32',
    first: 'u32',
    nesterov: 'u32',
    lr: 'f32',
    momentum: 'f32',
    dampening: 'f32',
    wd: 'f32',
    max_norm: 'f32',
  },
  workgroupSize: () => WG,
  body: (p, { workgroupSize }) => `${p.clip ? CLIP_WGSL : ''}
@compute @workgroup_size(${workgroupSize})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linearIndex(wid, lid, nwg);
  if (i >= u.n) { return; }
  let p = f32(param[u.p_off + i]);
  // Coupled (L2) weight decay, as torch.optim.SGD.
  var d = f32(grad[u.g_off + i])${p.clip ? ' * clip_coef()' : ''} + u.wd * p;
${
  p.momentum
    ? `  var b = d;
  if (u.first == 0u) { b = u.momentum * buf[i] + (1.0 - u.dampening) * d; }
  buf[i] = b;
  if (u.nesterov != 0u) { d = d + u.momentum * b; } else { d = b; }`
    : ''
}
  param[u.p_off + i] = ${p.param}(p - u.lr * d);
}`,
});

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
  if (param.engine.kind === 'cpu')
    return cpuSgd(param.engine, param, grad, buf, args, clip, `SGD step${param.describe()}`);
  const engine = param.engine;
  sgdProgram.dispatch(
    engine,
    { param: storeType(param.dtype), grad: storeType(grad.dtype), momentum: !!buf, clip: !!clip },
    {
      label: `SGD step${param.describe()}`,
      buffers: {
        param: param.buffer,
        grad: grad.buffer,
        ...(buf ? { buf: buf.buffer } : {}),
        ...(clip ? { gnorm: clip.norm.buffer } : {}),
      },
      uniforms: {
        n,
        p_off: param.offset,
        g_off: grad.offset,
        first: args.first ? 1 : 0,
        nesterov: args.nesterov ? 1 : 0,
        lr: args.lr,
        momentum: args.momentum,
        dampening: args.dampening,
        wd: args.weightDecay,
        max_norm: clip?.maxNorm ?? 0,
      },
      workgroups: engine.grid(Math.ceil(n / WG)),
    },
  );
}

/** Per-tensor partial sums of squares: a grid-stride loop over `groups` workgroups. */
const sumSquaresProgram = wgslProgram({
  name: 'sumsq',
  bindings: (p: { grad: FloatType }) => ({
    x: { access: 'read' as const, type: p.grad },
    partials: { access: 'read_write' as const, type: 'f32' },
  }),
  uniforms: { n: 'u32', off: 'u32', base: 'u32', groups: 'u32' },
  workgroupSize: () => WG,
  body: (_p, { workgroupSize: wg }) => `var<workgroup> sh: array<f32, ${wg}>;
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  var s = 0.0;
  for (var i = wid.x * ${wg}u + lid.x; i < u.n; i = i + u.groups * ${wg}u) {
    let a = f32(x[u.off + i]);
    s = s + a * a;
  }
  sh[lid.x] = s;
  workgroupBarrier();
  for (var k = ${wg / 2}u; k > 0u; k = k >> 1u) {
    if (lid.x < k) { sh[lid.x] = sh[lid.x] + sh[lid.x + k]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { partials[u.base + wid.x] = sh[0]; }
}`,
});

/** The square root of the sum of the partials, in one workgroup. */
const sqrtSumProgram = wgslProgram({
  name: 'sqrtsum',
  bindings: (_p: Record<string, never>) => ({
    partials: { access: 'read' as const, type: 'f32' },
    out: { access: 'read_write' as const, type: 'f32' },
  }),
  uniforms: { count: 'u32' },
  workgroupSize: () => WG,
  body: (_p, { workgroupSize: wg }) => `var<workgroup> sh: array<f32, ${wg}>;
@compute @workgroup_size(${wg})
fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
  var s = 0.0;
  for (var i = lid.x; i < u.count; i = i + ${wg}u) { s = s + partials[i]; }
  sh[lid.x] = s;
  workgroupBarrier();
  for (var k = ${wg / 2}u; k > 0u; k = k >> 1u) {
    if (lid.x < k) { sh[lid.x] = sh[lid.x] + sh[lid.x + k]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { out[0] = sqrt(sh[0]); }
}`,
});

/**
 * The L2 norm of all `tensors` together, as a new 0-d f32 tensor: ⌈n/256⌉ (≤ 64) workgroup partial
 * sums per tensor, then one workgroup adds them up. Inputs must be contiguous float tensors.
 */
export function launchGlobalNorm(tensors: readonly Tensor[], backend: Backend): Tensor {
  for (const t of tensors)
    if (!t.isContiguous) throw new Error(`clipGradNorm: gradient${t.describe()} must be contiguous`);
  if (backend.kind === 'cpu') return cpuGlobalNorm(backend, tensors);
  const engine = backend;
  const groups = tensors.map((t) => Math.min(MAX_NORM_GROUPS, Math.ceil(t.size / WG)));
  const total = groups.reduce((a, b) => a + b, 0);
  const out = Tensor.empty([], 'f32', engine);
  const partials = Tensor.empty([Math.max(1, total)], 'f32', engine);
  try {
    let base = 0;
    tensors.forEach((t, k) => {
      if (!groups[k]) return;
      sumSquaresProgram.dispatch(
        engine,
        { grad: storeType(t.dtype) },
        {
          label: `grad norm${t.describe()}`,
          buffers: { x: t.buffer, partials: partials.buffer },
          uniforms: { n: t.size, off: t.offset, base, groups: groups[k] },
          workgroups: [groups[k]],
        },
      );
      base += groups[k];
    });
    sqrtSumProgram.dispatch(
      engine,
      {},
      {
        label: `grad norm of ${tensors.length} tensors`,
        buffers: { partials: partials.buffer, out: out.buffer },
        uniforms: { count: total },
        workgroups: [1],
      },
    );
  } catch (e) {
    out.dispose();
    throw e;
  } finally {
    partials.dispose();
  }
  return out;
}

/** A scaled copy of a gradient: out = grad · min(1, maxNorm / (norm + 1e-6)). */
const clipScaleProgram = wgslProgram({
  name: 'clipscale',
  bindings: (p: { grad: FloatType }) => ({
    grad: { access: 'read' as const, type: p.grad },
    gnorm: { access: 'read' as const, type: 'f32' },
    out: { access: 'read_write' as const, type: p.grad },
  }),
  uniforms: { n: 'u32', off: 'u32', max_norm: 'f32' },
  workgroupSize: () => WG,
  body: (p, { workgroupSize }) => `${CLIP_WGSL}
@compute @workgroup_size(${workgroupSize})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linearIndex(wid, lid, nwg);
  if (i >= u.n) { return; }
  out[i] = ${p.grad}(f32(grad[u.off + i]) * clip_coef());
}`,
});

/** A new contiguous copy of `grad` scaled by min(1, maxNorm / (norm + 1e-6)). */
export function launchClipScale(grad: Tensor, norm: Tensor, maxNorm: number): Tensor {
  if (!grad.isContiguous) throw new Error(`clipGradNorm: gradient${grad.describe()} must be contiguous`);
  const out = Tensor.empty(grad.shape, grad.dtype, grad.engine);
  if (grad.size === 0) return out;
  if (grad.engine.kind === 'cpu') {
    cpuClipScale(grad.engine, grad, norm, maxNorm, out);
    return out;
  }
  const engine = grad.engine;
  clipScaleProgram.dispatch(
    engine,
    { grad: storeType(grad.dtype) },
    {
      label: `clip grad${grad.describe()}`,
      buffers: { grad: grad.buffer, gnorm: norm.buffer, out: out.buffer },
      uniforms: { n: grad.size, off: grad.offset, max_norm: maxNorm },
      workgroups: engine.grid(Math.ceil(grad.size / WG)),
    },
  );
  return out;
}
