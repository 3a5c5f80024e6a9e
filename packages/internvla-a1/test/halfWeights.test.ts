// Weight-only f16: a policy whose weight matrices are stored in f16 computes what the f32 policy
// computes with the same (half-rounded) weights — on any device, shader-f16 or not — takes about
// half the bytes, and loads F16 checkpoints bit for bit. The released a1-3b footprint is checked
// under meta() (nothing allocated).
import { afterAll, describe, expect, it } from 'vitest';
import { fromHalfBits, manualSeed, meta, tensor, toHalfBits, type Tensor } from '@vla/tensor-webgpu';
import {
  a13bConfig,
  InternVLAA1Policy,
  loadPolicy,
  readPolicyManifest,
  savePolicy,
  tinyConfig,
  type PolicyBatch,
} from '../src/index.js';
import './setup.js';
import { disposeBatch, maxDiff, normals, syntheticBatch } from './synthetic.js';

const config = tinyConfig({
  width: 32,
  layers: 2,
  visionLayers: 1,
  textTokens: 6,
  vocabSize: 64,
  imageSize: 32,
});
const B = 2;
const disposables: { dispose(): void }[] = [];
afterAll(() => disposables.forEach((d) => d.dispose()));

describe('weight-only f16 policy', () => {
  let half: InternVLAA1Policy;
  let ref: InternVLAA1Policy;
  let batch: PolicyBatch;

  it('stores every weight matrix in f16 and everything else in f32', async () => {
    manualSeed(21);
    half = InternVLAA1Policy.create(config, { weightDtype: 'f16' });
    // The reference holds the same rounded values in f32 (f16 → f32 is exact).
    ref = new InternVLAA1Policy(config);
    await ref.loadStateDict(half.stateDict());
    batch = syntheticBatch(config, B, 7, { missing: [[1, 0]], textLengths: [6, 3] });
    disposables.push(half, ref, { dispose: () => disposeBatch(batch) });

    const specs = half.namedSpecs();
    const f16 = specs.filter(([, s]) => s.dtype === 'f16').map(([n]) => n);
    expect(f16).toContain('und_expert.language_model.embed_tokens.weight');
    expect(f16).toContain('act_expert.layers.1.mlp.down_proj.weight');
    expect(f16).toContain('gen_expert.layers.0.self_attn.q_proj.weight');
    expect(f16).toContain('und_expert.visual.blocks.0.attn.qkv.weight');
    expect(f16).toContain('cosmos.encoder.conv_in.weight');
    expect(f16).toContain('upsample_conv.weight');
    for (const [name, s] of specs) {
      const matrix = s.matrix === true;
      expect(s.dtype, name).toBe(matrix ? 'f16' : s.dtype === 'i32' || s.dtype === 'u32' ? s.dtype : 'f32');
      if (/norm|bias|patch_embed/.test(name)) expect(s.dtype, name).not.toBe('f16');
    }
    // The tiny model's patch embedding (f32) is a large share of it; a1-3b is checked below.
    const matrixParams = specs
      .filter(([, s]) => s.matrix)
      .reduce((n, [, s]) => n + s.shape.reduce((a, b) => a * b, 1), 0);
    expect(half.weightBytes().byDtype.f16).toBe(2 * matrixParams);
    expect(half.weightBytes().total).toBeLessThan(0.65 * ref.weightBytes().total);
  });

  it('forward and loss equal the f32 policy with the same rounded weights', async () => {
    const xt = tensor(normals(B * config.chunkSize * config.stateDim, 8), [
      B,
      config.chunkSize,
      config.stateDim,
    ]);
    const a = half.forward(batch, xt, 0.42);
    const b = ref.forward(batch, xt, 0.42);
    expect(a.velocity.dtype).toBe('f32');
    expect(await maxDiff(a.velocity, b.velocity)).toBeLessThanOrEqual(1e-5);
    expect(await maxDiff(a.latent!, b.latent!)).toBeLessThanOrEqual(1e-5);
    const la = half.computeLoss(batch, { seed: 3 });
    const lb = ref.computeLoss(batch, { seed: 3 });
    expect(Math.abs((await la.loss.item()) - (await lb.loss.item()))).toBeLessThanOrEqual(1e-5);
    for (const t of [xt, a.velocity, a.latent, b.velocity, b.latent, la.loss, lb.loss] as Tensor[])
      t.dispose();
  });

  it('KV-cached sampling with visual foresight equals the f32 policy', async () => {
    const r1 = half.sampleActions(batch, { seed: 9, steps: 3, foresight: true });
    const r2 = ref.sampleActions(batch, { seed: 9, steps: 3, foresight: true });
    expect(await maxDiff(r1.actions, r2.actions)).toBeLessThanOrEqual(1e-4);
    expect(await maxDiff(r1.images!, r2.images!)).toBeLessThanOrEqual(1e-4);
    for (const t of [r1.actions, r1.latent, r1.images, r2.actions, r2.latent, r2.images] as Tensor[])
      t.dispose();
  });

  it('saves F16 matrices and loads them back bit for bit; F32 checkpoints load rounded', async () => {
    const bytes = await savePolicy(undefined, half);
    const manifest = await readPolicyManifest(bytes);
    const dtypes = new Map(manifest.tensors.map((t) => [t.name, t.dtype]));
    expect(dtypes.get('und_expert.language_model.embed_tokens.weight')).toBe('F16');
    expect(dtypes.get('und_expert.language_model.norm.weight')).toBe('F32');
    const loaded = await loadPolicy(bytes, { weightDtype: 'f16' });
    const fromF32 = await loadPolicy(await savePolicy(undefined, ref), { weightDtype: 'f16' });
    const want = half.stateDict();
    for (const [name, t] of Object.entries(loaded.stateDict())) {
      expect(t.dtype, name).toBe(want[name].dtype);
      const values = Array.from(await want[name].toArray());
      expect(Array.from(await t.toArray()), name).toEqual(values);
      expect(Array.from(await fromF32.stateDict()[name].toArray()), name).toEqual(values);
    }
    // Default load of the mixed file: an f32 policy holding the same values.
    const asF32 = await loadPolicy(bytes);
    expect(asF32.und_expert.languageModel.embedTokens.weight.dtype).toBe('f32');
    const e = await asF32.und_expert.languageModel.embedTokens.weight.toArray();
    expect(Array.from(e)).toEqual(Array.from(e, (v) => fromHalfBits(toHalfBits(v))));
    for (const p of [loaded, fromF32, asF32]) p.dispose();
  });

  it('a1-3b: f16 matrices take about half the bytes (built under meta())', () => {
    const f32 = meta(() => new InternVLAA1Policy(a13bConfig()));
    const f16 = meta(() => InternVLAA1Policy.create(a13bConfig(), { weightDtype: 'f16' }));
    const [b32, b16] = [f32.weightBytes(), f16.weightBytes()];
    console.log(f16.describe());
    expect(b32.byDtype.f16).toBeUndefined();
    // Everything but norms, biases and the patch embedding (summed over time first) is a matrix.
    expect(b16.byDtype.f16 / 2 / f16.numParameters()).toBeGreaterThan(0.99);
    expect(b16.total / b32.total).toBeGreaterThan(0.5);
    expect(b16.total / b32.total).toBeLessThan(0.505);
  });
});
