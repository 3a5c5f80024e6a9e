// The 3B configuration is built under meta() (no allocation) and checked shape by shape and count by
// count against numbers computed here by hand from the SPEC §1 sizes.
import { describe, expect, it } from 'vitest';
import { meta } from '@vla/tensor-webgpu';
import './setup.js';
import { QWEN3_PAD_ID, QWEN3_SPECIAL_IDS, Qwen3Tokenizer, VocabRemap } from '@vla/qwen3-vl';
import {
  InternVLAA1Policy,
  JointSequence,
  derivedSizes,
  encodePrompts,
  policyConfig,
  policyConfigNames,
  registerPolicyConfig,
  tinyConfig,
  tinyTokenIds,
  validatePolicyConfig,
} from '../src/index.js';

/** Parameters of one Qwen3-style decoder layer (q/k/v/o without bias, q/k norms, 2 RMSNorms, SwiGLU). */
function layerParams(width: number, mlp: number, qHeads = 16, kvHeads = 8, headDim = 128): number {
  return (
    width * qHeads * headDim +
    2 * width * kvHeads * headDim +
    qHeads * headDim * width +
    2 * headDim +
    2 * width +
    3 * width * mlp
  );
}

// SPEC §1: text decoder 28 x 2048 (MLP 6144), vocab 151,936 tied; vision 24 x 1024 (MLP 4096),
// patch 16, temporal 2, 48² position grid, merger 4·1024 → 2048; experts 28 x 1024 (MLP 3072).
const TEXT = 151936 * 2048 + 28 * layerParams(2048, 6144) + 2048;
const VB =
  4 * 1024 + (1024 * 3072 + 3072) + (1024 * 1024 + 1024) + (1024 * 4096 + 4096) + (4096 * 1024 + 1024);
const VISION =
  1024 * 3 * 2 * 16 * 16 +
  1024 +
  2304 * 1024 +
  24 * VB +
  2 * 1024 +
  (4096 * 4096 + 4096) +
  (4096 * 2048 + 2048);
const EXPERT = 28 * layerParams(1024, 3072) + 1024;
const E = 1024;
const GEN = EXPERT + (16 * E + E) + (E * E * 64 + E) + (E * E * 64 + E) + 2 * E + (E * 16 + 16);
const ACT = EXPERT + 2 * (32 * E + E) + (2 * E * E + E) + (E * E + E) + (E * 32 + 32);

