// 2-D convolution and transposed convolution (NCHW, PyTorch weight layouts), run as implicit GEMMs
// (kernels/conv.ts). Each is the other's input gradient, so the backward passes are written with the
// public ops; weight gradients use the dedicated `wgrad` kernel; bias gradients are sums over N, H, W.
import { noGrad, recordOp } from '../autograd.js';
import { launchConv, type ConvGeometry, type ConvKind } from '../kernels/conv.js';
import { tidy } from '../scope.js';
import { Tensor } from '../tensor.js';
import { sum } from './reduce.js';
import { contiguous, slice } from './shape.js';
import { checkNumber, checkNumberList, spatialPair } from './validate.js';
import { asDtypeOf } from './weightGrad.js';

/** A size given once for both spatial dims or as [h, w]. */
export type SpatialSize = number | readonly [number, number];

/** Padding: one number for all sides, [ph, pw] (symmetric), or [top, bottom, left, right]. */
export type Padding2d = number | readonly [number, number] | readonly [number, number, number, number];

/** Options of {@link conv2d}. */
export interface Conv2dParams {
  /** Default 1. */
  stride?: SpatialSize;
  /** Zero padding; default 0. */
  padding?: Padding2d;
  /** Default 1. */
  dilation?: SpatialSize;
  /** Channel groups (in and out channels both divisible); `groups = C` is a depthwise conv. Default 1. */
  groups?: number;
}

/** Options of {@link convTranspose2d}. */
export interface ConvTranspose2dParams extends Conv2dParams {
  /** Extra rows/cols on the bottom/right of the output (each < stride or < dilation). Default 0. */
  outputPadding?: SpatialSize;
}

const fmt = (s: readonly number[]) => `[${s.join(',')}]`;

/** Normalises padding to [top, bottom, left, right]. */
function padding4(op: string, p: Padding2d | undefined): [number, number, number, number] {
  if (p === undefined) return [0, 0, 0, 0];
  const rule = { integer: true, min: 0 };
  if (typeof p === 'number') {
    const v = checkNumber(op, 'padding', p, rule);
    return [v, v, v, v];
  }
  if (!Array.isArray(p) || (p.length !== 2 && p.length !== 4))
    throw new Error(
      `${op}: padding must be a number, [ph, pw] or [top, bottom, left, right], got ${JSON.stringify(p)}`,
    );
  const v = checkNumberList(op, 'padding', p, rule);
  return v.length === 2 ? [v[0], v[0], v[1], v[1]] : [v[0], v[1], v[2], v[3]];
}

function checkInputs(op: string, x: Tensor, w: Tensor, bias: Tensor | undefined, groups: number): void {
  if (x.rank !== 4) throw new Error(`${op}: input must be NCHW (4-D), got ${fmt(x.shape)}`);
  if (w.rank !== 4) throw new Error(`${op}: weight must be 4-D, got ${fmt(w.shape)}`);
  for (const t of [x, w, ...(bias ? [bias] : [])]) {
    if (t.dtype !== 'f32' && t.dtype !== 'f16')
      throw new Error(`${op}: expected f32 or f16, got${t.describe()}`);
    // An f16 weight with f32 activations is weight-only f16 (read as packed halves).
    const halfWeight = t === w && x.dtype === 'f32' && w.dtype === 'f16';
    if (t.dtype !== x.dtype && !halfWeight)
      throw new Error(`${op}: dtypes differ,${x.describe()} and${t.describe()}`);
  }
  checkNumber(op, 'groups', groups, { integer: true, min: 1 });
}

/** Runs one conv kernel on contiguous copies/views of its operands. */
function runConv(
  kind: ConvKind,
  op: string,
  x: Tensor,
  w: Tensor,
  bias: Tensor | undefined,
  g: ConvGeometry,
  outShape: number[],
): Tensor {
  return noGrad(() =>
    tidy(() => {
      const xc = contiguous(x);
      const wc = contiguous(w);
      const bc = bias ? contiguous(bias) : undefined;
      const out = Tensor.empty(outShape, x.dtype, x.engine);
      launchConv(
        x.engine,
        kind,
        x.dtype as 'f32' | 'f16',
        g,
        {
          x: { buffer: xc.buffer, offset: xc.offset },
          w: { buffer: wc.buffer, offset: wc.offset },
          bias: bc ? { buffer: bc.buffer, offset: bc.offset } : undefined,
          out: out.buffer,
        },
        `${op} ${fmt(x.shape)}*${fmt(w.shape)}`,
        undefined,
        kind !== 'wgrad' && x.dtype === 'f32' && w.dtype === 'f16',
      );
      return out;
    }),
  );
}

