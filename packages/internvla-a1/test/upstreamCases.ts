// The upstream reference cases in fixtures/upstream/ (numbers produced by upstream's own PyTorch code,
// see the README there): each file's configuration as an InternVLAA1Config, its weights loaded by
// name through the upstream name map, and its inputs as a policy batch.
import { fileURLToPath } from 'node:url';
import {
  readSafetensors,
  reshape,
  slice,
  squeeze,
  tensor,
  tensorFromSafetensors,
  tidy,
  type SafetensorsFile,
  type Tensor,
} from '@vla/tensor-webgpu';
import { InternVLAA1Policy, type InternVLAA1Config, type PolicyBatch } from '../src/index.js';
import { classifyUpstreamKey } from '../src/upstream/index.js';

/** The three generated cases. */
export const UPSTREAM_CASES = ['two-views', 'missing-view', 'one-view-deeper'] as const;

/** One case, opened: configuration, host arrays of every input/output, the file for weights. */
export interface UpstreamCase {
  name: string;
  /** The generator's own description of the case (snake_case, upstream's field names). */
  meta: CaseMeta;
  config: InternVLAA1Config;
  file: SafetensorsFile;
  /** Host data of a tensor `input.*` / `out.*` and its shape. */
  host(name: string): Promise<{ data: ArrayLike<number>; shape: number[] }>;
}

/** The part of the case metadata the tests read. */
interface CaseMeta {
  batch: number;
  views: number;
  chunk_size: number;
  image_size: number;
  gen_grid: number;
  text_tokens: number;
  prefix_tokens: number;
  missing_views: [number, number][];
  special_ids: { vision_start: number; vision_end: number };
  text: {
    vocab_size: number;
    hidden_size: number;
    intermediate_size: number;
    num_hidden_layers: number;
    num_attention_heads: number;
    num_key_value_heads: number;
    head_dim: number;
    rms_norm_eps: number;
    rope_theta: number;
    mrope_section: [number, number, number];
  };
  generation_expert: { hidden_size: number; intermediate_size: number };
  action_expert: { hidden_size: number; intermediate_size: number };
  vision: {
    depth: number;
    hidden_size: number;
    num_heads: number;
    intermediate_size: number;
    patch_size: number;
    temporal_patch_size: number;
    spatial_merge_size: number;
    out_hidden_size: number;
    num_position_embeddings: number;
    deepstack_visual_indexes: number[];
    layer_norm_eps: number;
    rope_theta: number;
  };
  cosmos: {
    channels: number;
    channels_mult: number[];
    num_res_blocks: number;
    num_downsamples: number;
    haar_levels: number;
    latent_channels: number;
    groups: number;
    eps: number;
  };
}

/** The policy configuration of a case, field by field from upstream's names. */
function policyConfigOf(name: string, c: CaseMeta): InternVLAA1Config {
  const v = c.vision;
  const t = c.text;
  return {
    name,
    vlm: {
      vision: {
        depth: v.depth,
        hiddenSize: v.hidden_size,
        intermediateSize: v.intermediate_size,
        numHeads: v.num_heads,
        inChannels: 3,
        patchSize: v.patch_size,
        temporalPatchSize: v.temporal_patch_size,
        spatialMergeSize: v.spatial_merge_size,
        outHiddenSize: v.out_hidden_size,
        numPositionEmbeddings: v.num_position_embeddings,
        // Upstream computes the DeepStack features and discards them; the policy builds none.
        deepstackVisualIndexes: [],
        layerNormEps: v.layer_norm_eps,
        ropeTheta: v.rope_theta,
      },
      text: {
        vocabSize: t.vocab_size,
        hiddenSize: t.hidden_size,
        intermediateSize: t.intermediate_size,
        numLayers: t.num_hidden_layers,
        numHeads: t.num_attention_heads,
        numKvHeads: t.num_key_value_heads,
        headDim: t.head_dim,
        rmsNormEps: t.rms_norm_eps,
        ropeTheta: t.rope_theta,
        mropeSection: t.mrope_section,
        tieWordEmbeddings: true,
      },
    },
    generation: { width: c.generation_expert.hidden_size, mlpWidth: c.generation_expert.intermediate_size },
    action: { width: c.action_expert.hidden_size, mlpWidth: c.action_expert.intermediate_size },
    vae: {
      haarLevels: c.cosmos.haar_levels,
      inChannels: 3,
      channels: c.cosmos.channels,
      channelMult: c.cosmos.channels_mult,
      numResBlocks: c.cosmos.num_res_blocks,
      numDownsamples: c.cosmos.num_downsamples,
      latentChannels: c.cosmos.latent_channels,
      groups: c.cosmos.groups,
      eps: c.cosmos.eps,
    },
    views: c.views,
    imageSize: c.image_size,
    textTokens: c.text_tokens,
    chunkSize: c.chunk_size,
    stateDim: 32,
    genGrid: c.gen_grid,
    genLossWeight: 0.01,
    tokenIds: { visionStart: c.special_ids.vision_start, visionEnd: c.special_ids.vision_end },
  };
}

