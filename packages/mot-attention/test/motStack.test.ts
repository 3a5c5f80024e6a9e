import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  add,
  engine,
  init,
  meta,
  mean,
  mul,
  noGrad,
  shutdown,
  tensor,
  tidy,
  zeros,
  type Tensor,
} from '@vla/tensor-webgpu';
import { KVCache, MoTStack, segmentMaskTensor, type ExpertConfig } from '../src/index.js';
import { normals } from './random.js';
import {
  EXPERTS,
  HEAD,
  THETA,
  maxDiffValid,
  randomize,
  ropeTables,
  sliceIds,
  smallLayout,
  type MropeIds,
} from './setup.js';

beforeAll(async () => {
  await init();
});
afterAll(() => shutdown());

const B = 2;
const { layout, valid, ids } = smallLayout();
const SEG = [layout.prefix, layout.generation, layout.suffix];
const LEN = SEG.map((r) => r.end - r.start);

function inputs(seeds: number[]): Float32Array[] {
  return EXPERTS.map((e, i) => normals(B * LEN[i] * e.width, seeds[i]));
}

/** One uncached pass over the whole sequence. */
function full(stack: MoTStack, xs: Float32Array[]): Tensor[] {
  return tidy(() => {
    const hidden = xs.map((x, i) => tensor(x, [B, LEN[i], EXPERTS[i].width]));
    const mask = segmentMaskTensor({ ar: layout.ar, valid });
    const rope = ropeTables(ids, HEAD.headDim, THETA);
    return stack.forward(hidden, { mask, rope }) as Tensor[];
  });
}

/**
 * Expert `e`'s segment against the cache; inference (`grad` false) reads the cache in place, with
 * gradients recorded attention falls back to the differentiable concatenation.
 */
function step(
  stack: MoTStack,
  cache: KVCache,
  e: number,
  x: Float32Array,
  append: boolean,
  grad = false,
): Tensor {
  const run = () =>
    tidy(() => {
      const hidden = EXPERTS.map((cfg, i) => (i === e ? tensor(x, [B, LEN[i], cfg.width]) : null));
      const { start, end } = SEG[e];
      const mask = segmentMaskTensor({ ar: layout.ar, valid, queries: [start, end] });
      const rope = ropeTables(
        ids.map((p) => sliceIds(p, start, end)),
        HEAD.headDim,
        THETA,
      );
      return stack.forward(hidden, { mask, rope, cache, append })[e]!;
    });
  return grad ? run() : noGrad(run);
}

async function diff(a: Tensor, b: Tensor, e: number, rows: 'valid' | 'all' = 'valid'): Promise<number> {
  const v = rows === 'all' ? valid.map((x) => new Uint8Array(x.length).fill(1)) : valid;
  return maxDiffValid(await a.toArray(), await b.toArray(), B, LEN[e], EXPERTS[e].width, v, SEG[e].start);
}

