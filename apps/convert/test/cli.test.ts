// vla-convert end to end on generated files: the CLI as a child process (node with tsx as a loader) converts a random tiny
// upstream checkpoint, prints the summary, and writes a checkpoint loadPolicyBundle reads with the
// source's values and a processor from stats.json; bad input exits with code 2 and a message naming
// the file; --qwen3-vl starts a checkpoint from Hugging Face-layout weights.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { init, writeSafetensors, type HostTensor } from '@vla/tensor-webgpu';
import { InternVLAA1Policy, loadPolicyBundle, tinyConfig, vlaToUpstreamName } from '@vla/internvla-a1';
// The fixture writer of the library's own import tests (one definition of upstream's layout).
import { writeUpstreamFixture } from '../../../packages/internvla-a1/test/upstreamFixture.js';

await init();
const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'vla-convert-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const base = tinyConfig({
  width: 32,
  layers: 2,
  visionLayers: 1,
  textTokens: 4,
  vocabSize: 40,
  imageSize: 32,
});
const basePath = join(root, 'base.json');
writeFileSync(basePath, JSON.stringify(base));

function run(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], {
    encoding: 'utf8',
    timeout: 240_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('vla-convert', () => {
  it('converts an upstream directory into a checkpoint with a processor', async () => {
    const fx = await writeUpstreamFixture(join(root, 'up'), base);
    const output = join(root, 'out.safetensors');
    const r = run(fx.dir, '-o', output, '--base', basePath, '--robot', 'test-arm');
    expect(r.err).not.toMatch(/vla-convert:/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^mapped \d+ tensors/m);
    expect(r.out).toMatch(/3 +DeepStack merger/);
    expect(r.out).toMatch(/processor: test-arm, state 5, action 5/);
    expect(r.err).toMatch(/tensors \d+\/\d+ \|/);
    const { policy, processor } = await loadPolicyBundle(output);
    try {
      const key = 'gen_expert.layers.1.self_attn.q_proj.weight';
      const got = (await policy.stateDict()[key].toArray()) as Float32Array;
      expect(Array.from(got)).toEqual(Array.from(fx.values.get(vlaToUpstreamName(key)!)!));
      expect(processor!.json.stats.action.mean).toEqual(fx.stats.action.mean);
    } finally {
      policy.dispose();
    }
  });

  it('exits with code 2 and names the file on bad input', async () => {
    const fx = await writeUpstreamFixture(join(root, 'bad'), base);
    const shard = join(fx.dir, 'model-00001-of-00002.safetensors');
    truncateSync(shard, statSync(shard).size - 4);
    const r = run(fx.dir, '-o', join(root, 'bad.safetensors'), '--base', basePath, '-q');
    expect(r.code).toBe(2);
    expect(r.err).toContain(`vla-convert: ${shard}: is not a complete safetensors file`);
    expect(run('-o', join(root, 'x.safetensors')).code).toBe(2);
    const badBase = run(fx.dir, '-o', join(root, 'x.safetensors'), '--base', 'no-such-config');
    expect(badBase.code).toBe(2);
    expect(badBase.err).toMatch(/--base no-such-config: neither a configuration name/);
  });

  it('--qwen3-vl starts a checkpoint from Hugging Face weights', async () => {
    const dir = join(root, 'hf');
    const specs = (await import('@vla/tensor-webgpu')).meta(() => new InternVLAA1Policy(base)).namedSpecs();
    const tensors = new Map<string, HostTensor>();
    for (const [name, spec] of specs) {
      if (!name.startsWith('und_expert.')) continue;
      const n = spec.shape.reduce((a, b) => a * b, 1);
      tensors.set(`model.${name.slice(11)}`, {
        dtype: 'F32',
        shape: [...spec.shape],
        data: Float32Array.from({ length: n }, (_, i) => Math.sin(i + n)),
      });
    }
    rmSync(dir, { recursive: true, force: true });
    (await import('node:fs')).mkdirSync(dir);
    await writeSafetensors(join(dir, 'model.safetensors'), tensors);
    const output = join(root, 'qwen.safetensors');
    const r = run('--qwen3-vl', dir, '-o', output, '--base', basePath);
    expect(r.err).not.toMatch(/vla-convert:/);
    expect(r.code).toBe(0);
    const { policy } = await loadPolicyBundle(output);
    try {
      const key = 'und_expert.language_model.norm.weight';
      const want = tensors.get('model.language_model.norm.weight')!.data as Float32Array;
      expect(Array.from((await policy.stateDict()[key].toArray()) as Float32Array)).toEqual(Array.from(want));
    } finally {
      policy.dispose();
    }
  });
});
