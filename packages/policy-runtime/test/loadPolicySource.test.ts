// A checkpoint saved with its processor serves the same chunks as the policy it was saved from; a
// checkpoint without a processor is refused by name, before any weight is loaded.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as internvla from '@vla/internvla-a1';
import type { ChunkRequest } from '@vla/robot-core';
import {
  ObservationHistory,
  PolicyRuntimeError,
  loadPolicySource,
  policyActionSource,
} from '../src/index.js';
import { eng } from './setup.js';
import { randomFrame, rng, tinyPolicy, tinyPolicyConfig, tinyProcessor } from '../src/testing.js';

const dir = mkdtempSync(join(tmpdir(), 'policy-runtime-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = tinyPolicyConfig(1, 6);
const processor = tinyProcessor(config, {
  robotType: 'arm',
  stateNames: ['j0', 'j1', 'j2', 'grip'],
  actionNames: ['j0', 'j1', 'j2', 'grip'],
  deltaMask: [true, true, true, false],
  cameras: ['head'],
  gripper: { dims: [3], threshold: 0.5 },
  seed: 21,
});

const r = rng(4);
const request: ChunkRequest = {
  robotType: 'arm',
  state: Float32Array.from({ length: 32 }, (_, i) => (i < 4 ? r() - 0.5 : 0)),
  images: { head: randomFrame(48, 36, 8) },
  prompt: 'stack the blocks',
  timestampMs: 0,
};
const history = () => {
  const h = new ObservationHistory(2);
  for (let t = 0; t < 3; t++)
    h.push({ state: new Float64Array(4), images: { head: randomFrame(48, 36, 30 + t) }, timestampMs: t });
  return h;
};
const inUse = (): number => eng.poolStats().inUseBytes;

describe('loadPolicySource', () => {
  it('savePolicy(path, policy, { processor }) → loadPolicySource(path) serves the same chunk', async () => {
    const policy = tinyPolicy(config, 5);
    const path = join(dir, 'with-processor.safetensors');
    await internvla.savePolicy(path, policy, { processor });
    const inMemory = await policyActionSource({ policy, processor, history: history(), steps: 3, seed: 2 })(
      request,
    );
    policy.dispose();

    const base = inUse();
    const loaded = await loadPolicySource(path, { history: history(), steps: 3, seed: 2 });
    expect(loaded.processor.toJSON()).toEqual(processor.toJSON());
    expect(loaded.policy.config).toEqual(config);
    const got = await loaded.source(request);
    expect(got.absolute).toBe(true);
    expect(Array.from(got.actions)).toEqual(Array.from(inMemory.actions));
    // Options reach the source: another seed gives another chunk.
    const reseeded = await loadPolicySource(path, { history: history(), steps: 3, seed: 3 });
    const other = await reseeded.source(request);
    expect(Array.from(other.actions)).not.toEqual(Array.from(inMemory.actions));
    loaded.dispose();
    expect(inUse()).toBeGreaterThan(base); // the second one is still loaded
    reseeded.dispose();
    expect(inUse() - base).toBe(0);
  });

  it('makes a history with the offset 15 unless given one', async () => {
    const policy = tinyPolicy(config, 6);
    const path = join(dir, 'default-history.safetensors');
    await internvla.savePolicy(path, policy, { processor });
    policy.dispose();
    const given = history();
    const a = await loadPolicySource(path, { history: given });
    expect(a.history).toBe(given);
    const b = await loadPolicySource(path);
    expect(b.history.offset).toBe(15);
    a.dispose();
    b.dispose();
  });

  it('refuses a checkpoint saved without a processor, naming it, from its header alone', async () => {
    const policy = tinyPolicy(config, 7);
    const path = join(dir, 'no-processor.safetensors');
    await internvla.savePolicy(path, policy);
    policy.dispose();
    const base = inUse();
    const err = await loadPolicySource(path).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PolicyRuntimeError);
    expect((err as Error).message).toBe(
      `loadPolicySource: ${path} was saved without a processor: train with vla-train or pass savePolicy(..., { processor })`,
    );
    expect(inUse() - base).toBe(0);
    // Bytes and files work too. Only the header is read: the weights are never loaded.
    const other = tinyPolicy(config, 7);
    const bytes = await internvla.savePolicy(undefined, other);
    other.dispose();
    await expect(loadPolicySource(bytes)).rejects.toThrow(
      /^loadPolicySource: <bytes> was saved without a processor/,
    );
    let read = 0;
    class CountingFile extends File {
      override slice(start?: number, end?: number, type?: string): Blob {
        read += (end ?? this.size) - (start ?? 0);
        return super.slice(start, end, type);
      }
    }
    const file = new CountingFile([new Uint8Array(bytes)], 'plain.safetensors');
    await expect(loadPolicySource(file)).rejects.toThrow(
      /^loadPolicySource: plain\.safetensors was saved without a processor/,
    );
    expect(read).toBeGreaterThan(0);
    expect(read).toBeLessThan(bytes.length / 10);
  });
});
