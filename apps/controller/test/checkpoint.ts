// A tiny random policy for the simulated ARX Lift-2 saved with its processor, the checkpoint the
// end-to-end tests run: one camera (head), 32 px, chunks of 10, small joint deltas.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { savePolicy } from '@vla/internvla-a1';
import { deltaMask } from '@vla/robot-core';
import { LIFT2 } from '@vla/robots-arx';
import { tinyPolicy, tinyPolicyConfig, tinyProcessor } from '@vla/policy-runtime/testing';

/** Writes the checkpoint into a new temporary folder and returns its path. */
export async function tinyLift2Checkpoint(seed = 13, chunkSize = 10): Promise<string> {
  const config = tinyPolicyConfig(1, chunkSize);
  const policy = tinyPolicy(config, seed);
  const e = LIFT2;
  const names = e.dims.map((d) => d.name);
  const gripper = e.dims.map((d) => d.kind === 'gripper');
  const processor = tinyProcessor(config, {
    robotType: e.robotType,
    stateNames: names,
    actionNames: names,
    deltaMask: deltaMask(e),
    cameras: ['head'],
    state: { mean: names.map(() => 0), std: names.map(() => 1) },
    action: { mean: gripper.map((g) => (g ? 0.022 : 0)), std: gripper.map((g) => (g ? 0.005 : 0.05)) },
    seed,
  });
  const path = join(mkdtempSync(join(tmpdir(), 'vla-control-')), 'policy.safetensors');
  try {
    await savePolicy(path, policy, { processor });
  } finally {
    policy.dispose();
  }
  return path;
}