/**
 * Weight gradient of a convolution with geometry `g` (x [N, cin, h, w] through the im2col loader,
 * dy [N, cout, ho, wo]): returns [cout, cin/groups, kh, kw]. Not differentiable itself.
 */
function convWeightGrad(x: Tensor, dy: Tensor, g: ConvGeometry): Tensor {
  return runConv('wgrad', 'conv2d weight grad', x, dy, undefined, g, [g.cout, g.cin / g.groups, g.kh, g.kw]);
}

/**
 * 2-D cross-correlation (PyTorch `conv2d`): x [N, Cin, H, W], weight [Cout, Cin/groups, kh, kw],
 * bias [Cout] → [N, Cout, Ho, Wo] with Ho = ⌊(H + top + bottom − dil·(kh−1) − 1) / stride⌋ + 1.
 * Padding may be asymmetric ([top, bottom, left, right]). Differentiable in x, weight and bias
 * (dx is a transposed convolution, dW a dedicated implicit GEMM over N·Ho·Wo).
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, params: Conv2dParams = {}): Tensor {
  const op = 'conv2d';
  const groups = params.groups ?? 1;
  checkInputs(op, x, weight, bias ?? undefined, groups);
  const [sh, sw] = spatialPair(op, 'stride', params.stride, 1, 1);
  const [dh, dw] = spatialPair(op, 'dilation', params.dilation, 1, 1);
  const [pt, pb, pl, pr] = padding4(op, params.padding);
  const [n, cin, h, w] = x.shape;
  const [cout, cinG, kh, kw] = weight.shape;
  if (cin % groups !== 0 || cout % groups !== 0)
    throw new Error(`${op}: channels in ${cin} / out ${cout} not divisible by groups ${groups}`);
  if (cinG * groups !== cin)
    throw new Error(
      `${op}: weight ${fmt(weight.shape)} expects ${cinG * groups} input channels (groups ${groups}), input ${fmt(x.shape)} has ${cin}`,
    );
  if (bias && (bias.rank !== 1 || bias.shape[0] !== cout))
    throw new Error(`${op}: bias ${fmt(bias.shape)} must be [${cout}]`);
  const ho = Math.floor((h + pt + pb - dh * (kh - 1) - 1) / sh) + 1;
  const wo = Math.floor((w + pl + pr - dw * (kw - 1) - 1) / sw) + 1;
  if (ho <= 0 || wo <= 0)
    throw new Error(
      `${op}: kernel ${kh}x${kw} (dilation ${dh},${dw}) larger than padded input ${fmt(x.shape)}`,
    );
  const g: ConvGeometry = {
    batch: n,
    cin,
    h,
    w,
    cout,
    ho,
    wo,
    kh,
    kw,
    sh,
    sw,
    ph: pt,
    pw: pl,
    dh,
    dw,
    groups,
  };
  const out = runConv('fwd', op, x, weight, bias ?? undefined, g, [n, cout, ho, wo]);
  const inputs = bias ? [x, weight, bias] : [x, weight];
  const needX = x.requiresGrad;
  const needW = weight.requiresGrad;
  const needB = !!bias?.requiresGrad;
  return recordOp(
    op,
    out,
    inputs,
    (gy, [sx, sw_]) => {
      // Rows/cols of x that the forward never reached (floor in Ho) come back through outputPadding.
      const opH = h + pt + pb - dh * (kh - 1) - 1 - (ho - 1) * sh;
      const opW = w + pl + pr - dw * (kw - 1) - 1 - (wo - 1) * sw;
      const gx = needX
        ? convTranspose2d(gy, sw_, null, {
            stride: [sh, sw],
            padding: [pt, pb, pl, pr],
            outputPadding: [opH, opW],
            dilation: [dh, dw],
            groups,
          })
        : null;
      const gw = needW ? asDtypeOf(convWeightGrad(sx, gy, g), sw_) : null;
      const gb = needB ? sum(gy, [0, 2, 3]) : null;
      return bias ? [gx, gw, gb] : [gx, gw];
    },
    [x, weight],
  );
}

/**
 * Transposed 2-D convolution (PyTorch `conv_transpose2d`, the gradient of conv2d w.r.t. its input):
 * x [N, Cin, H, W], weight [Cin, Cout/groups, kh, kw], bias [Cout] → [N, Cout, Ho, Wo] with
 * Ho = (H−1)·stride − top − bottom + dil·(kh−1) + outputPadding + 1. Padding crops the output
 * (it may be asymmetric, [top, bottom, left, right]). Differentiable in x, weight and bias.
 */
