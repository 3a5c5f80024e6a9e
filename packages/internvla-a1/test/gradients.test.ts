// One training step's backward pass reaches every expert: the understanding expert (vision tower,
// token embedding, its MoT weights), the generation expert (MoT weights and latent projections) and
// the action expert (MoT weights, state/action projections, action-time MLP). The frozen tokenizer
// gets nothing. And the gradients are right: they match central finite differences of the loss for
// a parameter in each place a signal crosses between experts or enters the model.
import { describe, expect, it } from 'vitest';
import { manualSeed, max, abs, noGrad, tensor, tidy, type Tensor } from '@vla/tensor-webgpu';
import { InternVLAA1Policy, tinyConfig, type InternVLAA1Config } from '../src/index.js';
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

const LAYERS = 2;

/** The tiny policy at width 32 on 32 px images: seconds per test on a CPU. */
function smallConfig(generation: boolean): InternVLAA1Config {
  return tinyConfig({
    width: 32,
    layers: LAYERS,
    visionLayers: 1,
    textTokens: 6,
    vocabSize: 64,
    imageSize: 32,
    generation,
  });
}

async function maxAbs(t: Tensor): Promise<number> {
  const m = tidy(() => max(abs(t)));
  const v = await m.item();
  m.dispose();
  return v;
}

describe.each([true, false])('gradients (generation expert: %s)', (generation) => {
  it('reach every expert parameter (non-null, non-zero); the tokenizer stays frozen', async () => {
    const config = smallConfig(generation);
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
      if (unreachable(name, LAYERS)) {
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
  it('match central finite differences of the loss, through the joint attention into every expert', async () => {
    const config = smallConfig(generation);
    manualSeed(7);
    const policy = new InternVLAA1Policy(config);
    const batch = syntheticBatch(config, 2, 22, { padActions: 5 });
    const loss = (): Promise<number> => {
      const l = noGrad(() => policy.computeLoss(batch, { seed: 4 }).loss);
      return l.item().finally(() => l.dispose());
    };
    tidy(() => policy.computeLoss(batch, { seed: 4 }).loss.backward());
    // Where the action loss reaches the understanding expert only through its keys and values (the
    // vision tower, the word embeddings, layer 0's key projection), the action expert itself and, with
    // generation, the foresight path.
    const probes = [
      'und_expert.visual.patch_embed.proj.weight',
      'und_expert.language_model.embed_tokens.weight',
      'und_expert.language_model.layers.0.self_attn.k_proj.weight',
      'act_expert.layers.0.self_attn.v_proj.weight',
      'action_in_proj.weight',
      ...(generation ? ['gen_expert.layers.1.self_attn.q_proj.weight', 'cosmos_in_proj.weight'] : []),
    ];
    const params = new Map(policy.namedParameters());
    const eps = 1e-2;
    for (const name of probes) {
      const p = params.get(name)!;
      const grad = (await p.grad!.toArray()) as Float32Array;
      const w = (await p.toArray()) as Float32Array;
      // The two largest entries: the difference quotient's f32 rounding is smallest next to them.
      const order = [...grad.keys()].sort((a, b) => Math.abs(grad[b]) - Math.abs(grad[a])).slice(0, 2);
      for (const i of order) {
        const shift = async (delta: number): Promise<void> => {
          const v = Float32Array.from(w);
          v[i] += delta;
          const t = tensor(v, p.shape);
          await policy.loadStateDict({ [name]: t }, { strict: false });
          t.dispose();
        };
        const lossAt = (delta: number): Promise<number> => shift(delta).then(loss);
        const fd = ((await lossAt(eps)) - (await lossAt(-eps))) / (2 * eps);
        await shift(0);
        expect(
          Math.abs(grad[i] - fd),
          `${name}[${i}]: autograd ${grad[i]}, finite difference ${fd}`,
        ).toBeLessThan(0.01 * Math.abs(fd) + 2e-5);
      }
    }
    disposeBatch(batch);
    policy.dispose();
  });
});
