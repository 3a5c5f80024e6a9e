// The configuration of an upstream checkpoint from config.json and the header shapes: the released
// 3B key list (shapes as upstream built them) with upstream's 3B config.json gives exactly our
// registered a1-3b configuration; every disagreement names the key and both values.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { policyConfig } from '../src/index.js';
import { inferUpstreamConfig, UpstreamImportError } from '../src/upstream/index.js';

function shapes3b(): Map<string, number[]> {
  const path = fileURLToPath(new URL('./fixtures/internvla-a1-3b-keys.txt', import.meta.url));
  const out = new Map<string, number[]>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const [name, shape] = line.split('\t');
    out.set(name, JSON.parse(shape) as number[]);
  }
  return out;
}

/** The fields of upstream's 3B config.json this importer reads (launch/internvla_a1_3b_*.sh). */
const config3b = () => ({
  type: 'qwena1',
  chunk_size: 50,
  n_action_steps: 50,
  max_state_dim: 32,
  max_action_dim: 32,
  qwen3_vl_variant: 'qwen3_vl_28l',
  action_expert_variant: 'qwen3_28l',
  tokenizer_max_length: 48,
  scale_factor: 8,
  lambda_gen: 0.01,
  dtype: 'bfloat16',
});

function error(fn: () => unknown): UpstreamImportError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UpstreamImportError);
    return e as UpstreamImportError;
  }
  throw new Error('expected an UpstreamImportError');
}

describe('inferUpstreamConfig', () => {
  it('infers the registered a1-3b configuration from the released key list', () => {
    expect(inferUpstreamConfig(config3b(), shapes3b())).toEqual(policyConfig('a1-3b'));
  });

  it('takes sizes from the shapes even when the base says otherwise', () => {
    const base = policyConfig('a1-3b');
    base.vlm = { ...base.vlm, text: { ...base.vlm.text, numLayers: 4 } };
    base.action = { width: 8, mlpWidth: 8 };
    const c = inferUpstreamConfig(config3b(), shapes3b(), { base, name: 'imported' });
    expect(c.vlm.text.numLayers).toBe(28);
    expect(c.action).toEqual({ width: 1024, mlpWidth: 3072 });
    expect(c.name).toBe('imported');
  });

  it('names config.json keys that disagree with the shapes, with both values', () => {
    const s = shapes3b();
    expect(error(() => inferUpstreamConfig({ ...config3b(), max_action_dim: 14 }, s)).message).toBe(
      'config.json: max_action_dim is 14 but tensor model.action_in_proj.weight implies 32 (config.json and weights disagree)',
    );
    expect(
      error(() => inferUpstreamConfig({ ...config3b(), action_expert_variant: 'qwen3_12l' }, s)).message,
    ).toMatch(
      /action_expert_variant is 12 but tensor model\.qwen3_vl_with_expert\.act_expert\.layers\.\* implies 28/,
    );
    expect(error(() => inferUpstreamConfig({ ...config3b(), scale_factor: 16 }, s)).message).toMatch(
      /scale_factor is 16 but tensor model\.downsample_conv\.weight implies 8/,
    );
    expect(error(() => inferUpstreamConfig({ ...config3b(), chunk_size: 'fifty' }, s)).message).toMatch(
      /chunk_size must be a positive integer, got "fifty"/,
    );
    expect(error(() => inferUpstreamConfig([], s)).message).toMatch(/must hold a JSON object/);
  });

  it('names shapes that disagree with each other', () => {
    const q = 'model.qwen3_vl_with_expert.';
    let s = shapes3b();
    s.set(`${q}gen_expert.layers.0.self_attn.q_proj.weight`, [1024, 1024]);
    expect(error(() => inferUpstreamConfig(config3b(), s)).message).toMatch(
      /gen_expert q heads: .*gen_expert\.layers\.0\.self_attn\.q_proj\.weight says 8, the other tensors say 16/,
    );
    s = shapes3b();
    for (const k of [...s.keys()]) if (k.startsWith(`${q}act_expert.layers.5.`)) s.delete(k);
    expect(error(() => inferUpstreamConfig(config3b(), s)).message).toMatch(
      /act_expert\.layers\.5\.\* is missing \(found 27 others\)/,
    );
    s = shapes3b();
    s.delete('model.state_proj.weight');
    expect(error(() => inferUpstreamConfig(config3b(), s)).message).toMatch(
      /tensor model\.state_proj\.weight is missing \(needed to infer the configuration\)/,
    );
  });
});
