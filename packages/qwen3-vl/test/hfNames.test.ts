import { describe, expect, it } from 'vitest';
import { meta, shapeSize } from '@vla/tensor-webgpu';
import { convertHfStateDict, hfKeyToLocal, localKeyToHf, Qwen3VLModel, QWEN3_VL_2B } from '../src/index.js';

describe('Qwen3-VL-2B (meta-built) and HF names', () => {
  const model = meta(() => new Qwen3VLModel(QWEN3_VL_2B));
  const specs = model.namedSpecs();

  it('has the 2B parameter count', () => {
    const v = QWEN3_VL_2B.vision;
    const t = QWEN3_VL_2B.text;
    const block = 2 * 2 * v.hiddenSize + (v.hiddenSize * 3 * v.hiddenSize + 3 * v.hiddenSize) + (v.hiddenSize ** 2 + v.hiddenSize) + 2 * v.hiddenSize * v.intermediateSize + v.intermediateSize + v.hiddenSize;
    const merged = 4 * v.hiddenSize;
    const vision =
      v.hiddenSize * 3 * 2 * 16 * 16 + v.hiddenSize + v.numPositionEmbeddings * v.hiddenSize + v.depth * block + 2 * v.hiddenSize + merged * merged + merged + merged * v.outHiddenSize + v.outHiddenSize;
    const attn = t.hiddenSize * t.headDim * (2 * t.numHeads + 2 * t.numKvHeads) + 2 * t.headDim;
    const layer = attn + 3 * t.hiddenSize * t.intermediateSize + 2 * t.hiddenSize;
    const text = t.vocabSize * t.hiddenSize + t.numLayers * layer + t.hiddenSize;
    const total = model.numParameters();
    console.log(`Qwen3-VL-2B (InternVLA-A1 und expert): ${(total / 1e9).toFixed(3)}B parameters (vision ${(vision / 1e6).toFixed(1)}M, text ${(text / 1e9).toFixed(3)}B); HF's 2.13B adds 3 DeepStack mergers (${((3 * (2 * merged + merged * merged + merged + merged * v.outHiddenSize + v.outHiddenSize)) / 1e6).toFixed(1)}M)`);
    expect(total).toBe(vision + text);
    expect(total).toBeGreaterThan(2.0e9);
    expect(total).toBeLessThan(2.15e9);
    const withDeepstack = meta(() => new Qwen3VLModel({ ...QWEN3_VL_2B, vision: { ...QWEN3_VL_2B.vision, deepstackVisualIndexes: [5, 11, 17] } }));
    expect(withDeepstack.numParameters() / 1e9).toBeCloseTo(2.127, 2);
  });

  it('maps every module key to an HF key and back, with HF shapes', () => {
    const expectShapes: Record<string, number[]> = {
      'model.visual.patch_embed.proj.weight': [1024, 3, 2, 16, 16],
      'model.visual.patch_embed.proj.bias': [1024],
      'model.visual.pos_embed.weight': [2304, 1024],
      'model.visual.blocks.23.attn.qkv.weight': [3072, 1024],
      'model.visual.blocks.0.attn.proj.bias': [1024],
      'model.visual.blocks.0.mlp.linear_fc1.weight': [4096, 1024],
      'model.visual.blocks.0.norm2.bias': [1024],
      'model.visual.merger.norm.weight': [1024],
      'model.visual.merger.linear_fc1.weight': [4096, 4096],
      'model.visual.merger.linear_fc2.weight': [2048, 4096],
      'model.language_model.embed_tokens.weight': [151936, 2048],
      'model.language_model.layers.27.self_attn.q_proj.weight': [2048, 2048],
      'model.language_model.layers.0.self_attn.k_proj.weight': [1024, 2048],
      'model.language_model.layers.0.self_attn.v_proj.weight': [1024, 2048],
      'model.language_model.layers.0.self_attn.o_proj.weight': [2048, 2048],
      'model.language_model.layers.0.self_attn.q_norm.weight': [128],
      'model.language_model.layers.0.self_attn.k_norm.weight': [128],
      'model.language_model.layers.0.input_layernorm.weight': [2048],
      'model.language_model.layers.0.post_attention_layernorm.weight': [2048],
      'model.language_model.layers.0.mlp.gate_proj.weight': [6144, 2048],
      'model.language_model.layers.0.mlp.up_proj.weight': [6144, 2048],
      'model.language_model.layers.0.mlp.down_proj.weight': [2048, 6144],
      'model.language_model.norm.weight': [2048],
    };
    const hf = new Map<string, readonly number[]>();
    for (const [k, s] of specs) {
      const h = localKeyToHf(k);
      expect(hfKeyToLocal(h)).toBe(k);
      hf.set(h, s.shape);
    }
    for (const [k, s] of Object.entries(expectShapes)) expect(hf.get(k), k).toEqual(s);
    expect(hf.size).toBe(specs.length);
    // 24 blocks x 12 tensors + patch embed 2 + pos 1 + merger 6; 28 layers x 11 + embed + norm.
    expect(specs.filter(([k]) => k.startsWith('visual.')).length).toBe(24 * 12 + 9);
    expect(specs.filter(([k]) => k.startsWith('language_model.')).length).toBe(28 * 11 + 2);
    let n = 0;
    for (const [, s] of specs) n += shapeSize(s.shape);
    expect(n).toBe(model.numParameters());
  });

  it('drops the tied lm_head and DeepStack mergers, accepts the older layout and a prefix', () => {
    expect(hfKeyToLocal('lm_head.weight')).toBeNull();
    expect(hfKeyToLocal('model.visual.deepstack_merger_list.0.norm.weight')).toBeNull();
    expect(hfKeyToLocal('model.visual.deepstack_merger_list.0.norm.weight', { keepDeepstack: true })).toBe('visual.deepstack_merger_list.0.norm.weight');
    expect(hfKeyToLocal('visual.blocks.0.attn.qkv.bias')).toBe('visual.blocks.0.attn.qkv.bias');
    expect(hfKeyToLocal('model.layers.3.mlp.up_proj.weight')).toBe('language_model.layers.3.mlp.up_proj.weight');
    expect(hfKeyToLocal('und.model.norm.weight', { stripPrefix: 'und.' })).toBe('language_model.norm.weight');
    expect(() => hfKeyToLocal('vision_tower.x')).toThrow(/unrecognised/);
    const { state, dropped } = convertHfStateDict({ 'model.language_model.norm.weight': 1, 'lm_head.weight': 2 });
    expect([...state]).toEqual([['language_model.norm.weight', 1]]);
    expect([...dropped.keys()]).toEqual(['lm_head.weight']);
    expect(() => convertHfStateDict({ 'model.norm.weight': 1, 'model.language_model.norm.weight': 2 })).toThrow(/already produced/);
  });
});
