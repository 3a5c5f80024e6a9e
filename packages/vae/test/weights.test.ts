// loadCosmosWeights checks every file header against the tokenizer before allocating: duplicated
// files, integer data under float weights and shape mismatches are SafetensorsErrors naming the
// tensor, nothing leaks however often it fails, and a failed load leaves the tokenizer unchanged.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  readSafetensors,
  saveSafetensors,
  SafetensorsError,
  serializeSafetensors,
  type HostTensor,
  type Tensor,
} from '@vla/tensor-webgpu';
import {
  COSMOS_TINY,
  CosmosImageTokenizer,
  loadCosmosWeights,
  type CosmosTokenizerConfig,
} from '../src/index.js';
import { eng } from './setup.js';

const MICRO: CosmosTokenizerConfig = { ...COSMOS_TINY, channels: 4, channelMult: [1, 1, 1], groups: 2 };

/** Host copies of a file's tensors, to rebuild it with edits. */
async function hostTensors(bytes: Uint8Array): Promise<Record<string, HostTensor>> {
  const file = await readSafetensors(bytes);
  const out: Record<string, HostTensor> = {};
  for (const [k, e] of file.tensors) out[k] = { dtype: e.dtype, shape: e.shape, data: await e.data() };
  return out;
}

/** Runs a load expecting a SafetensorsError matching `message`, no allocation, the pool unchanged. */
async function refused(load: () => Promise<void>, message: RegExp): Promise<void> {
  const alloc = vi.spyOn(eng, 'alloc');
  const start = eng.poolStats().inUseBytes;
  const err = await load().then(
    () => 'loaded',
    (e: unknown) => e,
  );
  expect(eng.poolStats().inUseBytes - start, 'bytes leaked').toBe(0);
  expect(alloc.mock.calls.length, 'buffers allocated').toBe(0);
  expect(err, String(err)).toBeInstanceOf(SafetensorsError);
  expect((err as Error).message).toMatch(message);
  alloc.mockRestore();
}

afterEach(() => vi.restoreAllMocks());

describe('loadCosmosWeights validates before allocating', () => {
  const source = new CosmosImageTokenizer(MICRO);
  const target = new CosmosImageTokenizer(MICRO);
  let enc: Uint8Array;
  let dec: Uint8Array;
  let before: Float32Array;
  beforeAll(async () => {
    const e: Record<string, Tensor> = {};
    const d: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(source.stateDict()))
      (k.startsWith('encoder.') || k.startsWith('quant_conv.') ? e : d)[k] = t;
    enc = await saveSafetensors(undefined, e);
    dec = await saveSafetensors(undefined, d);
    before = (await target.stateDict()['encoder.conv_in.weight'].toArray()) as Float32Array;
  });
  afterAll(() => {
    source.dispose();
    target.dispose();
  });

  it('a file passed twice is refused every time, naming the tensor, without leaking', async () => {
    for (let i = 0; i < 4; i++) {
      await refused(
        () => loadCosmosWeights(target, [enc, enc, dec]),
        /safetensors \(buffer\): tensor "encoder\.conv_in\.weight" also appears in buffer/,
      );
    }
    // Overlapping files: one tensor in both.
    const extra = await hostTensors(dec);
    const encTensors = await hostTensors(enc);
    extra['quant_conv.bias'] = encTensors['quant_conv.bias'];
    await refused(
      () => loadCosmosWeights(target, [enc, serializeSafetensors(extra)]),
      /tensor "quant_conv\.bias" also appears in buffer/,
    );
    expect(await target.stateDict()['encoder.conv_in.weight'].toArray()).toEqual(before);
  });

  it('integer data under a float weight is a type mismatch, not a reinterpretation', async () => {
    const tensors = await hostTensors(enc);
    const w = tensors['encoder.conv_in.weight'];
    // The same bytes relabelled as I32 / U32 (a consistent file: sizes match).
    for (const dtype of ['I32', 'U32'] as const) {
      tensors['encoder.conv_in.weight'] = { dtype, shape: w.shape, data: w.data };
      await refused(
        () => loadCosmosWeights(target, [serializeSafetensors(tensors), dec]),
        new RegExp(
          `encoder\\.conv_in\\.weight is ${dtype} in the file, a type mismatch for the tokenizer's f32`,
        ),
      );
    }
  });

  it('shape mismatches and unknown keys are named, all in one message', async () => {
    const tensors = await hostTensors(enc);
    const bias = tensors['quant_conv.bias'];
    tensors['quant_conv.bias'] = {
      dtype: 'F32',
      shape: [bias.shape[0] + 1],
      data: new Float32Array(bias.shape[0] + 1),
    };
    tensors['encoder.extra'] = { dtype: 'F32', shape: [1], data: Float32Array.of(1) };
    await refused(
      () => loadCosmosWeights(target, [serializeSafetensors(tensors), dec]),
      /not the weights of this tokenizer: unexpected keys: encoder\.extra; quant_conv\.bias has shape \[17\] in the file but \[16\] in the tokenizer/,
    );
  });

  it('loads the same files once each, exactly (an F64 tensor included)', async () => {
    const tensors = await hostTensors(dec);
    const post = tensors['post_quant_conv.weight'];
    tensors['post_quant_conv.weight'] = {
      dtype: 'F64',
      shape: post.shape,
      data: Float64Array.from(post.data as Float32Array),
    };
    await loadCosmosWeights(target, [enc, serializeSafetensors(tensors)]);
    for (const [k, t] of Object.entries(source.stateDict()))
      expect(await target.stateDict()[k].toArray(), k).toEqual(await t.toArray());
  });
});
