// Float64 reference of grouped-query scaled dot-product attention with additive or bool masks, and
// SPEC §1's cumulative segment mask.
import type { Nd } from './ndarray.js';

/**
 * softmax(q·kᵀ·scale + mask)·v per head; kv head = h / (Hq/Hkv). `masked(b, h, i, j)` excludes a
 * logit, `bias(b, h, i, j)` adds to it. Rows with every key excluded give 0.
 */
export function attention(
  q: Nd,
  k: Nd,
  v: Nd,
  scale: number,
  masked: (b: number, h: number, i: number, j: number) => boolean = () => false,
  bias: (b: number, h: number, i: number, j: number) => number = () => 0,
): Nd {
  const [B, Hq, Sq, D] = q.shape;
  const [, Hkv, Sk] = k.shape;
  const G = Hq / Hkv;
  const out = new Float64Array(B * Hq * Sq * D);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < Hq; h++) {
      const hk = Math.floor(h / G);
      for (let i = 0; i < Sq; i++) {
        const logits: number[] = [];
        for (let j = 0; j < Sk; j++) {
          if (masked(b, h, i, j)) {
            logits.push(-Infinity);
            continue;
          }
          let s = 0;
          for (let d = 0; d < D; d++)
            s += q.data[((b * Hq + h) * Sq + i) * D + d] * k.data[((b * Hkv + hk) * Sk + j) * D + d];
          logits.push(s * scale + bias(b, h, i, j));
        }
        const m = Math.max(...logits);
        if (m === -Infinity) continue;
        const p = logits.map((s) => Math.exp(s - m));
        const z = p.reduce((a, c) => a + c, 0);
        for (let d = 0; d < D; d++) {
          let acc = 0;
          for (let j = 0; j < Sk; j++) acc += (p[j] / z) * v.data[((b * Hkv + hk) * Sk + j) * D + d];
          out[((b * Hq + h) * Sq + i) * D + d] = acc;
        }
      }
    }
  return { data: out, shape: [B, Hq, Sq, D] };
}

/** SPEC §1: with c = cumsum(ar), i attends j iff c[j] <= c[i] and neither is padding. */
export function segmentMask(ar: readonly number[], pad: readonly boolean[]): boolean[][] {
  const c: number[] = [];
  ar.reduce((acc, a, i) => (c[i] = acc + a), 0);
  return ar.map((_, i) => ar.map((__, j) => c[j] <= c[i] && !pad[i] && !pad[j]));
}