describe('a1-3b configuration', () => {
  it('builds under meta() with the documented shapes and parameter counts', () => {
    const policy = meta(() => new InternVLAA1Policy(policyConfig('a1-3b')));
    console.log(policy.describe());
    const c = policy.parameterCounts();
    expect(TEXT).toBe(1_720_574_976);
    expect(c.understanding.text).toBe(TEXT);
    expect(c.understanding.vision).toBe(VISION);
    expect(c.generation).toBe(GEN);
    expect(c.action).toBe(ACT);
    expect(c.trainable).toBe(3_070_430_256);
    expect(c.vae).toBe(policy.cosmos.numEncoderParameters() + policy.cosmos.numDecoderParameters());
    expect(c.vae / 1e6).toBeGreaterThan(70); // Cosmos CI8x8: ≈31.2M + 45.6M
    expect(c.vae / 1e6).toBeLessThan(85);

    const specs = new Map(policy.namedSpecs());
    const shape = (name: string) => {
      const s = specs.get(name);
      if (!s) throw new Error(`no parameter ${name}`);
      return [...s.shape];
    };
    expect(shape('und_expert.language_model.embed_tokens.weight')).toEqual([151936, 2048]);
    expect(shape('und_expert.language_model.layers.27.self_attn.q_proj.weight')).toEqual([2048, 2048]);
    expect(shape('und_expert.language_model.layers.0.self_attn.k_proj.weight')).toEqual([1024, 2048]);
    expect(shape('und_expert.language_model.layers.0.mlp.gate_proj.weight')).toEqual([6144, 2048]);
    expect(shape('gen_expert.layers.27.self_attn.q_proj.weight')).toEqual([2048, 1024]);
    expect(shape('gen_expert.layers.0.self_attn.o_proj.weight')).toEqual([1024, 2048]);
    expect(shape('act_expert.layers.0.mlp.down_proj.weight')).toEqual([1024, 3072]);
    expect(shape('act_expert.layers.0.self_attn.q_norm.weight')).toEqual([128]);
    expect(specs.has('und_expert.language_model.layers.28.input_layernorm.weight')).toBe(false);
    expect(shape('cosmos_in_proj.weight')).toEqual([1024, 16, 1, 1]);
    expect(shape('downsample_conv.weight')).toEqual([1024, 1024, 8, 8]);
    expect(shape('upsample_conv.weight')).toEqual([1024, 1024, 8, 8]);
    expect(shape('cosmos_out_layer_norm.weight')).toEqual([1024]);
    expect(shape('cosmos_out_proj.weight')).toEqual([16, 1024]);
    expect(shape('state_proj.weight')).toEqual([1024, 32]);
    expect(shape('action_in_proj.weight')).toEqual([1024, 32]);
    expect(shape('action_time_mlp_in.weight')).toEqual([1024, 2048]);
    expect(shape('action_time_mlp_out.weight')).toEqual([1024, 1024]);
    expect(shape('action_out_proj.weight')).toEqual([32, 1024]);
    expect(shape('und_expert.visual.merger.linear_fc2.weight')).toEqual([2048, 4096]);
    expect(shape('cosmos.encoder.conv_in.weight')).toEqual([128, 48, 3, 3]);
  });

  it('lays out the 3B token budget: prefix 246, generation 96, suffix 51', () => {
    const config = policyConfig('a1-3b');
    const d = derivedSizes(config);
    expect(d).toEqual({
      latentSize: 32,
      tokenKernel: 8,
      imageGrid: [8, 8],
      imageTokens: 64,
      prefixTokens: 246,
      generationTokens: 96,
      suffixTokens: 51,
    });
    const seq = new JointSequence(config, 2, [1, 1, 1, 1, 0, 1], new Uint8Array(96).fill(1));
    const { prefix, generation, suffix, length } = seq.layout;
    expect([
      prefix.end - prefix.start,
      generation.end - generation.start,
      suffix.end - suffix.start,
      length,
    ]).toEqual([246, 96, 51, 393]);
    // Sample 1 lacks view 1: its 66 prefix tokens and 32 generation tokens are padding.
    const invalid = (b: number) => seq.valid[b].length - seq.valid[b].reduce((a, x) => a + x, 0);
    expect(invalid(0)).toBe(0);
    expect(invalid(1)).toBe(66 + 32);
  });

  it('the ablation drops the generation expert and its tokens', () => {
    const policy = meta(() => new InternVLAA1Policy(policyConfig('a1-3b-nogen')));
    const c = policy.parameterCounts();
    expect(c.generation).toBe(0);
    expect(c.trainable).toBe(3_070_430_256 - GEN);
    expect(policy.mot.experts.map((e) => e.name)).toEqual(['und', 'act']);
    expect(derivedSizes(policy.config).generationTokens).toBe(0);
  });
});

