// Hugging Face Qwen3-VL safetensors into the policy's understanding expert: every und_expert
// parameter receives the file's values (the embedding from a lone `lm_head.weight`), the other experts
// are untouched, DeepStack mergers are skipped, and a missing or misshapen tensor is an error that
// names it before anything is loaded.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSafetensors, type HostTensor } from '@vla/tensor-webgpu';
import { InternVLAA1Policy, tinyConfig } from '../src/index.js';
import { loadQwen3VLWeights, UpstreamImportError } from '../src/node.js';
import './setup.js';
import { normals } from './synthetic.js';

const dir = mkdtempSync(join(tmpdir(), 'internvla-a1-qwen3vl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const config = tinyConfig({
  width: 40,
  layers: 2,
  visionLayers: 1,
  textTokens: 4,
  vocabSize: 36,
  imageSize: 32,
});

/** HF names of the und_expert parameters: `model.visual.*`, `model.language_model.*`. */
function hfFiles(policy: InternVLAA1Policy, edit?: (t: Map<string, HostTensor>) => void) {
  const tensors = new Map<string, HostTensor>();
  let seed = 100;
  for (const [name, spec] of policy.namedSpecs()) {
    if (!name.startsWith('und_expert.')) continue;
    let hf = `model.${name.slice('und_expert.'.length)}`;
    if (hf === 'model.language_model.embed_tokens.weight') hf = 'lm_head.weight';
    const n = spec.shape.reduce((a, b) => a * b, 1);
    tensors.set(hf, { dtype: 'F32', shape: [...spec.shape], data: normals(n, seed++) });
  }
  tensors.set('model.visual.deepstack_merger_list.0.norm.weight', {
    dtype: 'F32',
    shape: [4],
    data: new Float32Array(4),
  });
  edit?.(tensors);
  return tensors;
}

describe('loadQwen3VLWeights', () => {
  it('loads every und_expert parameter and nothing else', async () => {
    const policy = new InternVLAA1Policy(config);
    try {
      const tensors = hfFiles(policy);
      const path = join(dir, 'model.safetensors');
      await writeSafetensors(path, tensors);
      const before = (await policy.stateDict()['act_expert.norm.weight'].toArray()) as Float32Array;
      const report = await loadQwen3VLWeights(policy, dir);
      expect(report.skipped.sort()).toEqual(['model.visual.deepstack_merger_list.0.norm.weight']);
      const sd = policy.stateDict();
      for (const [hf, t] of tensors) {
        if (hf.includes('deepstack')) continue;
        const name =
          hf === 'lm_head.weight'
            ? 'und_expert.language_model.embed_tokens.weight'
            : `und_expert.${hf.slice(6)}`;
        expect(Array.from((await sd[name].toArray()) as Float32Array), name).toEqual(
          Array.from(t.data as Float32Array),
        );
      }
      expect(await sd['act_expert.norm.weight'].toArray()).toEqual(before);
    } finally {
      policy.dispose();
    }
  });

  it('names a missing and a misshapen tensor before loading anything', async () => {
    const policy = new InternVLAA1Policy(config);
    try {
      const key = 'model.language_model.layers.1.self_attn.o_proj.weight';
      const posEmbed = policy.stateDict()['und_expert.visual.pos_embed.weight'];
      const before = (await posEmbed.toArray()) as Float32Array;
      await writeSafetensors(
        join(dir, 'missing.safetensors'),
        hfFiles(policy, (t) => t.delete(key)),
      );
      await expect(loadQwen3VLWeights(policy, join(dir, 'missing.safetensors'))).rejects.toThrow(
        /missing tensors: und_expert\.language_model\.layers\.1\.self_attn\.o_proj\.weight/,
      );
      await writeSafetensors(
        join(dir, 'shape.safetensors'),
        hfFiles(policy, (t) => t.set(key, { dtype: 'F32', shape: [3], data: new Float32Array(3) })),
      );
      const err = await loadQwen3VLWeights(policy, join(dir, 'shape.safetensors')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UpstreamImportError);
      expect((err as Error).message).toMatch(
        /o_proj\.weight is \[3\] but und_expert\.language_model\.layers\.1\.self_attn\.o_proj\.weight is \[40, 64\]/,
      );
      expect(await posEmbed.toArray()).toEqual(before);
    } finally {
      policy.dispose();
    }
  });
});
