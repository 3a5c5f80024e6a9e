import type { InternVLAA1Policy, LoadPolicyOptions, PolicyProcessor } from '@vla/internvla-a1';
import type { ActionSource } from '@vla/robot-core';
import type { ByteSourceInput } from '@vla/tensor-webgpu';
import { ObservationHistory } from './observationHistory.js';
import { policyActionSource, type PolicyActionSourceOptions } from './policyActionSource.js';
import { loadBundleFor } from './loadBundle.js';

/** Options of {@link loadPolicySource}: how to load the checkpoint and how to serve it. */
export interface LoadPolicySourceOptions
  extends LoadPolicyOptions, Omit<PolicyActionSourceOptions, 'policy' | 'processor'> {}

/** A checkpoint loaded as an `ActionSource`, with what the caller wires up and disposes. */
export interface LoadedPolicySource {
  /** Serves chunk requests (see {@link policyActionSource}). */
  readonly source: ActionSource;
  /** The loaded policy; {@link LoadedPolicySource.dispose} frees it. */
  readonly policy: InternVLAA1Policy;
  /** The checkpoint's processor (host data only). */
  readonly processor: PolicyProcessor;
  /**
   * The history the source reads past frames from: the one passed in options, else a new one with
   * InternVLA-A1's offset 15. Wire `history.push` as the executor's `onObservation`; `reset()` it
   * when an episode starts.
   */
  readonly history: ObservationHistory;
  /** Frees the policy's GPU memory. The source must not be called afterwards. */
  dispose(): void;
}

/**
 * Loads an InternVLA-A1 checkpoint together with the processor saved in it (`loadPolicyBundle`) and
 * serves it as an `ActionSource`. The processor is read from the header first, so a checkpoint
 * without one is refused before any weight is loaded, with a {@link PolicyRuntimeError} naming the
 * file. Checkpoint errors are internvla-a1's `CheckpointError`s; a failure after the weights were
 * loaded frees them.
 */
export async function loadPolicySource(
  path: ByteSourceInput,
  options: LoadPolicySourceOptions = {},
): Promise<LoadedPolicySource> {
  return loadBundleFor('loadPolicySource', path, options, (policy, processor) => {
    const history = options.history ?? new ObservationHistory();
    const { steps, seed, onForesight } = options;
    const source = policyActionSource({ policy, processor, history, steps, seed, onForesight });
    return { source, policy, processor, history, dispose: () => policy.dispose() };
  });
}
