// A tiny random InternVLA-A1 and a processor with made-up statistics, for tests on SwiftShader
// (after packages/policy-runtime/test/tiny.ts).
import { InternVLAA1Policy, PolicyProcessor, tinyConfig, type InternVLAA1Config } from '@vla/internvla-a1';
import type { Embodiment } from '@vla/robot-core';
import { manualSeed } from '@vla/tensor-webgpu';

/** mulberry32: a seeded uniform generator in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One layer, 32 px, 8 text tokens, a 256-token vocabulary. */
export function tinyPolicyConfig(views: number, chunkSize: number): InternVLAA1Config {
  return tinyConfig({
    width: 32,
    layers: 1,
    visionLayers: 1,
    imageSize: 32,
    views,
    textTokens: 8,
    vocabSize: 256,
    chunkSize,
  });
}

/** A random policy (seeded). */
export function tinyPolicy(config: InternVLAA1Config, seed: number): InternVLAA1Policy {
  manualSeed(seed);
  return InternVLAA1Policy.create(config);
}

/** A processor for `embodiment` (every dim, every camera) with seeded made-up statistics. */
export function tinyProcessor(
  config: InternVLAA1Config,
  embodiment: Embodiment,
  seed: number,
): PolicyProcessor {
  const r = rng(seed);
  const names = embodiment.dims.map((d) => d.name);
  const stats = () => ({
    mean: names.map(() => r() * 0.4 - 0.2),
    std: names.map(() => 0.05 + 0.5 * r()),
  });
  return PolicyProcessor.fromStats({
    robotType: embodiment.robotType,
    stateNames: names,
    actionNames: names,
    deltaMask: embodiment.dims.map((d) => d.delta),
    cameras: embodiment.cameras.map((c) => c.name),
    stats: { state: stats(), action: stats() },
    imageSize: config.imageSize,
    textLength: config.textTokens,
    chunkSize: config.chunkSize,
    policyDim: config.stateDim,
    gripper: null,
    // A compact vocabulary of the first 255 Qwen ids (the rest of a prompt maps to unknown, 0).
    vocab: Array.from({ length: 255 }, (_, i) => i),
  });
}
