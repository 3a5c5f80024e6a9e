/**
 * Test helpers (import from `@vla/policy-runtime/testing`): a tiny random InternVLA-A1 and a
 * processor with made-up statistics that fits it, small enough for tests on SwiftShader, and seeded
 * random frames. Not part of the main entry.
 * @packageDocumentation
 */
import {
  InternVLAA1Policy,
  PolicyProcessor,
  tinyConfig,
  type GripperRule,
  type InternVLAA1Config,
} from '@vla/internvla-a1';
import type { CameraFrame, Embodiment } from '@vla/robot-core';
import { manualSeed } from '@vla/tensor-webgpu';
import { mulberry32 } from '@vla/robot-core/testing';

/** mulberry32: a seeded uniform generator in [0, 1) (robot-core's). */
export const rng: (seed: number) => () => number = mulberry32;

/** A small configuration: one layer, 32 px, 8 text tokens, a 256-token vocabulary. */
export function tinyPolicyConfig(views: number, chunkSize = 10): InternVLAA1Config {
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

/** A compact vocabulary of the first 255 Qwen ids (the rest of a prompt maps to unknown, 0). */
export const VOCAB = Array.from({ length: 255 }, (_, i) => i);

/** Options of {@link tinyProcessor}. */
export interface TinyProcessorOptions {
  /** The robot type the processor is for. */
  robotType: string;
  /** State dims, dataset names. */
  stateNames: string[];
  /** Action dims, dataset names. */
  actionNames: string[];
  /** Which action dims are deltas from the state. */
  deltaMask: boolean[];
  /** Camera names, in the policy's view order. */
  cameras: string[];
  /** Gripper thresholding (default none). */
  gripper?: GripperRule | null;
  /** Mean and std of each action dim (default random). */
  action?: { mean: number[]; std: number[] };
  /** Mean and std of each state dim (default random). */
  state?: { mean: number[]; std: number[] };
  /** Seed of the made-up statistics. */
  seed: number;
}

/** A processor that fits `config`, with seeded made-up statistics unless given. */
export function tinyProcessor(config: InternVLAA1Config, o: TinyProcessorOptions): PolicyProcessor {
  const r = rng(o.seed);
  const stats = (n: number) => ({
    mean: Array.from({ length: n }, () => r() * 2 - 1),
    std: Array.from({ length: n }, () => 0.05 + r()),
  });
  return PolicyProcessor.fromStats({
    robotType: o.robotType,
    stateNames: o.stateNames,
    actionNames: o.actionNames,
    deltaMask: o.deltaMask,
    cameras: o.cameras,
    stats: { state: o.state ?? stats(o.stateNames.length), action: o.action ?? stats(o.actionNames.length) },
    imageSize: config.imageSize,
    textLength: config.textTokens,
    chunkSize: config.chunkSize,
    policyDim: config.stateDim,
    gripper: o.gripper ?? null,
    vocab: VOCAB,
  });
}

/** A random RGB8 frame (seeded). */
export function randomFrame(width: number, height: number, seed: number, timestampMs = 0): CameraFrame {
  const r = rng(seed);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(r() * 256);
  return { width, height, data, timestampMs };
}

/**
 * A processor for every dim and camera of `embodiment` (state names = action names, the embodiment's
 * delta mask, no gripper rule) with seeded made-up statistics of small means.
 */
export function tinyProcessorFor(
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
  return tinyProcessor(config, {
    robotType: embodiment.robotType,
    stateNames: names,
    actionNames: names,
    deltaMask: embodiment.dims.map((d) => d.delta),
    cameras: embodiment.cameras.map((c) => c.name),
    state: stats(),
    action: stats(),
    seed,
  });
}
