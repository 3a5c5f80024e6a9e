// Fused scaled-dot-product attention with grouped-query heads (flash-attention style): the launcher
// and its operand types. One WGSL program per stage, one file each:
//
// fwd   attention/fwd.ts: online softmax over streamed key/value blocks, saving the log-sum-exp
//       per query row (with `past`, keys/values are a cached prefix followed by the present ones).
// dkdv  attention/dkdv.ts: dK, dV per key block, recomputing P from the saved log-sum-exp.
// dq    attention/dq.ts: dQ per query block.
//
// attention/shared.ts holds the tile choice, the shared-memory sizing, the uniform fields and the
// WGSL the stages share (masking rules included).
import { cpuAttention } from '../cpu/attention.js';
import type { Backend, DeviceBuffer } from '../runtime/backend.js';
import { attentionDkdvProgram } from './attention/dkdv.js';
import { attentionDqProgram } from './attention/dq.js';
import { attentionFwdProgram } from './attention/fwd.js';
import {
  chooseAttentionTile,
  LOG2E,
  type AttentionMaskKind,
  type AttentionParams,
  type AttentionStage,
  type AttentionTile,
} from './attention/shared.js';

export { attentionDkdvProgram } from './attention/dkdv.js';
export { attentionDqProgram } from './attention/dq.js';
export { attentionFwdProgram, type AttentionFwdParams } from './attention/fwd.js';
export {
  ATTENTION_THREADS,
  attentionSharedBytes,
  chooseAttentionTile,
  type AttentionMaskKind,
  type AttentionParams,
  type AttentionStage,
  type AttentionTile,
} from './attention/shared.js';

/** Strides (elements) of a [B, H, S, D] operand: batch, head, row; the last dim must be contiguous. */
export interface AttnOperand {
  buffer: DeviceBuffer;
  offset: number;
  strides: readonly [number, number, number];
}

/** Mask strides over [B, Hq, Sq, Sk] (0 where broadcast). */
export interface AttnMask {
  buffer: DeviceBuffer;
  offset: number;
  strides: readonly [number, number, number, number];
}

/** Sizes of an attention problem. */
export interface AttentionShape {
  batch: number;
  hq: number;
  hkv: number;
  sq: number;
  sk: number;
  d: number;
  scale: number;
}

/** The cached prefix of a two-source attention: `length` rows read before K/V. */
export interface AttnPast {
  k: AttnOperand;
  v: AttnOperand;
  length: number;
}

/** Everything one attention launch binds. */
export interface AttentionLaunch {
  stage: AttentionStage;
  dtype: 'f32' | 'f16';
  shape: AttentionShape;
  q: AttnOperand;
  k: AttnOperand;
  v: AttnOperand;
  mask?: AttnMask & { kind: Exclude<AttentionMaskKind, 'none'> };
  /** fwd only: a cached prefix read before k/v (`shape.sk` counts both). */
  past?: AttnPast;
  /** Backward only. */
  dout?: AttnOperand;
  /** Contiguous f32 [B, Hq, Sq] buffers: LSE (fwd output / bwd input) and Δ (bwd). */
  lse: DeviceBuffer;
  delta?: DeviceBuffer;
  /** fwd: [O]; dkdv: [DK, DV]; dq: [DQ] — contiguous outputs. */
  outputs: DeviceBuffer[];
  label: string;
  tile?: AttentionTile;
}

type OperandFields<N extends string> = Record<`${N}Off` | `${N}sb` | `${N}sh` | `${N}ss`, number>;

// The uniform values of an operand's row addressing (zeros when it is absent).
function operand<N extends string>(name: N, o: AttnOperand | undefined): OperandFields<N> {
  return {
    [`${name}Off`]: o?.offset ?? 0,
    [`${name}sb`]: o?.strides[0] ?? 0,
    [`${name}sh`]: o?.strides[1] ?? 0,
    [`${name}ss`]: o?.strides[2] ?? 0,
  } as OperandFields<N>;
}

function need<T>(b: T | undefined, label: string, name: string): T {
  if (!b) throw new Error(`${label}: missing buffer ${name}`);
  return b;
}

/** Records one attention kernel launch. */
export function launchAttention(backend: Backend, p: AttentionLaunch): void {
  const s = p.shape;
  if (p.past && (p.stage !== 'fwd' || p.past.length > s.sk))
    throw new Error(`${p.label}: a cached prefix of ${p.past.length} rows needs the fwd stage and sk ≥ it`);
  // The CPU kernels stream key blocks of their own size: no tile, no workgroup grid.
  if (backend.kind === 'cpu') return cpuAttention(backend, p);
  const engine = backend;
  const tile =
    p.tile ?? chooseAttentionTile(p.stage, s.d, engine.limits.maxComputeWorkgroupStorageSize, engine);
  const params: AttentionParams = { dtype: p.dtype, headDim: s.d, tile, mask: p.mask?.kind ?? 'none' };
  const rows = p.stage === 'dkdv' ? Math.ceil(s.sk / tile.bc) : Math.ceil(s.sq / tile.br);
  const heads = p.stage === 'dkdv' ? s.hkv : s.hq;
  if (rows === 0 || heads === 0 || s.batch === 0) return;
  const max = engine.limits.maxComputeWorkgroupsPerDimension;
  if (rows > max || heads > max || s.batch > max)
    throw new Error(`${p.label}: grid [${rows}, ${heads}, ${s.batch}] exceeds ${max} per dimension`);
  const m = p.mask;
  const shared = {
    sq: s.sq,
    sk: s.sk,
    hq: s.hq,
    hkv: s.hkv,
    grp: s.hkv ? s.hq / s.hkv : 0,
    ...operand('q', p.q),
    ...operand('k', p.k),
    ...operand('v', p.v),
    mOff: m?.offset ?? 0,
    msb: m?.strides[0] ?? 0,
    msh: m?.strides[1] ?? 0,
    msq: m?.strides[2] ?? 0,
    msk: m?.strides[3] ?? 0,
    scale2: s.scale * LOG2E,
  };
  const inputs = { Q: p.q.buffer, K: p.k.buffer, V: p.v.buffer, ...(m ? { MASK: m.buffer } : {}) };
  const call = { label: p.label, workgroups: [rows, heads, s.batch] as const };
  const out = (i: number, name: string) => need(p.outputs[i], p.label, name);
  if (p.stage === 'fwd') {
    const past = p.past;
    attentionFwdProgram.dispatch(
      engine,
      { ...params, past: !!past },
      {
        ...call,
        buffers: {
          ...inputs,
          ...(past ? { PK: past.k.buffer, PV: past.v.buffer } : {}),
          O: out(0, 'O'),
          LSE: p.lse,
        },
        uniforms: { ...shared, sp: past?.length ?? 0, ...operand('pk', past?.k), ...operand('pv', past?.v) },
      },
    );
    return;
  }
  const backward = {
    ...inputs,
    DO: need(p.dout?.buffer, p.label, 'DO'),
    LSE: p.lse,
    DELTA: need(p.delta, p.label, 'DELTA'),
  };
  const uniforms = { ...shared, ...operand('do', p.dout) };
  if (p.stage === 'dkdv')
    attentionDkdvProgram.dispatch(engine, params, {
      ...call,
      buffers: { ...backward, DK: out(0, 'DK'), DV: out(1, 'DV') },
      uniforms,
    });
  else
    attentionDqProgram.dispatch(engine, params, {
      ...call,
      buffers: { ...backward, DQ: out(0, 'DQ') },
      uniforms,
    });
}
