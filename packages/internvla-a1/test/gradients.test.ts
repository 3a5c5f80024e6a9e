// One training step's backward pass reaches every expert: the understanding expert (vision tower,
// token embedding, its MoT weights), the generation expert (MoT weights and latent projections) and
// the action expert (MoT weights, state/action projections, action-time MLP). The frozen tokenizer
// gets nothing.
import { describe, expect, it } from 'vitest';
import { manualSeed, max, abs, tidy, type Tensor } from '@vla/tensor-webgpu';
import { InternVLAA1Policy, tinyConfig } from '../src/index.js';
import './setup.js';
import { disposeBatch, syntheticBatch } from './synthetic.js';

/**
 * Parameters no loss can reach, as in upstream: the understanding expert's outputs are never read,
 * only its keys/values, so its final norm and, in the last layer, the query path, o_proj, post-norm
 * and MLP (which only shape its discarded output) get no gradient.
 */
function unreachable(name: string, layers: number): boolean {
  const last = `und_expert.language_model.layers.${layers - 1}.`;
  if (name === 'und_expert.language_model.norm.weight') return true;
  if (!name.startsWith(last)) return false;
  const rest = name.slice(last.length);
  return /^(self_attn\.(q_proj|q_norm|o_proj)|post_attention_layernorm|mlp)\./.test(rest);
}

const GROUPS: [string, RegExp][] = [
  ['vision', /^und_expert\.visual\./],
  ['text', /^und_expert\.language_model\./],
  ['generation', /^(gen_expert\.|cosmos_in_proj|downsample_conv|upsample_conv|cosmos_out_)/],
  ['action', /^(act_expert\.|state_proj|action_)/],
];

async function maxAbs(t: Tensor): Promise<number> {
  const m = tidy(() => max(abs(t)));
  const v = await m.item();
  m.dispose();
  return v;
}

describe.each([true, false])('gradients (generation expert: %s)', (generation) => {
  it('reach every expert parameter (non-null, non-zero); the tokenizer stays frozen', async () => {
    const layers = 2;
    const config = tinyConfig({
      width: 32,
      layers,
      visionLayers: 1,
      textTokens: 6,
      vocabSize: 64,
      imageSize: 32,
      generation,
    });
    manualSeed(5);
    const policy = new InternVLAA1Policy(config);
    const batch = syntheticBatch(config, 2, 21, { missing: [[1, 2]], padActions: 7 });
    tidy(() => policy.computeLoss(batch, { seed: 3 }).loss.backward());

    const groupMax = new Map<string, number>();
    const missingGrad: string[] = [];
    const zeroGrad: string[] = [];
    for (const [name, p] of policy.namedParameters()) {
      if (name.startsWith('cosmos.')) {
        expect(p.requiresGrad, name).toBe(false);
        expect(p.grad, name).toBeNull();
        continue;
      }
      expect(p.requiresGrad, name).toBe(true);
      if (unreachable(name, layers)) {
        // No gradient, or exact zeros where the joint attention's concatenation links it in.
        if (p.grad) expect(await maxAbs(p.grad), `${name} cannot influence the loss`).toBe(0);
        continue;
      }
      if (!p.grad) {
        missingGrad.push(name);
        continue;
      }
      const m = await maxAbs(p.grad);
      expect(Number.isFinite(m), name).toBe(true);
      if (m === 0) zeroGrad.push(name);
      const group = GROUPS.find(([, re]) => re.test(name));
      expect(group, `${name} belongs to an expert`).toBeDefined();
      groupMax.set(group![0], Math.max(groupMax.get(group![0]) ?? 0, m));
    }
    expect(missingGrad).toEqual([]);
    expect(zeroGrad).toEqual([]);
    for (const [g] of GROUPS) {
      if (g === 'generation' && !generation) {
        expect(groupMax.has(g)).toBe(false);
        continue;
      }
      expect(groupMax.get(g), g).toBeGreaterThan(0);
    }
    const trainable = new Set(policy.parameters());
    for (const [name, p] of policy.namedParameters())
      expect(trainable.has(p), name).toBe(!name.startsWith('cosmos.'));
    disposeBatch(batch);
    policy.dispose();
  });
});
