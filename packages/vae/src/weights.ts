// Loading converted Cosmos checkpoints. The released encoder.jit / decoder.jit are converted once to
// safetensors (see README); the two files (or one merged file) load here under their own names.
import { loadSafetensors, type ByteSourceInput, type Tensor } from '@vla/tensor-webgpu';
import type { CosmosImageTokenizer } from './tokenizer.js';

/** Constant buffers of upstream's Haar (un)patcher; they hold fixed wavelet taps, not weights. */
const IGNORED = /(^|\.)(patcher|unpatcher)\.(wavelets|_arange)$/;

/** True for checkpoint keys that carry no learned weight (the patcher's constant buffers). */
export function isIgnoredCosmosKey(key: string): boolean {
  return IGNORED.test(key);
}

/**
 * Loads converted Cosmos-Tokenizer safetensors (e.g. `encoder.safetensors` and `decoder.safetensors`,
 * or a single merged file) into `tokenizer`, strictly: every parameter must be present with its
 * shape, and no unknown key may remain (patcher constants excepted).
 */
export async function loadCosmosWeights(tokenizer: CosmosImageTokenizer, sources: ByteSourceInput | ByteSourceInput[]): Promise<void> {
  const list = Array.isArray(sources) ? sources : [sources];
  const merged = new Map<string, Tensor>();
  try {
    for (const src of list) {
      const part = await loadSafetensors(src, { floatDtype: 'f32', filter: (k) => !isIgnoredCosmosKey(k) });
      for (const [k, t] of part) {
        if (merged.has(k)) {
          t.dispose();
          throw new Error(`loadCosmosWeights: key ${k} appears in more than one file`);
        }
        merged.set(k, t);
      }
    }
    await tokenizer.loadStateDict(merged, { strict: true });
  } finally {
    for (const t of merged.values()) t.dispose();
  }
}
