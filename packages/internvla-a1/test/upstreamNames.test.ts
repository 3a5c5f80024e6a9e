// Upstream ↔ vla names against upstream's released 3B key list (a fact file: name, shape, dtype of
// every tensor QwenA1Policy.state_dict() holds): every key is mapped or skipped on purpose, every
// mapped shape is the shape of our parameter (policy built under meta(), nothing allocated), and every
// parameter of ours is covered exactly once.
// (`meta` is imported under another name: vite's SSR transform confuses it with `import.meta`.)
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { meta as metaOnly } from '@vla/tensor-webgpu';
import { InternVLAA1Policy, policyConfig } from '../src/index.js';
import {
  classifyUpstreamKey,
  EMBED_TOKENS,
  upstreamToVlaName,
  UPSTREAM_LM_HEAD,
  vlaToUpstreamName,
} from '../src/upstream/index.js';

/** name → shape of every tensor in the fixture (tied duplicates appear once). */
function upstreamKeys(): Map<string, number[]> {
  const text = readFileSync(
    fileURLToPath(new URL('./fixtures/internvla-a1-3b-keys.txt', import.meta.url)),
    'utf8',
  );
  const out = new Map<string, number[]>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const [name, shape] = line.split('\t');
    out.set(name, JSON.parse(shape) as number[]);
  }
  return out;
}

describe('upstream names of the released 3B model', () => {
  const keys = upstreamKeys();
  const specs = new Map(metaOnly(() => new InternVLAA1Policy(policyConfig('a1-3b'))).namedSpecs());

  it('reads the whole fixture', () => {
    // The header says 1462 entries / 1461 unique tensors; lm_head is listed besides embed_tokens.
    expect(keys.size).toBe(1462);
  });

  it('maps or deliberately skips every key, each mapped shape equal to our parameter', () => {
    const covered = new Map<string, string>();
    const skipped: string[] = [];
    for (const [key, shape] of keys) {
      const c = classifyUpstreamKey(key);
      expect(c.kind, key).not.toBe('unknown');
      if (c.kind === 'skipped') {
        skipped.push(key);
        continue;
      }
      if (c.kind !== 'mapped') continue;
      const spec = specs.get(c.name);
      expect(spec, `${key} → ${c.name} is not a parameter of the policy`).toBeDefined();
      expect(spec!.shape, `${key} → ${c.name}`).toEqual(shape);
      expect(covered.get(c.name), `${c.name} covered twice`).toBeUndefined();
      covered.set(c.name, key);
    }
    // 3 DeepStack mergers x 6 tensors, and the tied head.
    expect(skipped.filter((k) => k.includes('deepstack_merger_list'))).toHaveLength(18);
    expect(skipped).toContain(UPSTREAM_LM_HEAD);
    expect(skipped).toHaveLength(19);
    const uncovered = [...specs.keys()].filter((n) => !covered.has(n));
    expect(uncovered).toEqual([]);
    expect(covered.size).toBe(specs.size);
  });

  it('round-trips upstream → vla → upstream for every mapped key', () => {
    for (const key of keys.keys()) {
      const name = upstreamToVlaName(key);
      if (name === null) continue;
      expect(vlaToUpstreamName(name)).toBe(key);
    }
    for (const name of specs.keys()) expect(upstreamToVlaName(vlaToUpstreamName(name)!)).toBe(name);
  });

  it('names each part as the issue specifies', () => {
    const q = 'model.qwen3_vl_with_expert.';
    expect(upstreamToVlaName(`${q}und_expert.model.language_model.layers.3.mlp.up_proj.weight`)).toBe(
      'und_expert.language_model.layers.3.mlp.up_proj.weight',
    );
    expect(upstreamToVlaName(`${q}und_expert.model.visual.blocks.7.attn.qkv.bias`)).toBe(
      'und_expert.visual.blocks.7.attn.qkv.bias',
    );
    expect(upstreamToVlaName(`${q}gen_expert.norm.weight`)).toBe('gen_expert.norm.weight');
    expect(upstreamToVlaName(`${q}act_expert.layers.0.self_attn.k_norm.weight`)).toBe(
      'act_expert.layers.0.self_attn.k_norm.weight',
    );
    expect(upstreamToVlaName('model.cosmos._enc_model.encoder.conv_in.weight')).toBe(
      'cosmos.encoder.conv_in.weight',
    );
    expect(upstreamToVlaName('model.cosmos._dec_model.post_quant_conv.bias')).toBe(
      'cosmos.post_quant_conv.bias',
    );
    expect(vlaToUpstreamName('cosmos.quant_conv.weight')).toBe('model.cosmos._enc_model.quant_conv.weight');
    expect(vlaToUpstreamName('cosmos.decoder.conv_out.bias')).toBe(
      'model.cosmos._dec_model.decoder.conv_out.bias',
    );
    expect(upstreamToVlaName('model.cosmos_out_layer_norm.bias')).toBe('cosmos_out_layer_norm.bias');
    expect(vlaToUpstreamName(EMBED_TOKENS)).toBe(`${q}und_expert.model.language_model.embed_tokens.weight`);
  });

  it('classifies what it does not know as unknown, and patcher buffers as skipped', () => {
    for (const key of [
      'model.cosmos._enc_model.encoderx.conv_in.weight',
      'model.qwen3_vl_with_expert.und_expert.model.visual_blocks.0.norm1.weight',
      'model.cosmos._enc_model.decoder.conv_in.weight', // decoder weights are in _dec_model
      'model.state_proj',
      'state_proj.weight',
      'model.action_in_proj2.weight',
    ])
      expect(classifyUpstreamKey(key).kind, key).toBe('unknown');
    expect(classifyUpstreamKey('model.cosmos._enc_model.patcher.wavelets')).toMatchObject({
      kind: 'skipped',
    });
    expect(vlaToUpstreamName('cosmos.patcher.wavelets')).toBeNull();
  });
});
