// Shared fixtures of the GPU tests: tiny expert configs, a small InternVLA-like layout with padding,
// random weights loaded into a module, and host copies of them for the float64 reference.
import { Tensor, mropeTables, reshape, tensor, tidy, type Module } from '@vla/tensor-webgpu';
import type { ExpertConfig, RopeTables } from '../src/index.js';
import { segmentMask } from '../src/index.js';
import { normals } from './random.js';
import type { RefExpert } from './reference.js';

export const HEAD = { qHeads: 4, kvHeads: 2, headDim: 16, eps: 1e-6 };
export const EXPERTS: ExpertConfig[] = [
  { name: 'und', width: 48, mlpWidth: 80, ...HEAD },
  { name: 'gen', width: 32, mlpWidth: 64, ...HEAD },
  { name: 'act', width: 40, mlpWidth: 56, ...HEAD },
];
export const THETA = 5e6;

/** Position ids `(t, h, w)` per token, as the model owning the experts assigns them. */
export type MropeIds = [Int32Array, Int32Array, Int32Array];

/**
 * Rotary tables `[B, 1, S, headDim/2]` of per-sample `(t, h, w)` ids through the core's M-RoPE tables
 * (the MoT only consumes tables; which ids a model assigns is its own business).
 */
export function ropeTables(ids: readonly MropeIds[], headDim: number, theta: number): RopeTables {
  const B = ids.length;
  const S = ids[0][0].length;
  return tidy(() => {
    const flat = new Int32Array(3 * B * S);
    ids.forEach((p, b) => p.forEach((row, a) => flat.set(row, (a * B + b) * S)));
    const { cos, sin } = mropeTables(Tensor.fromData(flat, [3, B, S], 'i32'), headDim, theta);
    return { cos: reshape(cos, [B, 1, S, headDim / 2]), sin: reshape(sin, [B, 1, S, headDim / 2]) };
  });
}

/** Ids of tokens `[start, end)`. */
export function sliceIds(ids: MropeIds, start: number, end: number): MropeIds {
  return [ids[0].slice(start, end), ids[1].slice(start, end), ids[2].slice(start, end)];
}

/**
 * Prefix: one view (<vs>, 2x2 image, <ve>) + 2 text tokens = 8; generation 4; state 1 + actions 3.
 * Sample 1 has its last text token and half of its generation tokens padded. Positions follow
 * Qwen3-VL (image tokens on a (t, row, col) grid, everything else 1-D, padding skipped with id 1).
 */
export function smallLayout() {
  const range = (start: number, end: number) => ({ start, end });
  const layout = {
    length: 16,
    prefix: range(0, 8),
    text: range(6, 8),
    generation: range(8, 12),
    suffix: range(12, 16),
    // generation [1, 0, 0, 0], state [1], actions [1, 0, 0]
    ar: Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0]),
  };
  const valid = [new Uint8Array(layout.length).fill(1), new Uint8Array(layout.length).fill(1)];
  valid[1][layout.text.end - 1] = 0;
  valid[1].fill(0, layout.generation.start + 2, layout.generation.end);
  const ids: MropeIds[] = valid.map((v) => {
    const rows: MropeIds = [
      new Int32Array(16).fill(1),
      new Int32Array(16).fill(1),
      new Int32Array(16).fill(1),
    ];
    // <vs> 0; image st = 1: (1, 1 + row, 1 + col); then 1-D from 1 + max(1, 2, 2) = 3
    rows[0][0] = rows[1][0] = rows[2][0] = 0;
    for (let k = 0; k < 4; k++) {
      rows[0][1 + k] = 1;
      rows[1][1 + k] = 1 + (k >> 1);
      rows[2][1 + k] = 1 + (k & 1);
    }
    let next = 3;
    for (let i = 5; i < 16; i++) if (v[i]) rows[0][i] = rows[1][i] = rows[2][i] = next++;
    return rows;
  });
  const mask = segmentMask({ ar: layout.ar, valid });
  return { layout, valid, ids, mask };
}

/** Random weights for every parameter (norm weights around 1, linears ~ 1/sqrt(fan-in)). */
export async function randomize(module: Module, seed: number): Promise<void> {
  const sd = new Map<string, Tensor>();
  let s = seed;
  for (const [name, p] of module.namedParameters()) {
    const isNorm = /norm\.weight$/.test(name);
    const std = isNorm ? 0.2 : 1 / Math.sqrt(p.shape[p.shape.length - 1]);
    const v = normals(p.size, s++, std);
    if (isNorm) for (let i = 0; i < v.length; i++) v[i] += 1;
    sd.set(name, tensor(v, p.shape));
  }
  await module.loadStateDict(sd);
  for (const t of sd.values()) t.dispose();
}

async function host(t: Tensor): Promise<Float64Array> {
  return Float64Array.from(await t.toArray());
}

/** Host copy of an expert layer's weights, read from a state dict under `prefix`. */
export async function refExpert(
  sd: Record<string, Tensor>,
  prefix: string,
  cfg: ExpertConfig,
): Promise<RefExpert> {
  const w = (n: string) => {
    const t = sd[prefix + n];
    if (!t) throw new Error(`missing ${prefix + n}`);
    return host(t);
  };
  return {
    width: cfg.width,
    mlpWidth: cfg.mlpWidth,
    inputNorm: await w('input_layernorm.weight'),
    q: await w('self_attn.q_proj.weight'),
    k: await w('self_attn.k_proj.weight'),
    v: await w('self_attn.v_proj.weight'),
    o: await w('self_attn.o_proj.weight'),
    qNorm: await w('self_attn.q_norm.weight'),
    kNorm: await w('self_attn.k_norm.weight'),
    postNorm: await w('post_attention_layernorm.weight'),
    gate: await w('mlp.gate_proj.weight'),
    up: await w('mlp.up_proj.weight'),
    down: await w('mlp.down_proj.weight'),
  };
}

/** Max |a − b| over the rows (tokens) of `[B, S, W]` data where `valid[b][offset + s]` is set. */
export function maxDiffValid(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  B: number,
  S: number,
  W: number,
  valid: ArrayLike<number>[],
  offset: number,
): number {
  let m = 0;
  for (let bb = 0; bb < B; bb++) {
    for (let s = 0; s < S; s++) {
      if (!valid[bb][offset + s]) continue;
      for (let w = 0; w < W; w++) {
        const i = (bb * S + s) * W + w;
        m = Math.max(m, Math.abs(a[i] - b[i]));
      }
    }
  }
  return m;
}
