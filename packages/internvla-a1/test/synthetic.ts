// Generated training data for the tiny policy: per sample and view a coloured blob that moves over
// a gradient (frames t−15, t, t+15 are three points of one motion, so the future is predictable),
// a few random text tokens, random state and actions. Seeded, so every run sees the same data.
import { tensor, type Tensor } from '@vla/tensor-webgpu';
import type { InternVLAA1Config, PolicyBatch } from '../src/index.js';

/** mulberry32: a small seeded uniform generator. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normals (Box–Muller). */
export function normals(n: number, seed: number, std = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++)
    out[i] = std * Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(2 * Math.PI * r());
  return out;
}

/** Options of {@link syntheticBatch}. */
export interface SyntheticOptions {
  /** `[sample, view]` pairs whose camera is missing (all-ones image, mask false). */
  missing?: [number, number][];
  /** Real text tokens per sample (the rest is padding); default: textTokens − sample index. */
  textLengths?: number[];
  /** Mark the last `n` actions of every sample as padding. */
  padActions?: number;
  /**
   * `random` (default): i.i.d. normal actions in all dims. `hold`: per sample a random target held
   * over the chunk in the first 14 dims (a two-arm robot), zeros in the padded dims.
   */
  actions?: 'random' | 'hold';
}

/** A batch of `B` generated samples for `config`; the caller disposes it with {@link disposeBatch}. */
export function syntheticBatch(
  config: InternVLAA1Config,
  B: number,
  seed: number,
  options: SyntheticOptions = {},
): PolicyBatch {
  const { views: V, imageSize: S, textTokens: T, chunkSize: H, stateDim: D } = config;
  const r = rng(seed);
  const missing = new Set((options.missing ?? []).map(([b, v]) => b * V + v));
  const views: ViewHost[] = [];
  for (let v = 0; v < V; v++) {
    const f = [0, 1, 2].map(() => new Float32Array(B * 3 * S * S));
    for (let b = 0; b < B; b++) {
      if (missing.has(b * V + v)) {
        for (const fr of f) fr.fill(1, b * 3 * S * S, (b + 1) * 3 * S * S);
        continue;
      }
      const color = [r() * 2 - 1, r() * 2 - 1, r() * 2 - 1];
      const [x0, y0, dx, dy, g] = [
        0.25 + 0.5 * r(),
        0.25 + 0.5 * r(),
        0.3 * (r() - 0.5),
        0.3 * (r() - 0.5),
        r() - 0.5,
      ];
      for (let k = 0; k < 3; k++) {
        const cx = x0 + (k - 1) * dx;
        const cy = y0 + (k - 1) * dy;
        for (let c = 0; c < 3; c++)
          for (let i = 0; i < S; i++)
            for (let j = 0; j < S; j++) {
              const u = j / (S - 1);
              const w = i / (S - 1);
              const blob = Math.exp(-((u - cx) ** 2 + (w - cy) ** 2) / (2 * 0.12 * 0.12));
              f[k][((b * 3 + c) * S + i) * S + j] = Math.max(
                -1,
                Math.min(1, g * (u - w) + 0.9 * color[c] * blob),
              );
            }
      }
    }
    views.push(f as ViewHost);
  }
  const imageMasks = Uint8Array.from({ length: B * V }, (_, i) => (missing.has(i) ? 0 : 1));
  const tokens = new Int32Array(B * T);
  const textMask = new Uint8Array(B * T);
  for (let b = 0; b < B; b++) {
    const n = Math.max(1, Math.min(T, options.textLengths?.[b] ?? T - b));
    for (let j = 0; j < T; j++) {
      // Ids past the special tokens of the compact vocabulary; padding uses id 1 (<|endoftext|>).
      tokens[b * T + j] = j < n ? 9 + Math.floor(r() * (config.vlm.text.vocabSize - 9)) : 1;
      textMask[b * T + j] = j < n ? 1 : 0;
    }
  }
  const state = normals(B * D, seed + 1);
  let actions = normals(B * H * D, seed + 2);
  if (options.actions === 'hold') {
    const c = normals(B * D, seed + 3);
    actions = new Float32Array(B * H * D);
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++) for (let d = 0; d < 14; d++) actions[(b * H + h) * D + d] = c[b * D + d];
  }
  for (let b = 0; b < B; b++) state.fill(0, b * D + D - 8, (b + 1) * D); // zero-padded dims
  let actionIsPad: Uint8Array | undefined;
  if (options.padActions) {
    actionIsPad = new Uint8Array(B * H);
    actionIsPad.fill(1, H - options.padActions, H);
  }
  const shape = [B, 3, S, S];
  return {
    images: views.map(([past, current, future]) => ({
      past: tensor(past, shape),
      current: tensor(current, shape),
      future: tensor(future, shape),
    })),
    imageMasks,
    tokens,
    textMask,
    state: tensor(state, [B, D]),
    actions: tensor(actions, [B, H, D]),
    actionIsPad,
  };
}

type ViewHost = [Float32Array, Float32Array, Float32Array];

/** Frees a batch made by {@link syntheticBatch}. */
export function disposeBatch(batch: PolicyBatch): void {
  const ts: (Tensor | undefined)[] = [batch.state, batch.actions];
  for (const v of batch.images) ts.push(v.past, v.current, v.future);
  for (const t of ts) t?.dispose();
}

/** Largest |a − b| over two tensors of the same shape (read back). */
export async function maxDiff(a: Tensor, b: Tensor): Promise<number> {
  if (a.shape.join() !== b.shape.join())
    throw new Error(`maxDiff: shapes differ, [${a.shape}] vs [${b.shape}]`);
  const [x, y] = [await a.toArray(), await b.toArray()];
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}
