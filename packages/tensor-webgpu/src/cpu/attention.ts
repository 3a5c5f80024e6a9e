// The CPU engine's attention: launches csrc/attention.c (flash-style forward with its log-sum-exp,
// and the dK/dV and dQ backward stages) for a launch the WebGPU path would dispatch.
import type { AttentionLaunch, AttnOperand } from '../kernels/attention.js';
import { halfStorageOnlyMessage } from '../dtype.js';
import { cpuBuffer, type CpuEngine } from './cpuEngine.js';
import { at_dkdv, at_dq, at_fwd } from './programs/attention.js';

const MASK_KIND = { 'add-f32': 1, bool: 2 } as const;

/** Byte address of an f32/u32 operand's element 0 (offsets are in 4-byte elements). */
const at = (o: { buffer: AttnOperand['buffer']; offset: number } | undefined) =>
  o ? cpuBuffer(o.buffer).ptr + 4 * o.offset : 0;

/**
 * Runs one attention stage on the CPU engine. The launcher (`launchAttention`) has validated the
 * launch; like a WebGPU device without `shader-f16`, f16 operands or an f16 mask are storage only.
 */
export function cpuAttention(engine: CpuEngine, p: AttentionLaunch): void {
  const s = p.shape;
  const heads = p.stage === 'dkdv' ? s.hkv : s.hq;
  const rows = p.stage === 'dkdv' ? s.sk : s.sq;
  if (rows === 0 || heads === 0 || s.batch === 0) return;
  if (p.dtype === 'f16' || p.mask?.kind === 'add-f16') throw new Error(halfStorageOnlyMessage(p.label));
  const strides = (o: AttnOperand | undefined) => (o ? [...o.strides] : []);
  const program = p.stage === 'fwd' ? at_fwd : p.stage === 'dkdv' ? at_dkdv : at_dq;
  engine.run(
    program,
    {
      q: at(p.q),
      k: at(p.k),
      v: at(p.v),
      pk: at(p.past?.k),
      pv: at(p.past?.v),
      mask: at(p.mask),
      dout: at(p.dout),
      lse: cpuBuffer(p.lse).ptr,
      delta: p.delta ? cpuBuffer(p.delta).ptr : 0,
      out0: cpuBuffer(p.outputs[0]).ptr,
      out1: p.outputs[1] ? cpuBuffer(p.outputs[1]).ptr : 0,
      batch: s.batch,
      hq: s.hq,
      hkv: s.hkv,
      sq: s.sq,
      sk: s.sk,
      d: s.d,
      sp: p.past?.length ?? 0,
      maskKind: p.mask ? MASK_KIND[p.mask.kind as keyof typeof MASK_KIND] : 0,
      scale: s.scale,
      qst: strides(p.q),
      kst: strides(p.k),
      vst: strides(p.v),
      dost: strides(p.dout),
      pkst: strides(p.past?.k),
      pvst: strides(p.past?.v),
      mst: p.mask ? [...p.mask.strides] : [],
    },
    // Work ≈ multiply-adds: two products of D per (query, key) pair forward, four backward.
    { label: p.label, work: s.batch * s.hq * s.sq * s.sk * s.d * (p.stage === 'fwd' ? 4 : 8) },
  );
}
