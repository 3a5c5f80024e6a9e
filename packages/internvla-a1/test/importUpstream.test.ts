// End-to-end import of an upstream-layout checkpoint (random, tiny, two BF16/F32 shards with an
// index, config.json, stats.json) into a policy checkpoint, loaded back with loadPolicyBundle and
// compared tensor by tensor; then bad input — truncated or missing shard, config.json disagreeing
// with the shapes, a renamed key, a wrong shape — each failing with a message naming what is wrong.
import {
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  statSync,
  writeFileSync,
  readdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPolicyBundle, tinyConfig, type InternVLAA1Config } from '../src/index.js';
import { importUpstreamCheckpoint, UpstreamImportError, vlaToUpstreamName } from '../src/node.js';
import './setup.js';
import { writeUpstreamFixture } from './upstreamFixture.js';

const root = mkdtempSync(join(tmpdir(), 'internvla-a1-upstream-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// Awkward sizes on purpose: 3 layers, 48 wide, 20 text tokens in the config.json.
const base: InternVLAA1Config = tinyConfig({
  width: 48,
  layers: 3,
  visionLayers: 1,
  textTokens: 4,
  vocabSize: 40,
  imageSize: 32,
});
const layout = {
  robotType: 'test-arm',
  stateKeys: ['observation.state'],
  actionKeys: ['action'],
  deltaMask: [true, true, true, true, false],
  cameras: ['head', 'hand_left', 'hand_right'],
};

let n = 0;
const fresh = (tag: string) => join(root, `${tag}-${n++}`);

describe('importUpstreamCheckpoint', () => {
  it('converts a sharded BF16/F32 checkpoint that loadPolicyBundle loads with the same values', async () => {
    const fx = await writeUpstreamFixture(fresh('ok'), base);
    const output = join(root, 'converted.safetensors');
    const progress: number[] = [];
    const report = await importUpstreamCheckpoint(fx.dir, {
      output,
      base,
      processor: layout,
      onProgress: (p) => progress.push(p.index),
    });
    // config.json fields that no tensor fixes were taken from it.
    expect(report.config.chunkSize).toBe(6);
    expect(report.config.textTokens).toBe(5);
    expect(report.config.genLossWeight).toBe(0.02);
    expect(report.config.vlm.text.numLayers).toBe(3);
    expect(report.skipped.map((s) => s.upstream).sort()).toEqual(
      [...fx.values.keys()].filter((k) => k.includes('deepstack')).sort(),
    );
    expect(report.initialised).toEqual([]);
    expect(progress.at(-1)).toBe(report.mapped.length);

    const { policy, processor } = await loadPolicyBundle(output);
    try {
      const sd = policy.stateDict();
      expect(Object.keys(sd)).toHaveLength(report.mapped.length);
      for (const [name, t] of Object.entries(sd)) {
        let up = vlaToUpstreamName(name)!;
        if (!fx.values.has(up)) up = 'model.qwen3_vl_with_expert.und_expert.lm_head.weight';
        const want = fx.values.get(up)!;
        const got = (await t.toArray()) as Float32Array;
        expect(got.length, name).toBe(want.length);
        // F32 output: BF16 sources widen exactly, F32 sources are copied.
        expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer)), name).toBe(true);
      }
      expect(processor).not.toBeNull();
      const json = processor!.toJSON();
      // Released models saw upstream's pixels: the processor repeats that pipeline.
      expect([json.imagePipeline, json.padSize]).toEqual(['upstream', 224]);
      // 224² after the Qwen3-VL processor is 256²: the vision tower's grid, whatever imageSize is.
      expect(policy.config.visionSize).toEqual([256, 256]);
      processor!.checkFits(policy.config);
      expect(json.stats.state.mean).toEqual(fx.stats['observation.state'].mean);
      expect(json.stats.action.std).toEqual(fx.stats.action.std);
      expect(json.deltaMask).toEqual(layout.deltaMask);
      expect(json.chunkSize).toBe(6);
    } finally {
      policy.dispose();
    }
  });

  it('writes BF16 sources bit for bit with dtype BF16, and reads a single model.safetensors', async () => {
    const fx = await writeUpstreamFixture(fresh('single'), base, { single: true, seed: 3 });
    const output = join(root, 'bf16.safetensors');
    await importUpstreamCheckpoint(join(fx.dir, 'model.safetensors'), { output, base, dtype: 'BF16' });
    const { policy, processor } = await loadPolicyBundle(output);
    try {
      expect(processor).toBeNull();
      const key = 'act_expert.layers.1.mlp.down_proj.weight';
      const got = (await policy.stateDict()[key].toArray()) as Float32Array;
      expect(Array.from(got)).toEqual(Array.from(fx.values.get(vlaToUpstreamName(key)!)!));
    } finally {
      policy.dispose();
    }
  });

  it('keeps allowed missing tensors at their initialisation and reports them', async () => {
    const fx = await writeUpstreamFixture(fresh('nocosmos'), base, {
      edit: (t) => {
        for (const k of [...t.keys()]) if (k.startsWith('model.cosmos.')) t.delete(k);
      },
    });
    const output = join(root, 'nocosmos.safetensors');
    await expect(importUpstreamCheckpoint(fx.dir, { output, base })).rejects.toThrow(
      /missing tensors .*cosmos\.encoder\.conv_in\.weight \[model\.cosmos\._enc_model\.encoder\.conv_in\.weight\]/,
    );
    const report = await importUpstreamCheckpoint(fx.dir, { output, base, allowMissing: ['cosmos'] });
    expect(report.initialised.length).toBeGreaterThan(0);
    expect(report.initialised.every((k) => k.startsWith('cosmos.'))).toBe(true);
    const { policy } = await loadPolicyBundle(output);
    policy.dispose();
  });

  it('refuses an F16 output that would overflow, naming the tensor and leaving no file', async () => {
    const key = 'model.qwen3_vl_with_expert.act_expert.norm.weight';
    const fx = await writeUpstreamFixture(fresh('f16'), base, {
      edit: (t) => {
        (t.get(key)!.data as Float32Array)[3] = 1e6;
      },
    });
    const output = join(root, 'overflow.safetensors');
    const err = await importUpstreamCheckpoint(fx.dir, { output, base, dtype: 'F16' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UpstreamImportError);
    expect((err as Error).message).toMatch(
      /tensor act_expert\.norm\.weight: element 3 = 1000000 overflows F16/,
    );
    expect(readdirSync(root).filter((f) => f.startsWith('overflow') || f.endsWith('.tmp'))).toEqual([]);
  });

  async function failure(fx: { dir: string }): Promise<UpstreamImportError> {
    const output = join(root, `bad-${n++}.safetensors`);
    const err = await importUpstreamCheckpoint(fx.dir, { output, base }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamImportError);
    // Nothing half-written is left behind.
    expect(readdirSync(root).filter((f) => f.includes('bad-') || f.endsWith('.tmp'))).toEqual([]);
    return err as UpstreamImportError;
  }

  it('names a truncated shard', async () => {
    const fx = await writeUpstreamFixture(fresh('trunc'), base);
    const shard = join(fx.dir, 'model-00002-of-00002.safetensors');
    truncateSync(shard, statSync(shard).size - 10);
    const e = await failure(fx);
    expect(e.source).toBe(shard);
    expect(e.message).toMatch(/not a complete safetensors file/);
  });

  it('names a missing shard and a tensor the index assigns to it', async () => {
    const fx = await writeUpstreamFixture(fresh('missing'), base);
    rmSync(join(fx.dir, 'model-00001-of-00002.safetensors'));
    const e = await failure(fx);
    expect(e.message).toMatch(/model-00001-of-00002\.safetensors: shard is missing .*assigns model\./);
  });

  it('names config.json values that disagree with the tensors', async () => {
    let fx = await writeUpstreamFixture(fresh('cfg'), base, { editConfig: (j) => (j.max_state_dim = 24) });
    let e = await failure(fx);
    expect(e.message).toMatch(
      /config\.json: max_state_dim is 24 but tensor model\.state_proj\.weight implies 32/,
    );
    fx = await writeUpstreamFixture(fresh('cfg'), base, {
      editConfig: (j) => (j.qwen3_vl_variant = 'qwen3_vl_28l'),
    });
    e = await failure(fx);
    expect(e.message).toMatch(/qwen3_vl_variant is 28 but tensor .*language_model\.layers\.\* implies 3/);
    fx = await writeUpstreamFixture(fresh('cfg'), base, { editConfig: (j) => (j.n_action_steps = 7) });
    e = await failure(fx);
    expect(e.message).toMatch(/n_action_steps is 7 but chunk_size is 6/);
    fx = await writeUpstreamFixture(fresh('cfg'), base, { editConfig: (j) => (j.scale_factor = 2) });
    e = await failure(fx);
    expect(e.message).toMatch(/scale_factor is 2 but tensor model\.downsample_conv\.weight implies 1/);
  });

  it('names a renamed key', async () => {
    const from = 'model.qwen3_vl_with_expert.gen_expert.layers.2.mlp.up_proj.weight';
    const fx = await writeUpstreamFixture(fresh('renamed'), base, {
      edit: (t) => {
        t.set(from.replace('up_proj', 'upproj'), t.get(from)!);
        t.delete(from);
      },
    });
    const e = await failure(fx);
    expect(e.message).toContain(
      'unknown upstream tensors: model.qwen3_vl_with_expert.gen_expert.layers.2.mlp.upproj.weight (→ gen_expert.layers.2.mlp.upproj.weight)',
    );
    expect(e.message).toContain(
      `missing tensors (ours, upstream name in brackets): gen_expert.layers.2.mlp.up_proj.weight [${from}]`,
    );
  });

  it('names a tensor of the wrong shape with both shapes', async () => {
    const key = 'model.action_time_mlp_out.weight';
    const fx = await writeUpstreamFixture(fresh('shape'), base, {
      edit: (t) => {
        const x = t.get(key)!;
        t.set(key, { ...x, shape: [x.shape[1], x.shape[0] / 2, 2] });
      },
    });
    const e = await failure(fx);
    expect(e.message).toMatch(
      /model\.action_time_mlp_out\.weight is \[48, 24, 2\] but action_time_mlp_out\.weight is \[48, 48\]/,
    );
  });

  it('names a tensor of an integer dtype and an index entry no shard holds', async () => {
    let fx = await writeUpstreamFixture(fresh('dtype'), base, {
      edit: (t) => {
        const x = t.get('model.state_proj.bias')!;
        t.set('model.state_proj.bias', { dtype: 'I32', shape: x.shape, data: new Int32Array(x.shape[0]) });
      },
    });
    let e = await failure(fx);
    expect(e.message).toMatch(/tensor model\.state_proj\.bias is I32; weights must be F32, BF16 or F16/);
    fx = await writeUpstreamFixture(fresh('index'), base);
    const indexPath = join(fx.dir, 'model.safetensors.index.json');
    const index = JSON.parse(readFileSync(indexPath, 'utf8')) as { weight_map: Record<string, string> };
    index.weight_map['model.extra.weight'] = 'model-00001-of-00002.safetensors';
    writeFileSync(indexPath, JSON.stringify(index));
    e = await failure(fx);
    expect(e.message).toMatch(
      /lists tensors no shard holds: model\.extra\.weight \(in model-00001-of-00002\.safetensors\)/,
    );
  });
});
