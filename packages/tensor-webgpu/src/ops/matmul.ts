// Matrix products: batched `matmul` with broadcast batch dims and free transposes, and `linear`
// (PyTorch weight layout) with the bias fused into the GEMM epilogue.
import { recordOp, noGrad } from '../autograd.js';
import { launchMatmul, MATMUL_MAX_BATCH_RANK, type MatmulOperand } from '../kernels/matmul.js';
import { tidy } from '../scope.js';
import { Tensor, shapeSize } from '../tensor.js';
import { asDtypeOf } from './weightGrad.js';
import { sum, sumToShape } from './reduce.js';
import { contiguous, reshape } from './shape.js';

/** Options of {@link matmul}. */
export interface MatmulOptions {
  /** Use the transpose of the last two dims of `a` (no copy is made). */
  transA?: boolean;
  /** Use the transpose of the last two dims of `b` (no copy is made). */
  transB?: boolean;
}

const fmt = (s: readonly number[]) => `[${s.join(',')}]`;

/** Broadcasts two batch shapes (numpy rules) or throws naming the op and both shapes. */
function broadcastBatch(
  op: string,
  a: readonly number[],
  b: readonly number[],
  sa: readonly number[],
  sb: readonly number[],
): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1)
      throw new Error(`${op}: batch dims do not broadcast, ${fmt(sa)} x ${fmt(sb)}`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Strides of an operand over the output batch dims: 0 where the operand is broadcast. */
function batchStridesOf(t: Tensor, batch: readonly number[]): number[] {
  const own = t.rank - 2;
  return batch.map((d, i) => {
    const j = i - (batch.length - own);
    if (j < 0 || t.shape[j] === 1) return 0;
    return t.strides[j];
  });
}

/**
 * Describes a stored matrix for the kernel without copying: a row-major or column-major view of the
 * last two dims is used as is (the latter flips the transpose flag); anything else is made contiguous.
 */
function operand(t: Tensor, trans: boolean, batch: readonly number[], temps: Tensor[]): MatmulOperand {
  const r = t.shape[t.rank - 2];
  const c = t.shape[t.rank - 1];
  const sr = t.strides[t.rank - 2];
  const sc = t.strides[t.rank - 1];
  if (c === 1 || sc === 1) {
    return {
      buffer: t.buffer,
      offset: t.offset,
      ld: r === 1 ? c : sr,
      trans,
      batchStrides: batchStridesOf(t, batch),
    };
  }
  if (sr === 1 || r === 1) {
    return {
      buffer: t.buffer,
      offset: t.offset,
      ld: sc,
      trans: !trans,
      batchStrides: batchStridesOf(t, batch),
    };
  }
  const cont = contiguous(t);
  temps.push(cont);
  return operand(cont, trans, batch, temps);
}

/**
 * The GEMM without autograd: a [..., M, K] (or [..., K, M] with transA) times b, broadcasting batch
 * dims, into a new contiguous tensor (of `outShape` when given, which must have the same size).
 */
function gemm(
  op: string,
  a: Tensor,
  b: Tensor,
  transA: boolean,
  transB: boolean,
  bias?: Tensor,
  outShape?: readonly number[],
): Tensor {
  const [aR, aC] = a.shape.slice(-2);
  const [bR, bC] = b.shape.slice(-2);
  const M = transA ? aC : aR;
  const K = transA ? aR : aC;
  const Kb = transB ? bC : bR;
  const N = transB ? bR : bC;
  if (K !== Kb)
    throw new Error(
      `${op}: inner dims differ, ${fmt(a.shape)}${transA ? 'ᵀ' : ''} x ${fmt(b.shape)}${transB ? 'ᵀ' : ''}`,
    );
  let batch = broadcastBatch(op, a.shape.slice(0, -2), b.shape.slice(0, -2), a.shape, b.shape);
  const shape = outShape ?? [...batch, M, N];
  // Ranks above the kernel's capacity: fold leading size-1 dims away, else refuse.
  while (batch.length > MATMUL_MAX_BATCH_RANK && batch[0] === 1) batch = batch.slice(1);
  if (batch.length > MATMUL_MAX_BATCH_RANK)
    throw new Error(`${op}: more than ${MATMUL_MAX_BATCH_RANK} batch dims ${fmt(a.shape)} x ${fmt(b.shape)}`);
  const out = Tensor.empty(shape, a.dtype, a.engine);
  if (out.size === 0) return out;
  const temps: Tensor[] = [];
  noGrad(() => {
    let oa = operand(a, transA, batch, temps);
    const ob = operand(b, transB, batch, temps);
    let M2 = M;
    let batch2 = batch;
    // B shared by every batch and A's batches evenly spaced rows: one tall GEMM (better tiling).
    if (!oa.trans && ob.batchStrides.every((s) => s === 0) && batch.length > 0) {
      let expect = oa.ld * M;
      let ok = true;
      for (let i = batch.length - 1; i >= 0; i--) {
        if (batch[i] !== 1 && oa.batchStrides[i] !== expect) ok = false;
        expect *= batch[i];
      }
      if (ok) {
        M2 = M * shapeSize(batch);
        batch2 = [];
        oa = { ...oa, batchStrides: [] };
      }
    }
    launchMatmul(a.engine, {
      dtype: a.dtype as 'f32' | 'f16',
      halfB: a.dtype === 'f32' && b.dtype === 'f16',
      M: M2,
      N,
      K,
      batchShape: batch2,
      a: oa,
      b: batch2.length ? ob : { ...ob, batchStrides: [] },
      bias: bias ? { buffer: bias.buffer, offset: bias.offset } : undefined,
      out: out.buffer,
      label: `${op} ${fmt(a.shape)}${transA ? 'ᵀ' : ''}x${fmt(b.shape)}${transB ? 'ᵀ' : ''}`,
    });
  });
  for (const t of temps) t.dispose();
  return out;
}

/**
 * Operands must be f32 or f16 on one engine, all of one dtype, except that the weight (`b`) may be
 * f16 with an f32 input (weight-only f16: read as packed halves, computed and returned in f32).
 */
function checkFloat(op: string, a: Tensor, b: Tensor, bias?: Tensor | null): void {
  for (const t of bias ? [a, b, bias] : [a, b]) {
    if (t.dtype !== 'f32' && t.dtype !== 'f16')
      throw new Error(`${op}: expected f32 or f16, got${t.describe()}`);
    if (t.engine !== a.engine) throw new Error(`${op}: tensors live on different engines`);
  }
  if (b.dtype !== a.dtype && !(a.dtype === 'f32' && b.dtype === 'f16'))
    throw new Error(`${op}: dtypes differ,${a.describe()} and${b.describe()} (an f16 weight needs an f32 or f16 input)`);
  if (bias && bias.dtype !== a.dtype)
    throw new Error(`${op}: bias${bias.describe()} must have the input's dtype ${a.dtype}`);
}


/**
 * Matrix product with PyTorch semantics: the last two dims multiply, leading (batch) dims broadcast.
 * 1-D operands are treated as a row (a) or column (b) vector and that dim is dropped from the result.
 * `transA` / `transB` use the transpose of the last two dims without copying; transposed views (from
 * `transpose`) are also read in place. `b` may be f16 with an f32 `a` (weight-only f16, on every
 * device); the result is f32. Differentiable: dA = dC·op(B)ᵀ, dB = op(A)ᵀ·dC, summed over
 * broadcast batch dims.
 * @example matmul(x, w, { transB: true }) // x [B, S, K] times w [N, K]ᵀ → [B, S, N]
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  checkFloat('matmul', a, b);
  const transA = !!options.transA;
  const transB = !!options.transB;
  if (a.rank === 0 || b.rank === 0)
    throw new Error(`matmul: operands must have at least 1 dim, got ${fmt(a.shape)} x ${fmt(b.shape)}`);
  if (a.rank === 1 || b.rank === 1) {
    if ((a.rank === 1 && transA) || (b.rank === 1 && transB))
      throw new Error('matmul: transA/transB need a 2-D operand');
    return tidy(() => {
      const a2 = a.rank === 1 ? reshape(a, [1, a.shape[0]]) : a;
      const b2 = b.rank === 1 ? reshape(b, [b.shape[0], 1]) : b;
      const c = matmul(a2, b2, options);
      const s = c.shape.slice();
      if (b.rank === 1) s.splice(s.length - 1, 1);
      if (a.rank === 1) s.splice(s.length - (b.rank === 1 ? 1 : 2), 1);
      return reshape(c, s);
    });
  }
  const out = gemm('matmul', a, b, transA, transB);
  const needA = a.requiresGrad;
  const needB = b.requiresGrad;
  return recordOp(
    'matmul',
    out,
    [a, b],
    (g, [sa, sb]) => {
      let ga: Tensor | null = null;
      let gb: Tensor | null = null;
      if (needA) {
        ga = transA ? matmul(sb, g, { transA: transB, transB: true }) : matmul(g, sb, { transB: !transB });
        if (ga.shape.join() !== sa.shape.join()) ga = sumToShape(ga, sa.shape);
      }
      if (needB) {
        gb = transB ? matmul(g, sa, { transA: true, transB: transA }) : matmul(sa, g, { transA: !transA });
        if (gb.shape.join() !== sb.shape.join()) gb = sumToShape(gb, sb.shape);
        gb = asDtypeOf(gb, sb);
      }
      return [ga, gb];
    },
    [a, b],
  );
}

/** Flattens all leading dims of a [..., n] tensor into rows (a view when possible). */
function rows2d(x: Tensor): Tensor {
  // The leading dims' product, not size / n: with n = 0 (no input features) there are still rows.
  const rows = x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  return reshape(x, [rows, x.shape[x.rank - 1]]);
}

/**
 * Fully connected layer `y = x·Wᵀ + b` with PyTorch's layout: x [..., in], weight [out, in],
 * bias [out] → y [..., out]. The leading dims of x are folded into the GEMM's rows and the bias is
 * added in the kernel's epilogue. The weight may be f16 with an f32 x and bias (weight-only f16: half
 * the memory and bandwidth, f32 arithmetic, no shader-f16 needed). Differentiable in x, weight and bias.
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  checkFloat('linear', x, weight, bias);
  if (weight.rank !== 2) throw new Error(`linear: weight must be [out, in], got ${fmt(weight.shape)}`);
  const [outF, inF] = weight.shape;
  if (x.rank < 1 || x.shape[x.rank - 1] !== inF)
    throw new Error(`linear: input ${fmt(x.shape)} does not end in ${inF} (weight ${fmt(weight.shape)})`);
  if (bias && (bias.rank !== 1 || bias.shape[0] !== outF))
    throw new Error(`linear: bias ${fmt(bias.shape)} must be [${outF}]`);
  const outShape = [...x.shape.slice(0, -1), outF];
  const out = noGrad(() =>
    tidy(() => {
      const x2 = rows2d(x);
      const b = bias && !bias.isContiguous ? contiguous(bias) : bias;
      return gemm('linear', x2, weight, false, true, b ?? undefined, outShape);
    }),
  );
  const inputs = bias ? [x, weight, bias] : [x, weight];
  const needX = x.requiresGrad;
  const needW = weight.requiresGrad;
  const needB = !!bias?.requiresGrad;
  return recordOp(
    'linear',
    out,
    inputs,
    (g, [sx, sw]) => {
      const g2 = rows2d(g);
      const gx = needX ? reshape(matmul(g2, sw), sx.shape) : null;
      const gw = needW ? asDtypeOf(matmul(g2, rows2d(sx), { transA: true }), sw) : null;
      const gb = needB ? sum(g2, [0]) : null;
      return bias ? [gx, gw, gb] : [gx, gw];
    },
    [x, weight],
  );
}