describe('MoTStack', () => {
  it.each([
    ['in place, room reserved', false, LEN[0] + LEN[1]],
    ['in place, the store grown by the generation append', false, 0],
    ['gradients recorded', true, 0],
  ])(
    'KV-cached prefix → generation → actions (x3 on one cache) equals the uncached pass (%s)',
    async (_n, grad, capacity) => {
      const stack = new MoTStack(EXPERTS, 2);
      await randomize(stack, 1);
      const xA = inputs([11, 12, 13]);
      const actB = normals(B * LEN[2] * EXPERTS[2].width, 14);
      const refA = full(stack, xA);
      const refB = full(stack, [xA[0], xA[1], actB]);

      const cache = new KVCache(2, { capacity });
      const pre = step(stack, cache, 0, xA[0], true, grad);
      expect(cache.length).toBe(LEN[0]);
      const gen = step(stack, cache, 1, xA[1], true, grad);
      expect(cache.length).toBe(LEN[0] + LEN[1]);
      // Padding rows too: a query with no valid key outputs exactly 0 attention on both paths.
      expect(await diff(pre, refA[0], 0, 'all')).toBeLessThan(1e-4);
      expect(await diff(gen, refA[1], 1, 'all')).toBeLessThan(1e-4);
      for (const [x, ref] of [
        [xA[2], refA[2]],
        [actB, refB[2]],
        [xA[2], refA[2]],
      ] as const) {
        const act = step(stack, cache, 2, x, false, grad);
        expect(cache.length).toBe(LEN[0] + LEN[1]);
        expect(await diff(act, ref, 2, 'all')).toBeLessThan(1e-4);
        act.dispose();
      }
      // The two action inputs do give different outputs (the comparison above can fail).
      expect(await diff(refA[2], refB[2], 2)).toBeGreaterThan(1e-2);
      for (const t of [pre, gen, ...refA, ...refB]) t.dispose();
      cache.dispose();
      expect(cache.length).toBe(0);
      stack.dispose();
    },
  );

  it('a denoising step hands out the same bytes against 8 or 64 cached tokens (the cache is not copied)', async () => {
    const stack = new MoTStack(EXPERTS, 2);
    await randomize(stack, 4);
    const Sq = LEN[2];
    const x = normals(B * Sq * EXPERTS[2].width, 15);
    const bytesPerStep = (cached: number): number => {
      const cache = new KVCache(2, { capacity: cached });
      const n = B * HEAD.kvHeads * cached * HEAD.headDim;
      const shape = [B, HEAD.kvHeads, cached, HEAD.headDim];
      tidy(() =>
        [0, 1].forEach((l) =>
          cache.append(l, { k: tensor(normals(n, l), shape), v: tensor(normals(n, l + 2), shape) }),
        ),
      );
      const inputs = tidy(() => {
        const mask = zeros([B, 1, Sq, cached + Sq]);
        const pos = Int32Array.from({ length: Sq }, (_, i) => cached + i);
        const ids: MropeIds = [pos, pos, pos];
        return {
          hidden: tensor(x, [B, Sq, EXPERTS[2].width]),
          mask,
          rope: ropeTables([ids], HEAD.headDim, THETA),
        };
      });
      const before = engine().poolStats().acquiredBytes;
      const out = noGrad(() =>
        stack.forward([null, null, inputs.hidden], { mask: inputs.mask, rope: inputs.rope, cache }),
      );
      const bytes = engine().poolStats().acquiredBytes - before;
      expect(cache.length).toBe(cached);
      for (const t of [out[2]!, inputs.hidden, inputs.mask, inputs.rope.cos, inputs.rope.sin]) t.dispose();
      cache.dispose();
      return bytes;
    };
    const short = bytesPerStep(8);
    expect(short).toBeGreaterThan(0);
    expect(bytesPerStep(64)).toBe(short);
    stack.dispose();
  });

  it('routes information by the segment mask: later segments never reach earlier ones', async () => {
    const stack = new MoTStack(EXPERTS, 2);
    await randomize(stack, 2);
    const base = inputs([21, 22, 23]);
    const newGen = normals(B * LEN[1] * EXPERTS[1].width, 24);
    const newAct = normals(B * LEN[2] * EXPERTS[2].width, 25);
    const newPre = normals(B * LEN[0] * EXPERTS[0].width, 26);
    const r0 = full(stack, base);
    const rGen = full(stack, [base[0], newGen, base[2]]);
    const rAct = full(stack, [base[0], base[1], newAct]);
    const rPre = full(stack, [newPre, base[1], base[2]]);
    // Prefix is unaffected by generation and action inputs; generation by action inputs.
    expect(await diff(r0[0], rGen[0], 0)).toBe(0);
    expect(await diff(r0[0], rAct[0], 0)).toBe(0);
    expect(await diff(r0[1], rAct[1], 1)).toBe(0);
    // Actions see generation tokens; generation and actions see the prefix.
    expect(await diff(r0[2], rGen[2], 2)).toBeGreaterThan(1e-3);
    expect(await diff(r0[1], rPre[1], 1)).toBeGreaterThan(1e-3);
    expect(await diff(r0[2], rPre[2], 2)).toBeGreaterThan(1e-3);
    for (const t of [...r0, ...rGen, ...rAct, ...rPre]) t.dispose();
    stack.dispose();
  });

  it('gradients reach every parameter of every expert', async () => {
    const stack = new MoTStack(EXPERTS, 2);
    await randomize(stack, 3);
    const xs = inputs([31, 32, 33]);
    const loss = tidy(() => {
      const out = full(stack, xs);
      // A random linear functional of each output, so no gradient vanishes by symmetry.
      const terms = out.map((o, i) => mean(mul(o, tensor(normals(o.size, 40 + i), o.shape))));
      const l = add(add(terms[0], terms[1]), terms[2]);
      l.backward();
      return l;
    });
    loss.dispose();
    const params = stack.namedParameters();
    expect(params.length).toBe(3 * (2 * 11 + 1));
    for (const [name, p] of params) {
      expect(p.grad, name).not.toBeNull();
      const g = await p.grad!.toArray();
      expect(g.every(Number.isFinite), name).toBe(true);
      expect(
        g.some((v) => v !== 0),
        name,
      ).toBe(true);
    }
    stack.dispose();
  });

  it('stores weights expert by expert with HF names; the 3B configuration builds under meta()', () => {
    const stack = meta(() => new MoTStack(EXPERTS, 2));
    const names = stack.namedSpecs().map(([n]) => n);
    expect(names).toContain('und.layers.0.self_attn.q_proj.weight');
    expect(names).toContain('gen.layers.1.self_attn.k_norm.weight');
    expect(names).toContain('act.layers.1.mlp.down_proj.weight');
    expect(names).toContain('act.norm.weight');
    expect(names.filter((n) => n.startsWith('und.layers.0.')).sort()).toEqual(
      [
        'input_layernorm.weight',
        'mlp.down_proj.weight',
        'mlp.gate_proj.weight',
        'mlp.up_proj.weight',
        'post_attention_layernorm.weight',
        'self_attn.k_norm.weight',
        'self_attn.k_proj.weight',
        'self_attn.o_proj.weight',
        'self_attn.q_norm.weight',
        'self_attn.q_proj.weight',
        'self_attn.v_proj.weight',
      ].map((n) => `und.layers.0.${n}`),
    );
    // SPEC §1: understanding 2048/6144, generation and action 1024/3072; 16 q / 8 kv heads of 128; 28 layers.
    const head = { qHeads: 16, kvHeads: 8, headDim: 128 };
    const cfgs: ExpertConfig[] = [
      { name: 'und', width: 2048, mlpWidth: 6144, ...head },
      { name: 'gen', width: 1024, mlpWidth: 3072, ...head },
      { name: 'act', width: 1024, mlpWidth: 3072, ...head },
    ];
    const perLayer = (w: number, m: number) => w * 2048 * 2 + w * 1024 * 2 + 2 * 128 + 2 * w + 3 * w * m;
    const expected = cfgs.reduce((n, c) => n + 28 * perLayer(c.width, c.mlpWidth) + c.width, 0);
    const big = meta(() => new MoTStack(cfgs, 28));
    expect(big.numParameters()).toBe(expected);
  });
});
