import type { InternVLAA1Policy, LoadPolicyOptions, PolicyProcessor } from '@vla/internvla-a1';
import type { ByteSourceInput } from '@vla/tensor-webgpu';
import { loadBundleFor } from './loadBundle.js';
import { PolicyService, type PolicyServiceOptions } from './policyService.js';

/** Options of {@link loadPolicyService}: how to load the checkpoint and how to serve it. */
export interface LoadPolicyServiceOptions
  extends LoadPolicyOptions, Omit<PolicyServiceOptions, 'policy' | 'processor'> {}

/** A checkpoint loaded as a {@link PolicyService}. */
export interface LoadedPolicyService {
  /** Serves many episodes (see {@link PolicyService}). */
  readonly service: PolicyService;
  /** The loaded policy; {@link LoadedPolicyService.dispose} frees it. */
  readonly policy: InternVLAA1Policy;
  /** The checkpoint's processor (host data only). */
  readonly processor: PolicyProcessor;
  /** Disposes the service (rejecting queued requests) and frees the policy's GPU memory. */
  dispose(): void;
}

/**
 * Loads an InternVLA-A1 checkpoint with the processor saved in it and serves it as a
 * {@link PolicyService}. A checkpoint without a processor is refused before any weight is loaded
 * ({@link PolicyRuntimeError} naming the file); a failure after the weights were loaded frees them.
 */
export async function loadPolicyService(
  path: ByteSourceInput,
  options: LoadPolicyServiceOptions = {},
): Promise<LoadedPolicyService> {
  return loadBundleFor('loadPolicyService', path, options, (policy, processor) => {
    const { steps, seed, noiseScale, maxBatch, rtc } = options;
    const service = new PolicyService({
      policy,
      processor,
      ...(steps !== undefined ? { steps } : {}),
      ...(seed !== undefined ? { seed } : {}),
      ...(noiseScale !== undefined ? { noiseScale } : {}),
      ...(maxBatch !== undefined ? { maxBatch } : {}),
      ...(rtc !== undefined ? { rtc } : {}),
    });
    return {
      service,
      policy,
      processor,
      dispose: () => {
        service.dispose();
        policy.dispose();
      },
    };
  });
}
