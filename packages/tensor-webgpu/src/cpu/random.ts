// CPU launcher of the random family: the WGSL kernel's Philox4x32-10 streams (same key, counters
// and transforms), so a seed gives the same numbers on both engines.
import type { Tensor } from '../tensor.js';
import { addressOf, type CpuEngine } from './cpuEngine.js';
import { rndPhilox } from './programs/random.js';

const DIST = { bits: 0, uniform: 1, normal: 2, beta: 3 } as const;

/** Fills `out` (contiguous f32, or u32 for `bits`) with samples; the key words come from seedKey(seed). */
export function cpuRandom(
  engine: CpuEngine,
  dist: keyof typeof DIST,
  out: Tensor,
  k0: number,
  k1: number,
  p0: number,
  p1: number,
  label: string,
): void {
  const n = out.size;
  // A Philox block is ~10 rounds of two multiplies; Beta samples loop over rejection attempts.
  const work = n * (dist === 'beta' ? 200 : 20);
  engine.run(rndPhilox, { out: addressOf(out), n, k0, k1, dist: DIST[dist], p0, p1 }, { label, work });
}