export function convTranspose2d(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  params: ConvTranspose2dParams = {},
): Tensor {
  const op = 'convTranspose2d';
  const groups = params.groups ?? 1;
  checkInputs(op, x, weight, bias ?? undefined, groups);
  const [sh, sw] = spatialPair(op, 'stride', params.stride, 1, 1);
  const [dh, dw] = spatialPair(op, 'dilation', params.dilation, 1, 1);
  const [oph, opw] = spatialPair(op, 'outputPadding', params.outputPadding, 0, 0);
  const [pt, pb, pl, pr] = padding4(op, params.padding);
  const [n, cin, h, w] = x.shape;
  const [wcin, coutG, kh, kw] = weight.shape;
  if (wcin !== cin)
    throw new Error(
      `${op}: weight ${fmt(weight.shape)} expects ${wcin} input channels, input ${fmt(x.shape)} has ${cin}`,
    );
  if (cin % groups !== 0) throw new Error(`${op}: input channels ${cin} not divisible by groups ${groups}`);
  if ((oph >= sh && oph >= dh) || (opw >= sw && opw >= dw)) {
    throw new Error(
      `${op}: outputPadding [${oph},${opw}] must be smaller than stride [${sh},${sw}] or dilation [${dh},${dw}]`,
    );
  }
  const cout = coutG * groups;
  if (bias && (bias.rank !== 1 || bias.shape[0] !== cout))
    throw new Error(`${op}: bias ${fmt(bias.shape)} must be [${cout}]`);
  const ho = (h - 1) * sh - pt - pb + dh * (kh - 1) + oph + 1;
  const wo = (w - 1) * sw - pl - pr + dw * (kw - 1) + opw + 1;
  if (ho <= 0 || wo <= 0) throw new Error(`${op}: padding crops the whole output of ${fmt(x.shape)}`);
  const g: ConvGeometry = {
    batch: n,
    cin,
    h,
    w,
    cout,
    ho,
    wo,
    kh,
    kw,
    sh,
    sw,
    ph: pt,
    pw: pl,
    dh,
    dw,
    groups,
  };
  const out = runConv('tconv', op, x, weight, bias ?? undefined, g, [n, cout, ho, wo]);
  const inputs = bias ? [x, weight, bias] : [x, weight];
  const needX = x.requiresGrad;
  const needW = weight.requiresGrad;
  const needB = !!bias?.requiresGrad;
  return recordOp(
    op,
    out,
    inputs,
    (gy, [sx, sw_]) => {
      // dx is the plain convolution of dy with the same weight (its layout [Cin, Cout/g] reads as
      // conv2d's [out, in/g]); output padding rows/cols lie past the conv's last window. With an
      // outputPadding ≥ stride (allowed when < dilation) the conv yields extra trailing rows: crop.
      let gx = needX
        ? conv2d(gy, sw_, null, { stride: [sh, sw], padding: [pt, pb, pl, pr], dilation: [dh, dw], groups })
        : null;
      if (gx && (gx.shape[2] !== h || gx.shape[3] !== w)) gx = slice(slice(gx, 2, 0, h), 3, 0, w);
      // dW[ci, co] pairs x (as the conv's output gradient) with dy (as the conv's input).
      const gw = needW
        ? asDtypeOf(
            convWeightGrad(gy, sx, {
              batch: n,
              cin: cout,
              h: ho,
              w: wo,
              cout: cin,
              ho: h,
              wo: w,
              kh,
              kw,
              sh,
              sw,
              ph: pt,
              pw: pl,
              dh,
              dw,
              groups,
            }),
            sw_,
          )
        : null;
      const gb = needB ? sum(gy, [0, 2, 3]) : null;
      return bias ? [gx, gw, gb] : [gx, gw];
    },
    [x, weight],
  );
}