describe('configuration registry and validation', () => {
  it('lists the built-in configurations and accepts new ones', () => {
    expect(policyConfigNames()).toEqual(
      expect.arrayContaining(['a1-3b', 'a1-3b-nogen', 'tiny', 'tiny-nogen']),
    );
    registerPolicyConfig('tiny-wide', () => ({ ...tinyConfig({ width: 128 }), name: 'tiny-wide' }));
    expect(policyConfig('tiny-wide').action.width).toBe(128);
    expect(() => policyConfig('nope')).toThrow(/unknown configuration "nope"/);
  });

  it('tiny: 64 px → latent 8 → token conv k = s = 2 → 4x4 tokens per frame', () => {
    const d = derivedSizes(tinyConfig());
    expect(d.latentSize).toBe(8);
    expect(d.tokenKernel).toBe(2);
    expect(d.imageGrid).toEqual([2, 2]);
    expect(d.generationTokens).toBe(3 * 2 * 16);
  });

  it('tiny with 8 px patches: 64 px → 8x8 patches → 4x4 vision tokens per view, the same tokenizer grid', () => {
    const c = tinyConfig({ patchSize: 8 });
    expect(c.vlm.vision.patchSize).toBe(8);
    const d = derivedSizes(c);
    expect(d.imageGrid).toEqual([4, 4]);
    expect(d.imageTokens).toBe(16);
    expect(d.generationTokens).toBe(3 * 2 * 16);
    expect(() => validatePolicyConfig(tinyConfig({ patchSize: 24 }))).toThrow(/multiple of patch·merge = 48/);
  });

  it("visionSize: the vision tower sees its own [h, w] (the processor's size), the tokenizer imageSize", () => {
    const c = { ...tinyConfig(), visionSize: [32, 96] as [number, number] };
    validatePolicyConfig(c);
    const d = derivedSizes(c);
    expect(d.imageGrid).toEqual([1, 3]);
    expect(d.imageTokens).toBe(3);
    expect(d.prefixTokens).toBe(3 * (3 + 2) + c.textTokens);
    expect(d.latentSize).toBe(8); // still imageSize / 8
    expect(
      new JointSequence(c, 1, [1, 1, 1], new Array<number>(c.textTokens).fill(1)).layout.prefix.end,
    ).toBe(d.prefixTokens);
    expect(() => validatePolicyConfig({ ...tinyConfig(), visionSize: [32, 48] })).toThrow(
      /visionSize 32x48 must be a multiple of patch·merge = 32/,
    );
    expect(() => validatePolicyConfig({ ...tinyConfig(), visionSize: [32] })).toThrow(/visionSize/);
  });

  it("init: the new experts' projections start at N(0, 0.02²) as upstream; 'pytorch' keeps kaiming-uniform", async () => {
    const std = async (p: InternVLAA1Policy, name: string) => {
      const w = Array.from(await new Map(p.namedParameters()).get(name)!.toArray());
      return Math.sqrt(w.reduce((a, x) => a + x * x, 0) / w.length);
    };
    const c = tinyConfig();
    const upstream = new InternVLAA1Policy(c);
    const pytorch = new InternVLAA1Policy(c, { init: 'pytorch' });
    const W = c.action.width;
    for (const name of [
      'act_expert.layers.0.self_attn.q_proj.weight',
      'gen_expert.layers.1.mlp.down_proj.weight',
    ]) {
      expect(Math.abs((await std(upstream, name)) / 0.02 - 1), name).toBeLessThan(0.1);
    }
    // kaiming-uniform: U(±1/√in) has std 1/√(3·in).
    const q = 'act_expert.layers.0.self_attn.q_proj.weight';
    expect(Math.abs((await std(pytorch, q)) * Math.sqrt(3 * W) - 1)).toBeLessThan(0.1);
    // The understanding expert (a pretrained VLM upstream) and the policy's own heads keep PyTorch's.
    const und = 'und_expert.language_model.layers.0.self_attn.q_proj.weight';
    expect(Math.abs((await std(upstream, und)) * Math.sqrt(3 * c.vlm.text.hiddenSize) - 1)).toBeLessThan(0.1);
    upstream.dispose();
    pytorch.dispose();
  });

  it('rejects inconsistent configurations with a message naming the field', () => {
    expect(() => validatePolicyConfig({ ...tinyConfig(), imageSize: 48 })).toThrow(
      /imageSize 48 must be a multiple of patch·merge = 32/,
    );
    expect(() => validatePolicyConfig({ ...tinyConfig(), genGrid: 3 })).toThrow(
      /genGrid 3 must divide the latent side 8/,
    );
    expect(() => validatePolicyConfig({ ...tinyConfig(), action: { width: 63, mlpWidth: 64 } })).toThrow(
      /action.width must be even/,
    );
    expect(() => validatePolicyConfig({ ...tinyConfig(), chunkSize: 0 })).toThrow(
      /chunkSize must be a positive integer/,
    );
    expect(() =>
      validatePolicyConfig({ ...tinyConfig(), tokenIds: { visionStart: 4, visionEnd: 9999 } }),
    ).toThrow(/tokenIds.visionEnd 9999/);
  });
});

describe('prompts', () => {
  it('tokenizes with the Qwen3 tokenizer: right-padded / truncated to textTokens, optionally remapped', async () => {
    const tokenizer = await Qwen3Tokenizer.load();
    const config = policyConfig('a1-3b');
    const short = 'pick up the red cube';
    const long = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
    const { tokens, textMask } = encodePrompts(config, tokenizer, [short, long]);
    const ids = tokenizer.encode(short);
    expect(tokens.length).toBe(2 * 48);
    expect([...tokens.subarray(0, ids.length)]).toEqual(ids);
    expect([...tokens.subarray(ids.length, 48)].every((t) => t === QWEN3_PAD_ID)).toBe(true);
    expect(textMask.subarray(0, 48).reduce((a, b) => a + b, 0)).toBe(ids.length);
    expect([...tokens.subarray(48)]).toEqual(tokenizer.encode(long).slice(0, 48));
    expect(textMask.subarray(48).every((m) => m === 1)).toBe(true);

    // A reduced vocabulary keeps the special tokens first, where tinyConfig expects them.
    const remap = VocabRemap.fromTexts(tokenizer, [short]);
    const tiny = tinyConfig({ textTokens: 8 });
    expect(tiny.tokenIds).toEqual(tinyTokenIds());
    expect([...remap.toCompact([QWEN3_SPECIAL_IDS.visionStart, QWEN3_SPECIAL_IDS.visionEnd])]).toEqual([
      tiny.tokenIds.visionStart,
      tiny.tokenIds.visionEnd,
    ]);
    const compact = encodePrompts(tiny, tokenizer, [short], remap);
    expect([...remap.toFull(compact.tokens.subarray(0, ids.length))]).toEqual(ids);
    expect(Math.max(...compact.tokens)).toBeLessThan(remap.size);
  });
});
