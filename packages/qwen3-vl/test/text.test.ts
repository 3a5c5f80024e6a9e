import { describe, expect, it } from 'vitest';
import { noGrad, tensor, tidy } from '@vla/tensor-webgpu';
import { segmentMaskTensor } from '@vla/mot-attention';
import {
  buildPrefixLayout,
  mropeRope,
  Qwen3TextModel,
  Qwen3VLModel,
  QWEN3_SPECIAL_IDS,
  tinyQwen3VLConfig,
  VocabRemap,
} from '../src/index.js';
import { eng } from './setup.js';
import {
  attentionRef,
  linearRef,
  maxAbsDiff,
  randomArray,
  rmsNormRef,
  ropeRef,
  splitHeads,
} from './reference.js';
import { randomizeParams } from './util.js';

const cfg = tinyQwen3VLConfig(40);
const t = cfg.text;

// Interleaved M-RoPE angles from SPEC §1: slot s < 3·section[1] with s%3==1 uses h, s%3==2 (below
// 3·section[2]) uses w, all others t; frequency theta^(-2s/headDim).
function mropeAnglesRef(
  pos: { t: Int32Array; h: Int32Array; w: Int32Array },
  hd: number,
  theta: number,
  section: readonly number[],
): Float64Array {
  const half = hd / 2;
  const n = pos.t.length;
  const out = new Float64Array(n * half);
  for (let i = 0; i < n; i++)
    for (let s = 0; s < half; s++) {
      const axis =
        s % 3 === 1 && s < 3 * section[1] ? pos.h : s % 3 === 2 && s < 3 * section[2] ? pos.w : pos.t;
      out[i * half + s] = axis[i] * theta ** ((-2 * s) / hd);
    }
  return out;
}

describe('Qwen3 decoder layer (tiny) vs float64 reference', () => {
  it('layer 0 of a Qwen3TextModel: q/k RMSNorm, GQA 4/2, M-RoPE, segment mask with padding, SwiGLU', async () => {
    const start = eng.poolStats().inUseBytes;
    const model = new Qwen3TextModel({ ...t, numLayers: 2 });
    const p = await randomizeParams(model, 5);
    const g = (k: string) => p.get('layers.0.' + k)!;
    const B = 2;
    const S = 7;
    const D = t.hiddenSize;
    const hd = t.headDim;
    const xHost = randomArray(B * S * D, 9);
    // Sample 0: prefix of 4 (ar 0) then a block of 3 (ar 1,0,0); sample 1: last token is padding.
    const flags = [
      { ar: [0, 0, 0, 0, 1, 0, 0], valid: [1, 1, 1, 1, 1, 1, 1] },
      { ar: [0, 0, 0, 1, 1, 0, 0], valid: [1, 1, 1, 1, 1, 1, 0] },
    ];
    const positions = [0, 1].map((b) => ({
      t: Int32Array.from({ length: S }, (_, i) => i + b),
      h: Int32Array.from({ length: S }, (_, i) => 2 * i + 1),
      w: Int32Array.from({ length: S }, (_, i) => 3 * i - b),
    }));
    const x = tensor(xHost, [B, S, D]);
    const y = noGrad(() =>
      tidy(() => {
        const rope = mropeRope(
          positions.map((q) => [q.t, q.h, q.w] as [Int32Array, Int32Array, Int32Array]),
          t.headDim,
          { theta: t.ropeTheta, section: t.mropeSection },
        );
        const mask = segmentMaskTensor({ ar: flags.map((f) => f.ar), valid: flags.map((f) => f.valid) });
        return model.forward(x, rope, mask, 1); // layer 0 only, no final norm
      }),
    );
    const out = await y.toArray();

    for (let b = 0; b < B; b++) {
      const xb = xHost.subarray(b * S * D, (b + 1) * S * D);
      const h = rmsNormRef(xb, S, D, g('input_layernorm.weight'), t.rmsNormEps);
      const headsNormed = (m: Float64Array, heads: number, w: Float32Array | null) => {
        const normed = w ? rmsNormRef(m, S * heads, hd, w, t.rmsNormEps) : m;
        return normed;
      };
      const q = headsNormed(
        linearRef(h, S, g('self_attn.q_proj.weight'), t.numHeads * hd, D),
        t.numHeads,
        g('self_attn.q_norm.weight'),
      );
      const k = headsNormed(
        linearRef(h, S, g('self_attn.k_proj.weight'), t.numKvHeads * hd, D),
        t.numKvHeads,
        g('self_attn.k_norm.weight'),
      );
      const v = linearRef(h, S, g('self_attn.v_proj.weight'), t.numKvHeads * hd, D);
      const ang = mropeAnglesRef(positions[b], hd, t.ropeTheta, t.mropeSection);
      const rot = (m: Float64Array, heads: number) => {
        const o = new Float64Array(m.length);
        for (let i = 0; i < S; i++)
          for (let hh = 0; hh < heads; hh++) {
            const off = (i * heads + hh) * hd;
            o.set(
              ropeRef(m.subarray(off, off + hd), ang.subarray(i * (hd / 2), (i + 1) * (hd / 2)), hd / 2),
              off,
            );
          }
        return o;
      };
      const c = flags[b].ar.reduce<number[]>((acc, a) => [...acc, (acc.at(-1) ?? 0) + a], []);
      const mask = new Float64Array(S * S);
      for (let i = 0; i < S; i++)
        for (let j = 0; j < S; j++)
          mask[i * S + j] = c[j] <= c[i] && flags[b].valid[i] && flags[b].valid[j] ? 0 : -1e9;
      const att = attentionRef(
        splitHeads(rot(q, t.numHeads), S, t.numHeads, hd),
        splitHeads(rot(k, t.numKvHeads), S, t.numKvHeads, hd),
        splitHeads(v, S, t.numKvHeads, hd),
        mask,
        1 / Math.sqrt(hd),
      );
      const o = linearRef(att, S, g('self_attn.o_proj.weight'), D, t.numHeads * hd);
      const r1 = Float64Array.from(xb, (val, i) => val + o[i]);
      const h2 = rmsNormRef(r1, S, D, g('post_attention_layernorm.weight'), t.rmsNormEps);
      const gate = linearRef(h2, S, g('mlp.gate_proj.weight'), t.intermediateSize, D);
      const up = linearRef(h2, S, g('mlp.up_proj.weight'), t.intermediateSize, D);
      const act = gate.map((z, i) => (z / (1 + Math.exp(-z))) * up[i]);
      const down = linearRef(act, S, g('mlp.down_proj.weight'), D, t.intermediateSize);
      const ref = Float64Array.from(r1, (val, i) => val + down[i]);
      // The padded query row of sample 1 attends nothing valid; only valid rows are compared.
      const rows = flags[b].valid.reduce((n, vv) => n + vv, 0);
      expect(
        maxAbsDiff(out.subarray(b * S * D, b * S * D + rows * D), ref.subarray(0, rows * D)),
      ).toBeLessThan(1e-4);
    }
    x.dispose();
    y.dispose();
    model.dispose();
    expect(eng.poolStats().inUseBytes).toBe(start);
  });
});

