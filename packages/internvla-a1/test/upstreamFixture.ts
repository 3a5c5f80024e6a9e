// A small random checkpoint in upstream's layout, written the way upstream's save does: safetensors
// shards with a `model.safetensors.index.json`, BF16 and F32 tensors, a config.json and a stats.json.
// Shapes come from our policy built under meta() and names from the mapping under test's inverse, so
// the fixture is only as right as the round trip the names test checks independently.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { floatsToBf16, meta as metaOnly, writeSafetensors, type HostTensor } from '@vla/tensor-webgpu';
import { derivedSizes, InternVLAA1Policy, type InternVLAA1Config } from '../src/index.js';
import { vlaToUpstreamName } from '../src/upstream/index.js';
import { normals } from './synthetic.js';

/** What the fixture wrote: upstream name → the float values a reader must see. */
export interface UpstreamFixture {
  dir: string;
  /** Upstream name → values as stored (BF16 tensors already rounded). */
  values: Map<string, Float32Array>;
  /** Upstream name → shape. */
  shapes: Map<string, number[]>;
  /** Upstream name → shard file name. */
  shardOf: Map<string, string>;
  /** The config.json written. */
  configJson: Record<string, unknown>;
  /** The stats.json written. */
  stats: Record<string, { mean: number[]; std: number[]; min: number[]; max: number[] }>;
}

/** Options of {@link writeUpstreamFixture}. */
export interface UpstreamFixtureOptions {
  /** Changes the tensors before they are written (rename, reshape, drop). */
  edit?: (tensors: Map<string, HostTensor>) => void;
  /** Changes config.json before it is written. */
  editConfig?: (json: Record<string, unknown>) => void;
  /** Write one model.safetensors instead of two shards and an index. */
  single?: boolean;
  seed?: number;
}

/**
 * Writes a random upstream-layout checkpoint of the policy `config` describes into `dir`: every
 * parameter under its upstream name (the embedding only as the tied `lm_head.weight`, as upstream's
 * save keeps it), plus DeepStack mergers (which the importer must skip). Experts' norms stay F32 and
 * everything else is BF16, as in upstream's bf16 training; tensors alternate between two shards.
 */
export async function writeUpstreamFixture(
  dir: string,
  config: InternVLAA1Config,
  options: UpstreamFixtureOptions = {},
): Promise<UpstreamFixture> {
  mkdirSync(dir, { recursive: true });
  const specs = metaOnly(() => new InternVLAA1Policy(config)).namedSpecs();
  const tensors = new Map<string, HostTensor>();
  const values = new Map<string, Float32Array>();
  let seed = options.seed ?? 11;
  const add = (name: string, shape: number[], bf16: boolean) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = normals(n, seed++, 0.5);
    if (bf16) {
      const bits = floatsToBf16(v);
      tensors.set(name, { dtype: 'BF16', shape, data: bits });
      const back = new Float32Array(new Uint32Array(Array.from(bits, (b) => b << 16)).buffer);
      values.set(name, back);
    } else {
      tensors.set(name, { dtype: 'F32', shape, data: v });
      values.set(name, v);
    }
  };
  for (const [name, spec] of specs) {
    let up = vlaToUpstreamName(name)!;
    if (up.endsWith('language_model.embed_tokens.weight'))
      up = 'model.qwen3_vl_with_expert.und_expert.lm_head.weight';
    const f32 = /input_layernorm|post_attention_layernorm|qwen3_vl_with_expert\.\w+\.norm\.|model\.norm/.test(
      up,
    );
    add(up, [...spec.shape], !f32);
  }
  const vis = config.vlm.vision;
  const merged = vis.hiddenSize * vis.spatialMergeSize ** 2;
  const ds = 'model.qwen3_vl_with_expert.und_expert.model.visual.deepstack_merger_list.0.';
  add(`${ds}norm.weight`, [merged], true);
  add(`${ds}linear_fc1.weight`, [merged, merged], true);
  add(`${ds}linear_fc2.weight`, [vis.outHiddenSize, merged], true);
  options.edit?.(tensors);

  const shardOf = new Map<string, string>();
  const names = [...tensors.keys()];
  const shards: Record<string, string[]> = options.single
    ? { 'model.safetensors': names }
    : {
        'model-00001-of-00002.safetensors': names.filter((_, i) => i % 2 === 0),
        'model-00002-of-00002.safetensors': names.filter((_, i) => i % 2 === 1),
      };
  for (const [file, list] of Object.entries(shards)) {
    await writeSafetensors(join(dir, file), new Map(list.map((n) => [n, tensors.get(n)!])), { format: 'pt' });
    for (const n of list) shardOf.set(n, file);
  }
  if (!options.single)
    writeFileSync(
      join(dir, 'model.safetensors.index.json'),
      JSON.stringify({ metadata: { total_size: 0 }, weight_map: Object.fromEntries(shardOf) }),
    );

  const configJson: Record<string, unknown> = {
    type: 'qwena1',
    n_obs_steps: 1,
    chunk_size: 6,
    n_action_steps: 6,
    max_state_dim: config.stateDim,
    max_action_dim: config.stateDim,
    qwen3_vl_variant: `qwen3_vl_${config.vlm.text.numLayers}l`,
    action_expert_variant: `qwen3_${config.vlm.text.numLayers}l`,
    dtype: 'bfloat16',
    tokenizer_max_length: 5,
    scale_factor: derivedSizes(config).tokenKernel,
    lambda_gen: 0.02,
  };
  options.editConfig?.(configJson);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(configJson));
  const stat = (n: number, s: number) => ({
    mean: Array.from(normals(n, s)),
    std: Array.from(normals(n, s + 1), (x) => Math.abs(x) + 0.1),
    min: Array.from({ length: n }, () => -3),
    max: Array.from({ length: n }, () => 3),
  });
  const stats = { 'observation.state': stat(5, 90), action: stat(5, 92) };
  writeFileSync(
    join(dir, 'stats.json'),
    JSON.stringify({ ...stats, 'observation.images.head': { mean: [[[0.5]]] } }),
  );
  const shapes = new Map([...tensors].map(([k, t]) => [k, [...t.shape]]));
  return { dir, values, shapes, shardOf, configJson, stats };
}
