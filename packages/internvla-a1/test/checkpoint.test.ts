// Whole-policy checkpoints: a save/load round trip reproduces the outputs exactly; damaged,
// foreign and mismatched files fail with a message that says what is wrong; nothing half-written
// is left behind; F16 storage halves the file and stays close.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { manualSeed, saveSafetensors, tensor, type Tensor } from '@vla/tensor-webgpu';
import {
  InternVLAA1Policy,
  loadPolicy,
  loadPolicyWeights,
  readPolicyManifest,
  savePolicy,
  tinyConfig,
} from '../src/index.js';
import './setup.js';
import { disposeBatch, normals, syntheticBatch } from './synthetic.js';

const dir = mkdtempSync(join(tmpdir(), 'internvla-a1-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = tinyConfig({
  width: 32,
  layers: 1,
  visionLayers: 1,
  textTokens: 4,
  vocabSize: 48,
  imageSize: 32,
});
const B = 2;

async function outputs(policy: InternVLAA1Policy): Promise<Float32Array[]> {
  const batch = syntheticBatch(config, B, 5, { missing: [[1, 0]] });
  const xt = tensor(normals(B * config.chunkSize * config.stateDim, 6), [
    B,
    config.chunkSize,
    config.stateDim,
  ]);
  const out = policy.forward(batch, xt, 0.6);
  const res = [(await out.velocity.toArray()) as Float32Array, (await out.latent!.toArray()) as Float32Array];
  for (const t of [xt, out.velocity, out.latent] as Tensor[]) t.dispose();
  disposeBatch(batch);
  return res;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('policy checkpoints', () => {
  manualSeed(1);
  const policy = new InternVLAA1Policy(config);
  const path = join(dir, 'policy.safetensors');
  let expected: Float32Array[];

  it('round-trips through a file: same config, same tensors, identical outputs', async () => {
    expected = await outputs(policy);
    await savePolicy(path, policy);
    expect(readdirSync(dir)).toEqual(['policy.safetensors']); // no temporary file left
    const manifest = await readPolicyManifest(path);
    expect(manifest.config).toEqual(JSON.parse(JSON.stringify(config)));
    expect(manifest.tensors.map((t) => t.name)).toEqual(Object.keys(policy.stateDict()));
    expect(manifest.tensors.every((t) => /^[0-9a-f]{8}$/.test(t.crc32) && t.dtype === 'F32')).toBe(true);
    const loaded = await loadPolicy(path);
    const got = await outputs(loaded);
    expect(maxDiff(got[0], expected[0])).toBe(0);
    expect(maxDiff(got[1], expected[1])).toBe(0);
    // Frozen tokenizer stays frozen after loading.
    expect(loaded.parameters().length).toBe(policy.parameters().length);
    loaded.dispose();
  });

  it('loads into an existing policy of the same configuration (in place)', async () => {
    manualSeed(2);
    const other = new InternVLAA1Policy(config);
    expect(maxDiff((await outputs(other))[0], expected[0])).toBeGreaterThan(1e-3);
    const bytes = await savePolicy(undefined, policy);
    await loadPolicyWeights(other, bytes);
    expect(maxDiff((await outputs(other))[0], expected[0])).toBe(0);
    other.dispose();
  });

  it('names the problem for damaged, foreign and mismatched checkpoints', async () => {
    const good = readFileSync(path);
    const flipped = Uint8Array.from(good);
    flipped[flipped.length - 3] ^= 0x40; // a bit in the last tensor's data
    await expect(loadPolicy(flipped)).rejects.toThrow(
      /tensor .* is corrupted \(CRC-32 [0-9a-f]{8}, manifest says [0-9a-f]{8}\)/,
    );

    const truncated = join(dir, 'truncated.safetensors');
    writeFileSync(truncated, good.subarray(0, good.length - 100));
    await expect(loadPolicy(truncated)).rejects.toThrow(
      /truncated\.safetensors: is not a readable safetensors file/,
    );

    const foreign = await saveSafetensors(undefined, { w: tensor([1, 2, 3], [3]) });
    await expect(loadPolicy(foreign)).rejects.toThrow(/is not an InternVLA-A1 policy checkpoint/);

    const wider = tinyConfig({
      width: 48,
      layers: 1,
      visionLayers: 1,
      textTokens: 4,
      vocabSize: 48,
      imageSize: 32,
    });
    await expect(loadPolicy(path, { config: wider })).rejects.toThrow(
      /another configuration .*action\.width: 48 vs 32/,
    );
    const widerPolicy = new InternVLAA1Policy(wider);
    await expect(loadPolicyWeights(widerPolicy, path)).rejects.toThrow(/another configuration/);
    widerPolicy.dispose();
  });

  it('stores F16 weights: half the bytes, outputs close to f32', async () => {
    const half = join(dir, 'policy-f16.safetensors');
    await savePolicy(half, policy, { dtype: 'F16' });
    expect(statSync(half).size).toBeLessThan(statSync(path).size * 0.55);
    expect((await readPolicyManifest(half)).tensors.every((t) => t.dtype === 'F16')).toBe(true);
    const loaded = await loadPolicy(half);
    const got = await outputs(loaded);
    const scale = Math.max(...expected[0].map(Math.abs));
    expect(maxDiff(got[0], expected[0])).toBeLessThan(2e-2 * scale);
    expect(maxDiff(got[0], expected[0])).toBeGreaterThan(0);
    loaded.dispose();
    policy.dispose();
  });
});