describe('Qwen3VLModel prefix (tiny, reduced vocabulary)', () => {
  it('puts merged image tokens at the <|image_pad|> slots and runs the text stack', async () => {
    const remap = new VocabRemap([...Object.values(QWEN3_SPECIAL_IDS), 29245, 705, 279, 2518, 23739]);
    const model = new Qwen3VLModel(tinyQwen3VLConfig(remap.size));
    const text = [29245, 705, 279, 2518, 23739];
    const layouts = [
      buildPrefixLayout(text, [true, false, true], { imageTokens: 4, maxTextTokens: 6 }),
      buildPrefixLayout(text.slice(0, 2), [true, true, true], { imageTokens: 4, maxTextTokens: 6 }),
    ];
    const D = cfg.text.hiddenSize;
    const imgHost = randomArray(2 * 12 * D, 4);
    const img = tensor(imgHost, [2, 12, D]);
    const embTable = await model.languageModel.embedTokens.weight.toArray();
    const inputs = noGrad(() => model.prefixInputs(layouts, img, [64, 64], remap));
    expect(inputs.embeds.shape).toEqual([2, 24, D]);
    expect(inputs.rope.cos.shape).toEqual([2, 1, 24, t.headDim / 2]);
    expect(inputs.mask.shape).toEqual([2, 1, 24, 24]);
    const e = await inputs.embeds.toArray();
    layouts.forEach((lay, b) => {
      const compact = remap.toCompact(lay.ids);
      let k = 0;
      for (let i = 0; i < 24; i++) {
        const row = e.subarray((b * 24 + i) * D, (b * 24 + i + 1) * D);
        const want = lay.isImage[i]
          ? imgHost.subarray((b * 12 + k++) * D, (b * 12 + k) * D)
          : embTable.subarray(compact[i] * D, (compact[i] + 1) * D);
        expect(maxAbsDiff(row, want)).toBe(0);
      }
    });
    const hidden = noGrad(() => model.languageModel.forward(inputs.embeds, inputs.rope, inputs.mask));
    const logits = noGrad(() => model.languageModel.logits(hidden));
    expect(logits.shape).toEqual([2, 24, remap.size]);
    expect((await logits.toArray()).every(Number.isFinite)).toBe(true);
    expect(() => model.embedPrefix(layouts, img)).toThrow(/token id 151652 >= vocabSize/);
    for (const x of [img, inputs.embeds, inputs.rope.cos, inputs.rope.sin, inputs.mask, hidden, logits])
      x.dispose();
    model.dispose();
  });
});
