// The CPU engine's fused normalisations: launches csrc/norm.c for the stages and buffers a
// `NormLaunch` describes (the same bindings, offsets and layouts as the WGSL kernels).
import { halfStorageOnlyMessage } from '../dtype.js';
import type { BufRef, NormLaunch } from '../kernels/norm.js';
import { cpuBuffer, type CpuEngine } from './cpuEngine.js';
import { nm_bwd, nm_fwd, nm_pgrad } from './programs/norm.js';

const KIND = { layer: 0, rms: 1, group: 2 } as const;

/** Byte address of an f32 binding (0 when the variant has none: an optional weight or bias). */
function at(ref: BufRef | undefined): number {
  return ref ? cpuBuffer(ref.buffer).ptr + 4 * ref.offset : 0;
}

/**
 * Runs one norm stage on the CPU: `fwd` writes Y and STATS, `bwd` DX, `pgrad` the partial
 * parameter gradients P. f16 is storage only here, as on a WebGPU device without `shader-f16`.
 */
export function cpuNorm(engine: CpuEngine, p: NormLaunch): void {
  const { variant: v, geometry: g, buffers: b } = p;
  if (g.rows === 0) return;
  if (v.dtype !== 'f32') throw new Error(halfStorageOnlyMessage(p.label));
  for (const name of [
    'X',
    ...(v.stage === 'fwd'
      ? ['Y', 'STATS']
      : v.stage === 'bwd'
        ? ['DY', 'STATS', 'DX']
        : ['DY', 'STATS', 'P']),
  ]) {
    if (!b[name]) throw new Error(`${p.label}: missing buffer ${name}`);
  }
  const shape = { rows: g.rows, d: g.d, hw: g.hw, cpg: g.cpg, groups: g.groups, kind: KIND[v.kind] };
  const work = 8 * g.rows * Math.max(1, g.d);
  if (v.stage === 'fwd') {
    const w = v.weight ? at(b.Wt) : 0;
    const bias = v.bias ? at(b.Bs) : 0;
    engine.run(
      nm_fwd,
      { x: at(b.X), w, b: bias, y: at(b.Y), stats: at(b.STATS), ...shape, eps: p.eps },
      { label: p.label, work },
    );
  } else if (v.stage === 'bwd') {
    const w = v.weight ? at(b.Wt) : 0;
    engine.run(
      nm_bwd,
      { x: at(b.X), dy: at(b.DY), stats: at(b.STATS), w, dx: at(b.DX), ...shape },
      { label: p.label, work },
    );
  } else {
    engine.run(
      nm_pgrad,
      { x: at(b.X), dy: at(b.DY), stats: at(b.STATS), p: at(b.P), ...shape },
      { label: p.label, work },
    );
  }
}