/** Opens a case (close `file` when done). */
export async function openUpstreamCase(name: string): Promise<UpstreamCase> {
  const path = fileURLToPath(new URL(`./fixtures/upstream/${name}.safetensors`, import.meta.url));
  const file = await readSafetensors(path);
  const meta = JSON.parse(file.metadata.config) as CaseMeta;
  return {
    name,
    meta,
    config: policyConfigOf(name, meta),
    file,
    async host(key) {
      const e = file.tensors.get(key);
      if (!e) throw new Error(`${name}: no tensor ${key}`);
      return { data: (await e.data()) as ArrayLike<number>, shape: e.shape };
    },
  };
}

/** A policy holding the case's weights, loaded strictly through the upstream name map. */
export async function policyOf(c: UpstreamCase): Promise<InternVLAA1Policy> {
  const policy = new InternVLAA1Policy(c.config);
  const state = new Map<string, Tensor>();
  try {
    for (const [key, entry] of c.file.tensors) {
      if (!key.startsWith('model.')) continue;
      const k = classifyUpstreamKey(key);
      if (k.kind === 'skipped') continue; // DeepStack mergers: computed upstream, never used
      if (k.kind === 'unknown') throw new Error(`${c.name}: upstream key ${key} maps to nothing`);
      state.set(k.name, tensorFromSafetensors(entry, await entry.data(), 'f32'));
    }
    await policy.loadStateDict(state, { strict: true });
  } finally {
    for (const t of state.values()) t.dispose();
  }
  return policy;
}

/**
 * The case's inputs as a policy batch: frames ×2 − 1 (upstream's Cosmos input; the fixtures' frames
 * are already at the tokenizer's size, so its bilinear resize is the identity), the processor's
 * patches as the vision input, the text tokens after the image block of the prefix.
 */
export async function batchOf(c: UpstreamCase): Promise<PolicyBatch> {
  const { batch: B, views: V, text_tokens: T, prefix_tokens: L } = c.meta;
  const images = await c.host('input.images'); // [B, V, 3, 3, H, W]
  const H = c.meta.image_size;
  const pv = await c.host('input.pixel_values'); // [B, V·patches, D]
  const tokens = await c.host('input.lang_tokens');
  const langMask = await c.host('input.lang_masks');
  const textIds = new Int32Array(B * T);
  const textMask = new Uint8Array(B * T);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < T; j++) {
      textIds[b * T + j] = tokens.data[b * L + (L - T) + j];
      textMask[b * T + j] = langMask.data[b * L + (L - T) + j];
    }
  }
  const frames = tidy(() => {
    const all = tensor(
      Float32Array.from(images.data, (x) => 2 * x - 1),
      [B, V, 3, 3, H, H],
    );
    const frame = (v: number, t: number) =>
      squeeze(slice(squeeze(slice(all, 1, v, v + 1), 1), 1, t, t + 1), 1);
    return Array.from({ length: V }, (_, v) => ({
      past: frame(v, 0),
      current: frame(v, 1),
      future: frame(v, 2),
    }));
  });
  const f32 = async (k: string, shape: number[]) => tensor(Float32Array.from((await c.host(k)).data), shape);
  return {
    images: frames,
    imageMasks: Uint8Array.from((await c.host('input.img_masks')).data),
    tokens: textIds,
    textMask,
    state: await f32('input.state', [B, 32]),
    actions: await f32('input.actions', [B, c.meta.chunk_size, 32]),
    visionPatches: reshape(tensor(Float32Array.from(pv.data), pv.shape), [
      pv.shape[0] * pv.shape[1],
      pv.shape[2],
    ]),
  };
}

/** Frees every tensor of a batch. */
export function disposeBatch(b: PolicyBatch): void {
  for (const v of b.images) for (const t of [v.past, v.current, v.future]) t?.dispose();
  b.state.dispose();
  b.actions.dispose();
  b.visionPatches?.dispose();
}

/** `max |ours − ref|` relative to `max |ref|` over the entries `keep` selects (all by default). */
export function relativeError(
  ours: ArrayLike<number>,
  ref: ArrayLike<number>,
  keep?: (i: number) => boolean,
): number {
  if (ours.length !== ref.length) throw new Error(`length ${ours.length} vs reference ${ref.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    if (keep && !keep(i)) continue;
    diff = Math.max(diff, Math.abs(ours[i] - ref[i]));
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  return diff / scale;
}
